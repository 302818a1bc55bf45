/**
 * Why a fetch of a user-supplied address was refused or cut short. Messages name the host only,
 * never the path or query: a feed's URL often carries its secret, and these messages end up in
 * the history and in answers to the person.
 */

export type OutboundRefusal =
  | "scheme"
  | "private_address"
  | "unresolvable"
  | "too_many_redirects"
  | "too_large"
  | "timeout";

export class OutboundRefusedError extends Error {
  constructor(readonly reason: OutboundRefusal, readonly host: string, message: string) {
    super(message);
    this.name = "OutboundRefusedError";
  }
}
