/**
 * Waiting for background work (a sync job, a push channel, a mirror in the emulator) without
 * sleeping a guessed time: poll until it shows, with a deadline so a hang fails the test.
 */

/**
 * Polls `probe` every `everyMs` until it returns a value other than undefined or false, and
 * returns that value; throws "timed out waiting for <what>" once `ms` have passed.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
