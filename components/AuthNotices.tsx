import { Notice } from "./Notice.tsx";

/** The page a verified person sees when the allow-list does not admit them. */
export function SignInRefused({ email }: { email: string }) {
  return (
    <Notice
      title="This busysync is private"
      tone="problem"
      action={{ href: "/signin", label: "Use another Google account" }}
    >
      <p>
        <strong>{email}</strong>{" "}
        is not on this instance's list of people who may sign in. If you think it should be, ask the
        person who runs this busysync to add you.
      </p>
    </Notice>
  );
}

/** The page for an OAuth callback that could not complete, with a way onwards. */
export function FlowProblem(
  { title, message, signedIn }: { title: string; message: string; signedIn: boolean },
) {
  return (
    <Notice
      title={title}
      tone="problem"
      action={signedIn
        ? { href: "/connections", label: "Back to your connections" }
        : { href: "/signin", label: "Sign in again" }}
    >
      <p>{message}</p>
    </Notice>
  );
}

/**
 * The page for signing in with a Google account that never signed in to busysync but is
 * connected (as calendars) to other busysync accounts: no new, empty account is opened for it.
 */
export function ConnectionHeld({ email, holders }: { email: string; holders: string[] }) {
  const list = holders.join(", ");
  return (
    <Notice
      title="This Google account is connected to another busysync account"
      tone="problem"
      action={{ href: "/api/auth/login?next=%2F", label: "Sign in with another Google account" }}
    >
      <p>
        <strong>{email}</strong> is connected to the busysync account of{" "}
        <strong data-testid="holder">{list}</strong>, so busysync did not open a new, empty account
        for it. To use these calendars, sign in with the Google account{" "}
        {holders.length > 1 ? "of one of those" : "of that"} busysync account ({list}).
      </p>
      <p>
        If that busysync account is not yours, its owner can disconnect {email}{" "}
        on their connections page; then you can sign in with it here. Adding another Google account
        to sign in with is not offered yet: busysync has no settings page for it so far.
      </p>
    </Notice>
  );
}
