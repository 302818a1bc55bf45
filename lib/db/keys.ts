/**
 * Every Deno KV key busysync writes is built here, so the layout can be read in one place.
 * Collections are plural; secondary indexes are `<collection>_by_<attribute>` and hold ids.
 */
export const keys = {
  /** Applied migration ids and the store's schema version. */
  migration: (id: string) => ["meta", "migrations", id] as const,
  migrations: () => ["meta", "migrations"] as const,
  schemaVersion: () => ["meta", "schema_version"] as const,
  /** Secrets the instance generates for itself when none is configured. */
  setting: (name: string) => ["meta", "settings", name] as const,
};
