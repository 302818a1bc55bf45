/**
 * A run's dealings with the Google accounts it writes into, which Google limits per account
 * whichever calendar or busysync user writes (Calendar usage limits: 10,000 to 100,000
 * creations in a short time make the account's calendars read-only for hours; notes §10,
 * support.google.com/a/answer/2905486): a share of each account's daily creation budget, and
 * the write pause that follows a 403 quotaExceeded.
 */
import {
  type Account,
  type AccountWritePause,
  getWritePause,
  pauseAccountWrites,
  reserveCreates,
  returnCreates,
} from "../db/account_limits.ts";
import { getConnectionEntry } from "../db/connections.ts";

export interface AccountLimits {
  /** BUSYSYNC_GOOGLE_CREATES_PER_DAY: creations per Google account per UTC day. */
  createsPerDay: number;
  /** BUSYSYNC_GOOGLE_QUOTA_PAUSE_HOURS: how long writes wait after a 403 quotaExceeded. */
  pauseHours: number;
}

export class AccountWrites {
  /** connectionId → its Google account (null: the connection is gone). */
  readonly #accounts = new Map<string, Promise<Account | null>>();
  /** connectionId → the pause in force, read once per run and updated when this run pauses. */
  readonly #pauses = new Map<string, Promise<AccountWritePause | null>>();

  constructor(
    private readonly kv: Deno.Kv,
    private readonly userId: string,
    private readonly limits: AccountLimits,
    private readonly now: Date,
  ) {}

  /** The write pause of the connection's account in force now, or null. */
  pauseOf(connectionId: string): Promise<AccountWritePause | null> {
    let pause = this.#pauses.get(connectionId);
    if (!pause) {
      pause = this.#account(connectionId).then((a) => a && getWritePause(this.kv, a, this.now));
      this.#pauses.set(connectionId, pause);
    }
    return pause;
  }

  /**
   * Takes up to `wanted` creations from today's budget of the connection's account; returns how
   * many may be sent. A connection that is gone has no budget to keep: its writes fail anyway.
   */
  async reserve(connectionId: string, wanted: number): Promise<number> {
    const account = await this.#account(connectionId);
    if (!account) return wanted;
    return await reserveCreates(this.kv, account, {
      wanted,
      perDay: this.limits.createsPerDay,
      now: this.now,
    });
  }

  /** Gives back creations `reserve` granted that were not sent. */
  async giveBack(connectionId: string, count: number): Promise<void> {
    const account = await this.#account(connectionId);
    if (account) await returnCreates(this.kv, account, { count, now: this.now });
  }

  /** Pauses writes into the account's calendars for the configured hours; returns the pause. */
  async pause(connectionId: string, reason: string): Promise<AccountWritePause | null> {
    const account = await this.#account(connectionId);
    const pause = account &&
      await pauseAccountWrites(this.kv, account, {
        since: this.now,
        until: new Date(this.now.getTime() + this.limits.pauseHours * 3_600_000),
        reason,
      });
    this.#pauses.set(connectionId, Promise.resolve(pause));
    return pause;
  }

  #account(connectionId: string): Promise<Account | null> {
    let account = this.#accounts.get(connectionId);
    if (!account) {
      account = getConnectionEntry(this.kv, this.userId, connectionId).then((e) =>
        e && { issuer: e.connection.issuer, sub: e.connection.sub }
      );
      this.#accounts.set(connectionId, account);
    }
    return account;
  }
}
