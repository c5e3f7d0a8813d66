/** Polls until `check` returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // A poll interval, not a wait for something: the loop ends on the condition.
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}
