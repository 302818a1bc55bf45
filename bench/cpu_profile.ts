/**
 * A V8 CPU profile of another Deno process over the inspector protocol (the process runs with
 * `--inspect=HOST:PORT`). Used by `deno task load --profile FILE` to find where a route's time
 * goes; the file opens in Chrome DevTools' Performance panel.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

/** Connects to the inspector at `host:port` and starts sampling; `stop()` returns the profile. */
export async function startCpuProfile(host: string) {
  const targets = await (await fetch(`http://${host}/json/list`)).json();
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 200 });
  await send("Profiler.start");
  return {
    async stop(): Promise<Profile> {
      const { profile } = await send("Profiler.stop") as { profile: Profile };
      ws.close();
      return profile;
    },
  };
}

/** The `top` functions by self time, as "share% name url:line" lines. */
export function topSelfTime(profile: Profile, top = 30): string[] {
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const byFrame = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "")}:${
      lineNumber + 1
    }`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + (counts.get(node.id) ?? 0));
  }
  const total = profile.samples.length;
  return [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, n]) =>
    `${(100 * n / total).toFixed(1).padStart(5)}% ${key}`
  );
}
