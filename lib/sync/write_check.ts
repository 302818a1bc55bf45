/**
 * Trust nothing a write answers without looking: the service must have stored the mirror under
 * the id busysync chose, with busysync's marker, and with the body that was sent. A server that
 * assigns its own ids or drops extendedProperties (a third-party Google stand-in does both:
 * notes §10) would otherwise leave mirrors busysync can never recognise again: orphans, a
 * duplicate on every edit, and both-ways rules mirroring their own mirrors back and forth.
 */
import { markerProps, readMarker } from "./marker.ts";
import { mirrorMatches } from "./drift.ts";
import type { Written } from "./provider.ts";
import type { CalendarRef } from "../model/calendar_ref.ts";
import type { Mirror } from "../model/events.ts";

/** What was wrong with a write's answer, in words, and whether the event it made must go. */
export interface WriteProblem {
  /** For the person: what the calendar did, and what that means. */
  message: string;
  /**
   * The answer's event is not something busysync can recognise as its own (another id, or no
   * marker): left in place it would look like a real event. The engine removes it.
   */
  unrecognisable: boolean;
  /**
   * Whether writing on would spread the damage (the id, the marker, the time or the busy state
   * is not what was sent). A title, description or location stored differently is only noted:
   * the block still blocks the right time and is still recognised.
   */
  stop: boolean;
}

/** Compares a write's answer with what was sent; undefined when it is exactly what was asked. */
export function checkWritten(
  id: string,
  mirror: Mirror,
  written: Written,
): WriteProblem | undefined {
  if (written.id !== id) {
    return {
      message: `the calendar stored the busy block under an id of its own (${
        written.id || "none"
      } instead of ${id}), so busysync could never find it again`,
      unrecognisable: true,
      stop: true,
    };
  }
  const event = written.event;
  if (!event || event.status === "cancelled") {
    return {
      message: "the calendar answered the write with something that is not the busy block sent",
      unrecognisable: false,
      stop: true,
    };
  }
  const want = markerProps(readMarker(mirror.privateProps)!);
  const got = event.privateProps ?? {};
  if (Object.entries(want).some(([k, v]) => got[k] !== v)) {
    return {
      message: "the calendar dropped the private marker busysync puts on its busy blocks " +
        "(extendedProperties), so busysync could not tell its blocks from your own events",
      unrecognisable: true,
      stop: true,
    };
  }
  if (mirrorMatches(event, mirror)) return undefined;
  const sameText = {
    ...event,
    summary: mirror.summary,
    description: mirror.description,
    location: mirror.location,
  };
  if (mirrorMatches(sameText, mirror)) {
    return {
      message: "the calendar stored the busy block's title, description or location " +
        "differently from how it was sent",
      unrecognisable: false,
      stop: false,
    };
  }
  return {
    message: "the calendar stored the busy block at another time, or not as busy, confirmed " +
      "or with the visibility sent",
    unrecognisable: false,
    stop: true,
  };
}

/**
 * A write the service answered with something other than what was sent. Writing more into
 * that calendar would only spread the damage, so the engine stops writing to it for the run
 * and marks the rules that write there broken, with this message.
 */
export class WriteMismatchError extends Error {
  constructor(readonly cal: CalendarRef, readonly eventId: string, problem: WriteProblem) {
    super(`busysync stopped writing to calendar ${cal.calendarId}: ${problem.message}`);
    this.name = "WriteMismatchError";
  }
}
