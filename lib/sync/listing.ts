/**
 * Reading a calendar's listing page by page: each page is counted in the run's report, its
 * unreadable events are recorded as problems, and it is handed to the caller before the next
 * one is fetched, so a caller that keeps only what it needs of a page never holds the whole
 * listing.
 */
import { calendarKey } from "../model/calendar_ref.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { SourceEvent } from "../model/events.ts";
import type { TimeWindow } from "../model/time_window.ts";
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
  onPage: (events: readonly SourceEvent[]) => void,
): Promise<{ full: boolean; token?: string }> {
  const listing = await ctx.provider(cal.connectionId).listChanges(cal, cursor, window);
  let token: string | undefined;
  for await (const page of listing.pages) {
    ctx.report.calls.listPages++;
    onPage(page.events);
    for (const item of page.unreadable ?? []) {
      ctx.report.recordProblem({
        calendar: calendarKey(cal),
        error: "UnreadableEvent",
        message: item.id ? `event ${item.id}: ${item.problem}` : item.problem,
      });
    }
    token = page.cursor ?? token;
  }
  return { full: listing.full, ...(token ? { token } : {}) };
}
