// Bounded waits on a state, for tests: no fixed sleeps (a loaded CI machine makes any fixed sleep either
// too short or wasted). Kept free of the core so that tests of the host's parts alone can use it.

/** The clock bounds are measured on: wall time, or the emulated boards' own time under
 *  PICOWIRE_TEST_HOST=emu (boards.ts sets it), so that a slow emulator makes a wait longer, never short. */
export const testClock = { now: (): number => Date.now() };

/** Polls `cond` (sync or async) every `everyMs` until true or `ms` elapse (then throws with `what`). An
 *  async `cond` that asks a board over the network deserves a longer `everyMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 5000, everyMs = 5): Promise<void> {
  const end = testClock.now() + ms;
  while (!(await cond())) {
    if (testClock.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
