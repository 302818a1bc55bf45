/**
 * A small OTLP/HTTP receiver in JSON (what `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` sends): it
 * keeps every body POSTed to /v1/traces, /v1/logs and /v1/metrics, and flattens the traces into
 * spans a test can search. The OTLP JSON shape is the protobuf's, camelCased: resourceSpans →
 * scopeSpans → spans, attributes as `{ key, value: { stringValue | intValue | … } }`.
 */

/** An attribute value as OTLP JSON writes it (AnyValue). */
interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface TracesBody {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

/** One span, its attributes as plain values (repeated keys keep every value, in order). */
export interface FlatSpan {
  name: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  /** The instrumentation scope that made it ("busysync", or Deno's own). */
  scope: string;
  attributes: Record<string, unknown>;
  /** Every attribute as [key, value], repeats included (Deno appends, it does not replace). */
  pairs: [string, unknown][];
  /** The texts of its status message and its events' names and attributes. */
  extras: string[];
}

export type Signal = "traces" | "logs" | "metrics";

export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  /** Every body received, by signal, as parsed JSON. */
  bodies: Record<Signal, unknown[]>;
  /** Every span received so far, flattened. */
  spans(): FlatSpan[];
  stop(): Promise<void>;
}

function plain(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  if (value.kvlistValue) {
    return Object.fromEntries(
      (value.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]),
    );
  }
  return value.bytesValue;
}

const pairsOf = (attributes: KeyValue[] | undefined): [string, unknown][] =>
  (attributes ?? []).map((kv) => [kv.key, plain(kv.value)]);

/** The spans of one /v1/traces body. */
export function flattenSpans(body: unknown): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const resource of (body as TracesBody).resourceSpans ?? []) {
    for (const scoped of resource.scopeSpans ?? []) {
      for (const span of scoped.spans ?? []) {
        const pairs = pairsOf(span.attributes);
        out.push({
          name: span.name,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? "",
          scope: scoped.scope?.name ?? "",
          attributes: Object.fromEntries(pairs),
          pairs,
          extras: [
            span.status?.message ?? "",
            ...(span.events ?? []).flatMap((e) => [e.name, JSON.stringify(pairsOf(e.attributes))]),
          ].filter(Boolean),
        });
      }
    }
  }
  return out;
}

/** Starts the receiver on a free loopback port. */
export function startOtlpReceiver(): OtlpReceiver {
  const bodies: Record<Signal, unknown[]> = { traces: [], logs: [], metrics: [] };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const signal = new URL(req.url).pathname.match(/^\/v1\/(traces|logs|metrics)$/)?.[1] as
      | Signal
      | undefined;
    if (req.method !== "POST" || !signal) return new Response("not found", { status: 404 });
    const type = req.headers.get("content-type") ?? "";
    if (!type.startsWith("application/json")) {
      return new Response(`this receiver takes JSON, not ${type}`, { status: 415 });
    }
    bodies[signal].push(await req.json());
    // An empty ExportTraceServiceResponse (and its logs/metrics twins): everything accepted.
    return Response.json({});
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bodies,
    spans: () => bodies.traces.flatMap(flattenSpans),
    stop: () => server.shutdown(),
  };
}
