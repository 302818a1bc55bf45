/**
 * Google's Calendar usage limits (notes §10, support.google.com/a/answer/2905486): a user who
 * creates too many events in a short time finds their calendars read-only for hours, every write
 * answered 403 quotaExceeded. Counted per user (the token's email) across calendars, over a
 * rolling day. Google publishes neither the exact count (100,000 on its help page, 10,000 in
 * older copies) nor the window nor how long read-only lasts ("a few hours"), so all three are
 * settings here; off by default.
 */
import { usageLimitsExceeded } from "./google_errors.ts";

export interface UsageLimitSettings {
  /** Creations per user per rolling day before read-only mode; Infinity: no limit. */
  createsPerDay: number;
  /** How long read-only mode lasts once the limit was met. */
  readOnlyHours: number;
}

export const DEFAULT_USAGE_LIMITS: UsageLimitSettings = {
  createsPerDay: Infinity,
  readOnlyHours: 3,
};

const DAY_MS = 86_400_000;

/** One user's standing, as the admin API shows it. */
export interface UsageOfUser {
  email: string;
  /** Creations in the last rolling day. */
  creates: number;
  /** Epoch ms until which the user's calendars are read-only, when they are. */
  readOnlyUntil?: number;
}

export class UsageLimits {
  readonly #initial: UsageLimitSettings;
  #settings: UsageLimitSettings;
  /** email → epoch ms of each creation in the last day, oldest first. */
  readonly #creates = new Map<string, number[]>();
  readonly #readOnlyUntil = new Map<string, number>();

  constructor(private readonly now: () => number, settings: Partial<UsageLimitSettings> = {}) {
    this.#initial = { ...DEFAULT_USAGE_LIMITS, ...settings };
    this.#settings = { ...this.#initial };
  }

  get settings(): UsageLimitSettings {
    return { ...this.#settings };
  }

  configure(settings: Partial<UsageLimitSettings>): void {
    this.#settings = { ...this.#settings, ...settings };
  }

  /** Throws 403 quotaExceeded while the user's calendars are read-only. */
  checkWrite(email: string): void {
    const until = this.#readOnlyUntil.get(email);
    if (until !== undefined && until > this.now()) throw usageLimitsExceeded();
  }

  /**
   * Counts one creation by `email`, or refuses it (403 quotaExceeded) while read-only or when it
   * would go over the limit; the one that would go over starts read-only mode.
   */
  countCreate(email: string): void {
    this.checkWrite(email);
    const now = this.now();
    const recent = this.#recent(email, now);
    if (recent.length >= this.#settings.createsPerDay) {
      this.#readOnlyUntil.set(email, now + this.#settings.readOnlyHours * 3_600_000);
      throw usageLimitsExceeded();
    }
    recent.push(now);
  }

  /** Every user who created something in the last day or is read-only. */
  snapshot(): UsageOfUser[] {
    const now = this.now();
    const emails = new Set([...this.#creates.keys(), ...this.#readOnlyUntil.keys()]);
    return [...emails].map((email) => {
      const until = this.#readOnlyUntil.get(email);
      return {
        email,
        creates: this.#recent(email, now).length,
        ...(until !== undefined && until > now ? { readOnlyUntil: until } : {}),
      };
    });
  }

  /** Forgets every count and ends read-only mode; the settings stay. */
  clear(): void {
    this.#creates.clear();
    this.#readOnlyUntil.clear();
  }

  /** Like clear, and back to the settings the emulator started with. */
  reset(): void {
    this.clear();
    this.#settings = { ...this.#initial };
  }

  #recent(email: string, now: number): number[] {
    const times = this.#creates.get(email) ?? [];
    const kept = times.filter((t) => t > now - DAY_MS);
    this.#creates.set(email, kept);
    return kept;
  }
}
