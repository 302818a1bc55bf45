import type { ComponentChildren } from "preact";

/**
 * A box for a drawing wider than a phone (the rule graph, the week): it scrolls sideways by
 * itself, so the page never does, and while the box is narrower than the drawing a fade at its
 * right edge and `hint` below it say there is more to see. Whether it is narrower is a container
 * query on the drawing's minimum width (static/styles.css), since the server cannot know the
 * screen; the fade clears as the box is scrolled to its end.
 */
export function SideScroll(
  { kind, hint, focusLabel, children }: {
    /** Which drawing: each has its own minimum width, so its own threshold. */
    kind: "week" | "graph";
    hint: string;
    /**
     * Names the box and lets it take the keyboard's focus, so arrow keys scroll it: for a
     * drawing with nothing else to focus (the graph's links scroll it into view themselves).
     */
    focusLabel?: string;
    children: ComponentChildren;
  },
) {
  return (
    <div class={`side-scroll side-scroll-${kind}`}>
      <div class="side-scroll-frame">
        <div
          class="side-scroll-box"
          {...(focusLabel ? { tabIndex: 0, role: "region", "aria-label": focusLabel } : {})}
        >
          {children}
        </div>
      </div>
      <p class="scroll-hint" data-testid="scroll-hint">{hint} →</p>
    </div>
  );
}
