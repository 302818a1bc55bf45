import { Hono } from "hono";
import { NotFoundNotice } from "../../components/NotFoundNotice.tsx";
import { OwnerPageHead } from "../../components/OwnerPageHead.tsx";
import { GroupDeleteButton } from "../../components/GroupList.tsx";
import { CheckAndRepair } from "../../components/CheckAndRepair.tsx";
import { Island } from "../../components/Island.tsx";
import GroupEditor from "../../islands/GroupEditor.tsx";
import { listCalendars } from "../../lib/db/calendars.ts";
import { listConnections } from "../../lib/db/connections.ts";
import { getGroup } from "../../lib/db/groups.ts";
import { listWritePauses } from "../../lib/db/account_limits.ts";
import { openIncidents } from "../../lib/notify/incidents.ts";
import type { GroupDraft } from "../../lib/browser/group_draft.ts";
import { suggestGroupName } from "../../lib/browser/group_draft.ts";
import type { CalendarOption } from "../../lib/browser/rule_draft.ts";
import { GROUP_MAX_MEMBERS, GROUP_MIN_MEMBERS, GroupInputSchema } from "../../lib/model/group.ts";
import { calendarOptions } from "../../lib/web/page_data.ts";
import type { AppDeps, AppEnv } from "../../app_context.ts";
import { requireSignedInPage, userOf } from "../../lib/http/auth_middleware.ts";

/**
 * `GET /groups/new` and `GET /groups/:id`: the group editor. Groups are listed on /rules,
 * beside the rules they stand with; reading works without JavaScript, editing does not.
 */
export function groupsPages(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/new", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const [connections, calendars] = await Promise.all([
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
    ]);
    const options = calendarOptions(connections, calendars);
    const draft = defaultDraft(options);
    return c.html(deps.render(
      <>
        <div class="page-head">
          <div>
            <p class="crumbs">
              <a href="/rules">Rules</a> / New group
            </p>
            <h1>New group</h1>
            <p class="lead">
              A group makes its calendars all block each other: every event of one becomes a busy
              block in each of the others, with one set of settings.
            </p>
          </div>
        </div>
        <EditorNeedsScript />
        {draft
          ? (
            <Island
              name="GroupEditor"
              component={GroupEditor}
              props={{
                draft,
                calendars: options,
                maxMembers: GROUP_MAX_MEMBERS,
                today: deps.now().toISOString(),
              }}
            />
          )
          : (
            <div class="empty">
              <h2>Connect your calendars first</h2>
              <p>A group needs at least two calendars whose events busysync can read.</p>
              <a class="button" href="/connections">Connect accounts</a>
            </div>
          )}
      </>,
      { title: "New group", user, nav: "rules" },
    ));
  });

  app.get("/:id", requireSignedInPage(), async (c) => {
    const user = userOf(c);
    const [entry, connections, calendars] = await Promise.all([
      getGroup(deps.kv, user.id, c.req.param("id")),
      listConnections(deps.kv, user.id),
      listCalendars(deps.kv, user.id),
    ]);
    if (!entry) {
      c.status(404);
      return c.html(deps.render(
        <NotFoundNotice
          heading="No such group"
          why="It may have been deleted, or the link is mistyped."
          back={{ href: "/rules", label: "All rules and groups" }}
        />,
        { title: "Group not found", user, nav: "rules" },
      ));
    }
    const { group } = entry;
    const path = `/groups/${encodeURIComponent(group.id)}`;
    const {
      id: _id,
      adopted: _a,
      status: _s,
      statusReason: _r,
      createdAt: _c,
      updatedAt: _u,
      ...draft
    } = group;
    return c.html(deps.render(
      <>
        <OwnerPageHead
          owner={group}
          incidents={openIncidents(
            connections,
            [group],
            await listWritePauses(deps.kv, connections, deps.now()),
          )}
          here={path}
        >
          <GroupDeleteButton group={group} />
        </OwnerPageHead>
        <CheckAndRepair owner={{ kind: "group", groupId: group.id }} enabled={group.enabled} />
        <EditorNeedsScript />
        <Island
          name="GroupEditor"
          component={GroupEditor}
          props={{
            groupId: group.id,
            draft: draft satisfies GroupDraft,
            etag: entry.versionstamp,
            calendars: calendarOptions(connections, calendars),
            maxMembers: GROUP_MAX_MEMBERS,
            today: deps.now().toISOString(),
          }}
        />
      </>,
      { title: group.name, user, nav: "rules" },
    ));
  });

  return app;
}

/** Reading works without JavaScript; checking, previewing and saving a group do not. */
function EditorNeedsScript() {
  return (
    <noscript>
      <p class="callout">
        Editing a group, its live checks and its preview need JavaScript, which is off in this
        browser. The group's settings below can still be read.
      </p>
    </noscript>
  );
}

/**
 * A new group's starting point: the main calendar of each connected account (the calendars a
 * person most often wants to block each other), topped up with other readable calendars to
 * the minimum, with every default the API applies. Undefined when there are too few.
 */
function defaultDraft(options: CalendarOption[]): GroupDraft | undefined {
  const readable = options.filter((o) => o.readable);
  const firsts = readable.filter((o, i) =>
    readable.findIndex((p) => p.connectionId === o.connectionId) === i
  ).slice(0, GROUP_MAX_MEMBERS);
  const picked = [...firsts, ...readable.filter((o) => !firsts.includes(o))]
    .slice(0, Math.max(firsts.length, GROUP_MIN_MEMBERS));
  if (picked.length < GROUP_MIN_MEMBERS) return undefined;
  return GroupInputSchema.parse({
    name: suggestGroupName(picked),
    members: picked.map((o) => ({
      calendar: { connectionId: o.connectionId, calendarId: o.calendarId },
    })),
  });
}
