/**
 * A feed's address is sealed like a password, so `busysync keys rotate` covers it: after the
 * rotation the feed is read with the new key alone.
 */
import assert from "node:assert/strict";
import { reencryptAllTokens } from "../../lib/accounts/key_rotation.ts";
import { createKeyring } from "../../lib/auth/crypto.ts";
import { randomKeyBase64 } from "../../lib/db/settings.ts";
import { icsProviderFor } from "../../lib/ics/provider.ts";
import { parseCidr } from "../../lib/net/address_ranges.ts";
import { createOutboundFetch } from "../../lib/net/outbound_fetch.ts";
import { startApiWorld } from "../api/support.ts";
import { daysAhead, feed, startFeedServer, vevent } from "./support.ts";

Deno.test("ics feeds: key rotation re-encrypts a feed's address, which then opens with the new key alone", async () => {
  await using server = await startFeedServer();
  await server.write(feed([vevent("a@school", "Maths", daysAhead(1, 9))]));
  const oldKey = randomKeyBase64();
  const w = await startApiWorld({
    BUSYSYNC_OUTBOUND_ALLOW: "127.0.0.1/32",
    BUSYSYNC_ENCRYPTION_KEY: oldKey,
  });
  try {
    const res = await w.ann.request("/api/user/connections/ics", {
      method: "POST",
      json: { url: server.url },
    });
    const { connection } = await res.json();
    assert.equal(res.status, 201);

    const newKey = randomKeyBase64();
    const report = await reencryptAllTokens(w.h.kv, await createKeyring([newKey, oldKey]));
    assert.deepEqual(report.failed, []);
    assert.ok(report.reencrypted >= 1);

    const provider = icsProviderFor({
      kv: w.h.kv,
      keyring: await createKeyring([newKey]),
      fetch: createOutboundFetch({
        allow: [parseCidr("127.0.0.1/32")!],
        allowHttp: false,
        maxBytes: 1024 * 1024,
        timeoutMs: 5000,
        maxRedirects: 5,
      }),
    }, w.annId);
    const window = { start: new Date(), end: new Date(Date.now() + 7 * 86_400_000) };
    const listing = await provider.listChanges(
      { connectionId: connection.id, calendarId: "feed" },
      null,
      window,
    );
    const events = [];
    for await (const page of listing.pages) events.push(...page.events);
    assert.equal(listing.full, true);
    assert.equal(events.length, 1);
  } finally {
    await w.h.close();
  }
});
