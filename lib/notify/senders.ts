/**
 * Where incidents go besides the dashboard: an outgoing webhook (one JSON POST per incident,
 * readable by Slack-style receivers through `text` and by ntfy/Gotify-style ones through
 * `title` and `message`) and e-mail through SMTP with nodemailer (the maintained Node mail
 * library; it runs under Deno's Node compatibility). Each is optional, from the config.
 */
import nodemailer from "nodemailer";
import type { Config } from "../config.ts";
import type { Incident } from "./incidents.ts";

/** One incident for one person, with the absolute link where they act on it. */
export interface Notice {
  incident: Incident;
  to: { email: string; name: string };
  url: string;
}

export interface IncidentSender {
  /** Stored with what was sent; stable across releases. */
  name: "webhook" | "email";
  /** Sends, or throws when the receiver did not accept it. */
  send(notice: Notice): Promise<void>;
}

/** A receiver that has not answered by then is taken as down; the next sweep tries again. */
const SEND_TIMEOUT_MS = 10_000;

/** The senders the config turns on (none: only the dashboard banner). */
export function createIncidentSenders(config: Config): IncidentSender[] {
  const senders: IncidentSender[] = [];
  const { webhookUrl, smtpUrl, smtpFrom } = config.notify;
  if (webhookUrl) senders.push(webhookSender(webhookUrl));
  if (smtpUrl) {
    const from = smtpFrom ?? `busysync <busysync@${new URL(config.publicUrl).hostname}>`;
    senders.push(emailSender(smtpUrl, from));
  }
  return senders;
}

/** The webhook's JSON body. */
export function webhookPayload(notice: Notice) {
  const { incident } = notice;
  return {
    text: `busysync: ${incident.title}. ${incident.message} ${notice.url}`,
    title: `busysync: ${incident.title}`,
    message: `${incident.message} ${notice.url}`,
    event: "incident_opened",
    incident,
    user: { email: notice.to.email },
    url: notice.url,
  };
}

function webhookSender(url: string): IncidentSender {
  return {
    name: "webhook",
    async send(notice) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(webhookPayload(notice)),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the notification webhook answered ${res.status}`);
    },
  };
}

function emailSender(smtpUrl: string, from: string): IncidentSender {
  // Made once; it opens a connection per message, which suits a few e-mails a day.
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  return {
    name: "email",
    async send(notice) {
      const { incident } = notice;
      await transport.sendMail({
        from,
        to: notice.to.name ? `${notice.to.name} <${notice.to.email}>` : notice.to.email,
        subject: `busysync: ${incident.title}`,
        text: `${incident.message}\n\n${notice.url}\n\n` +
          "busysync sends this once per problem; the dashboard shows it until it is solved.\n",
      });
    },
  };
}
