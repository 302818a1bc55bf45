/**
 * The CLI's commands that work on the data store, each given the store cli.ts opened for it.
 * `serve` and `emulator` live in the top-level cli.ts, since they start servers (and the
 * emulator is not part of lib/).
 */
import { reencryptAllTokens } from "../accounts/key_rotation.ts";
import { reencryptHistoryTitles } from "../db/history_titles.ts";
import { deleteAccount, MirrorRemovalError } from "../accounts/lifecycle.ts";
import { backupKv, restoreKv } from "../db/backup.ts";
import { ConflictError } from "../db/commit.ts";
import { pauseWriters, recordBackup } from "../db/maintenance.ts";
import { MIGRATIONS, readSchemaVersion, runMigrations } from "../db/migrations.ts";
import { listCalendars } from "../db/calendars.ts";
import { listConnections } from "../db/connections.ts";
import {
  listRules,
  RuleDuplicateError,
  RuleNotFoundError,
  RuleRejectedError,
} from "../db/rules.ts";
import { listUserIds } from "../db/users.ts";
import { duplicateNotes } from "../rules/check.ts";
import { changeRule, RuleInvalidError, RuleUnacceptableError } from "../rules/save.ts";
import { purgeUser, syncUser } from "../sync/engine.ts";
import { type CliContext, findUser, UsageError } from "./context.ts";

/** `sync --user ID|EMAIL [--dry-run] [--full]`: one run now, in this process; exit 1 on failure. */
export async function syncCommand(
  ctx: CliContext,
  opts: { user: string; dryRun: boolean; full: boolean },
): Promise<number> {
  const user = await findUser(ctx.kv, opts.user);
  const services = await ctx.services();
  const result = await syncUser({
    ...services.syncDeps(user.id),
    trigger: "manual",
    dryRun: opts.dryRun,
    full: opts.full,
  });
  if (result.status === "coalesced") {
    ctx.print("another sync of this user is running; it will run once more when done");
    return 0;
  }
  if (result.status === "planned") {
    for (const op of result.planned) {
      ctx.print(`${op.kind}\t${op.entry.target.calendarId}\t${op.entry.mirrorId}\t${op.reason}`);
    }
    ctx.print(`dry run: ${result.planned.length} write(s) planned, nothing written`);
    return 0;
  }
  const { run } = result;
  for (const rule of run.rules) {
    ctx.print(
      `rule ${rule.ruleId}: +${rule.created} ~${rule.updated} -${rule.deleted} ` +
        `(status ${rule.status})`,
    );
  }
  for (const e of run.errors) ctx.print(`error: ${e.message}${e.cause ? ` (${e.cause})` : ""}`);
  ctx.print(`run ${run.id}: ${run.outcome}`);
  return run.outcome === "ok" ? 0 : 1;
}

/** `purge --user ID|EMAIL`: removes every busysync event of the user and disables their rules. */
export async function purgeCommand(ctx: CliContext, opts: { user: string }): Promise<number> {
  const user = await findUser(ctx.kv, opts.user);
  const run = await purgeUser((await ctx.services()).syncDeps(user.id));
  const deleted = run.rules.reduce((n, r) => n + r.deleted, 0);
  for (const e of run.errors) ctx.print(`error: ${e.message}${e.cause ? ` (${e.cause})` : ""}`);
  ctx.print(`purge ${run.id}: ${run.outcome}, ${deleted} busysync event(s) removed`);
  return run.outcome === "ok" ? 0 : 1;
}

/**
 * `user delete --user ID|EMAIL [--keep-mirrors]`: deletes the user's account as they would
 * themselves (lib/accounts/lifecycle.ts): their busy blocks are removed first unless
 * `--keep-mirrors`, their grants revoked, and all their data removed from the store. Exit 1
 * when busy blocks could not be removed (nothing is deleted then).
 */
export async function userDeleteCommand(
  ctx: CliContext,
  opts: { user: string; keepMirrors: boolean },
): Promise<number> {
  const user = await findUser(ctx.kv, opts.user);
  try {
    await deleteAccount(await ctx.accountDeps(), user.id, { removeMirrors: !opts.keepMirrors });
  } catch (err) {
    if (!(err instanceof MirrorRemovalError)) throw err;
    console.error(
      `user delete: ${err.message} Nothing was deleted; try again, or pass --keep-mirrors.`,
    );
    return 1;
  }
  ctx.print(
    `user delete: ${user.email} (${user.id}) and all their data deleted` +
      (opts.keepMirrors ? "; their busy blocks were left in place" : ""),
  );
  return 0;
}

/**
 * `rule enable|disable --user ID|EMAIL --rule ID [--keep-mirrors]`: turns a rule on or off as
 * the rules API does (lib/rules/save.ts): the rule is checked, stored and a sync queued, which
 * for a rule turned off removes its busy blocks unless `--keep-mirrors`. Exit 1 when the rule
 * cannot be turned on as the user's calendars and rules stand; 2 when there is no such rule.
 */
export async function ruleSwitchCommand(
  ctx: CliContext,
  opts: { user: string; rule: string; enabled: boolean; keepMirrors: boolean },
): Promise<number> {
  const verb = opts.enabled ? "enable" : "disable";
  const user = await findUser(ctx.kv, opts.user);
  try {
    const { rule, syncJobId } = await changeRule(ctx, user.id, opts.rule, {
      enabled: opts.enabled,
    }, { keepMirrors: opts.keepMirrors });
    const detail = syncJobId
      ? `; sync job ${syncJobId} queued${rule.enabled ? "" : " to remove its busy blocks"}`
      : opts.keepMirrors && !rule.enabled
      ? "; its busy blocks were left in place"
      : "";
    ctx.print(
      `rule ${verb}: “${rule.name}” (${rule.id}) is ${rule.enabled ? "on" : "off"}${detail}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof RuleNotFoundError) {
      throw new UsageError(`user ${opts.user} has no rule ${opts.rule}`);
    }
    const refused = [
      RuleUnacceptableError,
      RuleRejectedError,
      RuleDuplicateError,
      RuleInvalidError,
      ConflictError,
    ];
    if (!refused.some((type) => err instanceof type)) throw err;
    console.error(`rule ${verb}: the rule cannot be saved: ${(err as Error).message}`);
    return 1;
  }
}

/**
 * `keys rotate`: re-encrypts every stored token, and every event title kept in history, with
 * the first BUSYSYNC_ENCRYPTION_KEY.
 */
export async function keysRotateCommand(ctx: CliContext): Promise<number> {
  const { keyring } = await ctx.secrets();
  const report = await reencryptAllTokens(ctx.kv, keyring);
  ctx.print(
    `keys rotate: ${report.reencrypted} of ${report.connections} connection(s) re-encrypted ` +
      `with key ${keyring.primary}`,
  );
  for (const f of report.failed) {
    console.error(`keys rotate: connection ${f.connectionId} of user ${f.userId}: ${f.error}`);
  }
  const history = await reencryptHistoryTitles(ctx.kv, keyring);
  ctx.print(`keys rotate: event titles of ${history.runs} run(s) in history re-encrypted`);
  for (const f of history.failed) {
    console.error(`keys rotate: history run ${f.runId} of user ${f.userId}: ${f.error}`);
  }
  return report.failed.length || history.failed.length ? 1 : 0;
}

/** `migrate`: applies pending record migrations (serve does this at start too). */
export async function migrateCommand(ctx: CliContext): Promise<number> {
  const applied = await runMigrations(ctx.kv, MIGRATIONS);
  ctx.print(
    applied.length
      ? `migrate: applied ${applied.join(", ")}`
      : `migrate: up to date (schema version ${await readSchemaVersion(ctx.kv)})`,
  );
  // Duplicates stored before they were refused are reported, never deleted: which one goes is
  // the user's choice. They are no migration failure, so the exit code stays 0.
  for (const userId of await listUserIds(ctx.kv)) {
    const [entries, connections, calendars] = await Promise.all([
      listRules(ctx.kv, userId),
      listConnections(ctx.kv, userId),
      listCalendars(ctx.kv, userId),
    ]);
    const rules = entries.map((e) => e.rule);
    for (const note of duplicateNotes(rules, connections, calendars)) {
      ctx.print(`migrate: user ${userId}: ${note}`);
    }
  }
  return 0;
}

/**
 * `backup FILE|-`: a consistent NDJSON dump. Writers are paused for its duration: the store
 * flag below makes every scheduler worker stop claiming jobs, and the dump starts once no
 * sync holds a lease. When it is complete, its time and entry count are recorded in the store
 * for the owner's page.
 */
export async function backupCommand(ctx: CliContext, opts: { file: string }): Promise<number> {
  const target = opts.file === "-" ? Deno.stdout.writable : opts.file;
  const { entries } = await backupKv(ctx.kv, target, {
    pauseWriters: () => pauseWriters(ctx.kv, { waitMs: 120_000 }),
  });
  // Only a complete dump is recorded: backupKv throws before this for one cut short.
  await recordBackup(ctx.kv, { at: new Date(), entries });
  if (opts.file !== "-") ctx.print(`backup: ${entries} entries written to ${opts.file}`);
  return 0;
}

/** `restore FILE|- [--force]`: loads a dump into an empty store (refuses a newer schema). */
export async function restoreCommand(
  ctx: CliContext,
  opts: { file: string; force: boolean },
): Promise<number> {
  const path = opts.file === "-" ? await stdinToTempFile() : opts.file;
  try {
    const { restored, skippedExpired } = await restoreKv(ctx.kv, path, { force: opts.force });
    ctx.print(`restore: ${restored} entries restored, ${skippedExpired} expired ones skipped`);
    return 0;
  } finally {
    if (opts.file === "-") await Deno.remove(path);
  }
}

async function stdinToTempFile(): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "busysync-restore-", suffix: ".ndjson" });
  const file = await Deno.open(path, { write: true, truncate: true });
  await Deno.stdin.readable.pipeTo(file.writable);
  return path;
}
