/**
 * Incidents reach the user once each: a rule held by the delete guard and an account that needs
 * reconnecting are posted to the webhook (a local receiver) and e-mailed (through a real SMTP
 * server from npm `smtp-server`, with nodemailer on busysync's side), once per incident however
 * many runs see it; a failed send is tried again after the next run; an incident that ends and
 * comes back is sent again. The dashboard gets the same incidents from /api/status.
 */
import assert from "node:assert/strict";
import { SMTPServer } from "smtp-server";
import { markNeedsReconnect } from "../../lib/db/connections.ts";
import { PUBLIC_URL } from "../support/accounts.ts";
import { addEvent, deleteEvent, holdARule, startApiWorld, syncNow } from "./support.ts";

interface Hook {
  kind: string;
  text: string;
  title: string;
  url: string;
  to: string;
}

/** A webhook receiver on a free loopback port; answers 500 to the next `failures` posts. */
function startReceiver() {
  const received: Hook[] = [];
  const state = { failures: 0 };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const body = await req.json();
    if (state.failures > 0) {
      state.failures--;
      return new Response("down", { status: 500 });
    }
    received.push({
      kind: body.incident.kind,
      text: body.text,
      title: body.title,
      url: body.url,
      to: body.user.email,
    });
    return new Response(null, { status: 204 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook`, received, state, server };
}

/** A real SMTP server (no TLS, no auth) keeping each message's envelope and text. */
async function startSmtp() {
  const mails: { to: string[]; data: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, done) {
      let data = "";
      stream.on("data", (chunk: Uint8Array) => data += new TextDecoder().decode(chunk));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as { port: number };
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: `smtp://127.0.0.1:${port}`, mails, close };
}

Deno.test("notifications: each incident is posted and e-mailed once, not once per run", async (t) => {
  const hook = startReceiver();
  const smtp = await startSmtp();
  const w = await startApiWorld({
    BUSYSYNC_DELETE_GUARD_MIN: "1",
    BUSYSYNC_NOTIFY_WEBHOOK_URL: hook.url,
    BUSYSYNC_SMTP_URL: smtp.url,
    BUSYSYNC_SMTP_FROM: "busysync <robot@busysync.test>",
  });
  try {
    let ruleId = "";

    await t.step("a held rule is posted and e-mailed once", async () => {
      ruleId = await holdARule(w);
      assert.deepEqual(hook.received.map((r) => r.kind), ["rule_held"]);
      const [posted] = hook.received;
      assert.equal(posted.url, `${PUBLIC_URL}/rules/${ruleId}`);
      assert.equal(posted.to, "ann@example.com");
      assert.match(posted.title, /“Held” is waiting for you/);
      assert.match(posted.text, /busy blocks/);
      assert.equal(smtp.mails.length, 1);
      assert.deepEqual(smtp.mails[0].to, ["ann@example.com"]);
      assert.match(smtp.mails[0].data, /From: busysync <robot@busysync\.test>/);
      assert.match(smtp.mails[0].data, /^Subject: .*busysync/m);
      assert.ok(smtp.mails[0].data.includes(`${PUBLIC_URL}/rules/${ruleId}`));
    });

    await t.step("more runs while it stays held send nothing more; the banner stays", async () => {
      await syncNow(w);
      await syncNow(w);
      assert.equal(hook.received.length, 1);
      assert.equal(smtp.mails.length, 1);
      const { incidents } = await (await w.ann.request("/api/status")).json();
      assert.deepEqual(incidents.map((i: { id: string }) => i.id), [`rule_held:${ruleId}`]);
    });

    await t.step(
      "once confirmed it is over; held again, it is a new incident, sent again",
      async () => {
        const res = await w.ann.request(`/api/rules/${ruleId}/confirm?wait=true`, {
          method: "POST",
          json: {},
        });
        assert.equal(res.status, 200);
        const { incidents } = await (await w.ann.request("/api/status")).json();
        assert.deepEqual(incidents, []);
        const ids = [];
        for (const hour of [40, 42, 44]) {
          ids.push(await addEvent(w.h, w.cal.main.calendarId, "Again", hour));
        }
        await syncNow(w);
        for (const id of ids) await deleteEvent(w.h, w.cal.main.calendarId, id);
        await syncNow(w);
        assert.deepEqual(hook.received.map((r) => r.kind), ["rule_held", "rule_held"]);
        assert.equal(smtp.mails.length, 2);
      },
    );

    await t.step("a failed post is tried again after the next run, then not again", async () => {
      const [connection] = await w.ann.connections();
      await markNeedsReconnect(
        w.h.kv,
        w.annId,
        connection.id,
        "Google refused the token.",
        new Date(),
      );
      hook.state.failures = 1;
      await syncNow(w);
      assert.equal(hook.received.length, 2, "the receiver was down");
      assert.equal(smtp.mails.length, 3, "e-mail does not wait for the webhook");
      await syncNow(w);
      await syncNow(w);
      assert.deepEqual(hook.received.map((r) => r.kind).slice(2), ["connection_needs_reconnect"]);
      assert.equal(hook.received[2].url, `${PUBLIC_URL}/connections`);
      assert.equal(smtp.mails.length, 3);
    });
  } finally {
    await w.h.close();
    await hook.server.shutdown();
    await smtp.close();
  }
});
