import { OnOffSwitch } from "../components/OnOffSwitch.tsx";

export interface RuleToggleProps {
  ruleId: string;
  name: string;
  enabled: boolean;
}

/** The on/off switch of one rule in the rules list (`PATCH /api/rules/{id}`). */
export default function RuleToggle({ ruleId, name, enabled }: RuleToggleProps) {
  return (
    <OnOffSwitch
      url={`/api/rules/${encodeURIComponent(ruleId)}`}
      label={`Rule “${name}”`}
      enabled={enabled}
      kind="Rule"
      testAttr={{ "data-rule-toggle": ruleId }}
    />
  );
}
