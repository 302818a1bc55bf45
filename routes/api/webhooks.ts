/**
 * `POST /api/webhooks/google`: Google Calendar push notifications (notes §6). No session and
 * no CSRF check (the path is exempt): the per-channel token in `X-Goog-Channel-Token` is the
 * authentication. A notification is only a hint ("this calendar changed"); the body is empty.
 */
import { Hono } from "hono";
import { HttpError } from "../../lib/http/errors.ts";
import type { PushChannels } from "../../lib/push/notifications.ts";
import { NotificationHeaders } from "./schemas.ts";

export function webhookRoutes(push: PushChannels): Hono {
  return new Hono().post("/google", async (c) => {
    const parsed = NotificationHeaders.safeParse(c.req.header());
    if (!parsed.success) {
      throw new HttpError(400, "bad_notification", "This is not a Google push notification.");
    }
    const h = parsed.data;
    const verdict = await push.receive({
      channelId: h["x-goog-channel-id"],
      token: h["x-goog-channel-token"],
      resourceState: h["x-goog-resource-state"],
      resourceId: h["x-goog-resource-id"],
    });
    if (verdict === "forbidden") {
      throw new HttpError(403, "forbidden", "The channel token does not match.");
    }
    // Ignored notifications get a success too: an error would only make Google retry them.
    return c.body(null, 200);
  });
}
