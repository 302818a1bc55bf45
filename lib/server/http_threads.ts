/**
 * Extra threads that serve HTTP beside the main one (BUSYSYNC_HTTP_WORKERS). Each is a Web
 * Worker with its own isolate, KV handle and copy of the app, listening on the same port with
 * SO_REUSEPORT, so the kernel spreads connections over them and a second core does page work.
 * Syncs, the cron tick and the demo emulator stay on the main thread; a thread that enqueues a
 * sync job wakes the main thread's worker through a BroadcastChannel (a process-local channel).
 */
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";

/** The channel HTTP threads post on after enqueuing a job. */
export const WAKE_CHANNEL = "busysync-sync-wake";

/** What the main thread tells an HTTP thread: the config as resolved (ports, demo URLs). */
export interface HttpThreadStart {
  kind: "start";
  config: Config;
  /** The BroadcastChannel this server's threads gather metrics on (lib/metrics/threads.ts). */
  metricsChannel: string;
}

/** What an HTTP thread answers. */
export type HttpThreadReply = { kind: "listening" } | { kind: "stopped" } | {
  kind: "failed";
  message: string;
};

export interface HttpThreads {
  /** Stops every thread's server (in-flight requests finish) and ends the threads. */
  close(): Promise<void>;
}

/** How long `close()` waits for a thread to finish its requests before ending it anyway. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts `config.httpWorkers` threads of the module `entry` (http_thread.ts beside main.ts: it
 * builds the app, which nothing in lib/ may import) serving on `config.port` (already bound by
 * the main thread with reusePort) and resolves once all listen; `onWake` runs for each wake
 * message. A thread that dies later is logged and left out of `close()`; the others go on.
 */
export async function startHttpThreads(
  config: Config,
  log: Logger,
  onWake: () => void,
  entry: URL,
  metricsChannel: string,
): Promise<HttpThreads> {
  const wake = new BroadcastChannel(WAKE_CHANNEL);
  wake.onmessage = () => onWake();
  const threads = Array.from({ length: config.httpWorkers }, (_, i) => ({
    // The name is the thread's in Server-Timing (lib/http/served_by.ts).
    worker: new Worker(entry, { type: "module", name: `http-${i + 1}` }),
    alive: true,
  }));
  /** The thread's next reply; an uncaught error in it counts as its (last) reply. */
  const reply = (thread: (typeof threads)[number]) =>
    new Promise<HttpThreadReply>((resolve) => {
      thread.worker.onmessage = (e: MessageEvent<HttpThreadReply>) => resolve(e.data);
      thread.worker.onerror = (e) => {
        e.preventDefault();
        thread.alive = false;
        log.error("an HTTP thread stopped with an error", { message: e.message });
        resolve({ kind: "failed", message: e.message });
      };
    });
  const endAll = () => {
    for (const thread of threads) thread.worker.terminate();
    wake.close();
  };
  try {
    const started = await Promise.all(threads.map((thread) => {
      const answer = reply(thread);
      thread.worker.postMessage(
        { kind: "start", config, metricsChannel } satisfies HttpThreadStart,
      );
      return answer;
    }));
    const failed = started.find((r) => r.kind === "failed");
    if (failed?.kind === "failed") throw new Error(`an HTTP thread failed: ${failed.message}`);
  } catch (err) {
    endAll();
    throw err;
  }
  // From here an error reply is logged by `reply`'s handler; nobody awaits it until close.
  const lastWords = threads.map((thread) => reply(thread));
  return {
    async close() {
      await Promise.all(threads.map(async (thread, i) => {
        if (!thread.alive) return;
        thread.worker.postMessage({ kind: "stop" });
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          lastWords[i],
          new Promise((resolve) => timer = setTimeout(resolve, STOP_TIMEOUT_MS)),
        ]);
        clearTimeout(timer);
      }));
      endAll();
    },
  };
}
