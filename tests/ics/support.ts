/**
 * A feed publisher of the test's own: Deno.serve on a loopback port serving a file the test
 * writes, under a path holding a secret as real feed addresses do. It answers conditional
 * requests as publishers do (ETag of the content, 304 on a matching If-None-Match) and counts
 * them, and can be told to fail or to answer something that is no calendar.
 */
import { createHash } from "node:crypto";

export interface FeedServer extends AsyncDisposable {
  /** The feed's address (http on loopback, which the test instance allows). */
  url: string;
  /** The secret part of the address, which must never show up in answers or history. */
  secret: string;
  /** Replaces the feed's content (written to the file the server reads on every request). */
  write(ics: string): Promise<void>;
  /** From now on: `ok` serves the file, `fail` answers 503, `html` a login page. */
  mode: "ok" | "fail" | "html";
  /** Requests so far, how many were conditional, and how many got a 304. */
  counts: { requests: number; conditional: number; notModified: number };
  close(): Promise<void>;
}

export async function startFeedServer(): Promise<FeedServer> {
  const dir = await Deno.makeTempDir({ prefix: "busysync-feed-" });
  const file = `${dir}/feed.ics`;
  await Deno.writeTextFile(file, feed([]));
  const secret = crypto.randomUUID().replaceAll("-", "");
  const counts = { requests: 0, conditional: 0, notModified: 0 };
  const state = { mode: "ok" as FeedServer["mode"] };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    counts.requests++;
    if (new URL(req.url).pathname !== `/calendars/${secret}/feed.ics`) {
      return new Response("not found", { status: 404 });
    }
    if (state.mode === "fail") return new Response("overloaded", { status: 503 });
    if (state.mode === "html") {
      return new Response("<!doctype html><title>Sign in</title>", {
        headers: { "content-type": "text/html" },
      });
    }
    const body = await Deno.readTextFile(file);
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
    const asked = req.headers.get("if-none-match");
    if (asked !== null) counts.conditional++;
    if (asked === etag) {
      counts.notModified++;
      return new Response(null, { status: 304, headers: { etag } });
    }
    return new Response(body, { headers: { "content-type": "text/calendar", etag } });
  });
  const close = async () => {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}/calendars/${secret}/feed.ics`,
    secret,
    write: (ics) => Deno.writeTextFile(file, ics),
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    counts,
    close,
    [Symbol.asyncDispose]: close,
  };
}

const HOUR = 3_600_000;

/** `20270104T090000Z` for an instant. */
export function utc(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** A feed of these VEVENTs (each a list of lines), CRLF-joined, stamped now as publishers do. */
export function feed(vevents: string[][], extra: string[] = []): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//busysync//feed tests//EN",
    "X-WR-CALNAME:Timetable",
    ...extra,
    ...vevents.flatMap((lines) => [
      "BEGIN:VEVENT",
      `DTSTAMP:${utc(new Date())}`,
      ...lines,
      "END:VEVENT",
    ]),
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** One VEVENT's lines: `uid`, `summary`, from `start` for `hours`, and any `extra` lines. */
export function vevent(
  uid: string,
  summary: string,
  start: Date,
  hours = 1,
  extra: string[] = [],
): string[] {
  return [
    `UID:${uid}`,
    `DTSTART:${utc(start)}`,
    `DTEND:${utc(new Date(start.getTime() + hours * HOUR))}`,
    `SUMMARY:${summary}`,
    ...extra,
  ];
}

/** `days` from now at `hour`:00 UTC (the harness clock follows real time). */
export function daysAhead(days: number, hour: number): Date {
  const at = new Date(Date.now() + days * 24 * HOUR);
  at.setUTCHours(hour, 0, 0, 0);
  return at;
}
