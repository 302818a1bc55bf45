import ActionButton from "../islands/ActionButton.tsx";
import type { Incident } from "../lib/notify/incidents.ts";
import { Island } from "./Island.tsx";

/**
 * The notification banners: one per open incident, each with the way to fix it (a write pause
 * has none: it ends by itself). Reconnecting
 * is a plain form (it works without JavaScript); letting a held rule go ahead asks first.
 */
export function Banners({ incidents, here }: { incidents: Incident[]; here: string }) {
  if (incidents.length === 0) return null;
  return (
    <section class="banners" aria-label="Needs your attention">
      {incidents.map((incident) => (
        <div
          class={`banner banner-${incident.severity}`}
          key={incident.id}
          data-banner={incident.kind}
        >
          <span class="banner-icon" aria-hidden="true">
            {incident.severity === "bad" ? "!" : "?"}
          </span>
          <div class="banner-text">
            <strong>{incident.title}</strong>
            <p>{incident.message}</p>
          </div>
          <div class="banner-action">
            <BannerAction incident={incident} here={here} />
          </div>
        </div>
      ))}
    </section>
  );
}

function BannerAction({ incident, here }: { incident: Incident; here: string }) {
  // A write pause ends by itself: there is nothing to do, only something to know.
  if (incident.kind === "account_write_paused") return null;
  if (incident.kind === "connection_needs_reconnect") {
    return (
      <form method="post" action={`/api/user/connections/${incident.connectionId}/reconnect`}>
        <input type="hidden" name="next" value={here} />
        <button type="submit" class="button">Reconnect</button>
      </form>
    );
  }
  if (incident.kind === "rule_broken" || incident.kind === "rule_failing") {
    return here === incident.actionPath
      ? null
      : <a class="button" href={incident.actionPath}>Open the rule</a>;
  }
  return (
    <Island
      name="ActionButton"
      component={ActionButton}
      props={{
        label: "Review",
        question: {
          title: "Let the rule remove these busy blocks?",
          message: "busysync stopped this rule because the sync would remove more busy blocks " +
            "than usual at once, which often means a source calendar was emptied or disconnected " +
            "by mistake. If the events really are gone, let it go ahead; otherwise turn the rule " +
            "off and check the source calendar.",
        },
        choices: [{
          label: "Go ahead and remove them",
          method: "POST",
          url: `/api/rules/${incident.ruleId}/confirm`,
          danger: true,
        }],
        done: here,
      }}
    />
  );
}
