/**
 * Contention on the store, made visible: a KV handle whose atomic commits report each refusal
 * (a failed `check()`, SQLite's "database is locked") before handing it back as usual. Those
 * refusals are what the retry loops of commit.ts go round for, so their rate is how much the
 * process's writers get in each other's way. A wrapper rather than a hook in commit.ts: every
 * module of lib/db/ already receives the handle, so the counting reaches every commit without
 * a new parameter on each of them.
 */
import { isLockedError } from "./commit.ts";

export type CommitConflict = "check_failed" | "locked";

/** `kv` with every commit of its atomic operations reporting a refusal to `onConflict`. */
export function reportingCommitConflicts(
  kv: Deno.Kv,
  onConflict: (reason: CommitConflict) => void,
): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      if (property === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = async () => {
            try {
              const result = await commit();
              if (!result.ok) onConflict("check_failed");
              return result;
            } catch (err) {
              if (isLockedError(err)) onConflict("locked");
              throw err;
            }
          };
          return op;
        };
      }
      // Deno.Kv's methods reach its resource through private state: called on the proxy they
      // would fail, so they are bound to the handle itself.
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
