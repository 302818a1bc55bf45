import assert from "node:assert/strict";
import { ianaNameOf, ianaZone, WINDOWS_ZONE_NAMES } from "./ical_zones.ts";
import { isKnownTimeZone } from "../model/time_zone.ts";

const berlin = ianaZone("Europe/Berlin");
const utcOf = (wall: string) => new Date(berlin.toInstant(Temporal.PlainDateTime.from(wall)));

Deno.test("ical zones: a TZID without VTIMEZONE is resolved to an IANA zone", async (t) => {
  await t.step("an IANA name is itself", () => {
    assert.equal(ianaNameOf("Europe/Berlin"), "Europe/Berlin");
    assert.equal(ianaNameOf("America/Argentina/Buenos_Aires"), "America/Argentina/Buenos_Aires");
  });
  await t.step("a Windows name is its CLDR zone", () => {
    assert.equal(ianaNameOf("W. Europe Standard Time"), "Europe/Berlin");
    assert.equal(ianaNameOf("Pacific Standard Time"), "America/Los_Angeles");
  });
  await t.step("every Windows name known maps to a zone this runtime knows", () => {
    for (const name of WINDOWS_ZONE_NAMES) {
      const iana = ianaNameOf(name);
      assert.ok(iana && isKnownTimeZone(iana), `${name} → ${iana}`);
    }
  });
  await t.step("a vendor-prefixed name is the IANA name at its end", () => {
    assert.equal(ianaNameOf("/mozilla.org/20050126_1/Europe/Berlin"), "Europe/Berlin");
    assert.equal(
      ianaNameOf("/freeassociation.sourceforge.net/Tzfile/Europe/Berlin"),
      "Europe/Berlin",
    );
  });
  await t.step("anything else is unknown", () => {
    assert.equal(ianaNameOf("(UTC+01:00) Amsterdam, Berlin, Bern"), undefined);
    assert.equal(ianaNameOf("Mars/Olympus_Mons"), undefined);
    assert.equal(ianaNameOf(""), undefined);
  });
});

Deno.test("ical zones: local times convert to UTC across DST, as RFC 5545 §3.3.5 says", async (t) => {
  await t.step("winter and summer offsets", () => {
    assert.equal(utcOf("2027-03-26T09:00").toISOString(), "2027-03-26T08:00:00.000Z");
    assert.equal(utcOf("2027-03-29T09:00").toISOString(), "2027-03-29T07:00:00.000Z");
  });
  await t.step("a time in the spring gap moves forward by the gap", () => {
    // 02:30 does not exist on 28 March 2027 in Berlin: it is read with the offset before the
    // gap (+01:00), which is 03:30 CEST.
    assert.equal(utcOf("2027-03-28T02:30").toISOString(), "2027-03-28T01:30:00.000Z");
  });
  await t.step("a time in the autumn overlap is its first occurrence", () => {
    assert.equal(utcOf("2027-10-31T02:30").toISOString(), "2027-10-31T00:30:00.000Z");
  });
  await t.step("an instant's wall clock", () => {
    assert.equal(
      berlin.toWall(Date.parse("2027-07-01T10:00:00Z")).toString(),
      "2027-07-01T12:00:00",
    );
  });
});
