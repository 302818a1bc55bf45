import assert from "node:assert/strict";
import { Counter, Gauge, Registry } from "prom-client";
import { parseExposition, total } from "../../tests/support/prometheus.ts";
import { createLogger } from "../log.ts";
import { createMetricsScraper } from "./threads.ts";

/** A thread's registry with one counter at `n`. */
function threadRegistry(n: number): Registry {
  const registry = new Registry();
  new Counter({ name: "jobs_done_total", help: "h", labelNames: ["kind"], registers: [registry] })
    .inc({ kind: "a" }, n);
  return registry;
}

/** A store registry whose gauge counts how often it was read. */
function storeRegistry(): { registry: Registry; reads: () => number } {
  const registry = new Registry();
  let reads = 0;
  new Gauge({
    name: "stored_things",
    help: "h",
    registers: [registry],
    collect() {
      reads++;
      this.set(7);
    },
  });
  return { registry, reads: () => reads };
}

// Both "threads" live in this test's one thread: BroadcastChannel delivers between two channel
// objects of one name there too, which is all the exchange relies on.
Deno.test("metrics threads: a scrape adds up the other threads' counters and reads the store once", async () => {
  const log = createLogger("error", () => {});
  const storeA = storeRegistry();
  const storeB = storeRegistry();
  const a = createMetricsScraper({
    own: threadRegistry(2),
    store: storeA.registry,
    peers: 1,
    log,
    channel: "t1",
  });
  const b = createMetricsScraper({
    own: threadRegistry(3),
    store: storeB.registry,
    peers: 1,
    log,
    channel: "t1",
  });
  try {
    for (const scraper of [a, b]) {
      const metrics = parseExposition((await scraper.scrape()).text);
      assert.equal(total(metrics, "jobs_done_total", { kind: "a" }), 5);
      assert.equal(total(metrics, "stored_things"), 7, "the store's gauge is not summed");
      assert.equal(total(metrics, "busysync_metrics_threads_missing"), 0);
    }
    assert.deepEqual([storeA.reads(), storeB.reads()], [1, 1], "each scrape read its store once");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("metrics threads: a thread that does not answer is left out and counted as missing", async () => {
  const warnings: string[] = [];
  const log = createLogger("warn", (line) => warnings.push(line));
  const store = storeRegistry();
  const a = createMetricsScraper({
    own: threadRegistry(2),
    store: store.registry,
    peers: 2,
    log,
    channel: "t2",
  });
  const b = createMetricsScraper({
    own: threadRegistry(3),
    store: storeRegistry().registry,
    peers: 2,
    log,
    channel: "t2",
  });
  try {
    const metrics = parseExposition((await a.scrape()).text);
    assert.equal(total(metrics, "jobs_done_total"), 5);
    assert.equal(total(metrics, "busysync_metrics_threads_missing"), 1);
    assert.ok(warnings.some((w) => w.includes("did not answer")), warnings.join("\n"));
  } finally {
    a.close();
    b.close();
  }
});
