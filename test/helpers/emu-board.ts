// A board for the protocol suites that is build/picowire.uf2 itself, booted in rp2040js with the CYW43439
// model (tools/emu/RADIO.md), selected by PICOWIRE_TEST_HOST=emu (startBoard in boards.ts).
//
// Each board gets its own radio world: a modelled WPA2 network whose wired side is a TAP in a network
// namespace made for it (tools/emu/radio-lan.ts, busybox udhcpd on 192.168.77.1). The suite's config
// text goes into a configuration UF2 with the network's ssid/password. The board boots flat out, joins,
// takes a lease, and from then on runs capped at wall time (board time, never faster than its peers).
//
// Reaching it: the suites talk to `board.host` (a loopback address) and their ports from this process.
// tools/emu/ns-relay.py listens there in the root namespace and connects each connection to the board's
// lease inside the namespace ("in"); a board that is a client (rgb_server=, ws_url=, mqtt= naming a
// 127.x address) gets the router address instead, where the relay listens inside the namespace and
// connects to the suite's server on loopback ("out"). The firmware's lwIP thus only ever sees the
// namespace; the root namespace only loopback.
//
// What the suites read: `lines` (the console the UART prints: "[level] text"), hw.pins / drive / adc /
// duties (the emulated GPIO, pads, PWM slices and ADC, read in place), core.stat (the engine's own stat
// export called by the emulated CPU, test/helpers/emu-call.ts). Pull-ups and pull-downs set in the pads
// decide an undriven input's level (rp2040js leaves them to the user).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { C } from "../../tools/host/abi.generated.ts";
import type { LogLevel } from "../../tools/host/board.ts";
import type { PinState } from "../../tools/host/hardware.ts";
import { FIRMWARE_UF2, ROOT } from "../../tools/build/firmware.ts";
import { configUf2 } from "../../tools/cli/config.ts";
import { RadioBoard } from "../../tools/emu/radio-board.ts";
import { RadioWorld } from "../../tools/emu/radio-world.ts";
import { RadioLan } from "../../tools/emu/radio-lan.ts";
import { watchStack, describeStack, type StackFigures } from "../../tools/emu/stack-watch.ts";
import { callable, callStat, firmwareLayout } from "./emu-call.ts";
import { checkedAdc, type CoreProbe, type SimulatedHardware } from "./posix-board.ts";
import { radioLanMissing } from "./radio.ts";

const MHZ = 125_000_000;
const SSID = "emu-lab";
/** The router address of every board's network (RadioLan's default); the relay's "out" side listens there. */
export const EMU_ROUTER = "192.168.77.1";
const PASSWORD = "emu-test-secret";
/** Boot to a lease: board time (flat out ~15-20 s of wall on an idle machine); the wall cap only stops a hung emulator. */
const BOOT_CYCLES = 40 * MHZ;
const BOOT_WALL_MS = 300_000;
/** Cycles per slice while peers talk: short, so that this process's sockets are served between slices. */
const SLICE = 100_000;
const RADIO_PINS = [23, 24, 25, 29];
const PWM_FUNC = 4;
const SIO_FUNC = 5;
const LOOPBACK_WITH_PORT = /\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}:(\d{1,5})\b/g;

let cfgDir = "";
function cfgFile(uf2: Uint8Array): string {
  if (!cfgDir) {
    const dir = (cfgDir = mkdtempSync(join(tmpdir(), "picowire-emu-board-")));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  const f = join(cfgDir, `cfg-${Date.now()}-${Math.random().toString(36).slice(2)}.uf2`);
  writeFileSync(f, uf2);
  return f;
}

/** The suite's config as the board gets it: the modelled network's credentials added, loopback
 *  servers it connects to moved to the router address (relayed "out"). */
export function boardConfig(config: string, router: string): { text: string; outbound: { host: string; port: number }[] } {
  const outbound: { host: string; port: number }[] = [];
  const lines = config.split("\n").filter((l) => l.trim() !== "");
  const text = lines
    .map((l) => {
      const eq = l.indexOf("=");
      const key = l.slice(0, eq);
      if (/_port$/.test(key)) return l;
      return l.replace(LOOPBACK_WITH_PORT, (m: string, port: string) => {
        outbound.push({ host: m.slice(0, m.lastIndexOf(":")), port: Number(port) });
        return `${router}:${port}`;
      });
    })
    .concat([`wifi_mode=sta`, `wifi_ssid=${SSID}`, `wifi_password=${PASSWORD}`])
    .join("\n");
  return { text: text + "\n", outbound };
}

/** Listening ports of a config that suites connect to (relayed "in"). */
function inboundPorts(config: string): number[] {
  const ports: number[] = [];
  for (const m of config.matchAll(/^(http_port|control_port)=(\d+)\s*$/gm)) if (Number(m[2]) > 0) ports.push(Number(m[2]));
  return ports;
}

let missingChecked: string | null | undefined;
/** What the emulated boards need and this machine lacks (checked once), or null. */
function emuMissing(): string | null {
  if (missingChecked !== undefined) return missingChecked;
  const why = radioLanMissing();
  const layout = firmwareLayout();
  if (typeof layout === "string") why.push(`the firmware's symbols for core.stat: ${layout}`);
  missingChecked = why.length ? why.join("; ") : null;
  return missingChecked;
}

class Relay {
  private proc: ChildProcess;
  private out = "";
  private waiters: ((line: string) => void)[] = [];
  stderr = "";
  constructor(ns: string) {
    this.proc = spawn("python3", [join(ROOT, "tools", "emu", "ns-relay.py"), ns], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stdin!.on("error", () => {});
    this.proc.stderr!.on("data", (d) => (this.stderr += d));
    this.proc.stdout!.on("data", (d) => {
      this.out += d;
      let i;
      while ((i = this.out.indexOf("\n")) >= 0) {
        const line = this.out.slice(0, i);
        this.out = this.out.slice(i + 1);
        if (line === "ns-relay: ready") continue;
        this.waiters.shift()?.(line);
      }
    });
  }
  command(cmd: string, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ns-relay: no answer to "${cmd}" within ${ms} ms; stderr: ${this.stderr}`)), ms);
      this.waiters.push((line) => {
        clearTimeout(timer);
        if (line.startsWith("ok ")) resolve();
        else reject(new Error(`ns-relay: ${line} (for "${cmd}")`));
      });
      this.proc.stdin!.write(cmd + "\n");
    });
  }
  close(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

export interface EmuBoardOptions {
  host?: string;
  name?: string;
}

export class EmuBoard {
  private readonly log: { level: LogLevel; text: string }[] = [];
  /** The console's lines up to the board's current instant. */
  get lines(): { level: LogLevel; text: string }[] {
    if (this.board) this.takeLines();
    return this.log;
  }
  readonly host: string;
  readonly name: string;
  readonly pinSafe = new Map<number, number>();
  readonly hw: SimulatedHardware;
  readonly core: CoreProbe;
  board!: RadioBoard;
  lan!: RadioLan;
  /** The board's address on its network (from udhcpd). */
  address = "";
  private relay: Relay | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private consumed = 0;
  private driven = new Map<number, boolean>();
  private statCache = new Map<number, number>();
  /** With PICOWIRE_EMU_STACK=1: how deep the big stack went (printed at stop; tools/emu/stack-watch.ts). */
  stack: StackFigures | null = null;

  constructor(private readonly config: string, opts: EmuBoardOptions = {}) {
    this.host = opts.host ?? "127.0.0.1";
    if (!/^127\./.test(this.host)) throw new Error(`emulated boards are reached on loopback addresses only, not ${this.host}`);
    this.name = opts.name ?? this.host;
    const self = this;
    const adcValues = [0, 0, 0, 0, 0];
    const adc = checkedAdc(adcValues, "the emulated ADC", (ch, value) => (self.board.mcu.adc.channelValues[ch] = value));
    // read live from the emulated GPIO on every get (the suites only get(); iteration sees nothing)
    const pins = new (class extends Map<number, PinState> {
      override get(pin: number): PinState | undefined {
        return self.pinState(pin);
      }
    })();
    this.hw = {
      pins,
      adc,
      duties: (list) => list.map((n) => this.pinState(n)?.pwm?.duty ?? 0),
      drive: (pin, level) => {
        if (!Number.isInteger(pin) || pin < 0 || pin >= C.PIN_COUNT || RADIO_PINS.includes(pin)) throw new Error(`pin ${pin} does not exist or belongs to the radio`);
        this.driven.set(pin, !!level);
        this.board.mcu.gpio[pin].setInputValue(!!level);
      },
    };
    this.core = {
      stat: (kind) => this.stat(kind),
      checkCanary: () => {
        const hit = this.lines.find((l) => /^host: core wrote at offset \d+, above its/.test(l.text));
        if (hit) throw new Error(`${this.name}: ${hit.text}`);
      },
    };
  }

  /** Lines of core traps the host logged. */
  get traps(): number {
    return this.lines.filter((l) => /^host: core trapped in /.test(l.text)).length;
  }

  async start(): Promise<void> {
    const missing = emuMissing();
    if (missing) throw new Error(`PICOWIRE_TEST_HOST=emu cannot run a board: ${missing}`);
    const world = new RadioWorld();
    const net = world.addNetwork({ ssid: SSID, password: PASSWORD, channel: 6, rssi: -40 });
    this.lan = await RadioLan.create(net, { address: `${EMU_ROUTER}/24` });
    try {
      const { text, outbound } = boardConfig(this.config, this.lan.address);
      const uf2 = cfgFile(configUf2(text)); // the core's own parser first: a bad config fails with its reason
      // the servers the board connects to are reachable before its first attempt
      this.relay = new Relay(this.lan.ns);
      for (const o of outbound) await this.relay.command(`out ${this.lan.address} ${o.port} ${o.host} ${o.port}`);
      this.board = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: uf2, air: world, name: this.name });
      this.modelPulls();
      const b = this.board;
      const layout = firmwareLayout();
      if (process.env.PICOWIRE_EMU_STACK === "1" && typeof layout !== "string") {
        this.stack = watchStack(b.mcu, layout.elf, () => b.mcu.core.readUint8(layout.host + layout.inCoreOffset) !== 0);
      }
      const joined = await b.runUntil(() => b.wlan.sta.joined !== null || this.refused(), { maxCycles: BOOT_CYCLES, wallMs: BOOT_WALL_MS });
      this.takeLines();
      if (!joined || this.refused()) throw new Error(`${this.name}: the emulated board did not join ${SSID}: ${b.stopped ?? this.refused() ?? "no join within 40 s of board time"}\n${b.output.slice(-3000)}`);
      b.realtime = true; // udhcpd and the suite's peers run on wall time
      b.noCatchUp = true; // a wall-time measure of a board's timeout never comes out short
      const leased = await b.runUntil(/wifi joined, address (\d+\.\d+\.\d+\.\d+)/, { maxCycles: BOOT_CYCLES, wallMs: BOOT_WALL_MS });
      this.takeLines();
      if (!leased) throw new Error(`${this.name}: no lease on ${SSID}: ${b.stopped ?? "none within 40 s of board time"}\n${this.lan.dhcpLog}\n${b.output.slice(-3000)}`);
      this.address = /wifi joined, address (\d+\.\d+\.\d+\.\d+)/.exec(b.output)![1];
      // only the ports the core listens on (it says so): another is refused on loopback, as on every host
      const listening = new Set([...b.output.matchAll(/listening on port (\d+)/g)].map((m) => Number(m[1])));
      for (const port of inboundPorts(this.config).filter((p) => listening.has(p))) await this.relay.command(`in ${this.host} ${port} ${this.address} ${port} ${this.lan.address.split(".").slice(0, 3).join(".")}`);
      this.running = this.run();
    } catch (e) {
      this.teardown();
      throw e;
    }
  }

  /** The core's reason when it refused its configuration (the firmware goes on without a core). */
  private refused(): string | null {
    return /\[error\] (host: .*refus.*|.*the core did not start.*)/.exec(this.board.output)?.[1] ?? null;
  }

  /** Running and not stopped: its clock counts for the tests' bounds (boards.ts). */
  get live(): boolean {
    return this.running !== null && !this.stopping && !this.board.stopped;
  }

  get boardMs(): number {
    return this.board.boardMs;
  }

  private async run(): Promise<void> {
    const b = this.board;
    while (!this.stopping && !b.stopped) {
      const ran = b.runSlice(SLICE);
      this.takeLines();
      await new Promise((r) => (ran === 0 ? setTimeout(r, 1) : setImmediate(r)));
    }
  }

  private takeLines(): void {
    const out = this.board.output;
    let i;
    while ((i = out.indexOf("\n", this.consumed)) >= 0) {
      const l = out.slice(this.consumed, i).replace(/\r$/, "");
      this.consumed = i + 1;
      const m = /^\[(error|warn|info|debug)\] (.*)$/.exec(l);
      if (m) this.log.push({ level: m[1] as LogLevel, text: m[2] });
      else if (l.trim()) this.log.push({ level: "info", text: l });
    }
  }

  private stat(kind: number): number {
    const layout = firmwareLayout();
    if (typeof layout === "string") throw new Error(`${this.name}: core.stat is unavailable on PICOWIRE_TEST_HOST=emu: ${layout}`);
    const core = this.board.mcu.core;
    // inside a core call the engine is busy: run the board on to the end of that call (bounded)
    for (let i = 0; i < 1000 && !callable(core, layout) && !this.board.stopped; i++) this.board.runSlice(2_000);
    if (!callable(core, layout)) {
      const last = this.statCache.get(kind);
      if (last === undefined) throw new Error(`${this.name}: the core stayed busy; no stat ${kind} yet`);
      return last;
    }
    const v = callStat(core, layout, kind);
    this.statCache.set(kind, v);
    return v;
  }

  /** An undriven input follows its pad's pull (rp2040js leaves that to the user). */
  private modelPulls(): void {
    const mcu = this.board.mcu;
    for (let n = 0; n < C.PIN_COUNT; n++) {
      if (RADIO_PINS.includes(n)) continue;
      const pin = mcu.gpio[n];
      let pad = pin.padValue;
      Object.defineProperty(pin, "padValue", {
        get: () => pad,
        set: (v: number) => {
          pad = v;
          if (!this.driven.has(n) && n !== 22) pin.setInputValue(!!(v & 8) && !(v & 4));
        },
        configurable: true,
      });
    }
  }

  private pinState(n: number): PinState | undefined {
    const mcu = this.board.mcu;
    if (n === C.PIN_LED) return { mode: "out", pull: C.PULL_NONE, level: this.board.wlan.gpioOut & 1, watch: 0 };
    if (!Number.isInteger(n) || n < 0 || n >= C.PIN_COUNT || RADIO_PINS.includes(n)) return undefined;
    const pin = mcu.gpio[n];
    const pull = pin.pullupEnabled && !pin.pulldownEnabled ? C.PULL_UP : pin.pulldownEnabled && !pin.pullupEnabled ? C.PULL_DOWN : C.PULL_NONE;
    const watch = 0;
    if (pin.functionSelect === PWM_FUNC) {
      const ch = mcu.pwm.channels[n >> 1 & 7];
      const top = ch.top;
      const level = (n & 1 ? ch.cc >>> 16 : ch.cc) & 0xffff;
      const div16 = ch.div & 0xfff;
      const freqHz = Math.round((125_000_000 * 16) / (div16 * (top + 1)));
      // the smallest duty (0..65535) the firmware turns into this compare level (platform_pico.c pwm_set_)
      const duty = Math.min(65535, Math.ceil((level * 65535) / (top + 1)));
      return { mode: "out", pull, level: pin.outputValue ? 1 : 0, watch, pwm: { freqHz, duty } };
    }
    if (pin.functionSelect !== SIO_FUNC) return undefined;
    return pin.outputEnable ? { mode: "out", pull, level: pin.outputValue ? 1 : 0, watch } : { mode: "in", pull, level: pin.inputValue ? 1 : 0, watch };
  }

  private teardown(): void {
    this.relay?.close();
    this.lan?.destroy();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.running;
    this.teardown();
    if (this.stack) console.log(`${this.name}: ${describeStack(this.stack)}`);
    const b = this.board;
    if (b?.stopped) throw new Error(`${this.name}: the emulated board stopped: ${b.stopped}\n${b.output.slice(-2000)}`);
  }
}
