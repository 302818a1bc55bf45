import { type RunningServer, startServer } from "../../main.ts";
import { tempKvPath } from "./temp_kv.ts";

/**
 * busysync as `deno task start` runs it (demo mode, the bundled emulator) on free ports and a
 * temp KV file; `stop()` shuts it down and removes the file.
 */
export async function startDemoServer(
  env: Record<string, string> = {},
): Promise<RunningServer & { stop(): Promise<void> }> {
  const kv = await tempKvPath();
  const server = await startServer({
    PORT: "0",
    EMULATOR_PORT: "0",
    BUSYSYNC_KV: kv.path,
    BUSYSYNC_LOG_LEVEL: "warn",
    ...env,
  });
  return {
    ...server,
    async stop() {
      await server.shutdown();
      await kv.cleanup();
    },
  };
}
