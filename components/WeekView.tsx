import { SideScroll } from "./SideScroll.tsx";
import { formatMinutes, type Placed, weekLabel, type WeekLayout } from "../lib/browser/week.ts";

/**
 * What the preview draws: a busy block the rule would create, change or remove, one it keeps,
 * or an event already in the calendar.
 */
export interface PreviewBlock {
  kind: "create" | "patch" | "delete" | "keep" | "existing";
  summary: string;
}

const KIND_WORD: Record<PreviewBlock["kind"], string> = {
  create: "new",
  patch: "changed",
  delete: "removed",
  keep: "unchanged",
  existing: "already in the calendar",
};

const GUTTER = 40;
const DAY_W = 80;
const HEAD_H = 26;
const ALL_DAY_H = 22;
const HOUR_H = 30;

/**
 * A week of one calendar as SVG, with the preview's blocks drawn in: filled for new busy
 * blocks, outlined for changed ones, dashed for removed ones, muted for ones that stay. Geometry only in attributes
 * (the CSP allows no inline styles); colours come from classes, so dark mode applies. A list
 * for screen readers says the same in words.
 */
export function WeekView(
  { layout, calendarName, timeZone }: {
    layout: WeekLayout<PreviewBlock>;
    calendarName: string;
    timeZone: string;
  },
) {
  const { firstHour, lastHour, placed } = layout;
  const hasAllDay = placed.some((p) => p.allDay);
  const top = HEAD_H + (hasAllDay ? ALL_DAY_H : 0);
  const height = top + (lastHour - firstHour) * HOUR_H + 1;
  const width = GUTTER + 7 * DAY_W;
  const y = (minute: number) => top + ((minute - firstHour * 60) / 60) * HOUR_H;
  const hours = Array.from({ length: lastHour - firstHour + 1 }, (_, i) => firstHour + i);
  const label = `${calendarName}, week of ${weekLabel(layout.monday)}`;
  return (
    <figure class="week">
      {/* Wider than a phone: scrolled sideways, so it must take the keyboard's focus too. */}
      <SideScroll kind="week" hint="Scroll sideways for the rest of the week" focusLabel={label}>
        <svg
          class="week-svg"
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
          role="img"
          aria-label={`${label}: ${
            placed.filter((p) => p.data.kind !== "existing").length
          } busy block(s) of the rule`}
        >
          {layout.days.map((day, i) => (
            <g key={day}>
              <rect
                class={i >= 5 ? "wk-col wk-weekend" : "wk-col"}
                x={GUTTER + i * DAY_W}
                y={HEAD_H}
                width={DAY_W}
                height={height - HEAD_H}
              />
              <text class="wk-day" x={GUTTER + i * DAY_W + DAY_W / 2} y={17} text-anchor="middle">
                {day}
              </text>
            </g>
          ))}
          {hours.map((h) => (
            <g key={h}>
              <line class="wk-hour" x1={GUTTER} x2={width} y1={y(h * 60)} y2={y(h * 60)} />
              {h < lastHour && (
                <text class="wk-hour-label" x={GUTTER - 6} y={y(h * 60) + 11} text-anchor="end">
                  {`${String(h).padStart(2, "0")}:00`}
                </text>
              )}
            </g>
          ))}
          {placed.map((p, i) => <Block key={i} p={p} y={y} />)}
        </svg>
      </SideScroll>
      <figcaption class="week-caption">
        {label} <span class="muted">({timeZone})</span>
      </figcaption>
      <ul class="visually-hidden">
        {placed.map((p, i) => (
          <li key={i}>
            {layout.days[p.day]}: {p.data.summary},{" "}
            {p.allDay ? "all day" : `${formatMinutes(p.from)} to ${formatMinutes(p.to)}`}{" "}
            ({KIND_WORD[p.data.kind]})
          </li>
        ))}
      </ul>
    </figure>
  );
}

function Block({ p, y }: { p: Placed<PreviewBlock>; y: (minute: number) => number }) {
  const cls = `wk-block wk-${p.data.kind}`;
  if (p.allDay) {
    const x = GUTTER + p.day * DAY_W + 2;
    const w = p.days * DAY_W - 4;
    return (
      <g class={cls}>
        <rect x={x} y={HEAD_H + 2} width={w} height={ALL_DAY_H - 4} rx={4} />
        <text class="wk-text" x={x + 5} y={HEAD_H + 15}>{clip(p.data.summary, w)}</text>
      </g>
    );
  }
  const laneW = (DAY_W - 4) / p.lanes;
  const x = GUTTER + p.day * DAY_W + 2 + p.lane * laneW;
  const top = y(p.from) + 1;
  const h = Math.max(y(p.to) - top - 1, 12);
  const tall = h >= 28;
  return (
    <g class={cls}>
      <rect x={x} y={top} width={laneW - 2} height={h} rx={4} />
      <text class="wk-text" x={x + 5} y={top + 12}>{clip(p.data.summary, laneW)}</text>
      {tall && (
        <text class="wk-text wk-time" x={x + 5} y={top + 24}>
          {clip(`${formatMinutes(p.from)}–${formatMinutes(p.to)}`, laneW)}
        </text>
      )}
    </g>
  );
}

/** Cuts a label to what fits `width` user units at the block font size (≈6 units a letter). */
function clip(text: string, width: number): string {
  const max = Math.max(1, Math.floor((width - 8) / 6));
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
