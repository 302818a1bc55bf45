/**
 * Sends each open incident of a user once per sender (webhook, e-mail), and forgets incidents that are over so
 * a new one is sent again. Runs after every sync run (the engine's afterRun hook), which is
 * where incidents begin and end; the dashboard banner needs none of this, it reads the
 * incidents live.
 */
import { listConnections } from "../db/connections.ts";
import {
  claimNotification,
  forgetClosedIncidents,
  releaseNotification,
} from "../db/notifications.ts";
import { listRulesAndGroups } from "../db/rules.ts";
import { getUser } from "../db/users.ts";
import type { Logger } from "../log.ts";
import type { IncidentSender } from "./senders.ts";
import { openIncidents } from "./incidents.ts";
import { listWritePauses } from "../db/account_limits.ts";

export interface NotifyDeps {
  kv: Deno.Kv;
  log: Logger;
  now: () => Date;
  /** Links in notifications point here. */
  publicUrl: string;
  senders: readonly IncidentSender[];
}

/**
 * Sends the user's open incidents that a sender has not sent yet. A failed send is logged and
 * given back, so the next sweep tries it again; it never throws for a sender's failure.
 */
export async function notifyIncidents(deps: NotifyDeps, userId: string): Promise<void> {
  if (deps.senders.length === 0) return;
  const user = await getUser(deps.kv, userId);
  if (!user) return;
  const connections = await listConnections(deps.kv, userId);
  const incidents = openIncidents(
    connections,
    await listRulesAndGroups(deps.kv, userId),
    await listWritePauses(deps.kv, connections, deps.now()),
  );
  await forgetClosedIncidents(deps.kv, userId, new Set(incidents.map((i) => i.id)));
  for (const incident of incidents) {
    for (const sender of deps.senders) {
      if (!await claimNotification(deps.kv, userId, incident.id, sender.name, deps.now())) {
        continue;
      }
      try {
        await sender.send({
          incident,
          to: { email: user.email, name: user.name },
          url: `${deps.publicUrl}${incident.actionPath}`,
        });
      } catch (err) {
        await releaseNotification(deps.kv, userId, incident.id, sender.name);
        deps.log.warn("notify: sending failed; will retry after the next run", {
          userId,
          incident: incident.id,
          sender: sender.name,
          err,
        });
      }
    }
  }
}
