// Loads the identical build/picowire.wasm the firmware embeds, and the one fake host for driving the core
// directly (no sockets) in unit, random-session and boot-sweep tests.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { C, IMPORT_NAMES, type HostImports } from "../../tools/host/abi.generated.ts";
import { Core, compileCore } from "../../tools/host/core.ts";
import type { Flash } from "../../tools/host/flash.ts";

export const WASM_PATH = join(ROOT, "build", "picowire.wasm");
export const wasmBytes = readFileSync(WASM_PATH);
export const coreModule = compileCore(wasmBytes);
export const coreSha256 = createHash("sha256").update(wasmBytes).digest("hex");

export interface Call {
  name: string;
  args: number[];
}

/** A board's parts beyond the network: its flash (a Flash model), GP22 (the factory-reset button) and
 *  its ID. With them the core boots as a board does: from the configuration sector, or into setup mode. */
export interface DeviceOptions {
  flash: Flash;
  /** Level of GP22 at boot (0: the factory-reset button is held); default 1. */
  resetPin?: number;
  /** default 01 02 03 04 05 06 ab cd */
  boardId?: Uint8Array;
}

/** Every import recorded; behaviour overridable per test. Data the core sends is captured per handle.
 *  An import neither implemented here nor overridden answers ERR_UNSUPPORTED. */
export class FakeHost {
  core!: Core;
  /** init's result of the last boot() */
  initResult = 0;
  /** reset kinds the core asked for */
  readonly resets: number[] = [];
  /** access points the core started */
  readonly aps: { ssid: string; password: string }[] = [];
  /** port -> listener handle: tcp_listen answers 1 for every port, or one handle per port on a device */
  readonly listeners = new Map<number, number>();
  calls: Call[] = [];
  logs: string[] = [];
  sent = new Map<number, number[]>();
  closed = new Set<number>();
  aborted = new Set<number>();
  nextHandle = 100;
  /** How many bytes tcp_send accepts (default all). */
  sendWindow = (_conn: number, len: number) => len;
  overrides: Partial<HostImports> = {};

  private nextControlConn = 7000;

  constructor(private readonly device?: DeviceOptions) {}

  imports(): HostImports {
    const base: Partial<HostImports> = {
      log: (_l, p, n) => void this.logs.push(this.core.text(p, n)),
      random_fill: (p, n) => this.core.write(p, new Uint8Array(n).map((_, i) => (i * 37 + 11) & 255)),
      xor_mask: (p, n, mask) => this.core.xorMask(p, n, mask),
      tcp_listen: (port) => {
        const h = this.device ? 100 + this.listeners.size : 1;
        this.listeners.set(port, h);
        return h;
      },
      tcp_connect: () => this.nextHandle++,
      tcp_send: (conn, p, n) => {
        const k = Math.max(0, Math.min(n, this.sendWindow(conn, n)));
        const out = this.sent.get(conn) ?? [];
        out.push(...this.core.read(p, k));
        this.sent.set(conn, out);
        return k;
      },
      tcp_close: (conn) => (this.closed.add(conn), C.OK),
      tcp_abort: (conn) => void this.aborted.add(conn),
      adc_read: () => 0,
      pwm_set: () => C.OK,
      reset: (kind) => void this.resets.push(kind),
      ...(this.device ? this.deviceImports(this.device) : {}),
    };
    const all: Record<string, (...a: number[]) => number | void> = {};
    for (const name of IMPORT_NAMES) {
      const impl = (this.overrides as any)[name] ?? (base as any)[name] ?? (() => C.ERR_UNSUPPORTED);
      all[name] = (...args: number[]) => {
        this.calls.push({ name, args });
        return impl(...args);
      };
    }
    return all as unknown as HostImports;
  }

  private deviceImports(d: DeviceOptions): Partial<HostImports> {
    const f = d.flash;
    return {
      udp_open: () => 1,
      gpio_read: (pin) => (pin === 22 ? (d.resetPin ?? 1) : 0),
      board_id: (p, cap) => {
        const id = d.boardId ?? Uint8Array.from([1, 2, 3, 4, 5, 6, 0xab, 0xcd]);
        this.core.write(p, id.subarray(0, cap));
        return Math.min(cap, id.length);
      },
      gpio_setup: () => C.OK,
      wifi_scan: () => C.OK, // results come from the test (wifi_event)
      wifi_start_ap: (sp, sl, pp, pl) => (this.aps.push({ ssid: this.core.text(sp, sl), password: this.core.text(pp, pl) }), C.OK),
      flash_size: (r) => f.size(r),
      flash_read: (r, off, p, n) => {
        const b = f.read(r, off, n);
        if (typeof b === "number") return b;
        this.core.write(p, b);
        return b.length;
      },
      flash_write: (r, off, p, n) => f.program(r, off, this.core.read(p, n)),
      flash_erase: (r, off, n) => f.erase(r, off, n),
    };
  }

  /** A fresh core, initialised with `config`; throws with the core's log if init fails. */
  start(config: string, now = 0): Core {
    this.boot(config, now);
    if (this.initResult !== C.OK) throw new Error(`init failed (${this.initResult}): ${this.logs.join(" | ")}`);
    return this.core;
  }

  /** A fresh core, initialised with `config` (a device with an empty text reads its flash instead); the
   *  result is in initResult, for tests of refused or odd boots. */
  boot(config = "", now = 1000): this {
    this.core = new Core(coreModule, this.imports());
    const n = this.core.writeIo(new TextEncoder().encode(config));
    this.initResult = this.core.exports.init(n, now);
    return this;
  }

  /** One control command on a fresh in-process connection (control on 12345, insecure); the reply. */
  control(cmd: Record<string, unknown> | string): Record<string, unknown> {
    const listener = this.listeners.get(12345);
    if (listener === undefined) throw new Error("control is not listening");
    const conn = this.nextControlConn++;
    if (this.core.exports.tcp_accepted(listener, conn, 0x7f000001, 40000, 2000) !== C.OK) throw new Error("connection refused");
    this.data(conn, (typeof cmd === "string" ? cmd : JSON.stringify(cmd)) + "\n", 2001);
    this.core.exports.tcp_closed(conn, C.ERR_RESET, 2002);
    return JSON.parse(this.sentText(conn).trim().split("\n").pop()!);
  }

  /** STAT_CONNS_MAX: which max_conns the core started with (tests tell configurations apart by it). */
  get maxConns(): number {
    return this.core.exports.stat(C.STAT_CONNS_MAX);
  }

  data(conn: number, text: string | Uint8Array, now = 0): number {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    return this.core.exports.tcp_data(conn, this.core.writeIo(bytes), now);
  }

  sentText(conn: number): string {
    return Buffer.from(this.sent.get(conn) ?? []).toString("latin1");
  }
}

export function fresh(): Core {
  return new FakeHost().start("http_port=0");
}
