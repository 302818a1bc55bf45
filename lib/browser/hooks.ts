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

/**
 * Seconds left until a rate-limited action may be tried again, counting down once a second
 * from what `start` was given (a 429's Retry-After); 0 when nothing is waited for.
 */
export function useRetryCountdown(): { secondsLeft: number; start: (seconds: number) => void } {
  const [until, setUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const secondsLeft = Math.max(0, Math.ceil((until - now) / 1000));
  useEffect(() => {
    if (secondsLeft === 0) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [secondsLeft === 0]);
  return {
    secondsLeft,
    start: (seconds) => {
      const at = Date.now();
      setNow(at);
      setUntil(at + seconds * 1000);
    },
  };
}
