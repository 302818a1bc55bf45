import { z } from "zod";

const Env = z.object({ PORT: z.coerce.number().int().min(1).max(65535).default(8000) });

/**
 * `healthcheck`: exit 0 when the server on $PORT answers `/healthz` within 3 s. The container
 * image has no curl, so its HEALTHCHECK runs this. Always asks loopback: the server may listen
 * on 0.0.0.0, and a health check must not depend on outside routing.
 */
export async function healthcheckCommand(env: Record<string, string | undefined>) {
  const { PORT } = Env.parse({ PORT: env.PORT || undefined });
  try {
    const res = await fetch(`http://127.0.0.1:${PORT}/healthz`, {
      signal: AbortSignal.timeout(3000),
    });
    await res.body?.cancel();
    return res.ok ? 0 : 1;
  } catch (err) {
    console.error(`healthcheck: ${err instanceof Error ? err.message : err}`);
    return 1;
  }
}
