import type { ComponentChildren } from "preact";

export interface LayoutProps {
  title: string;
  stylesUrl: string;
  /** Shown in the header when the instance runs against the bundled emulator. */
  demo: boolean;
  children: ComponentChildren;
}

/** The page frame every server-rendered page shares. */
export function Layout({ title, stylesUrl, demo, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{title === "busysync" ? title : `${title} · busysync`}</title>
        <link rel="stylesheet" href={stylesUrl} />
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="site-header">
          <a class="brand" href="/">busysync</a>
          {demo && (
            <span class="badge" title="Google is replaced by the bundled emulator">Demo mode</span>
          )}
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
