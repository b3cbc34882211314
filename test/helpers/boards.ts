// Virtual boards on real loopback sockets, and small raw-socket peers to talk to them.
//
// PICOWIRE_TEST_HOST selects the host that runs the boards (the core is the same build/picowire.wasm):
//   node (default)  the Node host, tools/host/board.ts, in this process;
//   posix           the C host, build/native-posix/picowire-posix (wasm2c engine), one process per board;
//   posix-wasm3     the same C host with the wasm3 engine (picowire-posix-wasm3);
//   emu             build/picowire.uf2 in rp2040js with the radio model, one per board (emu-board.ts).
// `npm run test:posix` / `test:posix-wasm3` build the binary and run the protocol suites with it. Tests
// that need the Node host itself (board.post, core.exports, FakeHost) are marked with nodeOnly below.
import net from "node:net";
import { describe, it } from "vitest";
import { Board, type BoardOptions, type LogLevel } from "../../tools/host/board.ts";
import { coreModule, coreSha256 } from "./core.ts";
import { PosixBoard, type NativeHost } from "./posix-board.ts";
import { EmuBoard, EMU_ROUTER } from "./emu-board.ts";
import { testClock } from "./wait.ts";

const HOSTS = ["node", "posix", "posix-wasm3", "emu"] as const;
export type TestHost = (typeof HOSTS)[number];
export const TEST_HOST: TestHost = (() => {
  const v = process.env.PICOWIRE_TEST_HOST || "node";
  if (!(HOSTS as readonly string[]).includes(v)) throw new Error(`PICOWIRE_TEST_HOST=${v}: expected one of ${HOSTS.join(", ")}`);
  return v as TestHost;
})();

const warned = new Set<string>();
function warnSkipped(what: string, reason: string, where = "runs on the Node host only"): void {
  const key = `${what}\0${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(
    `\n${"!".repeat(100)}\n!!! SKIPPED on PICOWIRE_TEST_HOST=${TEST_HOST}: ${what}\n!!! ${where}: ${reason}\n` +
      `!!! (it still runs in plain \`npm test\`)\n${"!".repeat(100)}\n`,
  );
}

function skipper(skip: boolean, reason: string, where?: string) {
  return {
    it: ((name: string, ...rest: unknown[]) => {
      if (skip) warnSkipped(`it("${name}")`, reason, where);
      return (it.skipIf(skip) as (...a: unknown[]) => void)(name, ...rest);
    }) as typeof it,
    describe: ((name: string, ...rest: unknown[]) => {
      if (skip) warnSkipped(`describe("${name}")`, reason, where);
      return (describe.skipIf(skip) as (...a: unknown[]) => void)(name, ...rest);
    }) as typeof describe,
  };
}

/** Tests that need the Node host itself: they run as usual on it and are skipped, loudly, under
 *  PICOWIRE_TEST_HOST=posix* and emu. `reason` says what of the Node host they use. */
export function nodeOnly(reason: string) {
  return skipper(TEST_HOST !== "node", reason);
}

/** Tests that cannot run on the emulated firmware (PICOWIRE_TEST_HOST=emu): skipped there, loudly, with
 *  the reason (what of the firmware or of the emulator differs); they run on every other host. */
export function notOnEmu(reason: string) {
  return skipper(TEST_HOST === "emu", reason, "does not run on the emulated firmware");
}

export { freePort } from "../../tools/host/ports.ts";
export { waitFor, testClock } from "./wait.ts";

export interface TestBoard extends Board {
  lines: { level: LogLevel; text: string }[];
}

const running: (Board | PosixBoard | EmuBoard)[] = [];

/** Under PICOWIRE_TEST_HOST=emu every bound a suite sets (waitFor, exchange's ms and its measured ms)
 *  counts the emulated boards' time: it advances as the slowest running board's clock does (rp2040js
 *  runs ~1/10 of a Pico, slower on a loaded machine), and as wall time while no board runs. So a bound
 *  means what it means on a Pico, and a slow machine makes a test slower, never failing. */
if (TEST_HOST === "emu") {
  let value = Date.now();
  let lastWall = Date.now();
  const seen = new Map<EmuBoard, number>();
  testClock.now = () => {
    const live = running.filter((b): b is EmuBoard => b instanceof EmuBoard && b.live);
    const wall = Date.now();
    let delta = wall - lastWall;
    const deltas = live.filter((b) => seen.has(b)).map((b) => b.boardMs - seen.get(b)!);
    if (live.length) delta = deltas.length ? Math.min(...deltas) : 0;
    seen.clear();
    for (const b of live) seen.set(b, b.boardMs);
    lastWall = wall;
    value += Math.max(0, delta);
    return value;
  };
}

/** A started virtual board on the host PICOWIRE_TEST_HOST selects. On the C host (a PosixBoard behind the
 *  TestBoard type) only lines, host, name, traps, core.stat/checkCanary, hw.pins/adc/duties/drive,
 *  pinSafe and stop() exist; anything else of the Node Board is undefined there. */
export async function startBoard(config: string, opts: Partial<BoardOptions> = {}): Promise<TestBoard> {
  if (TEST_HOST === "emu") return startEmu(config, opts);
  if (TEST_HOST !== "node") return startNative(TEST_HOST, config, opts);
  const lines: { level: LogLevel; text: string }[] = [];
  const board = new Board({
    wasm: coreModule,
    coreSha256,
    config,
    log: (level, text) => lines.push({ level, text }),
    ...opts,
  }) as TestBoard;
  board.lines = lines;
  running.push(board);
  await board.start();
  return board;
}

async function startEmu(config: string, opts: Partial<BoardOptions>): Promise<TestBoard> {
  const unsupported = Object.keys(opts).filter((k) => k !== "host" && k !== "name" && (opts as Record<string, unknown>)[k] !== undefined);
  if (unsupported.length) throw new Error(`PICOWIRE_TEST_HOST=emu: startBoard option(s) ${unsupported.join(", ")} exist on the Node host only; mark the test nodeOnly`);
  const board = new EmuBoard(config, { host: opts.host, name: opts.name });
  await board.start();
  running.push(board);
  return board as unknown as TestBoard;
}

async function startNative(host: NativeHost, config: string, opts: Partial<BoardOptions>): Promise<TestBoard> {
  const unsupported = Object.keys(opts).filter((k) => k !== "host" && k !== "name" && (opts as Record<string, unknown>)[k] !== undefined);
  if (unsupported.length) {
    throw new Error(`PICOWIRE_TEST_HOST=${host}: startBoard option(s) ${unsupported.join(", ")} exist on the Node host only; mark the test nodeOnly`);
  }
  const board = new PosixBoard(host, config, { host: opts.host, name: opts.name });
  running.push(board);
  await board.start();
  return board as unknown as TestBoard;
}

/** The board's own IPv4 address (get_resource_info's ip): its loopback host, or on emu its DHCP lease. */
export function boardAddress(board: TestBoard): string {
  return board instanceof EmuBoard ? board.address : board.host;
}

/** Where a board reaches a server the test runs on `loopback`: that address, or on emu the router of the
 *  board's network, whose relay forwards to it (emu-board.ts). What a server sees as its Host header. */
export function serverAddressForBoard(loopback: string): string {
  return TEST_HOST === "emu" ? EMU_ROUTER : loopback;
}

/** The address a board sees for a peer the test runs on `loopback`: that address, or on emu the one the
 *  relay gives it in the board's network (ns-relay.py: 127.0.0.N for N in 2..99 comes from NET.N, any
 *  other from the router). What the board's log lines and per-address shares name. */
export function peerAddressOnBoard(loopback: string): string {
  if (TEST_HOST !== "emu") return loopback;
  const n = Number(/^127\.0\.0\.(\d+)$/.exec(loopback)?.[1]);
  return n >= 2 && n <= 99 ? `${EMU_ROUTER.split(".").slice(0, 3).join(".")}.${n}` : EMU_ROUTER;
}

/** How many times longer a test's own wall-clock cap (vitest's timeout argument) is under
 *  PICOWIRE_TEST_HOST=emu: rp2040js runs a board at ~1/10 of a Pico (slower on a loaded machine), and a
 *  cap only stops a hung test; what a test asserts is bounded in board time (testClock). The one place
 *  that scales wall time; `npm run test:emu` passes the same factor for the default caps. */
export const EMU_WALL_SCALE = 20;
export function wallCap(ms: number): number {
  return TEST_HOST === "emu" ? ms * EMU_WALL_SCALE : ms;
}

/** Waits `ms` on the test clock (board time under emu). */
export async function sleep(ms: number): Promise<void> {
  const end = testClock.now() + ms;
  while (testClock.now() < end) await new Promise((r) => setTimeout(r, Math.min(5, ms)));
}

export async function stopBoards(): Promise<void> {
  const errors: unknown[] = [];
  for (const b of running.splice(0)) {
    try {
      b.core?.checkCanary();
    } catch (e) {
      errors.push(e);
    }
    try {
      await b.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
}

export interface Exchange {
  reply: string;
  /** "fin" when the server closed gracefully, "reset" on RST, "open" if still open at the deadline. */
  end: "fin" | "reset" | "open";
  ms: number;
}

/** Connects, sends `parts` (with `gapMs` between them), and collects the reply until close or `ms`. */
export function exchange(port: number, parts: (string | Uint8Array)[], opts: { host?: string; gapMs?: number; ms?: number; fin?: boolean } = {}): Promise<Exchange> {
  const start = testClock.now();
  return new Promise((resolve) => {
    const s = net.connect({ port, host: opts.host ?? "127.0.0.1", allowHalfOpen: true });
    let reply = "";
    let done = false;
    const finish = (end: Exchange["end"]) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      s.destroy();
      resolve({ reply, end, ms: testClock.now() - start });
    };
    const limit = opts.ms ?? 3000;
    const timer = setInterval(() => testClock.now() - start >= limit && finish("open"), 5);
    s.on("data", (d) => (reply += d.toString("latin1")));
    s.on("end", () => finish("fin"));
    s.on("error", () => finish("reset"));
    s.on("close", () => finish("fin"));
    s.on("connect", async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (opts.gapMs) await sleep(opts.gapMs);
      }
      if (opts.fin) s.end();
    });
  });
}
