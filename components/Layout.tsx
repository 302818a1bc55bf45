import type { ComponentChildren } from "preact";

/** The header's sections; the current one is marked for assistive technology and styled. */
export type NavKey = "dashboard" | "rules" | "history" | "connections" | "settings";

const NAV: { key: NavKey; href: string; label: string }[] = [
  { key: "dashboard", href: "/", label: "Dashboard" },
  { key: "rules", href: "/rules", label: "Rules" },
  { key: "history", href: "/history", label: "History" },
  { key: "connections", href: "/connections", label: "Connections" },
];

export interface LayoutProps {
  title: string;
  stylesUrl: string;
  /** Shown in the header when the instance runs against the bundled emulator. */
  demo: boolean;
  /** The signed-in person, for the header's account links; absent when signed out. */
  user?: { email: string };
  nav?: NavKey;
  children: ComponentChildren;
}

/** The page frame every server-rendered page shares. */
export function Layout({ title, stylesUrl, demo, user, nav, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{title === "busysync" ? title : `${title} · busysync`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={stylesUrl} />
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="site-header">
          <div class="header-inner">
            <a class="brand" href="/">
              <img src="/static/favicon.svg" alt="" width="24" height="24" />
              busysync
            </a>
            {demo && (
              <span class="badge" title="Google is replaced by the bundled emulator">Demo</span>
            )}
            {user
              ? (
                <>
                  <nav class="site-nav" aria-label="Main">
                    {NAV.map((item) => (
                      <a
                        href={item.href}
                        aria-current={item.key === nav ? "page" : undefined}
                      >
                        {item.label}
                      </a>
                    ))}
                  </nav>
                  <div class="account-nav">
                    <span class="nav-email" title={user.email}>{user.email}</span>
                    <a href="/settings" aria-current={nav === "settings" ? "page" : undefined}>
                      Settings
                    </a>
                    <form method="post" action="/api/auth/logout">
                      <button type="submit" class="link-button">Sign out</button>
                    </form>
                  </div>
                </>
              )
              : (
                <div class="account-nav">
                  <a href="/signin">Sign in</a>
                </div>
              )}
          </div>
        </header>
        <main id="main">{children}</main>
        <footer class="site-footer">
          {/* The reference ships with every instance (routes/api/docs.ts): linked, people find it. */}
          <a href="/api/docs">API reference</a>
          <span aria-hidden="true">·</span>
          <a href="/api/openapi.json">OpenAPI description</a>
        </footer>
      </body>
    </html>
  );
}
