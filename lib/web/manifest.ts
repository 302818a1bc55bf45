import { z } from "zod";

/** What the island build wrote: public URLs of the hashed bundles, and what they were built from. */
export const ManifestSchema = z.object({
  v: z.literal(1),
  sourceHash: z.string(),
  boot: z.string(),
  styles: z.string(),
  islands: z.record(z.string(), z.string()),
  /** Every file in static/build with its size, for page-weight checks. */
  files: z.record(z.string(), z.number()),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const BUILD_DIR = "static/build";
export const BUILD_URL = "/static/build";
