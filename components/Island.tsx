import { createContext, type FunctionComponent } from "preact";
import { useContext } from "preact/hooks";

/** Collects the names of the islands a render used, so the page ships only their bundles. */
export const IslandCollector = createContext<Set<string> | null>(null);

interface IslandProps<P extends object> {
  /** The island's file name in islands/ without `.tsx`; the bundle is looked up by it. */
  name: string;
  component: FunctionComponent<P>;
  /** Serialisable props only: they travel to the browser as JSON. */
  props: NoInfer<P>;
}

/**
 * Server-renders an island inside a marker the boot script finds and hydrates with the same
 * props. `display: contents` (a class, since the CSP forbids inline styles) keeps the marker
 * out of the layout.
 */
export function Island<P extends object>({ name, component: Component, props }: IslandProps<P>) {
  useContext(IslandCollector)?.add(name);
  return (
    <div class="island" data-island={name} data-props={JSON.stringify(props)}>
      <Component {...props} />
    </div>
  );
}
