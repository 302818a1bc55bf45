import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

export interface SecurityHeaderOptions {
  /** HSTS is sent only when the public URL is https: on http it would be ignored or harmful. */
  https: boolean;
  /**
   * Origins a form post may end up at besides our own. Browsers apply `form-action` to the
   * redirects after a submission too, and "Connect a Google account" is a form whose answer
   * redirects to Google's authorization page.
   */
  formTargets?: string[];
}

/**
 * Secure headers on every response: a CSP that allows only our own scripts, styles and
 * connections (no CDN anywhere), no framing, no referrer leakage, HSTS on https.
 */
export function securityHeaders(options: SecurityHeaderOptions): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'", ...(options.formTargets ?? [])],
      frameAncestors: ["'none'"],
    },
    strictTransportSecurity: options.https ? "max-age=31536000; includeSubDomains" : false,
    xFrameOptions: "DENY",
    referrerPolicy: "same-origin",
    crossOriginResourcePolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
  });
}
