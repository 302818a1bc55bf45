import { z } from "zod";
import { encodeBase64 } from "../encoding.ts";
import { commitWithRetry } from "./commit.ts";
import { keys } from "./keys.ts";

const SettingSchema = z.object({ v: z.literal(1), value: z.string().min(1) });

/**
 * Returns the instance setting `name`, creating it with `generate()` the first time. Two
 * processes starting at once agree on one value: creation is a `check(null)` commit and the
 * loser reads the winner's value.
 */
export async function getOrCreateSetting(
  kv: Deno.Kv,
  name: string,
  generate: () => string,
): Promise<string> {
  const res = await commitWithRetry<string>(async () => {
    const entry = await kv.get(keys.setting(name));
    if (entry.value !== null) return null;
    const value = generate();
    return {
      op: kv.atomic().check(entry).set(keys.setting(name), { v: 1, value }),
      result: value,
    };
  });
  if (res?.result) return res.result;
  const entry = await kv.get(keys.setting(name));
  return SettingSchema.parse(entry.value).value;
}

/** 32 random bytes in standard base64: the shape of BUSYSYNC_ENCRYPTION_KEY. */
export function randomKeyBase64(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}
