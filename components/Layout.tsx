import type { ComponentChildren } from "preact";

export interface LayoutProps {
  title: string;
  stylesUrl: string;
  /** Shown in the header when the instance runs against the bundled emulator. */
  demo: boolean;
  /** The signed-in person, for the header's account links; absent when signed out. */
  user?: { email: string };
  children: ComponentChildren;
}

/** The page frame every server-rendered page shares. */
export function Layout({ title, stylesUrl, demo, user, children }: LayoutProps) {
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
          <a class="brand" href="/">busysync</a>
          {demo && (
            <span class="badge" title="Google is replaced by the bundled emulator">Demo mode</span>
          )}
          <nav class="site-nav" aria-label="Account">
            {user
              ? (
                <>
                  <a href="/connections">Connections</a>
                  <span class="nav-email">{user.email}</span>
                  <form method="post" action="/api/auth/logout">
                    <button type="submit" class="link-button">Sign out</button>
                  </form>
                </>
              )
              : <a href="/signin">Sign in</a>}
          </nav>
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
