import { calendarKey } from "../lib/model/calendar_ref.ts";
import type { Group } from "../lib/model/group.ts";
import type { CalendarLabel } from "../lib/web/page_data.ts";
import ActionButton from "../islands/ActionButton.tsx";
import GroupToggle from "../islands/GroupToggle.tsx";
import { NamedCalendar } from "./CalendarSwatch.tsx";
import { Island } from "./Island.tsx";
import { RuleStatusPill } from "./RuleStatusPill.tsx";

/** The groups on the rules page: a card each with its members, state, switch and actions. */
export function GroupsSection(
  { groups, labels }: { groups: Group[]; labels: Map<string, CalendarLabel> },
) {
  return (
    <section class="groups" aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      <ul class="rule-list">
        {groups.map((g) => <GroupRow key={g.id} group={g} labels={labels} />)}
      </ul>
    </section>
  );
}

function GroupRow({ group, labels }: { group: Group; labels: Map<string, CalendarLabel> }) {
  return (
    <li class="card rule-row group-row" data-group={group.id}>
      <div class="rule-row-main">
        <div class="rule-row-title">
          <a href={`/groups/${group.id}`}>{group.name}</a>
          {/* On and off is the switch's to show; a pill here would go stale when it flips. */}
          {group.enabled && group.status !== "ok" && (
            <RuleStatusPill enabled={group.enabled} status={group.status} />
          )}
        </div>
        <ul class="group-members" aria-label="Calendars that block each other">
          {group.members.map((m) => (
            <li key={calendarKey(m.calendar)}>
              <NamedCalendar calendar={labels.get(calendarKey(m.calendar))} />
            </li>
          ))}
        </ul>
        <ul class="chips" aria-label="Settings">
          <li>
            {group.privacy === "busy"
              ? `Shows “${group.titlePrefix}${group.title}”`
              : group.privacy === "title"
              ? "Shows event titles"
              : "Shows titles, places and notes"}
          </li>
          {group.members.some((m) => m.privacy) && <li>Some calendars show differently</li>}
          {group.filters.workingHours && <li>Working hours only</li>}
          <li>{group.window.daysAhead} days ahead</li>
        </ul>
        {group.statusReason && group.status !== "ok" && <p class="reason">{group.statusReason}</p>}
        {/* A div: the delete button's island holds a dialog, which a paragraph may not. */}
        <div class="group-actions">
          <a class="button button-small button-secondary" href={`/groups/${group.id}`}>Edit</a>
          <GroupDeleteButton group={group} />
        </div>
      </div>
      <Island
        name="GroupToggle"
        component={GroupToggle}
        props={{ groupId: group.id, name: group.name, enabled: group.enabled }}
      />
    </li>
  );
}

/** Deleting a group asks, as deleting a rule does, whether its busy blocks go with it. */
export function GroupDeleteButton({ group }: { group: Pick<Group, "id" | "name"> }) {
  return (
    <Island
      name="ActionButton"
      component={ActionButton}
      props={{
        label: "Delete group",
        danger: true,
        question: {
          title: `Delete “${group.name}”?`,
          message: "The busy blocks this group made can go with it, or stay in its calendars " +
            "as they are (busysync then never touches them again).",
        },
        choices: [
          {
            label: "Delete and remove its busy blocks",
            method: "DELETE",
            url: `/api/groups/${group.id}?undo=true`,
            danger: true,
            undoName: group.name,
          },
          {
            label: "Delete, keep the blocks",
            method: "DELETE",
            url: `/api/groups/${group.id}?keepMirrors=true`,
          },
        ],
        done: "/rules",
      }}
    />
  );
}
