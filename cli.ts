/**
 * The busysync command line: `busysync [COMMAND] [OPTIONS]` as a compiled binary, or
 * `deno task cli COMMAND …` from source. Every command reads the same environment variables
 * as the server (see the README's configuration table).
 */
import { parseArgs } from "node:util";
import { runEmulatorFromEnv } from "./emulator/main.ts";
import { loadSecrets } from "./lib/auth/secrets.ts";
import { ConfigError, loadConfig } from "./lib/config.ts";
import { type CliContext, UsageError } from "./lib/cli/context.ts";
import {
  backupCommand,
  keysRotateCommand,
  migrateCommand,
  purgeCommand,
  restoreCommand,
  ruleSwitchCommand,
  syncCommand,
  userDeleteCommand,
} from "./lib/cli/commands.ts";
import { healthcheckCommand } from "./lib/cli/healthcheck.ts";
import { logIdCommand } from "./lib/cli/log_id.ts";
import { BackupFormatError, StoreNotEmptyError } from "./lib/db/backup.ts";
import { openKv } from "./lib/db/kv.ts";
import { WritersBusyError } from "./lib/db/maintenance.ts";
import { MIGRATIONS, runMigrations, SchemaTooNewError } from "./lib/db/migrations.ts";
import { createLogger } from "./lib/log.ts";
import { logIdsFromSecret } from "./lib/log_ids.ts";
import { queuedSyncRequests } from "./lib/scheduler/scheduler.ts";
import { createServices, type Services } from "./lib/services.ts";
import { VERSION } from "./lib/version.ts";
import { serveUntilSignal } from "./main.ts";

const HELP = `busysync ${VERSION}: keeps busy time in sync between your calendars

Usage: busysync [COMMAND] [OPTIONS]

Commands:
  serve                         run the web app and the scheduler (the default)
  emulator                      run the Google Calendar + OAuth emulator (EMULATOR_* variables)
  sync --user ID|EMAIL [--dry-run] [--full]
                                sync one user now (--dry-run: print the planned writes only)
  purge --user ID|EMAIL         remove every busysync event of a user and disable their rules
  user delete --user ID|EMAIL [--keep-mirrors]
                                delete a user's account and all their data, as they would
                                themselves (--keep-mirrors: leave their busy blocks in place)
  rule disable --user ID|EMAIL --rule ID [--keep-mirrors]
                                turn a rule off; a sync removes its busy blocks unless
                                --keep-mirrors
  rule enable --user ID|EMAIL --rule ID
                                turn a rule on (checked as in the app) and queue its sync
  keys rotate                   re-encrypt stored tokens with the first BUSYSYNC_ENCRYPTION_KEY
  migrate                       apply pending data migrations (serve does this at start)
  healthcheck                   exit 0 when the server on $PORT answers /healthz
  log-id ID|EMAIL               the tokens log lines write for a user (their id, address,
                                connections and calendars) or for any id or address
  backup FILE|-                 write a consistent dump of the data store (- for stdout)
  restore FILE|- [--force]      load a dump into an empty store (--force: a non-empty one)

Options:
  -h, --help                    show this help
  -v, --version                 show the version

Configuration comes from environment variables; see the README.`;

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(args: string[], env: Record<string, string | undefined>) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      user: { type: "string" },
      "dry-run": { type: "boolean" },
      full: { type: "boolean" },
      force: { type: "boolean" },
      rule: { type: "string" },
      "keep-mirrors": { type: "boolean" },
    },
  });
  if (values.help) return print(HELP);
  if (values.version) return print(`busysync ${VERSION}`);
  const [command = "serve", ...rest] = positionals;
  const user = () => {
    if (!values.user) throw new UsageError(`${command} needs --user ID|EMAIL`);
    return values.user;
  };
  const rule = () => {
    if (!values.rule) throw new UsageError(`${command} ${rest[0]} needs --rule ID`);
    return values.rule;
  };
  const keepMirrors = values["keep-mirrors"] ?? false;
  const file = () => {
    if (rest.length !== 1) throw new UsageError(`${command} needs one FILE (or - )`);
    return rest[0];
  };
  switch (command) {
    case "serve":
      await serveUntilSignal(env);
      return 0;
    case "emulator":
      await runEmulatorFromEnv(env);
      return 0;
    case "sync": {
      const opts = { user: user(), dryRun: values["dry-run"] ?? false, full: values.full ?? false };
      return await withStore(env, (ctx) => syncCommand(ctx, opts));
    }
    case "purge": {
      const opts = { user: user() };
      return await withStore(env, (ctx) => purgeCommand(ctx, opts));
    }
    case "user": {
      if (rest[0] !== "delete") throw new UsageError("user takes one subcommand: delete");
      const opts = { user: user(), keepMirrors };
      return await withStore(env, (ctx) => userDeleteCommand(ctx, opts));
    }
    case "rule": {
      if (rest[0] !== "enable" && rest[0] !== "disable") {
        throw new UsageError("rule takes one subcommand: enable or disable");
      }
      const opts = { user: user(), rule: rule(), enabled: rest[0] === "enable", keepMirrors };
      return await withStore(env, (ctx) => ruleSwitchCommand(ctx, opts));
    }
    case "keys":
      if (rest[0] !== "rotate") throw new UsageError("keys takes one subcommand: rotate");
      return await withStore(env, keysRotateCommand);
    case "migrate":
      return await withStore(env, migrateCommand, { migrate: false });
    case "log-id": {
      if (rest.length !== 1) throw new UsageError("log-id needs one ID or EMAIL");
      const opts = { value: rest[0] };
      return await withStore(env, (ctx) => logIdCommand(ctx, opts));
    }
    case "healthcheck":
      return await healthcheckCommand(env);
    case "backup": {
      const opts = { file: file() };
      return await withStore(env, (ctx) => backupCommand(ctx, opts), { migrate: false });
    }
    case "restore": {
      const opts = { file: file(), force: values.force ?? false };
      // No migrations before the restore: the dump brings its own schema version, and the next
      // start (or `migrate`) upgrades it.
      return await withStore(env, (ctx) => restoreCommand(ctx, opts), { migrate: false });
    }
    default:
      throw new UsageError(`unknown command ${command}; see busysync --help`);
  }
}

/**
 * The CLI's composition root for a command on the data store: config → KV (+ pending
 * migrations unless `migrate: false`) → secrets and services when the command asks for them.
 * Closes the store when `fn` is done.
 */
async function withStore<T>(
  env: Record<string, string | undefined>,
  fn: (ctx: CliContext) => Promise<T>,
  options: { migrate?: boolean } = {},
): Promise<T> {
  const config = loadConfig(env);
  const kv = await openKv(config.kvPath);
  try {
    if (options.migrate ?? true) await runMigrations(kv, MIGRATIONS);
    const now = () => new Date();
    const secrets = once(() => loadSecrets(kv, config));
    // Built with the secrets (its hashing of ids is keyed by them), by the commands needing both.
    const logger = once(async () =>
      createLogger(config.logLevel, undefined, {
        ids: logIdsFromSecret((await secrets()).sessionSecret),
      })
    );
    const services = once(async (): Promise<Services> =>
      createServices({ config, kv, log: await logger(), secrets: await secrets(), now })
    );
    return await fn({
      kv,
      secrets,
      services,
      accountDeps: async () => {
        const { keyring } = await secrets();
        const { google, tokens, providerFor, outboundFetch, syncDeps } = await services();
        const log = await logger();
        return {
          kv,
          config,
          keyring,
          google,
          tokens,
          providerFor,
          outboundFetch,
          syncDeps,
          now,
          log,
        };
      },
      syncRequests: queuedSyncRequests(kv, { clock: now }),
      now,
      print: (line) => console.log(line),
    });
  } finally {
    kv.close();
  }
}

/** `make`, called at most once: a command's parts share one set of secrets and services. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => made ??= make();
}

function print(text: string): number {
  console.log(text);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await runCli(Deno.args, Deno.env.toObject());
  } catch (err) {
    const known = [
      ConfigError,
      SchemaTooNewError,
      BackupFormatError,
      StoreNotEmptyError,
      WritersBusyError,
    ];
    if (known.some((type) => err instanceof type)) {
      console.error(`busysync: ${(err as Error).message}`);
      Deno.exit(1);
    }
    if (err instanceof UsageError || (err instanceof TypeError && "code" in err)) {
      // parseArgs reports unknown options as a TypeError with an ERR_PARSE_ARGS_* code.
      console.error(`busysync: ${err.message}`);
      Deno.exit(2);
    }
    throw err;
  }
}
