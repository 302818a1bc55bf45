import assert from "node:assert/strict";
import { timed, World } from "../sync/support.ts";
import { runChild } from "./crash.ts";

// Found by the soak: gaxios' request timeout is an AbortSignal.timeout, and after a connection
// dropped mid-response node-fetch kept listening to it, so its 30 s timer held the process open.
Deno.test(
  "provider: a process that met dropped connections exits as soon as its sync is done",
  async () => {
    const world = await World.start();
    try {
      const p = await world.aPerson({ src: "UTC", dst: "UTC" });
      await world.addEvent(p.cal.src, timed(2));
      await world.aRule(p, { source: p.cal.src, target: p.cal.dst });
      await world.admin("POST", "faults", [
        { method: "events.list", fault: "connectionReset", times: 2 },
        { method: "events.insert", fault: "connectionReset", times: 1 },
      ]);
      const run = await runChild(world, p, 60_000);
      assert.equal((await world.mirrors(p.cal.dst)).length, 1);
      assert.deepEqual(await world.admin("GET", "faults"), { faults: [] }, "every fault fired");
      assert.ok(run.lingerMs < 5_000, `the process lived on ${run.lingerMs} ms after its sync`);
    } finally {
      await world.close();
    }
  },
);
