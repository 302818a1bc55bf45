import type { ComponentChildren } from "preact";

export interface NoticeProps {
  title: string;
  /** "problem" for something that went wrong, "info" otherwise. */
  tone: "problem" | "info";
  children: ComponentChildren;
  /** Where the person can go from here. */
  action?: { href: string; label: string };
}

/** A page-sized message: a refused sign-in, an expired link, a cancelled consent. */
export function Notice({ title, tone, children, action }: NoticeProps) {
  return (
    <section class={`notice notice-${tone}`} aria-labelledby="notice-title">
      <h1 id="notice-title">{title}</h1>
      <div class="notice-body">{children}</div>
      {action && <a class="button" href={action.href}>{action.label}</a>}
    </section>
  );
}
