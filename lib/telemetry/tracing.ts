/**
 * busysync's traces: a span per HTTP request, per sync run and per call to a calendar service,
 * exported by Deno's built-in OpenTelemetry (OTEL_DENO=true) through `@opentelemetry/api`.
 *
 * Deno 2.9.6 also makes spans of its own for every `Deno.serve` request and every `fetch`, and
 * puts `url.full` and `url.query` on them verbatim: an OAuth callback's `code=`, a calendar id in
 * a Google API path. Setting an attribute on Deno's span appends a second one instead of
 * replacing it, and Deno's switches that turn those spans off turn ours off too. So they are
 * never sampled: the process runs with `OTEL_TRACES_SAMPLER=parentbased_always_off` (a root
 * span, which Deno's request span always is with `OTEL_PROPAGATORS=none`, is dropped, and so is
 * any span whose parent was) and ours are recorded by starting each under a *sampled* parent
 * context minted here. The work inside one of our spans runs in an *unsampled* copy of its
 * context, so a `fetch` made there gets an unsampled parent and is dropped too, while a log
 * line written there still carries our span's trace and span id. checkTracingEnv (config.ts)
 * refuses to start with any other sampler or propagator.
 */
import {
  type Context,
  context,
  createContextKey,
  type Span,
  type SpanContext,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { encodeHex } from "../encoding.ts";

/** An attribute value; keep them to kinds of things and counts, never a person or calendar. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** What the work inside a span may tell it. */
export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** A request span is named after its route, which is known once routing has happened. */
  rename(name: string): void;
  /**
   * Marks the span failed, with the error's class name only: messages can name a calendar or
   * an address (a 404 on a calendar id, an invalid_grant for an account).
   */
  fail(error: unknown): void;
}

export interface Tracing {
  /** Runs `work` in the span of one HTTP request, a trace of its own. */
  requestSpan<T>(name: string, work: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Runs `work` in the span of one sync run (`sync.run`), a trace of its own. */
  runSpan<T>(work: (span: TraceSpan) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in the span of one request to a calendar service, named after its API method
   * (`google.events.list`): a child of the request or run span it happens in, or a trace of
   * its own outside both.
   */
  callSpan<T>(name: string, work: (span: TraceSpan) => Promise<T>): Promise<T>;
}

/**
 * Where the work of one of our spans keeps that span's context: only our own spans are
 * parents, never one of Deno's (which carries the URL and is not exported anyway).
 */
const OURS = createContextKey("busysync.span");

const noSpan: TraceSpan = { setAttributes() {}, rename() {}, fail() {} };

/** Tracing that records nothing (OTEL_DENO is not true): the work just runs. */
export const noTracing: Tracing = {
  requestSpan: (_name, work) => work(noSpan),
  runSpan: (work) => work(noSpan),
  callSpan: (_name, work) => work(noSpan),
};

/** Tracing through Deno's OpenTelemetry when `enabled` (OTEL_DENO=true), else noTracing. */
export function createTracing(opts: { enabled: boolean }): Tracing {
  if (!opts.enabled) return noTracing;
  const random = (bytes: number) => encodeHex(crypto.getRandomValues(new Uint8Array(bytes)));
  const tracer = trace.getTracer("busysync");

  /**
   * A parent that makes the sampler record the span: ours when there is one (same trace, its
   * id, marked sampled), or a new trace under a minted parent id. That id names no exported
   * span; a root span of our own cannot be had, since the sampler drops every root.
   */
  function sampledParent(within: Context, fresh: boolean): Context {
    const ours = fresh ? undefined : within.getValue(OURS) as SpanContext | undefined;
    const parent: SpanContext = ours
      ? { ...ours, traceFlags: TraceFlags.SAMPLED }
      : { traceId: random(16), spanId: random(8), traceFlags: TraceFlags.SAMPLED, isRemote: true };
    return trace.setSpanContext(within, parent);
  }

  async function inSpan<T>(
    name: string,
    fresh: boolean,
    work: (span: TraceSpan) => Promise<T>,
  ): Promise<T> {
    const active = context.active();
    const span: Span = tracer.startSpan(name, {}, sampledParent(active, fresh));
    const own = span.spanContext();
    const unsampled = { ...own, traceFlags: TraceFlags.NONE };
    const inside = trace.setSpanContext(active, unsampled).setValue(OURS, own);
    const handle: TraceSpan = {
      setAttributes: (attributes) => span.setAttributes(attributes),
      rename: (n) => span.updateName(n),
      fail(error) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.name : "Error",
        });
      },
    };
    try {
      return await context.with(inside, () => work(handle));
    } catch (error) {
      handle.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  return {
    requestSpan: (name, work) => inSpan(name, true, work),
    runSpan: (work) => inSpan("sync.run", true, work),
    callSpan: (name, work) => inSpan(name, false, work),
  };
}
