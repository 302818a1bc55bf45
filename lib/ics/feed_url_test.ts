import assert from "node:assert/strict";
import { feedSubOf, FeedUrlError, maskFeedUrl, normalizeFeedUrl } from "./feed_url.ts";

Deno.test("feed url: webcal is read as https, other schemes are refused, the secret is never shown", async (t) => {
  await t.step("webcal:// and webcals:// become https://; the fragment goes", () => {
    assert.equal(
      normalizeFeedUrl(" webcal://p01-caldav.icloud.com/published/2/SECRET#x "),
      "https://p01-caldav.icloud.com/published/2/SECRET",
    );
    assert.equal(normalizeFeedUrl("WEBCALS://example.com/a.ics"), "https://example.com/a.ics");
    assert.equal(
      normalizeFeedUrl("https://example.com/a.ics?t=1"),
      "https://example.com/a.ics?t=1",
    );
  });

  await t.step("anything but https, http and webcal is refused in words", () => {
    assert.throws(() => normalizeFeedUrl("ftp://example.com/a.ics"), FeedUrlError);
    assert.throws(() => normalizeFeedUrl("example.com/a.ics"), FeedUrlError);
    assert.throws(() => normalizeFeedUrl("file:///etc/passwd"), FeedUrlError);
  });

  await t.step("masked: scheme and host only", () => {
    assert.equal(
      maskFeedUrl("https://outlook.office365.com:8443/owa/calendar/SECRET/reachcalendar.ics"),
      "https://outlook.office365.com:8443/…",
    );
  });

  await t.step("the identity is a hash: equal addresses equal, the address not in it", () => {
    const sub = feedSubOf("https://example.com/SECRET.ics");
    assert.equal(sub, feedSubOf("https://example.com/SECRET.ics"));
    assert.notEqual(sub, feedSubOf("https://example.com/OTHER.ics"));
    assert.doesNotMatch(sub, /SECRET/);
  });
});
