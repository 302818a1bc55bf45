import assert from "node:assert/strict";
import {
  ALICE,
  anEvent,
  calendarClient,
  failure,
  FULL_SCOPE,
  SCOPE,
  startHarness,
  TEST_CLIENT,
} from "./test_support.ts";

const calendarId = ALICE;

Deno.test("auth: a missing or unknown bearer token is 401 authError", async () => {
  await using h = startHarness();
  const cases: Record<string, string>[] = [
    {},
    { Authorization: "Bearer ya29.nonsense" },
    { Authorization: "Basic x" },
  ];
  for (const headers of cases) {
    const res = await fetch(`${h.url}/calendar/v3/calendars/primary/events`, { headers });
    const body = await res.json();
    assert.equal(res.status, 401);
    assert.deepEqual(body.error.errors[0], {
      domain: "global",
      reason: "authError",
      message: "Invalid Credentials",
      locationType: "header",
      location: "Authorization",
    });
  }
});

Deno.test("auth: expired and revoked access tokens are 401", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE);
  await api.events.list({ calendarId });
  await h.admin("POST", "tokens/expire");
  const expired = await failure(api.events.list({ calendarId }));
  assert.deepEqual([expired.status, expired.reason], [401, "authError"]);

  const fresh = await h.api(ALICE);
  await h.admin("POST", "tokens/revoke", { email: ALICE });
  const revoked = await failure(fresh.events.list({ calendarId }));
  assert.deepEqual([revoked.status, revoked.reason], [401, "authError"]);

  const tokens = await h.admin<{ access_token: string; refresh_token: string }>("POST", "tokens", {
    email: ALICE,
  });
  const byRefresh = calendarClient(h.url, { access_token: tokens.access_token });
  await byRefresh.events.list({ calendarId });
  assert.deepEqual(
    await h.admin("POST", "tokens/revoke", { refreshToken: tokens.refresh_token }),
    { revoked: 1 },
  );
  const f = await failure(byRefresh.events.list({ calendarId }));
  assert.equal(f.status, 401, "access tokens minted from a revoked refresh token stop working");
});

Deno.test("auth: with an expired access token the client refreshes at the emulator and succeeds", async () => {
  await using h = startHarness();
  const tokens = await h.admin<{ refresh_token: string }>("POST", "tokens", {
    email: ALICE,
    clientId: TEST_CLIENT.clientId,
  });
  const api = calendarClient(h.url, {
    access_token: "ya29.stale",
    refresh_token: tokens.refresh_token,
    expiry_date: Date.now() - 1000,
  });
  const res = await api.events.list({ calendarId });
  assert.equal(res.status, 200);
});

Deno.test("auth: each method demands one of its scopes, else 403 insufficientPermissions", async () => {
  await using h = startHarness();
  const full = await h.api(ALICE);
  const e = (await full.events.insert({ calendarId, requestBody: anEvent() })).data;
  const allowed = async (scope: string) => {
    const api = await h.api(ALICE, { scopes: [SCOPE(scope)] });
    const tries: Record<string, () => Promise<unknown>> = {
      read: () => api.events.list({ calendarId }),
      get: () => api.events.get({ calendarId, eventId: e.id! }),
      write: () => api.events.patch({ calendarId, eventId: e.id!, requestBody: { summary: "x" } }),
      calendarList: () => api.calendarList.list(),
      calendar: () => api.calendars.get({ calendarId }),
    };
    const out: string[] = [];
    for (const [name, call] of Object.entries(tries)) {
      try {
        await call();
        out.push(name);
      } catch (err) {
        const f = await failure(Promise.reject(err));
        assert.deepEqual(
          [f.status, f.reason],
          [403, "insufficientPermissions"],
          `${scope} ${name}`,
        );
      }
    }
    return out;
  };
  assert.deepEqual(await allowed("calendar"), ["read", "get", "write", "calendarList", "calendar"]);
  assert.deepEqual(await allowed("calendar.readonly"), ["read", "get", "calendarList", "calendar"]);
  assert.deepEqual(await allowed("calendar.events"), ["read", "get", "write"]);
  assert.deepEqual(await allowed("calendar.events.readonly"), ["read", "get"]);
  assert.deepEqual(await allowed("calendar.events.owned"), ["read", "get", "write"]);
  assert.deepEqual(await allowed("calendar.calendarlist.readonly"), ["calendarList", "calendar"]);
  assert.deepEqual(await allowed("calendar.calendars.readonly"), ["calendar"]);
  assert.deepEqual(await allowed("userinfo.email"), []);
});

Deno.test("auth: the insufficient-scope 403 carries PERMISSION_DENIED and an ErrorInfo", async () => {
  await using h = startHarness();
  const api = await h.api(ALICE, { scopes: [SCOPE("calendar.readonly")] });
  const f = await failure(api.events.insert({ calendarId, requestBody: anEvent() }));
  assert.equal(f.body!.error.status, "PERMISSION_DENIED");
  assert.equal(
    (f.body!.error.details![0] as { reason: string }).reason,
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
  );
  assert.equal(f.body!.error.code, 403);
  assert.equal(f.body!.error.message, "Request had insufficient authentication scopes.");
  assert.deepEqual(
    (f.body!.error.details![0] as { metadata: unknown }).metadata,
    { service: "calendar-json.googleapis.com", method: "calendar.v3.Events.Insert" },
  );
  // The full scope still works for the same user.
  await (await h.api(ALICE, { scopes: [FULL_SCOPE] })).events.insert({
    calendarId,
    requestBody: anEvent(),
  });
});
