import { Hono } from "hono";
import { z } from "zod";
import { NotFoundNotice } from "../../components/NotFoundNotice.tsx";
import {
  ChangeSummary,
  OutcomePill,
  runDuration,
  RunTable,
  TRIGGER_WORDS,
} from "../../components/RunTable.tsx";
import { listCalendars } from "../../lib/db/calendars.ts";
import { listConnections } from "../../lib/db/connections.ts";
import {
  getRun,
  listRuns,
  type RemovedOwnerCause,
  type RunAction,
  type WriteOutcome,
} from "../../lib/db/history.ts";
import { listRulesAndGroups } from "../../lib/db/rules.ts";
import { plural } from "../../lib/browser/format.ts";
import { LocalEventTime, LocalTime } from "../../components/LocalTime.tsx";
import { type OpenedAction, openTitles } from "../../lib/db/history_titles.ts";
import { calendarLabels, displayZone } from "../../lib/web/page_data.ts";
import { fullCalendarName } from "../../lib/model/calendar_name.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { requireSignedInPage, userOf } from "../../lib/http/auth_middleware.ts";

const PAGE_SIZE = 20;

const Query = z.object({
  rule: z.string().max(64).optional().catch(undefined),
  outcome: z.enum(["ok", "partial", "failed"]).optional().catch(undefined),
  cursor: z.string().max(500).optional().catch(undefined),
});

/** What happened to one event, in words. */
const ACTION_WORDS: Record<RunAction["kind"], string> = {
  create: "Busy block added",
  patch: "Busy block updated",
  delete: "Busy block removed",
  skip: "Left out",
};

/** What a write turned out to do, where the record says (newer runs). */
const OUTCOME_WORDS: Record<WriteOutcome, string> = {
  created: "Busy block added",
  restored: "Busy block brought back",
  patched: "Busy block updated",
  deleted: "Busy block removed",
  already_gone: "Busy block already gone",
};

const REASON_WORDS: Record<string, string> = {
  new: "the event is new",
  changed: "the event changed",
  cancelled: "the event was cancelled",
  source_gone: "the event was deleted",
  moved: "the rule now writes it elsewhere",
  outside_window: "the event left the rule's time window",
  all_day: "all-day events are left out",
  event_type: "this kind of event is left out",
  declined: "you declined the event",
  tentative: "the event is tentative or unanswered",
  free: "the event is marked free",
  invited_in_target: "the target calendar has its own invitation to it",
  summary_excluded: "its title matches the exclude pattern",
  outside_working_hours: "the event is outside working hours",
  unreadable_time: "the event's time could not be read",
  is_mirror: "it is itself a busy block",
  orphan: "no rule owns it any more",
  rule_removed: "its rule was removed",
  rule_turned_off: "its rule was turned off",
  rule_deleted: "its rule was deleted",
  group_turned_off: "its group was turned off",
  group_deleted: "its group was deleted",
  account_disconnected: "the account was disconnected",
  member_removed: "its calendar left the group",
  purge: "everything was removed",
  unconfirmed_insert: "an earlier sync's write went unanswered and the block is no longer wanted",
};

/** Why an owner's line counts removals only: what the person did to it. */
const REMOVED_WORDS: Record<RemovedOwnerCause, (kind: string) => string> = {
  turned_off: (kind) => `${kind} turned off`,
  deleted: (kind) => `${kind} deleted`,
  account_disconnected: () => "account disconnected",
};

/**
 * The event as the person sees it in the source calendar: "“Dentist” · Tue 8 Dec, 10:00–11:00".
 * A removal whose event the run did not read (its rule was removed, the event deleted) says so.
 */
function eventWords(a: OpenedAction, zone: string, now: Date) {
  const title = a.title === undefined ? "An event" : `“${a.title}”`;
  if (!a.start || !a.end) {
    return a.title === undefined && a.kind === "delete" ? "An event not read in this run" : title;
  }
  return (
    <>
      {title} · <LocalEventTime start={a.start} end={a.end} zone={zone} now={now} />
    </>
  );
}

/**
 * Which services a run's requests went to, by their method names ("events.insert" is Google's,
 * "caldav.put" a CalDAV server's): "Google", "CalDAV servers" or both.
 */
function servicesOf(methods: Record<string, number>): string {
  const names = Object.keys(methods);
  const caldav = names.some((m) => m.startsWith("caldav."));
  const google = names.length === 0 || names.some((m) => !m.startsWith("caldav."));
  return google && caldav ? "Google and CalDAV servers" : caldav ? "CalDAV servers" : "Google";
}

/**
 * `GET /history` (runs with counts and errors, filterable by rule and outcome with a plain GET
 * form, paged with "Older runs") and `GET /history/:runId` (one run: per rule counts, errors
 * with causes, and what happened to each event). No JavaScript on either.
 */
export function historyPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const query = Query.parse(c.req.query());
    const [rules, calendars, page] = await Promise.all([
      listRulesAndGroups(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
      listRuns(deps.kv, user.id, {
        limit: PAGE_SIZE,
        cursor: query.cursor,
        match: query.rule || query.outcome
          ? (run) =>
            (!query.outcome || run.outcome === query.outcome) &&
            (!query.rule || run.rules.some((r) => r.ruleId === query.rule) ||
              run.errors.some((e) => e.ruleId === query.rule))
          : undefined,
      }).catch((err) => {
        // KV refuses a cursor it did not make (an edited link): show the first page instead.
        if (!(err instanceof TypeError) || !query.cursor) throw err;
        return listRuns(deps.kv, user.id, { limit: PAGE_SIZE });
      }),
    ]);
    const zone = displayZone(user.settings.timeZone, calendars);
    const older = page.cursor &&
      `/history?${new URLSearchParams({
        ...(query.rule ? { rule: query.rule } : {}),
        ...(query.outcome ? { outcome: query.outcome } : {}),
        cursor: page.cursor,
      })}`;
    return c.html(deps.render(
      <>
        <div class="page-head">
          <div>
            <h1>History</h1>
            <p class="lead">Every sync busysync ran for you, newest first.</p>
          </div>
        </div>
        <form class="filters" method="get" action="/history">
          <div class="field">
            <label for="f-rule">Rule or group</label>
            <select id="f-rule" name="rule">
              <option value="">All rules and groups</option>
              {rules.map((rule) => (
                <option key={rule.id} value={rule.id} selected={rule.id === query.rule}>
                  {rule.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="f-outcome">Outcome</label>
            <select id="f-outcome" name="outcome">
              <option value="">Any</option>
              <option value="ok" selected={query.outcome === "ok"}>OK</option>
              <option value="partial" selected={query.outcome === "partial"}>Partly failed</option>
              <option value="failed" selected={query.outcome === "failed"}>Failed</option>
            </select>
          </div>
          <button type="submit" class="button button-secondary">Show</button>
        </form>
        {page.items.length === 0
          ? (
            <div class="empty">
              <h2>No runs {query.rule || query.outcome ? "match" : "yet"}</h2>
              <p>
                {query.rule || query.outcome
                  ? "Try another rule or outcome."
                  : "Runs show up here once a rule is on and busysync has synced."}
              </p>
            </div>
          )
          : (
            <div class="card card-flush">
              <RunTable runs={page.items} timeZone={zone} now={deps.now()} />
            </div>
          )}
        {older && (
          <p class="pager">
            <a class="button button-secondary" href={older}>Older runs</a>
          </p>
        )}
      </>,
      { title: "History", user, nav: "history" },
    ));
  });

  app.get("/:runId", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const runId = c.req.param("runId");
    const [found, rules, connections, calendars] = await Promise.all([
      getRun(deps.kv, user.id, runId),
      listRulesAndGroups(deps.kv, user.id),
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
    ]);
    if (!found) {
      c.status(404);
      return c.html(deps.render(
        <NotFoundNotice
          heading="No such run"
          why="Runs are kept for a limited time; this one may be past it."
          back={{ href: "/history", label: "All history" }}
        />,
        { title: "Run not found", user, nav: "history" },
      ));
    }
    const { run } = found;
    // Decrypted here, for this page only: titles are never logged nor stored in the clear.
    const actions = await openTitles(deps.keyring, user.id, run.id, found.actions);
    const groupIds = new Set(run.rules.filter((r) => r.kind === "group").map((r) => r.ruleId));
    const zone = displayZone(user.settings.timeZone, calendars);
    const labels = calendarLabels(connections, calendars);
    const ruleNames = new Map(rules.map((rule) => [rule.id, rule.name]));
    // The run's own lines name owners deleted since (or by it); older runs do not.
    const namesThen = new Map(run.rules.flatMap((r) => r.name ? [[r.ruleId, r.name]] : []));
    const ruleName = (id: string | undefined) =>
      id === undefined ? "—" : ruleNames.get(id) ?? namesThen.get(id) ?? "A deleted rule";
    const calls = run.apiCalls;
    return c.html(deps.render(
      <>
        <div class="page-head">
          <div>
            <p class="crumbs">
              <a href="/history">History</a> / Run
            </p>
            <h1>
              {TRIGGER_WORDS[run.trigger]} ·{" "}
              <LocalTime iso={run.startedAt} zone={zone} now={deps.now()} zoneName />{" "}
              <OutcomePill outcome={run.outcome} />
            </h1>
            <p class="lead">
              <ChangeSummary run={run} />. Took {runDuration(run)}
              {run.full ? ", a full check of every busy block" : ""}; {plural(
                calls.requests ??
                  calls.listPages + calls.putMirror + calls.deleteMirror + calls.listMarked,
                "call",
              )} to {servicesOf(calls.methods)}
              {Object.keys(calls.methods).length > 0 && (
                <>
                  {" "}(
                  {Object.entries(calls.methods).map(([m, n]) => `${n} ${m}`).join(", ")})
                </>
              )}.
            </p>
          </div>
        </div>

        <div class="stack">
          {run.errors.length > 0 && (
            <section class="card errors-card" aria-labelledby="errors-title">
              <h2 id="errors-title">{plural(run.errors.length + run.errorsDropped, "error")}</h2>
              <ul class="error-list">
                {run.errors.map((e, i) => (
                  <li key={i}>
                    <strong>{e.message}</strong>
                    <span class="muted-text">
                      {[
                        e.ruleId && `Rule: ${ruleName(e.ruleId)}`,
                        e.calendar && `Calendar: ${fullCalendarName(labels.get(e.calendar))}`,
                        e.cause && `Cause: ${e.cause}`,
                      ].filter(Boolean).join(" · ")}
                    </span>
                  </li>
                ))}
              </ul>
              {run.errorsDropped > 0 && <p class="muted-text">And {run.errorsDropped} more.</p>}
            </section>
          )}

          {run.rules.length > 0 && (
            <section class="card card-flush" aria-labelledby="rules-title">
              <h2 id="rules-title" class="card-pad">Per rule</h2>
              <table class="runs">
                <thead>
                  <tr>
                    <th scope="col">Rule</th>
                    <th scope="col">Added</th>
                    <th scope="col">Brought back</th>
                    <th scope="col">Updated</th>
                    <th scope="col">Removed</th>
                    <th scope="col">Already gone</th>
                    <th scope="col">Unchanged</th>
                    <th scope="col">Left out</th>
                    <th scope="col">Failed</th>
                  </tr>
                </thead>
                <tbody>
                  {run.rules.map((r) => (
                    <tr key={r.ruleId}>
                      <td data-label="Rule">
                        {ruleNames.has(r.ruleId)
                          ? (
                            <a href={`/${r.kind === "group" ? "groups" : "rules"}/${r.ruleId}`}>
                              {ruleName(r.ruleId)}
                            </a>
                          )
                          : ruleName(r.ruleId)}
                        {r.removed && (
                          <span class="muted">
                            {REMOVED_WORDS[r.removed](r.kind === "group" ? "group" : "rule")}
                          </span>
                        )}
                      </td>
                      <td data-label="Added">{r.created}</td>
                      <td data-label="Brought back">{r.restored}</td>
                      <td data-label="Updated">{r.updated}</td>
                      <td data-label="Removed">{r.deleted}</td>
                      <td data-label="Already gone">{r.alreadyGone}</td>
                      <td data-label="Unchanged">{r.unchanged}</td>
                      <td data-label="Left out">{r.skipped}</td>
                      <td data-label="Failed">{r.failed}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}

          <section class="card" aria-labelledby="events-title">
            <h2 id="events-title">What happened to each event</h2>
            {actions.length === 0
              ? <p class="muted-text">No busy block was added, changed or removed in this run.</p>
              : (
                <ol class="actions">
                  {actions.map((a, i) => (
                    <li key={i} class={`action action-${a.kind}`} data-action={a.kind}>
                      <span class="action-kind">
                        {a.outcome ? OUTCOME_WORDS[a.outcome] : ACTION_WORDS[a.kind]}
                      </span>
                      <span class="action-event">{eventWords(a, zone, deps.now())}</span>
                      <span class="action-why">because {REASON_WORDS[a.reason] ?? a.reason}</span>
                      <span class="action-where">
                        {a.kind === "skip" ? "for" : "in"} {fullCalendarName(labels.get(a.target))}
                        {" "}
                        · {groupIds.has(a.ruleId) ? "group" : "rule"} {ruleNames.has(a.ruleId)
                          ? (
                            <a href={`/${groupIds.has(a.ruleId) ? "groups" : "rules"}/${a.ruleId}`}>
                              {ruleName(a.ruleId)}
                            </a>
                          )
                          : ruleName(a.ruleId)}
                      </span>
                    </li>
                  ))}
                </ol>
              )}
            {run.actionsDropped > 0 && (
              <p class="muted-text">
                And {plural(run.actionsDropped, "more change")} not listed (a run keeps the first
                {" "}
                {actions.length}).
              </p>
            )}
          </section>
        </div>
      </>,
      { title: "Run", user, nav: "history" },
    ));
  });

  return app;
}
