import { OnOffSwitch } from "../components/OnOffSwitch.tsx";

export interface GroupToggleProps {
  groupId: string;
  name: string;
  enabled: boolean;
}

/**
 * The on/off switch of one group in the rules list (`PATCH /api/groups/{id}`): off removes the
 * group's busy blocks from every member, on brings them back.
 */
export default function GroupToggle({ groupId, name, enabled }: GroupToggleProps) {
  return (
    <OnOffSwitch
      url={`/api/groups/${encodeURIComponent(groupId)}`}
      label={`Group “${name}”`}
      enabled={enabled}
      kind="Group"
      testAttr={{ "data-group-toggle": groupId }}
    />
  );
}
