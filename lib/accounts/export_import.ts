/**
 * A user's data as a portable JSON document, without secrets: settings and the connected
 * accounts (id, email, status; never tokens). Rules join as a section of their own.
 *
 *   { "format": "busysync-export", "version": 1, "exportedAt": "...",
 *     "account": { "email": "..." }, "settings": {...}, "connections": [...] }
 *
 * Versioning: `version` changes only when an existing section changes incompatibly; a new
 * section is simply a new optional key, which older busysyncs report as ignored. Importing
 * applies the sections it knows, `connections` first: tokens cannot travel, so an imported
 * connection is matched by email to one the user has connected here, and the resulting id map
 * lets later sections (rules) point at this instance's connection ids.
 */
import { z } from "zod";
import { CONNECTION_STATUSES, listConnections } from "../db/connections.ts";
import { getUser, updateUserSettings, UserSettingsSchema } from "../db/users.ts";
import type { FieldErrors } from "../http/errors.ts";
import { fieldErrors } from "../http/validate.ts";
import type { AccountDeps } from "./deps.ts";

export const EXPORT_FORMAT = "busysync-export";
export const EXPORT_VERSION = 1;

const ExportedConnectionSchema = z.object({
  id: z.string().min(1),
  email: z.string().min(1),
  status: z.enum(CONNECTION_STATUSES),
  createdAt: z.string(),
});
type ExportedConnection = z.infer<typeof ExportedConnectionSchema>;

/** What sections see while importing. */
interface ImportContext {
  deps: AccountDeps;
  userId: string;
  /** Exported connection id → this user's connection id for the same account (by email). */
  connectionIds: Map<string, string>;
}

/** One part of the document: how it is read for export and applied on import. */
interface Section<T> {
  schema: z.ZodType<T>;
  read(deps: AccountDeps, userId: string): Promise<T>;
  /** Applies the section and returns a summary for the response. */
  apply(ctx: ImportContext, data: T): Promise<unknown>;
}

const settingsSection: Section<z.infer<typeof UserSettingsSchema>> = {
  schema: UserSettingsSchema.strict(),
  async read(deps, userId) {
    return (await getUser(deps.kv, userId))?.settings ?? {};
  },
  async apply(ctx, data) {
    await updateUserSettings(ctx.deps.kv, ctx.userId, data);
    return { updated: Object.keys(data) };
  },
};

const connectionsSection: Section<ExportedConnection[]> = {
  schema: z.array(ExportedConnectionSchema).max(100),
  async read(deps, userId) {
    return (await listConnections(deps.kv, userId)).map((c) => ({
      id: c.id,
      email: c.email,
      status: c.status,
      createdAt: c.createdAt,
    }));
  },
  apply(ctx, data) {
    return Promise.resolve({
      matched: data.filter((c) => ctx.connectionIds.has(c.id)).map((c) => c.email),
      // Accounts to connect here before the sections that refer to them work fully.
      missing: data.filter((c) => !ctx.connectionIds.has(c.id)).map((c) => c.email),
    });
  },
};

/** Sections in import order: `connections` first, because later ones map its ids. */
const SECTIONS: ReadonlyArray<readonly [string, Section<never>]> = [
  ["connections", connectionsSection as Section<never>],
  ["settings", settingsSection as Section<never>],
];

const HEADER_KEYS = new Set(["format", "version", "exportedAt", "account"]);

/** The export document of `userId`. */
export async function buildExport(
  deps: AccountDeps,
  userId: string,
): Promise<Record<string, unknown>> {
  const user = await getUser(deps.kv, userId);
  const doc: Record<string, unknown> = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: deps.now().toISOString(),
    account: { email: user?.email },
  };
  for (const [name, section] of SECTIONS) doc[name] = await section.read(deps, userId);
  return doc;
}

/** The document is not an export busysync can import. */
export class ImportError extends Error {
  constructor(
    readonly kind: "invalid" | "too_new",
    message: string,
    readonly fields?: FieldErrors,
  ) {
    super(message);
    this.name = "ImportError";
  }
}

const HeaderSchema = z.looseObject({
  format: z.literal(EXPORT_FORMAT, { error: `expected "${EXPORT_FORMAT}"` }),
  version: z.number().int().min(1),
});

/**
 * Validates every known section first, then applies them in order. Returns a summary per
 * section and the names of sections this busysync does not know. Throws ImportError.
 */
export async function applyImport(
  deps: AccountDeps,
  userId: string,
  document: unknown,
): Promise<{ imported: Record<string, unknown>; ignored: string[] }> {
  const header = HeaderSchema.safeParse(document);
  if (!header.success) {
    throw new ImportError(
      "invalid",
      "This is not a busysync export.",
      fieldErrors(header.error.issues),
    );
  }
  if (header.data.version > EXPORT_VERSION) {
    throw new ImportError(
      "too_new",
      `This export has format version ${header.data.version}; this busysync reads up to ` +
        `${EXPORT_VERSION}. Update busysync to import it.`,
    );
  }
  const doc = header.data as Record<string, unknown>;
  const parsed = new Map<string, unknown>();
  const fields: FieldErrors = {};
  for (const [name, section] of SECTIONS) {
    if (doc[name] === undefined) continue;
    const result = section.schema.safeParse(doc[name]);
    if (result.success) parsed.set(name, result.data);
    else Object.assign(fields, fieldErrors(result.error.issues, name));
  }
  if (Object.keys(fields).length) {
    throw new ImportError("invalid", "Some parts of the export are not valid.", fields);
  }

  const exported = (parsed.get("connections") ?? []) as ExportedConnection[];
  const ctx: ImportContext = {
    deps,
    userId,
    connectionIds: matchConnections(exported, await listConnections(deps.kv, userId)),
  };
  const imported: Record<string, unknown> = {};
  for (const [name, section] of SECTIONS) {
    if (parsed.has(name)) imported[name] = await section.apply(ctx, parsed.get(name) as never);
  }
  const known = new Set([...HEADER_KEYS, ...SECTIONS.map(([name]) => name)]);
  return { imported, ignored: Object.keys(doc).filter((k) => !known.has(k)) };
}

/**
 * Pairs exported connections with the user's current ones by account email, where the email
 * names one connection on each side: two feeds of one host are both "Feed from host", and
 * pairing them by name could point a rule at the other feed, so such ones stay unmatched.
 */
function matchConnections(
  exported: ExportedConnection[],
  current: { id: string; email: string }[],
): Map<string, string> {
  const unique = <T extends { email: string }>(list: T[]) => {
    const by = new Map<string, T[]>();
    for (const c of list) {
      by.set(c.email.toLowerCase(), [...by.get(c.email.toLowerCase()) ?? [], c]);
    }
    return new Map([...by].filter(([, cs]) => cs.length === 1).map(([e, [c]]) => [e, c]));
  };
  const byEmail = unique(current);
  const out = new Map<string, string>();
  for (const [email, c] of unique(exported)) {
    const match = byEmail.get(email);
    if (match) out.set(c.id, match.id);
  }
  return out;
}
