/**
 * Reading a calendar's listing page by page: each page is counted in the run's report, its
 * unreadable events are recorded as problems, and it is handed to the caller, which may take
 * its time with it (write what it asks for) while the next page is already being fetched. A
 * caller that keeps only what it needs of a page never holds the whole listing: at most the
 * page in hand and the one being fetched.
 */
import { calendarKey } from "../model/calendar_ref.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { SourceEvent } from "../model/events.ts";
import type { TimeWindow } from "../model/time_window.ts";
import type { ChangeListing } from "./provider.ts";
import type { RunContext } from "./run_context.ts";

/**
 * Lists `cal` (from `cursor`, or in full over `window` when it is null), calling `onPage` with
 * each page's events in order. Returns whether the listing was full and the cursor the last
 * page carried. A failure of any page throws: a read that fails is never a short calendar.
 */
export async function forEachPage(
  ctx: RunContext,
  cal: CalendarRef,
  cursor: string | null,
  window: TimeWindow,
  onPage: (events: readonly SourceEvent[]) => void | Promise<void>,
): Promise<{ full: boolean; token?: string }> {
  const listing = await ctx.provider(cal.connectionId).listChanges(cal, cursor, window);
  return { full: listing.full, ...await readPages(ctx, cal, listing, onPage) };
}

/**
 * Reads an opened listing (see forEachPage), fetching each page while the one before is in
 * `onPage`. A failure of `onPage` ends the listing and is thrown.
 */
export async function readPages(
  ctx: RunContext,
  cal: CalendarRef,
  listing: ChangeListing,
  onPage: (events: readonly SourceEvent[]) => void | Promise<void>,
): Promise<{ token?: string }> {
  const pages = listing.pages[Symbol.asyncIterator]();
  let token: string | undefined;
  let next = pages.next();
  try {
    for (let read = await next; !read.done; read = await next) {
      const page = read.value;
      ctx.report.calls.listPages++;
      next = pages.next();
      // Awaited by the loop, which throws its failure; this only keeps a fetch that fails
      // while onPage fails too from going unhandled.
      next.catch(() => {});
      for (const item of page.unreadable ?? []) {
        ctx.report.recordProblem({
          calendar: calendarKey(cal),
          error: "UnreadableEvent",
          message: item.id ? `event ${item.id}: ${item.problem}` : item.problem,
        });
      }
      await onPage(page.events);
      token = page.cursor ?? token;
    }
  } catch (err) {
    await pages.return?.();
    throw err;
  }
  return token ? { token } : {};
}
