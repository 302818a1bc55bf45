/**
 * The HTML the emulator shows in place of Google's account chooser and its error pages. Plain
 * server-rendered forms with inline styles: they work without JavaScript, load nothing external,
 * and give browser tests stable hooks (`data-email`, `data-action`, `data-error`). Every value goes
 * through hono's `html` tag, which escapes it.
 */
import { html, raw } from "hono/html";

type Html = ReturnType<typeof html>;

/** The form path the chooser posts to; the handler re-validates everything it receives. */
export const APPROVE_PATH = "/o/oauth2/v2/auth/approve";

/** What the account chooser shows and carries back. */
export interface ConsentPageInput {
  clientId: string;
  scopes: string[];
  users: { email: string; name: string }[];
  /** The authorization request's parameters, posted back unchanged as hidden fields. */
  carried: Record<string, string>;
}

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, sans-serif; color: #1f1f1f; }
  body { margin: 0; background: #f0f4f9; }
  main { max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 1rem; }
  h1 { font-size: 1.5rem; font-weight: 500; margin: 0 0 .25rem; }
  h2 { font-size: 1rem; font-weight: 500; margin: 1.5rem 0 .5rem; }
  .brand { margin: 0 0 1rem; color: #444746; font-size: .875rem; }
  ul { list-style: none; margin: 0; padding: 0; }
  .accounts li + li { border-top: 1px solid #e0e0e0; }
  .account { display: block; width: 100%; padding: .75rem .5rem; border: 0; background: none;
    text-align: left; font: inherit; color: inherit; cursor: pointer; }
  .account:hover { background: #f3f6fc; }
  .account span { display: block; }
  .email { color: #444746; font-size: .875rem; }
  .scopes li { font-size: .875rem; color: #444746; overflow-wrap: anywhere; padding: .125rem 0; }
  .cancel { margin-top: 1.5rem; padding: .5rem 1rem; border: 1px solid #747775; border-radius: 1.25rem;
    background: #fff; color: #0b57d0; font: inherit; cursor: pointer; }
  button:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
  code { overflow-wrap: anywhere; }
`;

// deno-fmt-ignore -- fmt would indent the template and put a newline before the doctype.
function page(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  <style>${raw(STYLE)}</style>
</head>
<body>
  <main>
    <p class="brand">Google Accounts (emulator)</p>
    ${body}
  </main>
</body>
</html>
`;
}

/** The account chooser: one submit button per seeded user, plus Cancel. */
export function renderConsentPage(input: ConsentPageInput): Html {
  const hidden = Object.entries(input.carried).map(([name, value]) =>
    html`<input type="hidden" name="${name}" value="${value}">`
  );
  const accounts = input.users.map((u) =>
    html`
      <li>
        <button
          class="account"
          type="submit"
          name="email"
          value="${u.email}"
          data-email="${u.email}"
        >
          <span class="name">${u.name}</span>
          <span class="email">${u.email}</span>
        </button>
      </li>
    `
  );
  const scopes = input.scopes.map((s) => html`<li>${s}</li>`);
  return page(
    "Sign in - Google Accounts",
    html`
      <h1>Choose an account</h1>
      <p>to continue to <code>${input.clientId}</code></p>
      <form method="post" action="${APPROVE_PATH}">
        ${hidden}
        ${accounts.length > 0
          ? html`<ul class="accounts" aria-label="Accounts">${accounts}</ul>`
          : html`<p role="status">No accounts are seeded in the emulator.</p>`}
        <h2 id="scopes">The app asks to use</h2>
        <ul class="scopes" aria-labelledby="scopes">${scopes}</ul>
        <button class="cancel" type="submit" name="cancel" value="1" data-action="cancel">Cancel</button>
      </form>
    `,
  );
}

/** Google's "Error 400: redirect_uri_mismatch"-style page, shown when redirecting is unsafe. */
export function renderErrorPage(status: number, error: string, description: string): Html {
  return page(
    `Error ${status}: ${error}`,
    html`
      <h1 data-error="${error}">Error ${status}: ${error}</h1>
      <p>${description}</p>
    `,
  );
}
