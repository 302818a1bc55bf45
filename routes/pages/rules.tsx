import { Hono } from "hono";
import { z } from "zod";
import { Banners } from "../../components/Banners.tsx";
import { GroupsSection } from "../../components/GroupList.tsx";
import { NamedCalendar } from "../../components/CalendarSwatch.tsx";
import { NotFoundNotice } from "../../components/NotFoundNotice.tsx";
import { CheckAndRepair } from "../../components/CheckAndRepair.tsx";
import { OwnerPageHead } from "../../components/OwnerPageHead.tsx";
import { Island } from "../../components/Island.tsx";
import { RuleGraph } from "../../components/RuleGraph.tsx";
import { RuleStatusPill } from "../../components/RuleStatusPill.tsx";
import ActionButton from "../../islands/ActionButton.tsx";
import UndoDelete from "../../islands/UndoDelete.tsx";
import RuleEditor from "../../islands/RuleEditor.tsx";
import RuleToggle from "../../islands/RuleToggle.tsx";
import SavedSync from "../../islands/SavedSync.tsx";
import { listCalendars } from "../../lib/db/calendars.ts";
import { listConnections } from "../../lib/db/connections.ts";
import { getRule, listRules, listRulesAndGroups } from "../../lib/db/rules.ts";
import {
  type Coverer,
  findCovering,
  groupCoverer,
  ruleCoverer,
} from "../../lib/model/pair_coverage.ts";
import { listGroups } from "../../lib/db/groups.ts";
import { listWritePauses } from "../../lib/db/account_limits.ts";
import { openIncidents } from "../../lib/notify/incidents.ts";
import { duplicateNotes, propagationHints } from "../../lib/rules/check.ts";
import { calendarKey } from "../../lib/model/calendar_ref.ts";
import { type Rule, RuleInputSchema } from "../../lib/model/rule.ts";
import type { Group } from "../../lib/model/group.ts";
import { type CalendarOption, type RuleDraft, suggestName } from "../../lib/browser/rule_draft.ts";
import { type CalendarLabel, calendarLabels, calendarOptions } from "../../lib/web/page_data.ts";
import { fullCalendarName } from "../../lib/model/calendar_name.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { requireSignedInPage, userOf } from "../../lib/http/auth_middleware.ts";

/**
 * `GET /rules` (the list with on/off switches and the rule graph), `GET /rules/new` and
 * `GET /rules/:id` (the editor). Reading works without JavaScript; switching, editing and
 * deleting use the JSON API through islands.
 */
/** `?saved=<ruleId>&run=<runId>`: where the editor sends a person after a save. */
const SavedQuery = z.object({
  /** A rule's or a group's id. */
  saved: z.string().min(1).max(64).optional(),
  run: z.string().min(1).max(64).optional(),
  /** Set when the save made a new rule or group: the message says "Created". */
  created: z.literal("1").optional(),
  /** How many rules a group made from a cycle took over (and so replaced). */
  adopted: z.coerce.number().int().min(1).max(100).optional(),
});

/** A delete with an undo window just happened (islands/ActionButton.tsx → UndoDelete). */
const UndoQuery = z.object({
  // Only an undo address of this app: a crafted link cannot make the button post elsewhere.
  undo: z.string().regex(/^\/api\/(rules|groups)\/[A-Za-z0-9]{1,64}\/undo$/),
  name: z.string().min(1).max(200),
  blocks: z.coerce.number().int().min(0).max(1_000_000),
  until: z.iso.datetime(),
});

export function rulesPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const [connections, calendars, entries, groupEntries] = await Promise.all([
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
      listRules(deps.kv, user.id),
      listGroups(deps.kv, user.id),
    ]);
    const rules = entries.map((e) => e.rule);
    const groups = groupEntries.map((e) => e.group);
    const labels = calendarLabels(connections, calendars);
    const hints = propagationHints(rules, connections, calendars);
    const duplicates = duplicateNotes(rules, connections, calendars);
    // A bad query is dropped rather than refused: the list is still the page asked for.
    const query = SavedQuery.safeParse(c.req.query());
    const savedId = query.success ? query.data.saved : undefined;
    const saved = savedId === undefined ? undefined : savedWords(savedId, rules, groups, labels);
    const undone = UndoQuery.safeParse(c.req.query());
    return c.html(deps.render(
      <>
        <Banners
          incidents={openIncidents(
            connections,
            [...rules, ...groups],
            await listWritePauses(deps.kv, connections, deps.now()),
          )}
          here="/rules"
        />
        <div class="page-head">
          <div>
            <h1>Rules</h1>
            <p class="lead">
              A rule copies the busy time of one calendar into another; a group makes several
              calendars all block each other. Turning one off removes its busy blocks; turning it on
              brings them back.
            </p>
          </div>
          {calendars.length >= 2 && (
            <div class="head-actions">
              <a class="button" href="/rules/new">New rule</a>
              <a class="button button-secondary" href="/groups/new">New group</a>
            </div>
          )}
        </div>
        {undone.success && (
          <Island
            name="UndoDelete"
            component={UndoDelete}
            props={{
              kind: undone.data.undo.startsWith("/api/groups/") ? "Group" : "Rule",
              name: undone.data.name,
              url: undone.data.undo,
              blocks: undone.data.blocks,
              expiresAt: undone.data.until,
            }}
          />
        )}
        {saved && (
          <Island
            name="SavedSync"
            component={SavedSync}
            props={{
              ruleName: saved.name,
              into: saved.into,
              ...(query.success && query.data.run ? { runId: query.data.run } : {}),
              ...(query.success && query.data.created ? { created: true } : {}),
            }}
          />
        )}
        {saved && query.success && query.data.adopted && (
          <p class="callout" data-adopted>
            The group took over the busy blocks of{" "}
            {query.data.adopted === 1 ? "the rule" : `the ${query.data.adopted} rules`}{" "}
            that formed the circle, and replaced{" "}
            {query.data.adopted === 1 ? "it" : "them"}: nothing was removed and made again.
          </p>
        )}
        {duplicates.length > 0 && (
          // Stored before duplicates were refused: said, never deleted; the person picks one.
          <section class="callout" role="alert" data-duplicates>
            <strong>Rules that do the same thing</strong>
            <p>Each busy block of these appears twice. Both stay until you edit or delete one.</p>
            <ul>{duplicates.map((d) => <li key={d}>{d[0].toUpperCase() + d.slice(1)}.</li>)}</ul>
          </section>
        )}
        {rules.length === 0 && groups.length === 0
          ? <NoRules canCreate={calendars.length >= 2} />
          : (
            <>
              {rules.length > 0 && (
                <ul class="rule-list">
                  {rules.map((r) => <RuleRow key={r.id} rule={r} labels={labels} />)}
                </ul>
              )}
              {groups.length > 0 && <GroupsSection groups={groups} labels={labels} />}
              <section class="card graph-card" aria-labelledby="graph-title">
                <h2 id="graph-title">How your calendars are linked</h2>
                <div data-live="rule-graph">
                  <RuleGraph rules={rules} groups={groups} calendars={labels} />
                </div>
                {hints.length > 0 && (
                  <div class="callout">
                    <strong>Good to know</strong>
                    <ul>{hints.map((h) => <li key={h.message}>{h.message}</li>)}</ul>
                  </div>
                )}
              </section>
            </>
          )}
      </>,
      { title: "Rules", user, nav: "rules" },
    ));
  });

  app.get("/new", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const [connections, calendars, owners] = await Promise.all([
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
      listRulesAndGroups(deps.kv, user.id),
    ]);
    const options = calendarOptions(connections, calendars);
    const coverers = owners.map((o) => "members" in o ? groupCoverer(o) : ruleCoverer(o));
    const draft = defaultDraft(options, coverers);
    return c.html(deps.render(
      <>
        <div class="page-head">
          <div>
            <p class="crumbs">
              <a href="/rules">Rules</a> / New
            </p>
            <h1>New rule</h1>
          </div>
        </div>
        <EditorNeedsScript />
        {draft
          ? (
            <Island
              name="RuleEditor"
              component={RuleEditor}
              props={{ draft, calendars: options, today: deps.now().toISOString() }}
            />
          )
          : <NoRules canCreate={false} />}
      </>,
      { title: "New rule", user, nav: "rules" },
    ));
  });

  app.get("/:id", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const path = `/rules/${encodeURIComponent(c.req.param("id"))}`;
    const [entry, connections, calendars] = await Promise.all([
      getRule(deps.kv, user.id, c.req.param("id")),
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
    ]);
    if (!entry) {
      c.status(404);
      return c.html(deps.render(
        <NotFoundNotice
          heading="No such rule"
          why="It may have been deleted, or the link is mistyped."
          back={{ href: "/rules", label: "All rules" }}
        />,
        { title: "Rule not found", user, nav: "rules" },
      ));
    }
    const { rule } = entry;
    const { id: _id, status: _s, statusReason: _r, createdAt: _c, updatedAt: _u, ...draft } = rule;
    return c.html(deps.render(
      <>
        <OwnerPageHead
          owner={rule}
          incidents={openIncidents(
            connections,
            [rule],
            await listWritePauses(deps.kv, connections, deps.now()),
          )}
          here={path}
        >
          <Island
            name="ActionButton"
            component={ActionButton}
            props={{
              label: "Delete rule",
              danger: true,
              question: {
                title: `Delete “${rule.name}”?`,
                message: "The busy blocks this rule made can go with it, or stay in the target " +
                  "calendar as they are (busysync then never touches them again).",
              },
              choices: [
                {
                  label: "Delete and remove its busy blocks",
                  method: "DELETE",
                  url: `/api/rules/${rule.id}?undo=true`,
                  danger: true,
                  undoName: rule.name,
                },
                {
                  label: "Delete, keep the blocks",
                  method: "DELETE",
                  url: `/api/rules/${rule.id}?keepMirrors=true`,
                },
              ],
              done: "/rules",
            }}
          />
        </OwnerPageHead>
        <CheckAndRepair owner={{ kind: "rule", ruleId: rule.id }} enabled={rule.enabled} />
        <EditorNeedsScript />
        <Island
          name="RuleEditor"
          component={RuleEditor}
          props={{
            ruleId: rule.id,
            draft: draft satisfies RuleDraft,
            etag: entry.versionstamp,
            calendars: calendarOptions(connections, calendars),
            today: deps.now().toISOString(),
          }}
        />
      </>,
      { title: rule.name, user, nav: "rules" },
    ));
  });

  return app;
}

/** The saved rule's or group's name and the calendars it writes into, for a sentence. */
function savedWords(
  id: string,
  rules: readonly Rule[],
  groups: readonly Group[],
  labels: Map<string, CalendarLabel>,
): { name: string; into: string } | undefined {
  const rule = rules.find((r) => r.id === id);
  const group = groups.find((g) => g.id === id);
  const into = rule
    ? [rule.target, ...(rule.bidirectional ? [rule.source] : [])]
    : group?.members.map((m) => m.calendar);
  if (!into) return undefined;
  const names = into.map((ref) => fullCalendarName(labels.get(calendarKey(ref))));
  const list = names.length < 2
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return { name: (rule ?? group)!.name, into: list };
}

function RuleRow({ rule, labels }: { rule: Rule; labels: Map<string, CalendarLabel> }) {
  const f = rule.filters;
  const skips = [
    f.skipAllDay && "all-day",
    f.skipDeclined && "declined",
    f.skipTentative && "tentative",
    f.skipFree && "free",
    f.skipInvitedInTarget && "invited there too",
  ].filter(Boolean);
  return (
    <li class="card rule-row" data-rule={rule.id}>
      <div class="rule-row-main">
        <div class="rule-row-title">
          <a href={`/rules/${rule.id}`}>{rule.name}</a>
          {/* On and off is the switch's to show; a pill here would go stale when it flips. */}
          {rule.enabled && rule.status !== "ok" && (
            <RuleStatusPill enabled={rule.enabled} status={rule.status} />
          )}
        </div>
        <p class="rule-path">
          <NamedCalendar calendar={labels.get(calendarKey(rule.source))} />
          <span class="arrow" aria-label={rule.bidirectional ? "both ways with" : "into"}>
            {rule.bidirectional ? " ↔ " : " → "}
          </span>
          <NamedCalendar calendar={labels.get(calendarKey(rule.target))} />
        </p>
        <ul class="chips" aria-label="Settings">
          <li>
            {rule.privacy === "busy"
              ? `Shows “${rule.titlePrefix}${rule.title}”`
              : rule.privacy === "title"
              ? "Shows event titles"
              : "Shows titles, places and notes"}
          </li>
          {rule.privacy !== "busy" && rule.copyPrivateTitles && <li>Also private titles</li>}
          {skips.length > 0 && <li>Skips {skips.join(", ")}</li>}
          {f.workingHours && <li>Working hours only</li>}
          <li>{rule.window.daysAhead} days ahead</li>
        </ul>
        {rule.statusReason && rule.status !== "ok" && <p class="reason">{rule.statusReason}</p>}
      </div>
      <Island
        name="RuleToggle"
        component={RuleToggle}
        props={{ ruleId: rule.id, name: rule.name, enabled: rule.enabled }}
      />
    </li>
  );
}

/** Reading works without JavaScript; checking, previewing and saving a rule do not. */
function EditorNeedsScript() {
  return (
    <noscript>
      <p class="callout">
        Editing a rule, its live checks and its preview need JavaScript, which is off in this
        browser. The rule's settings below can still be read.
      </p>
    </noscript>
  );
}

function NoRules({ canCreate }: { canCreate: boolean }) {
  return (
    <div class="empty">
      <h2>{canCreate ? "No rules yet" : "Connect your calendars first"}</h2>
      <p>
        {canCreate
          ? "Create a rule to start filling one calendar with the busy time of another."
          : "A rule needs two calendars: connect the Google accounts they belong to."}
      </p>
      {canCreate
        ? <a class="button" href="/rules/new">Create your first rule</a>
        : <a class="button" href="/connections">Connect accounts</a>}
    </div>
  );
}

/**
 * A new rule's starting point, with every default the API applies: a calendar into a writable
 * calendar of another account (or of the same one), the first such pair no rule or group
 * mirrors yet, so the form does not open on a duplicate (the first pair when all are).
 * Undefined when there are not two calendars to pick.
 */
function defaultDraft(
  options: CalendarOption[],
  coverers: readonly Coverer[],
): RuleDraft | undefined {
  const ref = (o: CalendarOption) => ({ connectionId: o.connectionId, calendarId: o.calendarId });
  const pairs = options.filter((o) => o.readable).flatMap((source) =>
    options.filter((t) => t.writable && t.key !== source.key)
      // Another account's calendar first: that is what people link.
      .sort((a, b) =>
        Number(a.connectionId === source.connectionId) -
        Number(b.connectionId === source.connectionId)
      )
      .map((target) => ({ source, target }))
  );
  const free = pairs.find(({ source, target }) =>
    !findCovering([{ source: ref(source), target: ref(target) }], coverers)
  );
  const pick = free ?? pairs[0];
  if (!pick) return undefined;
  const { source, target } = pick;
  return RuleInputSchema.parse({
    name: suggestName(source, target),
    source: { connectionId: source.connectionId, calendarId: source.calendarId },
    target: { connectionId: target.connectionId, calendarId: target.calendarId },
  });
}
