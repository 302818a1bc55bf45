/**
 * Lossless JSON for what Deno KV stores. Keys are made of strings, numbers, bigints, booleans and
 * Uint8Arrays; values are anything V8's structured serialisation accepts. JSON has no bigint,
 * no binary, no Date and no NaN, so those travel as tagged objects `{ "$": tag, ... }`; a plain
 * object that happens to have a `$` property is itself wrapped, so no stored value can be
 * mistaken for a tag on the way back.
 */
import { decodeBase64, encodeBase64 } from "../encoding.ts";

type Tagged =
  | { $: "undefined" }
  | { $: "number"; v: "NaN" | "Infinity" | "-Infinity" | "-0" }
  | { $: "bigint"; v: string }
  | { $: "u64"; v: string }
  | { $: "date"; v: string | null }
  | { $: "bytes"; v: string }
  | { $: "typed"; type: TypedArrayName; v: string }
  | { $: "arraybuffer"; v: string }
  | { $: "map"; v: Json[] }
  | { $: "set"; v: Json[] }
  | { $: "regexp"; source: string; flags: string }
  | { $: "object"; v: { [k: string]: Json } };

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const TYPED_ARRAYS = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

/** A value the dump format cannot carry; the backup stops rather than drop data silently. */
export class UnsupportedValueError extends Error {
  constructor(what: string) {
    super(`cannot back up a value of type ${what}`);
    this.name = "UnsupportedValueError";
  }
}

/** Encodes one KV key part or value as JSON that `decodeValue` turns back into an equal value. */
export function encodeValue(value: unknown): Json {
  return encode(value, new Set());
}

function encode(value: unknown, path: Set<object>): Json {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return { $: "undefined" } satisfies Tagged;
    case "bigint":
      return { $: "bigint", v: value.toString() } satisfies Tagged;
    case "number":
      if (Number.isNaN(value)) return { $: "number", v: "NaN" } satisfies Tagged;
      if (value === Infinity) return { $: "number", v: "Infinity" } satisfies Tagged;
      if (value === -Infinity) return { $: "number", v: "-Infinity" } satisfies Tagged;
      if (Object.is(value, -0)) return { $: "number", v: "-0" } satisfies Tagged;
      return value;
    case "object":
      if (value === null) return null;
      return encodeObject(value, path);
    default:
      throw new UnsupportedValueError(typeof value);
  }
}

function encodeObject(value: object, path: Set<object>): Json {
  // Structured serialisation keeps cycles; JSON cannot, so a cycle is refused, not looped on.
  if (path.has(value)) throw new UnsupportedValueError("cyclic object");
  path.add(value);
  try {
    return encodeObjectOnce(value, path);
  } finally {
    path.delete(value);
  }
}

function encodeObjectOnce(value: object, path: Set<object>): Json {
  const inner = (v: unknown) => encode(v, path);
  if (value instanceof Deno.KvU64) return { $: "u64", v: value.value.toString() } satisfies Tagged;
  if (value instanceof Date) {
    const t = value.getTime();
    return { $: "date", v: Number.isNaN(t) ? null : value.toISOString() } satisfies Tagged;
  }
  if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    return { $: "bytes", v: encodeBase64(value) } satisfies Tagged;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const type = value.constructor.name as TypedArrayName;
    if (!(type in TYPED_ARRAYS)) throw new UnsupportedValueError(type);
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { $: "typed", type, v: encodeBase64(bytes) } satisfies Tagged;
  }
  if (value instanceof ArrayBuffer) {
    return { $: "arraybuffer", v: encodeBase64(new Uint8Array(value)) } satisfies Tagged;
  }
  // Array.from visits holes as undefined: a sparse array comes back dense.
  if (Array.isArray(value)) return Array.from(value, inner);
  if (value instanceof Map) {
    return { $: "map", v: [...value].map(([k, v]) => [inner(k), inner(v)]) } satisfies Tagged;
  }
  if (value instanceof Set) return { $: "set", v: [...value].map(inner) } satisfies Tagged;
  if (value instanceof RegExp) {
    return { $: "regexp", source: value.source, flags: value.flags } satisfies Tagged;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new UnsupportedValueError(value.constructor?.name ?? "object");
  }
  const fields: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) fields[k] = inner(v);
  return "$" in fields ? { $: "object", v: fields } satisfies Tagged : fields;
}

/** Decodes what `encodeValue` produced. Throws on a tag it does not know (a corrupt dump). */
export function decodeValue(json: Json): unknown {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  if (!("$" in json)) return decodeFields(json);
  const t = json as unknown as Tagged;
  switch (t.$) {
    case "undefined":
      return undefined;
    case "number":
      return t.v === "-0" ? -0 : Number(t.v);
    case "bigint":
      return BigInt(t.v);
    case "u64":
      return new Deno.KvU64(BigInt(t.v));
    case "date":
      return new Date(t.v ?? NaN);
    case "bytes":
      return decodeBase64(t.v);
    case "typed": {
      const Ctor = TYPED_ARRAYS[t.type];
      if (!Ctor) throw new SyntaxError(`unknown typed array ${t.type}`);
      return new Ctor(decodeBase64(t.v).buffer);
    }
    case "arraybuffer":
      return decodeBase64(t.v).buffer;
    case "map":
      return new Map(
        t.v.map((pair) => {
          if (!Array.isArray(pair) || pair.length !== 2) throw new SyntaxError("bad map entry");
          return [decodeValue(pair[0]), decodeValue(pair[1])];
        }),
      );
    case "set":
      return new Set(t.v.map(decodeValue));
    case "regexp":
      return new RegExp(t.source, t.flags);
    case "object":
      return decodeFields(t.v);
    default:
      throw new SyntaxError(`unknown tag ${JSON.stringify((t as { $: unknown }).$)}`);
  }
}

function decodeFields(fields: { [k: string]: Json }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = decodeValue(v);
  return out;
}

/** Decodes a key, checking every part is a type Deno KV accepts in keys. */
export function decodeKey(json: Json): Deno.KvKey {
  if (!Array.isArray(json)) throw new SyntaxError("a key must be an array");
  return json.map((part) => {
    const v = decodeValue(part);
    const ok = typeof v === "string" || typeof v === "number" || typeof v === "bigint" ||
      typeof v === "boolean" || v instanceof Uint8Array;
    if (!ok) throw new SyntaxError(`invalid key part ${JSON.stringify(part)}`);
    return v;
  });
}
