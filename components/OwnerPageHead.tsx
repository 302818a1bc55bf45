import type { ComponentChildren } from "preact";
import type { Incident } from "../lib/notify/incidents.ts";
import type { RuleStatus } from "../lib/model/rule.ts";
import { Banners } from "./Banners.tsx";
import { RuleStatusPill } from "./RuleStatusPill.tsx";

/**
 * The top of a rule's or group's page: its banners, the way back to the list, its name with
 * its status (and why, when it is not ok; both redrawn after an island acts, as Check and
 * repair does), and its actions (`children`).
 */
export function OwnerPageHead(
  { owner, incidents, here, children }: {
    owner: { name: string; enabled: boolean; status: RuleStatus; statusReason?: string };
    incidents: Incident[];
    here: string;
    children: ComponentChildren;
  },
) {
  return (
    <>
      <Banners incidents={incidents} here={here} />
      <div class="page-head">
        <div>
          <p class="crumbs">
            <a href="/rules">Rules</a> / {owner.name}
          </p>
          <h1>
            {owner.name}{" "}
            <span data-live="owner-status">
              <RuleStatusPill enabled={owner.enabled} status={owner.status} />
            </span>
          </h1>
          {/* Live (lib/browser/live_regions.ts): after Check and repair the status is the run's. */}
          <div data-live="owner-reason">
            {owner.statusReason && owner.status !== "ok" && (
              <p class="reason">{owner.statusReason}</p>
            )}
          </div>
        </div>
        {children}
      </div>
    </>
  );
}
