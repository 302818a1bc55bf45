import assert from "node:assert/strict";
import fc from "fast-check";
import ICAL from "ical.js";
import {
  decodeMarkerValue,
  encodeMarkerValue,
  markerPropertyName,
  privatePropKey,
  readMarkerProperties,
  writeMarkerProperties,
} from "./ical_marker.ts";
import { MARKER_KEYS } from "../sync/marker.ts";

const SAFE = /^[A-Za-z0-9._:/@-]+$/;

/** What Xandikos did to X- values (caldav.md §2): TEXT escaping of `\` `;` `,`. */
function escapeAsText(value: string): string {
  return value.replace(/[\\;,]/g, (c) => "\\" + c);
}

/** A server refolding a value at `width` characters (CRLF + one space, RFC 5545 §3.1). */
function refold(line: string, width: number): string {
  const parts = [];
  for (let i = 0; i < line.length; i += width) parts.push(line.slice(i, i + width));
  return parts.join("\r\n ");
}

function veventWith(lines: string[]): ICAL.Component {
  const ics = ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:x", ...lines, "END:VEVENT", "END:VCALENDAR"]
    .join("\r\n");
  return new ICAL.Component(ICAL.parse(ics)).getFirstSubcomponent("vevent")!;
}

Deno.test("ical marker: every marker key has an X-BUSYSYNC name that maps back to it", () => {
  assert.equal(markerPropertyName(MARKER_KEYS.flag), "X-BUSYSYNC");
  assert.equal(markerPropertyName(MARKER_KEYS.rule), "X-BUSYSYNC-RULE");
  assert.equal(markerPropertyName(MARKER_KEYS.generation), "X-BUSYSYNC-GEN");
  for (const key of Object.values(MARKER_KEYS)) {
    assert.equal(privatePropKey(markerPropertyName(key)), key);
    assert.equal(privatePropKey(markerPropertyName(key).toLowerCase()), key);
  }
  assert.equal(privatePropKey("X-MICROSOFT-CDO-BUSYSTATUS"), undefined);
  assert.equal(privatePropKey("X-BUSYSYNCRULE"), undefined);
  assert.throws(() => markerPropertyName("color"), RangeError);
});

Deno.test("ical marker: safe values are written as they are, others encoded into the safe set", async (t) => {
  await t.step("ids, calendar keys and hashes stay readable", () => {
    for (const v of ["1", "rule01J", "connHome:me@home.example", "sha256:ab12", "a/b.c_d-e"]) {
      assert.equal(encodeMarkerValue(v), v);
    }
  });
  await t.step("a value with a comma, semicolon, backslash or space is encoded", () => {
    for (const v of ["a,b", "a;b", "a\\e", "two words", "ümlaut", ""]) {
      const encoded = encodeMarkerValue(v);
      assert.match(encoded, SAFE);
      assert.ok(encoded.startsWith("b64."));
      assert.equal(decodeMarkerValue(encoded), v);
    }
  });
  await t.step("a raw value that looks encoded is encoded too, so it cannot be misread", () => {
    const encoded = encodeMarkerValue("b64.aGk");
    assert.notEqual(encoded, "b64.aGk");
    assert.equal(decodeMarkerValue(encoded), "b64.aGk");
  });
  await t.step("a damaged encoded value reads as no value", () => {
    assert.equal(decodeMarkerValue("b64.%%%"), undefined);
    assert.equal(decodeMarkerValue("b64.gA"), undefined); // the byte 0x80 alone is not UTF-8
  });
});

Deno.test("ical marker: a value survives a server's TEXT re-escaping and refolding", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string({ unit: "grapheme", maxLength: 300 }), fc.string({ maxLength: 300 })),
      fc.integer({ min: 1, max: 75 }),
      (value, width) => {
        const encoded = encodeMarkerValue(value);
        assert.match(encoded, SAFE);
        assert.equal(decodeMarkerValue(encoded), value);
        assert.equal(decodeMarkerValue(escapeAsText(encoded)), value);
        // Through ical.js as a server returns it: refolded anywhere inside the value.
        const line = refold("X-BUSYSYNC-EVENT:" + escapeAsText(encoded), width);
        assert.deepEqual(readMarkerProperties(veventWith([line])), { busysyncEvent: value });
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("ical marker: properties written on a VEVENT read back as the same private properties", () => {
  const props = {
    busysync: "1",
    busysyncRule: "01JRULE",
    busysyncSource: "conn:alice@example.com,shared;cal",
    busysyncEvent: "x".repeat(900),
  };
  const vevent = new ICAL.Component("vevent");
  writeMarkerProperties(vevent, props);
  const text = vevent.toString();
  assert.match(text, /^X-BUSYSYNC:1\r?$/m);
  assert.match(text, /^X-BUSYSYNC-SOURCE:b64\./m);
  const reparsed = new ICAL.Component(ICAL.parse(text));
  assert.deepEqual(readMarkerProperties(reparsed), props);
  assert.equal(readMarkerProperties(veventWith(["SUMMARY:no marker"])), undefined);
});
