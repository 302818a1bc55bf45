/** The body of a page for a record that is not there (a rule, a group, a run): what, why, and back. */
export function NotFoundNotice(
  { heading, why, back }: { heading: string; why: string; back: { href: string; label: string } },
) {
  return (
    <section class="notice" aria-labelledby="notice-title">
      <h1 id="notice-title">{heading}</h1>
      <p>{why}</p>
      <a class="button" href={back.href}>{back.label}</a>
    </section>
  );
}
