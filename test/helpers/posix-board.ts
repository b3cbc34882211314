// A virtual board run by the native C host (native/posix, build/native-posix/picowire-posix[-wasm3]) as a
// separate process, with the surface the protocol suites use on a Node Board: log lines, stats, the
// simulated pins and ADC, the pin_safe levels, traps, stop(). Selected by PICOWIRE_TEST_HOST=posix or
// posix-wasm3 (see startBoard in boards.ts).
//
// The process prints "[status] {json}" (--status-ms) whenever its state changes: after every service
// round (the core's stat() values), when a simulated pin changes and before any bytes go to a peer. The
// latest one is cached here, so core.stat() and hw.pins stay synchronous as the suites expect; each line
// is acknowledged ("ack" on stdin, --status-ack) and the process waits for that before it goes on, so a
// reply a test receives never overtakes the state change before it (pipes and sockets are not ordered
// with each other on this side). Inputs go
// the other way as stdin commands (--commands): "adc CH VALUE", "drive PIN LEVEL"; the process applies
// them before any socket event of the same round, so a command written before a request is seen first.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { C } from "../../tools/host/abi.generated.ts";
import type { LogLevel } from "../../tools/host/board.ts";
import type { PinState } from "../../tools/host/hardware.ts";
import { coreSha256 } from "./core.ts";

export type NativeHost = "posix" | "posix-wasm3";

// PICOWIRE_POSIX_BUILD: another build directory, e.g. build/native-posix-asan (PW_SANITIZE=1 tools/native/build-posix.sh)
const BUILD_DIR = process.env.PICOWIRE_POSIX_BUILD || join(ROOT, "build", "native-posix");
const BINARIES: Record<NativeHost, string> = {
  posix: join(BUILD_DIR, "picowire-posix"),
  "posix-wasm3": join(BUILD_DIR, "picowire-posix-wasm3"),
};
const BUILD: Record<NativeHost, string> = {
  posix: "tools/native/build-posix.sh",
  "posix-wasm3": "WASM3_PATH=/path/to/wasm3 tools/native/build-posix.sh --engine wasm3",
};

interface Status {
  running: boolean;
  traps: number;
  reset_reason: number;
  stat: Record<string, number>;
  pins: Record<string, { mode: PinState["mode"]; pull: number; level: number; watch: number; pwm: [number, number] | null }>;
  safe: Record<string, number>;
  adc: number[];
}

const checked = new Set<NativeHost>();
let configDir = "";
let configCount = 0;

/** The configuration text in a file, handed over byte for byte (--config), as the Node host hands it to init. */
function configFile(text: string): string {
  if (!configDir) {
    const dir = (configDir = mkdtempSync(join(tmpdir(), "picowire-posix-board-")));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  const file = join(configDir, `board-${++configCount}.conf`);
  writeFileSync(file, text);
  return file;
}

/** The binary for `host`, checked once per worker: present, and built from the build/picowire.wasm the tests load. */
export function nativeBinary(host: NativeHost): string {
  const bin = BINARIES[host];
  if (checked.has(host)) return bin;
  if (!existsSync(bin)) {
    throw new Error(`PICOWIRE_TEST_HOST=${host}: ${bin} does not exist; build it first: ${BUILD[host]} (npm run test:${host} does)`);
  }
  const v = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 10_000 });
  const sha = /core sha256 ([0-9a-f]{64})/.exec(v.stdout ?? "")?.[1];
  if (sha !== coreSha256) {
    throw new Error(
      `PICOWIRE_TEST_HOST=${host}: ${bin} runs core ${sha ?? "(unknown: " + (v.stdout || v.stderr || v.error) + ")"}, ` +
        `but build/picowire.wasm is ${coreSha256}: the binary is stale; rebuild it: ${BUILD[host]}`,
    );
  }
  checked.add(host);
  return bin;
}

const TRAP_LINE = /^host: core trapped in /;
const CANARY_LINE = /^host: core wrote at offset \d+, above its/;

/** The simulated pins and ADC a suite reads and drives, on a board of any non-Node host. */
export interface SimulatedHardware {
  pins: Map<number, PinState>;
  adc: number[];
  duties: (pins: number[]) => number[];
  drive: (pin: number, level: number) => void;
}
export interface CoreProbe {
  stat: (kind: number) => number;
  checkCanary: () => void;
}

/** hw.adc: channels 0..4, whole values 0..4095 (else an error naming `who`); each set goes to `apply`. */
export function checkedAdc(values: number[], who: string, apply: (ch: number, value: number) => void): number[] {
  return new Proxy(values, {
    set(target, prop, value) {
      const ch = typeof prop === "string" && /^\d+$/.test(prop) ? Number(prop) : -1;
      if (ch < 0 || ch > 4 || !Number.isInteger(value) || value < 0 || value > 4095) {
        throw new Error(`hw.adc[${String(prop)}] = ${value}: ${who} takes channels 0..4, whole values 0..4095`);
      }
      target[ch] = value;
      apply(ch, value);
      return true;
    },
  });
}

export interface PosixBoardOptions {
  host?: string;
  name?: string;
}

export class PosixBoard {
  readonly lines: { level: LogLevel; text: string }[] = [];
  readonly host: string;
  readonly name: string;
  readonly pinSafe = new Map<number, number>();
  readonly child: ChildProcess;
  readonly hw: SimulatedHardware;
  readonly core: CoreProbe;
  /** Every line the process printed, status lines included, for error messages. */
  readonly output: string[] = [];
  private status: Status | null = null;
  private partial = "";
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private running = true;
  private readonly adcValues: number[] = [0, 0, 0, 0, 0];
  private readyResolve: (() => void) | null = null;

  constructor(readonly engine: NativeHost, private readonly config: string, opts: PosixBoardOptions = {}) {
    this.host = opts.host ?? "127.0.0.1";
    if (!/^127\./.test(this.host)) throw new Error(`virtual boards use loopback addresses only, not ${this.host}`);
    this.name = opts.name ?? this.host;
    const args = ["--host", this.host, "--log-level", "debug", "--status-ms", "0", "--commands", "--status-ack", "--config", configFile(config)];
    this.child = spawn(nativeBinary(engine), args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdin!.on("error", () => {}); // EPIPE after the process exited: stop() reports the exit
    const take = (chunk: Buffer) => {
      this.partial += chunk.toString("utf8");
      const parts = this.partial.split("\n");
      this.partial = parts.pop()!;
      for (const l of parts) this.line(l);
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", (d: Buffer) => d.toString("utf8").split("\n").filter(Boolean).forEach((l) => this.output.push(`stderr: ${l}`)));
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        this.running = false;
        resolve({ code, signal });
      }),
    );
    const adcValues = this.adcValues;
    const send = (cmd: string) => this.command(cmd);
    const adc = checkedAdc(adcValues, "the native host", (ch, value) => send(`adc ${ch} ${value}`));
    const pins = new Map<number, PinState>();
    this.hw = {
      pins,
      adc,
      duties: (list) => list.map((n) => pins.get(n)?.pwm?.duty ?? 0),
      drive: (pin, level) => {
        const valid = pin === C.PIN_LED || (Number.isInteger(pin) && pin >= 0 && pin < C.PIN_COUNT && ![23, 24, 25, 29].includes(pin));
        if (!valid) throw new Error(`pin ${pin} does not exist or belongs to the radio`);
        // the level shows at once, as on the Node host; the process confirms it in its next status line
        const p = pins.get(pin) ?? { mode: "unset" as const, pull: C.PULL_NONE, level: 0, watch: 0 };
        p.level = level ? 1 : 0;
        pins.set(pin, p);
        send(`drive ${pin} ${level ? 1 : 0}`);
      },
    };
    this.core = {
      stat: (kind) => {
        const v = this.status?.stat[String(kind)];
        if (v === undefined) throw new Error(`${this.name}: the native host reported no stat ${kind} (status: ${JSON.stringify(this.status)})`);
        return v;
      },
      checkCanary: () => {
        const hit = this.lines.find((l) => CANARY_LINE.test(l.text));
        if (hit) throw new Error(`${this.name}: ${hit.text}`);
      },
    };
  }

  /** Lines of core traps the host logged (the Node host counts the RuntimeErrors it caught). */
  get traps(): number {
    return this.lines.filter((l) => TRAP_LINE.test(l.text)).length;
  }

  /** The host's reset reason for the running core (RESET_*). */
  get resetReason(): number {
    return this.status?.reset_reason ?? C.RESET_POWER_ON;
  }

  private line(l: string): void {
    this.output.push(l);
    const m = /^\[(error|warn|info|debug|status)\] (.*)$/.exec(l);
    if (!m) {
      this.lines.push({ level: "info", text: l }); // nothing the host prints is expected here: keep it visible
      return;
    }
    if (m[1] !== "status") {
      this.lines.push({ level: m[1] as LogLevel, text: m[2] });
      return;
    }
    const s = JSON.parse(m[2]) as Status;
    this.status = s;
    const pins = this.hw.pins;
    pins.clear();
    for (const [n, p] of Object.entries(s.pins)) {
      const state: PinState = { mode: p.mode, pull: p.pull, level: p.level, watch: p.watch };
      if (p.pwm) state.pwm = { freqHz: p.pwm[0], duty: p.pwm[1] };
      pins.set(Number(n), state);
    }
    this.pinSafe.clear();
    for (const [n, v] of Object.entries(s.safe)) this.pinSafe.set(Number(n), v);
    if (this.readyResolve) s.adc.forEach((v, i) => (this.adcValues[i] = v)); // later: what the test set is what it reads
    // the process waits for this before it goes on: whatever a peer sees next, this state was taken in first
    if (this.running) this.child.stdin!.write("ack\n");
    this.readyResolve?.();
  }

  private command(cmd: string): void {
    if (!this.running) throw new Error(`${this.name}: the native host has exited; cannot send "${cmd}"\n${this.output.join("\n")}`);
    this.child.stdin!.write(cmd + "\n");
  }

  /** Resolves at the first status line (the core runs and its listeners are bound). */
  async start(timeoutMs = 10_000): Promise<void> {
    const ready = new Promise<void>((r) => (this.readyResolve = r));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => "ready" as const),
      this.exited.then(() => "exited" as const),
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.readyResolve = null;
    if (outcome === "ready") return;
    this.stopped = true; // its failure is reported here, not again by stop()
    if (outcome === "timeout") {
      this.child.kill("SIGKILL");
    }
    const exit = await this.exited;
    // as the Node host: the core's own reason (its first error line), at the end of the message
    const reason = this.lines.find((l) => l.level === "error" && !/^(host|posix): /.test(l.text))?.text ?? this.lines.find((l) => l.level === "error")?.text;
    throw new Error(
      `${this.name}: core refused to start (native host ${outcome === "timeout" ? "printed no status within " + timeoutMs + " ms" : `exited with ${exit.code ?? exit.signal}`}): ${reason ?? "no reason logged"}` +
        (reason ? "" : `\n${this.output.join("\n")}`),
    );
  }

  /** SIGTERM, then SIGKILL after `ms`. Throws when the process had died by itself, or did not exit
   *  cleanly (status 0) on SIGTERM: a crash of the C host must not pass unnoticed. */
  async stop(ms = 3000): Promise<void> {
    const diedEarlier = !this.running;
    if (this.running) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
      await this.exited;
      clearTimeout(timer);
    }
    const exit = await this.exited;
    if (this.stopped) return;
    this.stopped = true;
    if (diedEarlier || exit.code !== 0) {
      throw new Error(
        `${this.name}: the native host ${diedEarlier ? "had exited by itself" : "did not stop cleanly"} (exit ${exit.code ?? exit.signal}); its last lines:\n` +
          this.output.slice(-30).join("\n"),
      );
    }
    // the host logs to stdout; stderr is for usage errors and sanitizer reports (UBSan goes on after one)
    const stderr = this.output.filter((l) => l.startsWith("stderr: "));
    if (stderr.length) throw new Error(`${this.name}: the native host wrote to stderr:\n${stderr.slice(0, 40).join("\n")}`);
  }
  private stopped = false;

  /** Exit status of a stopped board: 0 after a clean stop. */
  async exitStatus(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}
