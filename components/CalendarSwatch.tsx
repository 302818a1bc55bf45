import type { CalendarName } from "../lib/model/calendar_name.ts";
import { fullCalendarName } from "../lib/model/calendar_name.ts";

/**
 * The calendar's colour from Google, as a dot beside its name. Drawn as SVG with a `fill`
 * attribute: the CSP allows no inline styles, and a presentation attribute is not one. Nothing
 * is drawn for a colour busysync does not know (a cache from before colours were kept).
 */
export function CalendarSwatch({ color }: { color?: string }) {
  if (!color) return null;
  return (
    <svg class="calendar-swatch" viewBox="0 0 12 12" width="12" height="12" aria-hidden="true">
      <circle cx="6" cy="6" r="5.5" fill={color} stroke="currentColor" stroke-opacity="0.35" />
    </svg>
  );
}

/** `● “Main calendar” (alex@work.example.com)`: a calendar named in running text, in colour. */
export function NamedCalendar({ calendar }: { calendar: CalendarName | undefined }) {
  return (
    <span class="calendar-label">
      <CalendarSwatch color={calendar?.color} />
      {fullCalendarName(calendar)}
    </span>
  );
}
