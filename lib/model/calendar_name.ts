/**
 * How a calendar is named for a person, on pages, in the rule editor and in messages. It lives
 * in the model, which imports nothing, so both the server and the island bundles (which must not
 * pull in zod or KV) can import it.
 */

/** A calendar as a person knows it: its title, the account it belongs to, and its colour. */
export interface CalendarName {
  name: string;
  account: string;
  /** Its colour in the person's Google list (`#rrggbb`); unknown for older caches. */
  color?: string;
}

/** The name of an account's primary calendar. */
export const MAIN_CALENDAR = "Main calendar";

/** Where a calendar whose account busysync no longer holds is shown (the account is unknown). */
export const DISCONNECTED_ACCOUNT = "disconnected account";

/** A calendar busysync cannot name any more: its account was disconnected, or it is gone. */
export const DISCONNECTED_CALENDAR = `a calendar of a ${DISCONNECTED_ACCOUNT}`;

/**
 * A calendar's title. A primary calendar's summary is the account's address, which says
 * nothing next to the account name: it is called "Main calendar", and so is any calendar
 * titled with its account's address.
 */
export function calendarTitle(
  calendar: { primary: boolean; summary: string },
  account: string,
): string {
  return calendar.primary || calendar.summary === account ? MAIN_CALENDAR : calendar.summary;
}

/**
 * `“Main calendar” (alex@work.example.com)`: a calendar named on its own or in running text,
 * the title quoted so it reads apart from the words around it. Undefined: one busysync no
 * longer knows.
 */
export function fullCalendarName(calendar: CalendarName | undefined): string {
  if (!calendar) return DISCONNECTED_CALENDAR;
  return `“${calendar.name}” (${calendar.account})`;
}

/** The shortest name that tells calendars apart: the account for a main calendar. */
export function shortCalendarName(calendar: CalendarName): string {
  return calendar.name === MAIN_CALENDAR ? calendar.account : calendar.name;
}

/**
 * `Main calendar · alex@work.example.com`: a calendar on one line where nothing around it names
 * the account, such as a closed dropdown (two main calendars would both read "Main calendar").
 */
export function calendarWithAccount(calendar: CalendarName): string {
  return `${calendar.name} · ${calendar.account}`;
}

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** The words of an address: `alex.personal@example.com` → alex, personal, example, com. */
function addressWords(address: string): string[] {
  return address.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/**
 * What tells `account` apart from `other` in a few words: the words of its address that the
 * other's lacks, capitalised. `alex.personal@example.com` beside `alex@work.example.com` is
 * "Personal", and the other "Work"; `ann@gmail.com` beside `bob@gmail.com` is "Ann". The whole
 * address when no word is its own.
 */
export function accountLabel(account: string, other: string): string {
  const theirs = new Set(addressWords(other));
  const own = [...new Set(addressWords(account))].filter((w) => !theirs.has(w));
  return own.length ? own.map(capitalise).join(" ") : account;
}

/**
 * A calendar named for a sentence that also names `other`: its title; for a main calendar of
 * another account than `other`'s, what tells the accounts apart (a person's two main calendars
 * are "Personal" and "Work", not both "Main calendar"); a title both share gets its account's.
 */
export function calendarBeside(calendar: CalendarName, other: CalendarName): string {
  const sameAccount = calendar.account === other.account;
  if (calendar.name === MAIN_CALENDAR && !sameAccount) {
    return accountLabel(calendar.account, other.account);
  }
  if (calendar.name === other.name && !sameAccount) {
    return `${calendar.name} (${accountLabel(calendar.account, other.account)})`;
  }
  return calendar.name;
}

/**
 * A name for a rule nobody named yet, from its calendars' names: "Personal ↔ Work" both ways,
 * "Family → Work" one way. At most 100 characters, as a rule name may be.
 */
export function suggestRuleName(
  source: CalendarName,
  target: CalendarName,
  bothWays: boolean,
): string {
  const arrow = bothWays ? "↔" : "→";
  return `${calendarBeside(source, target)} ${arrow} ${calendarBeside(target, source)}`.slice(
    0,
    100,
  );
}
