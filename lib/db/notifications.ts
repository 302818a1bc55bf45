/**
 * Which incidents each sender (webhook, e-mail) sent: one marker per (user, incident, sender). A
 * marker is claimed before sending (a null-checked create), so two instances sweeping the same
 * user at once send once; it is dropped when sending failed (the next sweep tries again) and
 * when the incident is over (a new incident of the same kind is sent again).
 */
import { z } from "zod";
import { commitOnce } from "./commit.ts";
import { keys } from "./keys.ts";

const SentSchema = z.object({
  v: z.literal(1),
  incidentId: z.string(),
  sender: z.string(),
  sentAt: z.iso.datetime(),
});

/** Claims the right to send `incidentId` to `sender`; false when it was sent (or is being). */
export async function claimNotification(
  kv: Deno.Kv,
  userId: string,
  incidentId: string,
  sender: string,
  now: Date,
): Promise<boolean> {
  const key = keys.notificationSent(userId, incidentId, sender);
  const value = SentSchema.parse({ v: 1, incidentId, sender, sentAt: now.toISOString() });
  const res = await commitOnce(() =>
    kv.atomic().check({ key, versionstamp: null }).set(key, value)
  );
  return res.ok;
}

/** Gives a claim back (the send failed), so a later sweep sends it. */
export async function releaseNotification(
  kv: Deno.Kv,
  userId: string,
  incidentId: string,
  sender: string,
): Promise<void> {
  await kv.delete(keys.notificationSent(userId, incidentId, sender));
}

/** Drops the markers of incidents that are no longer open. */
export async function forgetClosedIncidents(
  kv: Deno.Kv,
  userId: string,
  open: ReadonlySet<string>,
): Promise<void> {
  for await (const entry of kv.list({ prefix: keys.notificationsSent(userId) })) {
    const sent = SentSchema.parse(entry.value);
    if (!open.has(sent.incidentId)) await kv.delete(entry.key);
  }
}
