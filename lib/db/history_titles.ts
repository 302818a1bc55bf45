/**
 * The titles a run's actions keep of their source events are personal data: they are stored
 * encrypted with the tokens' keyring, bound to the run (a title copied into another run or
 * record does not decrypt), opened only to show them to their owner, and re-encrypted by
 * `busysync keys rotate`.
 */
import { decryptString, encryptString, type Keyring, reencrypt } from "../auth/crypto.ts";
import { commitOnce } from "./commit.ts";
import { ActionsRecordSchema, type RunAction } from "./history.ts";
import { keys } from "./keys.ts";

/** An action as the engine collects it: the source event's title still in the clear. */
export type ActionDraft = Omit<RunAction, "title"> & { sourceTitle?: string };

/** An action as its owner reads it: the title decrypted. */
export type OpenedAction = Omit<RunAction, "title"> & { title?: string };

function titleContext(userId: string, runId: string): string {
  return `history/${userId}/${runId}`;
}

/** The actions to store, each title encrypted with the primary key. */
export async function sealTitles(
  keyring: Keyring,
  userId: string,
  runId: string,
  drafts: readonly ActionDraft[],
): Promise<RunAction[]> {
  const context = titleContext(userId, runId);
  return await Promise.all(
    drafts.map(async ({ sourceTitle, ...action }) =>
      sourceTitle === undefined
        ? action
        : { ...action, title: await encryptString(keyring, sourceTitle, context) }
    ),
  );
}

/**
 * The actions with their titles decrypted, for the signed-in owner's page or API answer only.
 * Throws UnknownKeyError when a title's key is no longer configured (as tokens do).
 */
export async function openTitles(
  keyring: Keyring,
  userId: string,
  runId: string,
  actions: readonly RunAction[],
): Promise<OpenedAction[]> {
  const context = titleContext(userId, runId);
  return await Promise.all(
    actions.map(async ({ title, ...action }) =>
      title === undefined
        ? action
        : { ...action, title: await decryptString(keyring, title, context) }
    ),
  );
}

/** What re-encrypting the stored history titles did. */
export interface HistoryRotationReport {
  /** Runs whose actions were rewritten. */
  runs: number;
  /** Runs that could not be (e.g. their key is not configured any more). */
  failed: { userId: string; runId: string; error: string }[];
}

/**
 * Re-encrypts every stored title not under the primary key. Each run's actions are rewritten
 * with a versionstamp check, keeping their expiry (taken from the record's `expiresAt`); a run
 * that changed meanwhile (trimmed, expired) is left as it now is.
 */
export async function reencryptHistoryTitles(
  kv: Deno.Kv,
  keyring: Keyring,
  now: () => Date = () => new Date(),
): Promise<HistoryRotationReport> {
  const report: HistoryRotationReport = { runs: 0, failed: [] };
  for await (const entry of kv.list({ prefix: keys.allRunActions() })) {
    const [, userId, runId] = entry.key.map(String);
    try {
      const record = ActionsRecordSchema.parse(entry.value);
      let changed = false;
      const actions = await Promise.all(record.actions.map(async (action) => {
        if (action.title === undefined) return action;
        const title = await reencrypt(keyring, action.title, titleContext(userId, runId));
        if (title !== action.title) changed = true;
        return { ...action, title };
      }));
      if (!changed) continue;
      const left = record.expiresAt ? Date.parse(record.expiresAt) - now().getTime() : undefined;
      if (left !== undefined && left <= 0) continue;
      const res = await commitOnce(() =>
        kv.atomic().check(entry).set(
          entry.key,
          { ...record, actions },
          left === undefined ? undefined : { expireIn: left },
        )
      );
      if (res.ok) report.runs++;
    } catch (err) {
      report.failed.push({
        userId,
        runId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return report;
}
