/**
 * CPU time of this process per kind of thread, from /proc/self/task (Linux): what
 * `process.cpuUsage()` sums, split so a benchmark can tell the JavaScript thread's work from
 * V8's helpers (garbage collection, compilation), the SQLite thread behind Deno KV and the
 * runtime's I/O pool. Clock ticks are 1/100 s (USER_HZ on Linux).
 */
const TICK_MS = 10;

/** Thread names as Linux shows them (cut to 15 characters) → the kind reported. */
function kindOf(comm: string): string {
  if (comm === "deno") return "javascript";
  if (comm.startsWith("V8 ")) return "v8Helpers";
  if (/^sw-\d+$/.test(comm)) return "kvSqlite";
  if (comm.startsWith("tokio-runtime")) return "ioPool";
  return "other";
}

/** Milliseconds of CPU (user + system) so far, per kind of thread. */
export function threadCpuMs(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const task of Deno.readDirSync("/proc/self/task")) {
    let comm: string, stat: string;
    try {
      comm = Deno.readTextFileSync(`/proc/self/task/${task.name}/comm`).trim();
      stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/stat`);
    } catch (err) {
      // A thread that ended between the listing and the read took its time with it.
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    // Fields after the parenthesised name; utime and stime are the 14th and 15th of the line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const kind = kindOf(comm);
    out[kind] = (out[kind] ?? 0) + (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  }
  return out;
}

/** What each kind of thread spent between two readings of threadCpuMs, in µs per event. */
export function perEventUs(
  before: Record<string, number>,
  after: Record<string, number>,
  events: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([kind, ms]) => [
      kind,
      Math.round((ms - (before[kind] ?? 0)) * 1000 / events),
    ]),
  );
}
