import { useState } from "preact/hooks";
import { plural } from "../lib/browser/format.ts";
import { fullCalendarName, shortCalendarName } from "../lib/model/calendar_name.ts";
import type { CalendarOption, PreviewAnswer, PreviewState } from "../lib/browser/rule_draft.ts";
import { layoutWeek, mondayOf, weekLabel } from "../lib/browser/week.ts";
import { type PreviewBlock, WeekView } from "./WeekView.tsx";

/**
 * The preview panel: a week of the target calendar with the busy blocks the rule would make,
 * week by week, over what the calendar already holds, and a tab per calendar written to (both
 * ways: two; a group: each member it may write to). While a new preview loads the last one stays, under a loading bar, so the panel
 * keeps its size.
 */
export function RulePreview(
  { preview, targets, today, editing, noun, onRefresh }: {
    preview: PreviewState;
    /** What is previewed, in its words. */
    noun: "rule" | "group";
    /** A stored rule: no change means its busy blocks are already right. */
    editing: boolean;
    targets: CalendarOption[];
    /** ISO instant of "now" from the server, so both renders start on the same week. */
    today: string;
    onRefresh: () => void;
  },
) {
  const [tab, setTab] = useState(0);
  const [weeks, setWeeks] = useState(0);
  const target = targets[Math.min(tab, targets.length - 1)];
  const answer = preview.state === "ready" || preview.state === "loading"
    ? preview.answer
    : undefined;
  const zone = target?.timeZone ?? "UTC";
  const monday = mondayOf(new Date(today), zone, weeks);
  const mine = answer?.ops.filter((op) => op.target === target?.key) ?? [];
  const already = answer?.existing.filter((e) => e.target === target?.key) ?? [];
  const layout = layoutWeek<PreviewBlock>(
    [
      ...already.map((e) => ({
        start: e.start,
        end: e.end,
        data: { kind: "existing" as const, summary: e.summary },
      })),
      ...mine.map((op) => ({
        start: op.start,
        end: op.end,
        data: { kind: op.kind, summary: op.summary },
      })),
    ],
    zone,
    monday,
  );
  const inWeek = new Set(
    layout.placed.filter((p) => p.data.kind !== "keep" && p.data.kind !== "existing")
      .map((p) => p.data),
  ).size;

  return (
    <section
      class="card preview"
      aria-labelledby="preview-title"
      data-preview-state={preview.state}
    >
      <div class="preview-head">
        <h2 id="preview-title">Preview</h2>
        <button
          type="button"
          class="button button-small button-secondary"
          onClick={onRefresh}
          disabled={preview.state === "loading" || preview.state === "waiting"}
        >
          Refresh
        </button>
      </div>
      {targets.length > 1 && (
        <div class="tabs" role="tablist" aria-label="Calendar shown">
          {targets.map((t, i) => (
            <button
              type="button"
              role="tab"
              key={t.key}
              aria-selected={i === tab}
              class="tab"
              onClick={() => setTab(i)}
            >
              Into {shortCalendarName(t)}
            </button>
          ))}
        </div>
      )}
      <p class="preview-summary" role="status" aria-live="polite" data-testid="preview-summary">
        {preview.state === "waiting" && preview.reason}
        {preview.state === "error" && <span class="field-error">{preview.message}</span>}
        {preview.state === "loading" && !answer && "Reading the source calendar…"}
        {answer && <Totals answer={answer} inWeek={inWeek} editing={editing} noun={noun} />}
        {preview.state === "loading" && answer && <span class="muted">Updating…</span>}
      </p>
      <div class="preview-nav">
        <button
          type="button"
          class="icon-button"
          aria-label="Previous week"
          onClick={() => setWeeks(weeks - 1)}
        >
          ‹
        </button>
        <span class="preview-week">{weekLabel(monday)}</span>
        <button
          type="button"
          class="icon-button"
          aria-label="Next week"
          onClick={() => setWeeks(weeks + 1)}
        >
          ›
        </button>
        {weeks !== 0 && (
          <button type="button" class="link-button" onClick={() => setWeeks(0)}>This week</button>
        )}
      </div>
      <div
        class={preview.state === "loading" ? "preview-body is-loading" : "preview-body"}
        aria-busy={preview.state === "loading"}
      >
        {target && (
          <WeekView layout={layout} calendarName={fullCalendarName(target)} timeZone={zone} />
        )}
      </div>
      <ul class="legend" aria-hidden="true">
        <li>
          <span class="swatch swatch-create" /> new
        </li>
        <li>
          <span class="swatch swatch-patch" /> changed
        </li>
        <li>
          <span class="swatch swatch-delete" /> removed
        </li>
        {editing && (
          <li>
            <span class="swatch swatch-keep" /> unchanged
          </li>
        )}
        <li>
          <span class="swatch swatch-existing" /> already in the calendar
        </li>
      </ul>
    </section>
  );
}

function Totals(
  { answer, inWeek, editing, noun }: {
    answer: PreviewAnswer;
    inWeek: number;
    editing: boolean;
    noun: "rule" | "group";
  },
) {
  const { create, patch, delete: remove } = answer.counts;
  const kept = answer.ops.filter((op) => op.kind === "keep").length;
  const parts = ([[create, "add"], [patch, "change"], [remove, "remove"]] as const)
    .filter(([n]) => n > 0)
    .map(([n, verb], i) => i === 0 ? `${verb} ${plural(n, "busy block")}` : `${verb} ${n}`);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
  const others = editing && kept
    ? ` The other ${kept === 1 ? "block stays as it is" : `${kept} stay as they are`}.`
    : "";
  return (
    <>
      {parts.length === 0
        ? editing
          ? `No changes: the ${noun}'s busy blocks (${kept}) are up to date.`
          : `Nothing to add: no event in the ${noun}'s time window passes its filters.`
        : `${editing ? "Saving would" : "Would"} ${list} (${inWeek} in this week).${others}`}
      {answer.errors.map((e, i) => <span key={i} class="field-error">{e.message}</span>)}
    </>
  );
}
