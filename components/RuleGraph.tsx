import { calendarKey } from "../lib/model/calendar_ref.ts";
import type { Group } from "../lib/model/group.ts";
import type { Rule } from "../lib/model/rule.ts";
import { DISCONNECTED_ACCOUNT } from "../lib/model/calendar_name.ts";
import type { CalendarLabel } from "../lib/web/page_data.ts";
import { SideScroll } from "./SideScroll.tsx";

type EdgeState = "on" | "off" | "warn" | "bad";

interface GraphEdge {
  /** A rule's arrow, or the line that ties a group's box to one of its members. */
  kind: "rule" | "group";
  /** The rule's or group's id. */
  id: string;
  name: string;
  from: string;
  to: string;
  both: boolean;
  state: EdgeState;
}

interface Box {
  x: number;
  y: number;
  col: number;
}

/** Where an arrow leaves or enters a calendar's box. */
interface Port {
  x: number;
  y: number;
  /** +1: the arrow leaves towards the right, -1: towards the left. */
  dir: 1 | -1;
}

const NODE_W = 210;
const NODE_H = 56;
const ROW_GAP = 34;
const COL_GAP = 250;
const PAD = 24;
const HEAD = 22;
/** Drawn first, so an arrow that is on is never hidden under one that is off. */
const LAYER: Record<EdgeState, number> = { off: 0, on: 1, warn: 2, bad: 3 };

function edgeState(rule: Pick<Rule, "enabled" | "status">): EdgeState {
  if (!rule.enabled) return "off";
  if (rule.status === "broken" || rule.status === "failing") return "bad";
  if (rule.status === "needs_confirmation" || rule.status === "paused") return "warn";
  return "on";
}

/** A group's box is keyed apart from calendars' (calendarKey always holds a colon). */
const hubKey = (groupId: string) => `group/${groupId}`;

/**
 * The user's rule graph as SVG, drawn on the server: each account a column of its calendars,
 * each rule an arrow from source to target (heads at both ends for a both-ways rule), a rule
 * that is off dashed, one that needs attention in the warning colour. Arrows meeting one side
 * of a box are spread along it so none hides another. A group is one box of its own, in a
 * column of groups, tied by a plain line to each member: its calendars all block each
 * other, which N·(N−1) arrows would only bury. Calendars no rule or group touches are left out.
 * With groups, the accounts' columns split around the groups' column.
 */
export function RuleGraph(
  { rules, groups, calendars }: {
    rules: Rule[];
    groups: Group[];
    calendars: Map<string, CalendarLabel>;
  },
) {
  const edges: GraphEdge[] = [
    ...groups.flatMap((g) =>
      g.members.map((m): GraphEdge => ({
        kind: "group",
        id: g.id,
        name: g.name,
        from: calendarKey(m.calendar),
        to: hubKey(g.id),
        both: true,
        state: edgeState(g),
      }))
    ),
    ...rules.map((r): GraphEdge => ({
      kind: "rule",
      id: r.id,
      name: r.name,
      from: calendarKey(r.source),
      to: calendarKey(r.target),
      both: r.bidirectional,
      state: edgeState(r),
    })).sort((a, b) => LAYER[a.state] - LAYER[b.state]),
  ];
  const label = (key: string): CalendarLabel =>
    calendars.get(key) ??
      { key, name: key.slice(key.indexOf(":") + 1), account: DISCONNECTED_ACCOUNT };
  const used = [
    ...new Set(edges.flatMap((e) => e.kind === "rule" ? [e.from, e.to] : [e.from])),
  ].map(label);
  const accounts = [...new Set(used.map((n) => n.account))];
  // The groups' column stands between the accounts' halves, so a member's line leaves the side
  // facing it and passes behind no other calendar (after a lone account: on its right).
  const hubCol = groups.length ? Math.ceil(accounts.length / 2) : accounts.length;
  const colOf = (account: number) => (groups.length && account >= hubCol ? account + 1 : account);
  const calendarRows = Math.max(
    0,
    ...accounts.map((a) => used.filter((n) => n.account === a).length),
  );
  const boxes = new Map<string, Box>();
  accounts.forEach((account, i) => {
    used.filter((n) => n.account === account).forEach((n, row) => {
      boxes.set(n.key, {
        x: PAD + colOf(i) * (NODE_W + COL_GAP),
        y: PAD + HEAD + row * (NODE_H + ROW_GAP),
        col: colOf(i),
      });
    });
  });
  // A rule between the halves crosses the groups' column at the calendars' height: the groups
  // then sit below the calendars, out of its way.
  const crossed = edges.some((e) => {
    if (e.kind !== "rule") return false;
    const [a, b] = [boxes.get(e.from)!.col, boxes.get(e.to)!.col];
    return Math.min(a, b) < hubCol && Math.max(a, b) > hubCol;
  });
  const firstHubRow = crossed ? calendarRows : 0;
  groups.forEach((g, row) => {
    boxes.set(hubKey(g.id), {
      x: PAD + hubCol * (NODE_W + COL_GAP),
      y: PAD + HEAD + (firstHubRow + row) * (NODE_H + ROW_GAP),
      col: hubCol,
    });
  });
  const ports = assignPorts(edges, boxes);
  const rows = Math.max(firstHubRow + groups.length, calendarRows);
  const columns = accounts.length + (groups.length ? 1 : 0);
  // A lone column still needs room on its right for the arcs between its own calendars.
  const width = PAD * 2 + columns * NODE_W + (columns > 1 ? (columns - 1) * COL_GAP : 120);
  const height = PAD * 2 + HEAD + rows * NODE_H + (rows - 1) * ROW_GAP;
  const describe = (e: GraphEdge) =>
    `${e.name}: ${label(e.from).name} ${e.both ? "to and from" : "to"} ${label(e.to).name}` +
    (e.state === "off" ? " (off)" : "");
  return (
    <figure class="graph">
      <SideScroll kind="graph" hint="Scroll sideways for the whole graph">
        <svg
          class="graph-svg"
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
          // A group, not an image: its arrows are links, which an image would hide.
          role="group"
          aria-label="Rule graph"
        >
          <defs>
            {(["on", "off", "warn", "bad"] as const).map((s) => (
              <marker
                key={s}
                id={`gr-head-${s}`}
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="7"
                markerHeight="7"
                orient="auto-start-reverse"
              >
                <path class={`gr-head gr-${s}`} d="M0,0 L10,5 L0,10 z" />
              </marker>
            ))}
          </defs>
          {accounts.map((account, col) => (
            <text
              key={account}
              class="gr-account"
              x={PAD + colOf(col) * (NODE_W + COL_GAP) + NODE_W / 2}
              y={PAD + 8}
              text-anchor="middle"
            >
              {clip(account, NODE_W)}
            </text>
          ))}
          {groups.length > 0 && (
            <text
              class="gr-account"
              x={PAD + hubCol * (NODE_W + COL_GAP) + NODE_W / 2}
              y={PAD + 8}
              text-anchor="middle"
            >
              Groups
            </text>
          )}
          {
            // Under the calendars' boxes: a line to a member of another column passes behind them.
            edges.map((e, i) =>
              e.kind === "group" && <GroupLine key={`${e.id}|${e.from}`} edge={e} ends={ports[i]} />
            )
          }
          {groups.map((g) => (
            <GroupBox key={g.id} group={g} box={boxes.get(hubKey(g.id))!} state={edgeState(g)} />
          ))}
          {used.map((n) => {
            const b = boxes.get(n.key)!;
            return (
              <g key={n.key} class="gr-node">
                <rect x={b.x} y={b.y} width={NODE_W} height={NODE_H} rx={10} />
                <text class="gr-node-name" x={b.x + NODE_W / 2} y={b.y + 33} text-anchor="middle">
                  {clip(n.name, NODE_W)}
                </text>
              </g>
            );
          })}
          {edges.map((e, i) =>
            e.kind === "rule" && (
              <Arrow key={e.id} edge={e} ends={ports[i]} description={describe(e)} />
            )
          )}
        </svg>
      </SideScroll>
      <figcaption class="graph-legend">
        <span class="legend-item">
          <span class="legend-line" aria-hidden="true" /> on
        </span>
        <span class="legend-item">
          <span class="legend-line legend-off" aria-hidden="true" /> off
        </span>
        <span class="legend-item">
          <span class="legend-line legend-warn" aria-hidden="true" /> needs attention
        </span>
        <span class="legend-item">↔ both ways</span>
        {groups.length > 0 && (
          <span class="legend-item">
            <span class="legend-group" aria-hidden="true" />{" "}
            a group: its calendars all block each other
          </span>
        )}
      </figcaption>
    </figure>
  );
}

/**
 * The two ends of every edge. An edge between columns leaves the side facing the other box;
 * one within a column uses both boxes' right sides. The ends on one side of one box are spaced
 * evenly, ordered by the height of their other box, so arrows do not cross needlessly.
 */
function assignPorts(edges: GraphEdge[], boxes: Map<string, Box>): [Port, Port][] {
  const sideOf = (self: Box, other: Box): 1 | -1 =>
    self.col === other.col ? 1 : other.col > self.col ? 1 : -1;
  const slots = new Map<string, { edge: number; end: 0 | 1; otherY: number }[]>();
  edges.forEach((e, i) => {
    const a = boxes.get(e.from)!;
    const b = boxes.get(e.to)!;
    for (const [end, self, other, key] of [[0, a, b, e.from], [1, b, a, e.to]] as const) {
      const slot = `${key}|${sideOf(self, other)}`;
      slots.set(slot, [...(slots.get(slot) ?? []), { edge: i, end, otherY: other.y }]);
    }
  });
  const out: [Port, Port][] = edges.map(() => [
    { x: 0, y: 0, dir: 1 },
    { x: 0, y: 0, dir: 1 },
  ]);
  for (const [slot, ends] of slots) {
    const [key, side] = slot.split("|");
    const box = boxes.get(key)!;
    const dir = Number(side) as 1 | -1;
    ends.sort((p, q) => p.otherY - q.otherY || p.edge - q.edge).forEach((p, k) => {
      out[p.edge][p.end] = {
        x: dir === 1 ? box.x + NODE_W : box.x,
        y: box.y + (NODE_H * (k + 1)) / (ends.length + 1),
        dir,
      };
    });
  }
  return out;
}

/** The plain line from a member to its group's box: a tie, not a direction. */
function GroupLine({ edge, ends: [a, b] }: { edge: GraphEdge; ends: [Port, Port] }) {
  const reach = a.dir === b.dir ? 70 + Math.abs(b.y - a.y) * 0.3 : Math.abs(b.x - a.x) / 2;
  const d = `M${a.x},${a.y} C${a.x + a.dir * reach},${a.y} ${b.x + b.dir * reach},${b.y} ` +
    `${b.x},${b.y}`;
  return <path class={`gr-edge gr-tie gr-${edge.state}`} d={d} aria-hidden="true" />;
}

/** A group's box, a link to its editor, with its members' count (and "off"). */
function GroupBox({ group, box, state }: { group: Group; box: Box; state: EdgeState }) {
  return (
    // Named by its own two lines ("Family and Work", "group of 2"): a label beside them would have
    // to repeat them word for word.
    <a href={`/groups/${group.id}`} class="gr-link gr-hub">
      <rect
        class={`gr-hub-box gr-${state}`}
        x={box.x}
        y={box.y}
        width={NODE_W}
        height={NODE_H}
        rx={NODE_H / 2}
      />
      <text class="gr-node-name" x={box.x + NODE_W / 2} y={box.y + 25} text-anchor="middle">
        {clip(group.name, NODE_W)}
      </text>
      <text
        class="gr-label"
        x={box.x + NODE_W / 2}
        y={box.y + 42}
        text-anchor="middle"
      >
        group of {group.members.length}
        {group.enabled ? "" : ", off"}
      </text>
    </a>
  );
}

function Arrow(
  { edge, ends: [a, b], description }: {
    edge: GraphEdge;
    ends: [Port, Port];
    /** The rule in words: its label on the arrow is clipped and says nothing of direction. */
    description: string;
  },
) {
  // Heads sit just outside the box border; the curve leaves each box straight out of its side.
  const gap = 2;
  const x1 = a.x + a.dir * (edge.both ? gap : 0);
  const x2 = b.x + b.dir * gap;
  const reach = a.dir === b.dir ? 70 + Math.abs(b.y - a.y) * 0.3 : Math.abs(x2 - x1) / 2;
  const d = `M${x1},${a.y} C${x1 + a.dir * reach},${a.y} ${x2 + b.dir * reach},${b.y} ${x2},${b.y}`;
  // The cubic's point at t = 1/2.
  const mid = {
    x: (x1 + 3 * (x1 + a.dir * reach) + 3 * (x2 + b.dir * reach) + x2) / 8,
    y: (a.y + b.y) / 2,
  };
  const head = `url(#gr-head-${edge.state})`;
  const name = clip(edge.name, 170);
  const w = name.length * 6.2 + 14;
  return (
    <a href={`/rules/${edge.id}`} class="gr-link" aria-label={description}>
      <path
        class={`gr-edge gr-${edge.state}`}
        d={d}
        marker-end={head}
        marker-start={edge.both ? head : undefined}
      />
      <rect class="gr-label-bg" x={mid.x - w / 2} y={mid.y - 10} width={w} height={19} rx={9.5} />
      <text class="gr-label" x={mid.x} y={mid.y + 4} text-anchor="middle">{name}</text>
    </a>
  );
}

/** Cuts a label to what fits `width` user units (≈7 units a letter at the node font size). */
function clip(text: string, width: number): string {
  const max = Math.floor((width - 16) / 7);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
