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
