import { useEffect, useState } from "preact/hooks";

/**
 * False while the page is server-rendered HTML, true once the island runs. Buttons that only
 * work with JavaScript render disabled until then, so a page without scripts never offers a
 * control that does nothing. Hydration leaves attributes as the server wrote them; the render
 * this state change causes is what enables them.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return hydrated;
}
