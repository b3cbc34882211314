// Loads the identical build/picowire.wasm the firmware embeds, and a recording fake host for driving
// the core directly (no sockets) in unit and random-session tests.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { C, IMPORT_NAMES, type HostImports } from "../../tools/host/abi.generated.ts";
import { Core, compileCore } from "../../tools/host/core.ts";

export const WASM_PATH = join(ROOT, "build", "picowire.wasm");
export const wasmBytes = readFileSync(WASM_PATH);
export const coreModule = compileCore(wasmBytes);
export const coreSha256 = createHash("sha256").update(wasmBytes).digest("hex");

export interface Call {
  name: string;
  args: number[];
}

/** Every import recorded; behaviour overridable per test. Data the core sends is captured per handle. */
export class FakeHost {
  core!: Core;
  calls: Call[] = [];
  logs: string[] = [];
  sent = new Map<number, number[]>();
  closed = new Set<number>();
  aborted = new Set<number>();
  nextHandle = 100;
  /** How many bytes tcp_send accepts (default all). */
  sendWindow = (_conn: number, len: number) => len;
  overrides: Partial<HostImports> = {};

  imports(): HostImports {
    const base: Partial<HostImports> = {
      log: (_l, p, n) => void this.logs.push(this.core.text(p, n)),
      random_fill: (p, n) => this.core.write(p, new Uint8Array(n).map((_, i) => (i * 37 + 11) & 255)),
      tcp_listen: () => 1,
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

  /** A fresh core, initialised with `config`; throws with the core's log if init fails. */
  start(config: string, now = 0): Core {
    this.core = new Core(coreModule, this.imports());
    const n = this.core.writeIo(new TextEncoder().encode(config));
    const r = this.core.exports.init(n, now);
    if (r !== C.OK) throw new Error(`init failed (${r}): ${this.logs.join(" | ")}`);
    return this.core;
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
