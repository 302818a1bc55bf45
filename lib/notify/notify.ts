/**
 * Sends each open incident of a user once per channel, and forgets incidents that are over so
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
import { listRules } from "../db/rules.ts";
import { getUser } from "../db/users.ts";
import type { Logger } from "../log.ts";
import type { NotifyChannel } from "./senders.ts";
import { openIncidents } from "./incidents.ts";
import { listWritePauses } from "../db/account_limits.ts";

export interface NotifyDeps {
  kv: Deno.Kv;
  log: Logger;
  now: () => Date;
  /** Links in notifications point here. */
  publicUrl: string;
  channels: readonly NotifyChannel[];
}

/**
 * Sends the user's open incidents that a channel has not had yet. A failed send is logged and
 * given back, so the next sweep tries it again; it never throws for a channel's failure.
 */
export async function notifyIncidents(deps: NotifyDeps, userId: string): Promise<void> {
  if (deps.channels.length === 0) return;
  const user = await getUser(deps.kv, userId);
  if (!user) return;
  const connections = await listConnections(deps.kv, userId);
  const incidents = openIncidents(
    connections,
    (await listRules(deps.kv, userId)).map((e) => e.rule),
    await listWritePauses(deps.kv, connections, deps.now()),
  );
  await forgetClosedIncidents(deps.kv, userId, new Set(incidents.map((i) => i.id)));
  for (const incident of incidents) {
    for (const channel of deps.channels) {
      if (!await claimNotification(deps.kv, userId, incident.id, channel.name, deps.now())) {
        continue;
      }
      try {
        await channel.send({
          incident,
          to: { email: user.email, name: user.name },
          url: `${deps.publicUrl}${incident.actionPath}`,
        });
      } catch (err) {
        await releaseNotification(deps.kv, userId, incident.id, channel.name);
        deps.log.warn("notify: sending failed; will retry after the next run", {
          userId,
          incident: incident.id,
          channel: channel.name,
          err,
        });
      }
    }
  }
}
