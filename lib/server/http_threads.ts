/**
 * Extra threads that serve HTTP beside the main one (BUSYSYNC_HTTP_WORKERS). Each is a Web
 * Worker with its own isolate, KV handle and copy of the app, listening on the same port with
 * SO_REUSEPORT, so the kernel spreads connections over them and a second core does page work.
 * Syncs, the cron tick and the demo emulator stay on the main thread; a thread that enqueues a
 * sync job wakes the main thread's worker through a BroadcastChannel (a process-local channel).
 */
import type { Config } from "../config.ts";

/** The channel HTTP threads post on after enqueuing a job. */
export const WAKE_CHANNEL = "busysync-sync-wake";

/** What the main thread tells an HTTP thread: the config as resolved (ports, demo URLs). */
export interface HttpThreadStart {
  kind: "start";
  config: Config;
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

/**
 * Starts `config.httpWorkers` threads serving on `config.port` (already bound by the main
 * thread with reusePort) and resolves once all listen; `onWake` runs for each wake message.
 */
export async function startHttpThreads(
  config: Config,
  onWake: () => void,
): Promise<HttpThreads> {
  const wake = new BroadcastChannel(WAKE_CHANNEL);
  wake.onmessage = () => onWake();
  const threads = Array.from(
    { length: config.httpWorkers },
    () => new Worker(new URL("./http_thread.ts", import.meta.url), { type: "module" }),
  );
  const reply = (thread: Worker) =>
    new Promise<HttpThreadReply>((resolve) => {
      thread.onmessage = (e: MessageEvent<HttpThreadReply>) => resolve(e.data);
      thread.onerror = (e) => {
        e.preventDefault();
        resolve({ kind: "failed", message: e.message });
      };
    });
  try {
    const started = await Promise.all(threads.map((thread) => {
      const answer = reply(thread);
      thread.postMessage({ kind: "start", config } satisfies HttpThreadStart);
      return answer;
    }));
    const failed = started.find((r) => r.kind === "failed");
    if (failed?.kind === "failed") throw new Error(`an HTTP thread failed: ${failed.message}`);
  } catch (err) {
    for (const thread of threads) thread.terminate();
    wake.close();
    throw err;
  }
  return {
    async close() {
      await Promise.all(threads.map(async (thread) => {
        const stopped = reply(thread);
        thread.postMessage({ kind: "stop" });
        await stopped;
        thread.terminate();
      }));
      wake.close();
    },
  };
}
