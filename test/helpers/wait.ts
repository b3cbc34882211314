// Bounded waits on a state, for tests: no fixed sleeps (a loaded CI machine makes any fixed sleep either
// too short or wasted). Kept free of the core so that tests of the host's parts alone can use it.

/** Polls `cond` (sync or async) every 5 ms until true or `ms` elapse (then throws with `what`). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
