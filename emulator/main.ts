/**
 * `deno task emulator`: runs the Google emulator. Configured by environment:
 * EMULATOR_PORT (8025), EMULATOR_HOST (127.0.0.1), EMULATOR_ADMIN (`1` enables /__emulator),
 * EMULATOR_SEED (seed JSON file; default the demo seed), EMULATOR_TOKEN_TTL_SECONDS (3600),
 * EMULATOR_CHANNEL_MAX_TTL_SECONDS (604800: the longest push-channel lifetime granted),
 * EMULATOR_PURGE_CANCELLED_SECONDS (2592000: how long deleted events stay readable),
 * EMULATOR_CREATES_PER_DAY (unset: no limit) and EMULATOR_READ_ONLY_HOURS (3): Calendar usage
 * limits (usage_limits.ts).
 */
import { z } from "zod";
import { demoSeed } from "./demo_seed.ts";
import { Seed } from "./seed.ts";
import { DEFAULT_PURGE_CANCELLED_SECONDS, startEmulator } from "./server.ts";
import { DEFAULT_USAGE_LIMITS } from "./usage_limits.ts";

const Env = z.object({
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(8025),
  EMULATOR_HOST: z.string().min(1).default("127.0.0.1"),
  EMULATOR_ADMIN: z.enum(["", "0", "1"]).default("").transform((v) => v === "1"),
  EMULATOR_SEED: z.string().min(1).optional(),
  EMULATOR_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  EMULATOR_CHANNEL_MAX_TTL_SECONDS: z.coerce.number().int().positive().default(604_800),
  EMULATOR_PURGE_CANCELLED_SECONDS: z.coerce.number().int().min(0).default(
    DEFAULT_PURGE_CANCELLED_SECONDS,
  ),
  EMULATOR_CREATES_PER_DAY: z.coerce.number().int().min(0).optional(),
  EMULATOR_READ_ONLY_HOURS: z.coerce.number().min(0).default(DEFAULT_USAGE_LIMITS.readOnlyHours),
});

/**
 * Starts the emulator from environment variables and serves until SIGINT/SIGTERM. Exits with
 * one message on a bad variable or seed file.
 */
export async function runEmulatorFromEnv(vars: Record<string, string | undefined>) {
  const parsed = Env.safeParse(vars);
  if (!parsed.success) {
    console.error(`emulator: bad environment\n${z.prettifyError(parsed.error)}`);
    Deno.exit(1);
  }
  const env = parsed.data;
  const seed = env.EMULATOR_SEED ? await readSeed(env.EMULATOR_SEED) : demoSeed(new Date());
  const emulator = startEmulator({
    port: env.EMULATOR_PORT,
    hostname: env.EMULATOR_HOST,
    admin: env.EMULATOR_ADMIN,
    seed,
    accessTokenTtlSeconds: env.EMULATOR_TOKEN_TTL_SECONDS,
    maxChannelTtlSeconds: env.EMULATOR_CHANNEL_MAX_TTL_SECONDS,
    purgeCancelledAfterSeconds: env.EMULATOR_PURGE_CANCELLED_SECONDS,
    usageLimits: {
      createsPerDay: env.EMULATOR_CREATES_PER_DAY ?? Infinity,
      readOnlyHours: env.EMULATOR_READ_ONLY_HOURS,
    },
  });
  console.log(
    `Google emulator listening on ${emulator.url}` +
      (env.EMULATOR_ADMIN ? ` (admin API at ${emulator.url}/__emulator)` : ""),
  );
  const stopped = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stopped.resolve());
  }
  await stopped.promise;
  await emulator.close();
}

if (import.meta.main) await runEmulatorFromEnv(Deno.env.toObject());

async function readSeed(path: string): Promise<Seed> {
  const parsed = Seed.safeParse(JSON.parse(await Deno.readTextFile(path)));
  if (!parsed.success) {
    console.error(`emulator: bad seed ${path}\n${z.prettifyError(parsed.error)}`);
    Deno.exit(1);
  }
  return parsed.data;
}
