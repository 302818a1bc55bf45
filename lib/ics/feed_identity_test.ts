import assert from "node:assert/strict";
import type { FeedGroup } from "../ical/ical_feed.ts";
import { groupKeys, judgeIdentity } from "./feed_identity.ts";

/** Groups of `n` events with these UIDs (by index) and contents "slot i". */
function groups(
  uids: (i: number) => string | undefined,
  n = 10,
  content = (i: number) => `slot ${i}`,
): FeedGroup[] {
  return Array.from({ length: n }, (_, i) => {
    const uid = uids(i);
    return { ...(uid === undefined ? {} : { uid }), vevents: [], content: content(i) };
  });
}

Deno.test("feed identity: a feed rewriting every UID is keyed by content from then on", async (t) => {
  const first = judgeIdentity(undefined, groups((i) => `a${i}`));

  await t.step("a first fetch goes by UID", () => {
    assert.equal(first.identity, "uid");
    assert.equal(first.uids.length, 10);
  });

  await t.step("UIDs kept, contents changed: still by UID (a term's edits)", () => {
    const next = judgeIdentity(first, groups((i) => `a${i}`, 10, (i) => `moved ${i}`));
    assert.equal(next.identity, "uid");
  });

  await t.step("new UIDs and new contents: a new timetable, still by UID", () => {
    const next = judgeIdentity(first, groups((i) => `b${i}`, 10, (i) => `new ${i}`));
    assert.equal(next.identity, "uid");
  });

  await t.step("new UIDs, same contents: keyed by content, and it stays so", () => {
    const rewritten = judgeIdentity(first, groups((i) => `b${i}`));
    assert.equal(rewritten.identity, "content");
    const later = judgeIdentity(rewritten, groups((i) => `a${i}`, 10, (i) => `new ${i}`));
    assert.equal(later.identity, "content");
  });

  await t.step("a feed of fewer than five UIDs is not judged", () => {
    const small = judgeIdentity(undefined, groups((i) => `a${i}`, 3));
    assert.equal(judgeIdentity(small, groups((i) => `b${i}`, 3)).identity, "uid");
  });

  await t.step("the memory stays small whatever the feed's size", () => {
    const big = judgeIdentity(undefined, groups((i) => `a${i}`, 5000));
    assert.equal(big.uids.length, 64);
    assert.equal(big.contents.length, 64);
  });
});

Deno.test("feed identity: keys are UID hashes, or content hashes told apart by order", () => {
  const byUid = groupKeys(groups((i) => (i === 2 ? undefined : `a${i}`), 3), "uid");
  assert.match(byUid[0], /^u-[0-9a-v]{26}$/);
  assert.match(byUid[2], /^c-/, "an event without UID goes by content");
  assert.deepEqual(
    groupKeys(groups((i) => `a${i}`, 3), "uid"),
    groupKeys(groups((i) => `a${i}`, 3), "uid"),
  );

  const twins = groupKeys(groups((i) => `x${i}`, 3, () => "same"), "content");
  assert.equal(new Set(twins).size, 3);
  assert.equal(twins[1], `${twins[0]}-2`);
  const rewritten = groupKeys(groups((i) => `y${i}`, 3, () => "same"), "content");
  assert.deepEqual(rewritten, twins, "new UIDs, same keys");
});
