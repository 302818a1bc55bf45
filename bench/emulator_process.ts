/**
 * The emulator as its own process, seeded from a temp file, so the benchmarks count only
 * busysync's CPU and memory as busysync's.
 */
export async function startEmulatorProcess(seed: unknown) {
  const seedFile = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(seedFile, JSON.stringify(seed));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../emulator/main.ts", import.meta.url).pathname],
    env: { EMULATOR_PORT: "0", EMULATOR_ADMIN: "1", EMULATOR_SEED: seedFile, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  while (!/http:\/\/\S+/.test(banner)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`emulator exited before listening: ${banner}`);
    banner += value;
  }
  reader.releaseLock();
  return {
    url: /http:\/\/[\d.:]+/.exec(banner)![0],
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(seedFile);
    },
  };
}

/** The emulator's admin API (seeding, inspection, counters) at `url`, answering JSON. */
export function emulatorAdmin(url: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/__emulator/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
    return await res.json();
  };
}
