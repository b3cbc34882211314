// The core without sockets: imports that do nothing except flash (a Flash model), the board ID, the
// reset pin, log capture and a control connection driven in-process. Fast enough to boot thousands of
// times (power-cut sweeps, corruption sweeps).
import { Core } from "../../tools/host/core.ts";
import { C, IMPORT_NAMES, type HostImports } from "../../tools/host/abi.generated.ts";
import { Flash } from "../../tools/host/flash.ts";
import { coreModule } from "./core.ts";

export interface StubOptions {
  flash: Flash;
  /** Level of GP22 at boot (0: the factory-reset button is held). */
  resetPin?: number;
  boardId?: Uint8Array;
}

export class StubCore {
  core!: Core;
  readonly logs: string[] = [];
  readonly sent: string[] = [];
  readonly resets: number[] = [];
  readonly aps: { ssid: string; password: string }[] = [];
  private listeners = new Map<number, number>();
  initResult = 0;

  constructor(private readonly opts: StubOptions) {}

  boot(configText = ""): this {
    const imports = Object.fromEntries(IMPORT_NAMES.map((n) => [n, () => 0])) as unknown as HostImports;
    const text = (p: number, n: number) => this.core.text(p, n);
    imports.log = (level, p, n) => void this.logs.push(`${["E", "W", "I", "D"][level]} ${text(p, n)}`);
    imports.tcp_listen = (port) => {
      const h = 100 + this.listeners.size;
      this.listeners.set(port, h);
      return h;
    };
    imports.udp_open = () => 1;
    imports.tcp_send = (_conn, p, n) => {
      this.sent.push(text(p, n));
      return n;
    };
    imports.reset = (kind) => void this.resets.push(kind);
    imports.gpio_read = (pin) => (pin === 22 ? (this.opts.resetPin ?? 1) : 0);
    imports.board_id = (p, cap) => {
      const id = this.opts.boardId ?? Uint8Array.from([1, 2, 3, 4, 5, 6, 0xab, 0xcd]);
      this.core.write(p, id.subarray(0, cap));
      return Math.min(cap, id.length);
    };
    imports.wifi_start_ap = (sp, sl, pp, pl) => {
      this.aps.push({ ssid: text(sp, sl), password: text(pp, pl) });
      return C.OK;
    };
    const f = this.opts.flash;
    imports.flash_size = (r) => f.size(r);
    imports.flash_read = (r, off, p, n) => {
      const b = f.read(r, off, n);
      if (typeof b === "number") return b;
      this.core.write(p, b);
      return b.length;
    };
    imports.flash_write = (r, off, p, n) => f.program(r, off, this.core.read(p, n));
    imports.flash_erase = (r, off, n) => f.erase(r, off, n);
    this.core = new Core(coreModule, imports);
    const bytes = new TextEncoder().encode(configText);
    this.core.writeIo(bytes);
    this.initResult = this.core.exports.init(bytes.length, 1000);
    return this;
  }

  /** One control command on a fresh in-process connection (control must be insecure); the reply. */
  control(cmd: Record<string, unknown> | string): Record<string, unknown> {
    const listener = this.listeners.get(12345);
    if (listener === undefined) throw new Error("control is not listening");
    const conn = 7000 + this.sent.length;
    if (this.core.exports.tcp_accepted(listener, conn, 0x7f000001, 40000, 2000) !== C.OK) throw new Error("connection refused");
    const before = this.sent.length;
    const line = new TextEncoder().encode((typeof cmd === "string" ? cmd : JSON.stringify(cmd)) + "\n");
    this.core.exports.tcp_data(conn, this.core.writeIo(line), 2001);
    const out = this.sent.slice(before).join("");
    this.core.exports.tcp_closed(conn, C.ERR_RESET, 2002);
    return JSON.parse(out.trim().split("\n").pop()!);
  }

  /** STAT_CONNS_MAX: which max_conns the core started with (tests tell configurations apart by it). */
  get maxConns(): number {
    return this.core.exports.stat(C.STAT_CONNS_MAX);
  }
}
