// A virtual board: one core instance, its event queue, and simulated peripherals. Imports never call
// back into the core; every network or pin event is queued and delivered from one place, as on the
// device. Time is a u32 millisecond clock (wrapping), passed to the core with every event.
import { randomFillSync, createHash } from "node:crypto";
import { C, type HostImports } from "./abi.generated.ts";
import { Core, compileCore, ipFromString } from "./core.ts";
import { Hardware } from "./hardware.ts";
import { Flash } from "./flash.ts";
import { chooseBoot, readSlot, slotName } from "./slots.ts";
import type { NetBackend, NetEvents } from "./net.ts";
import { NodeNet, inOwnNetns } from "./net-node.ts";
import { WifiSim, LAB_NETWORK, macFrom, type Network, type Scheduler, type WifiOptions } from "./wifi.ts";

export type { Scheduler } from "./wifi.ts";

export const LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LEVELS)[number];

export interface BoardOptions {
  wasm: Uint8Array | WebAssembly.Module;
  /** key=value lines for the core's init (see assembly/config.ts). */
  config?: string;
  /** The board's address: loopback only (127.0.0.0/8), unless `simulated`. */
  host?: string;
  name?: string;
  log?: (level: LogLevel, text: string) => void;
  /** Milliseconds; the core sees it as u32 and must cope with the wrap. Default: real time. */
  clock?: () => number;
  flashFile?: string;
  assets?: Record<string, Uint8Array>;
  /** Build the network backend; default real sockets on `host`. */
  net?: (events: NetEvents) => NetBackend;
  random?: (dst: Uint8Array) => void;
  /** Networks the board's radio can see (default: one lab network, joined at start). */
  networks?: Network[];
  /** SHA-256 (hex) of the core, when `wasm` is an already compiled module. */
  coreSha256?: string;
  /** Run every timer and deferred event on this scheduler (the simulator's virtual time) instead of
   *  setTimeout/setImmediate; the clock defaults to its now(). */
  scheduler?: Scheduler;
  /** The board lives on a simulated network (`net` must be given): any address is allowed, since no
   *  real socket is ever opened. Only the simulator sets it. */
  simulated?: boolean;
  /** The board runs inside a network namespace made for it (test/helpers/netns.ts, `picowire node
   *  --netns-address`): any IPv4 address is allowed and UDP sockets take broadcasts. Refused unless the
   *  process is in a network namespace other than the root one, so it never speaks on a real network. */
  netns?: boolean;
  /** Flash to keep across a simulated power cycle (a new Board for the same device). */
  flash?: Flash;
  /** The radio's simulated air, timings and PRNG (the simulator). */
  wifi?: Omit<WifiOptions, "scheduler">;
  /** A core booted on trial after an update must confirm itself within this (default 60000 ms), or the
   *  host's watchdog restarts the board and the next boot rolls it back. */
  otaTrialMs?: number;
}

interface RxState {
  chunks: Uint8Array[];
  blocked: boolean; // the core consumed less than offered: wait for tcp_resume
  fin: boolean;
}

export class Board {
  readonly hw = new Hardware();
  readonly wifi: WifiSim;
  readonly flash: Flash;
  readonly name: string;
  readonly host: string;
  core!: Core;
  traps = 0;
  /** Fail-safe levels the core registered; applied by the host if the core dies (pin_safe). */
  readonly pinSafe = new Map<number, number>();
  resetReason: number = C.RESET_POWER_ON;
  /** The slot the running core came from (REGION_SLOT_A/B), 0: the core built into the firmware (`wasm`). */
  slot = 0;
  /** The running core was booted on trial and has not confirmed itself yet. */
  trial = false;
  /** SHA-256 (hex) of the running core. */
  coreSha256 = "";
  private readonly module: WebAssembly.Module;
  private readonly factorySha: string;
  private readonly modules = new Map<string, WebAssembly.Module>();
  private trialTimer: unknown = null;
  private readonly net: NetBackend;
  private readonly queue: (() => void)[] = [];
  private readonly rx = new Map<number, RxState>();
  private draining = false;
  private scheduled = false;
  private timer: unknown = null;
  private stopped = false;
  private readonly clock: () => number;
  private readonly assets: [string, Uint8Array][];

  constructor(private readonly opts: BoardOptions) {
    this.module = opts.wasm instanceof WebAssembly.Module ? opts.wasm : compileCore(opts.wasm);
    this.host = opts.host ?? "127.0.0.1";
    if (opts.simulated && !opts.net) throw new Error("a simulated board needs its simulated network (net)");
    if (opts.netns && !inOwnNetns()) throw new Error("netns: this process is not inside a network namespace of its own (ip netns exec)");
    if (!opts.simulated && !opts.netns && !/^127\./.test(this.host)) throw new Error(`virtual boards use loopback addresses only, not ${this.host}`);
    this.name = opts.name ?? this.host;
    const sched = opts.scheduler;
    this.clock = opts.clock ?? (sched ? () => sched.now() : () => Date.now());
    this.flash = opts.flash ?? new Flash(opts.flashFile);
    this.assets = Object.entries(opts.assets ?? {});
    // the core reports its own hash (get_info) through this asset, as the firmware embeds it
    this.factorySha = (opts.wasm instanceof WebAssembly.Module ? opts.coreSha256 : createHash("sha256").update(opts.wasm).digest("hex")) ?? "";
    // what runs is only known at boot (a slot or the firmware's core): these two are refreshed then
    this.assets.push(["core.sha256", new Uint8Array()], ["core.slot", new Uint8Array()], ["core.engine", new TextEncoder().encode("v8")]);
    this.net = (opts.net ?? ((ev) => new NodeNet(this.host, ev, !!opts.netns)))(this.netEvents());
    this.wifi = new WifiSim(opts.networks ?? [LAB_NETWORK], ipFromString(this.host), (kind, status, payload) =>
      this.post(() => {
        if (payload) this.core.writeIo(payload);
        this.core.exports.wifi_event(kind, status, this.now());
      }),
      30,
      !opts.networks,
      { mac: macFrom(`radio:${this.name}`), ...opts.wifi, scheduler: sched },
    );
    this.hw.onEdge = (pin, level) => this.post(() => this.core.exports.gpio_edge(pin, level, this.now()));
  }

  now(): number {
    return this.clock() >>> 0;
  }

  private lastError = "";

  log(level: LogLevel, text: string): void {
    if (level === "error") this.lastError = text;
    (this.opts.log ?? ((l, t) => console.log(`[${this.name}] ${l === "info" ? "" : l + ": "}${t}`)))(level, text);
  }

  /** Instantiates and initialises the core; resolves once its listeners are bound. */
  async start(): Promise<void> {
    this.boot();
    await this.net.ready();
  }

  /** Picks the core (a pending slot on trial, the newest confirmed slot, or the firmware's own) and
   *  starts it; a slot whose core does not start is passed over, so a bad image cannot keep the board down. */
  private boot(): void {
    const skip = new Set<number>();
    for (;;) {
      const choice = chooseBoot(this.flash, skip);
      for (const note of choice.notes) this.log(/rolled back|skipped/.test(note) ? "warn" : "info", `host: ${note}`);
      this.slot = choice.slot;
      this.trial = choice.trial;
      this.coreSha256 = choice.sha256 ?? this.factorySha;
      const text = new TextEncoder();
      this.assets.find(([n]) => n === "core.sha256")![1] = text.encode(this.coreSha256);
      this.assets.find(([n]) => n === "core.slot")![1] = text.encode(slotName(this.slot));
      try {
        let module = this.module;
        if (choice.slot) {
          module = this.modules.get(this.coreSha256) ?? compileCore(choice.image!);
          this.modules.set(this.coreSha256, module);
        }
        this.startCore(module);
      } catch (e) {
        if (!choice.slot) throw e;
        this.log("error", `host: the core in slot ${slotName(choice.slot)} does not start (${(e as Error).message}); falling back`);
        skip.add(choice.slot);
        continue;
      }
      if (this.trial) this.armTrialWatchdog();
      return;
    }
  }

  private armTrialWatchdog(): void {
    const ms = this.opts.otaTrialMs ?? 60000;
    const slot = this.slot;
    const fire = () => {
      this.trialTimer = null;
      if (this.stopped || !this.trial || this.slot !== slot) return;
      this.log("error", `host: the new core in slot ${slotName(slot)} did not confirm itself within ${ms} ms: watchdog restart`);
      this.post(() => this.restartCore(C.RESET_WATCHDOG));
    };
    this.clearTrialTimer();
    if (this.opts.scheduler) this.trialTimer = this.opts.scheduler.setTimer(fire, ms);
    else this.trialTimer = setTimeout(fire, ms).unref();
  }

  private clearTrialTimer(): void {
    if (!this.trialTimer) return;
    if (this.opts.scheduler) this.opts.scheduler.clearTimer(this.trialTimer);
    else clearTimeout(this.trialTimer as NodeJS.Timeout);
    this.trialTimer = null;
  }

  private startCore(module: WebAssembly.Module): void {
    this.core = new Core(module, this.imports());
    const config = new TextEncoder().encode(this.opts.config ?? "");
    if (config.length > C.IO_CAPACITY) throw new Error(`configuration is ${config.length} bytes; the core takes at most ${C.IO_CAPACITY}`);
    this.core.writeIo(config);
    const r = this.core.exports.init(config.length, this.now());
    if (r !== C.OK) throw new Error(`${this.name}: core refused to start (error ${r}): ${this.lastError || "no reason logged"}`);
    this.scheduleTick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    this.clearTrialTimer();
    await this.net.shutdown();
  }

  /** Queue work for the core; it runs after the current event, never inside an import. */
  post(fn: () => void): void {
    if (this.stopped) return;
    this.queue.push(fn);
    if (!this.scheduled && !this.draining) {
      this.scheduled = true;
      if (this.opts.scheduler) this.opts.scheduler.defer(() => this.drain());
      else setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    this.draining = true;
    try {
      for (let fn = this.queue.shift(); fn && !this.stopped; fn = this.queue.shift()) this.guard(fn);
    } finally {
      this.draining = false;
    }
    this.scheduleTick();
  }

  /** A trap is logged and the core restarted, as the device does; a host bug still throws. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      this.traps++;
      this.log("error", `core trapped (${e.message}); restarting it`);
      this.restartCore(C.RESET_TRAP);
    }
  }

  private restartCore(reason: number): void {
    this.clearTrialTimer();
    this.queue.length = 0;
    this.rx.clear();
    for (const [pin, level] of this.pinSafe) {
      this.hw.write(pin, level);
      this.log("warn", `host: pin ${pin} back to its safe level ${level} (its revert was pending)`);
    }
    this.pinSafe.clear();
    if (this.opts.scheduler) {
      // virtual time: the simulated network shuts down at once; boot after this event, in order
      void this.net.shutdown();
      this.opts.scheduler.defer(() => {
        if (this.stopped) return;
        this.resetReason = reason;
        try {
          this.boot();
        } catch (e) {
          this.stopped = true;
          this.log("error", `core restart failed: ${(e as Error).message}`);
        }
      });
      return;
    }
    void this.net
      .shutdown()
      .then(() => {
        if (this.stopped) return;
        this.resetReason = reason;
        this.boot();
      })
      .catch((e: Error) => {
        // the restarted core refused to start: the board stays down, as a device would, and says why
        this.stopped = true;
        this.log("error", `core restart failed: ${e.message}`);
      });
  }

  private scheduleTick(): void {
    if (this.stopped || !this.core) return;
    this.clearTimer();
    let delay = 0;
    this.guard(() => {
      delay = this.core.exports.tick(this.now());
    });
    if (delay === C.TICK_NONE) return;
    const s = this.opts.scheduler;
    if (s) this.timer = s.setTimer(() => this.post(() => {}), Math.max(1, delay));
    else this.timer = setTimeout(() => this.post(() => {}), Math.max(1, delay));
  }

  private clearTimer(): void {
    if (!this.timer) return;
    if (this.opts.scheduler) this.opts.scheduler.clearTimer(this.timer);
    else clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = null;
  }

  private rxState(conn: number): RxState {
    let s = this.rx.get(conn);
    if (!s) this.rx.set(conn, (s = { chunks: [], blocked: false, fin: false }));
    return s;
  }

  /** Offers queued bytes to the core in io-buffer sized pieces until it stops consuming. */
  private deliver(conn: number): void {
    const s = this.rx.get(conn);
    if (!s) return;
    while (s.chunks.length && !s.blocked) {
      const chunk = s.chunks[0];
      const n = this.core.writeIo(chunk);
      const used = this.core.exports.tcp_data(conn, n, this.now());
      if (!this.rx.has(conn)) return; // the core closed it
      if (used >= chunk.length) s.chunks.shift();
      else s.chunks[0] = chunk.subarray(Math.max(0, used));
      if (used < n) s.blocked = true;
    }
    this.net.pause(conn, s.blocked);
    if (!s.chunks.length && s.fin) {
      s.fin = false;
      this.core.exports.tcp_closed(conn, C.TCP_FIN, this.now());
    }
  }

  private netEvents(): NetEvents {
    return {
      accepted: (listener, conn, ip, port) =>
        this.post(() => {
          this.rxState(conn);
          if (this.core.exports.tcp_accepted(listener, conn, ip, port, this.now()) < 0) this.forget(conn, true);
        }),
      connected: (conn, status) =>
        this.post(() => {
          if (status !== C.OK) this.rx.delete(conn);
          else this.rxState(conn);
          this.core.exports.tcp_connected(conn, status, this.now());
        }),
      data: (conn, bytes) => {
        const s = this.rx.get(conn);
        if (!s) return;
        s.chunks.push(bytes);
        this.post(() => this.deliver(conn));
      },
      sent: (conn, len) => this.post(() => this.rx.has(conn) && this.core.exports.tcp_sent(conn, len, this.now())),
      closed: (conn, reason) =>
        this.post(() => {
          const s = this.rx.get(conn);
          if (!s) return;
          if (reason === C.TCP_FIN) {
            s.fin = true;
            this.deliver(conn);
          } else {
            this.rx.delete(conn);
            this.core.exports.tcp_closed(conn, reason, this.now());
          }
        }),
      datagram: (sock, ip, port, bytes) =>
        this.post(() => {
          if (bytes.length > C.IO_CAPACITY) return; // the ABI drops oversized datagrams
          this.core.exports.udp_data(sock, ip, port, this.core.writeIo(bytes), this.now());
        }),
      resolved: (req, ip, status) => this.post(() => this.core.exports.dns_result(req, ip, status, this.now())),
    };
  }

  private forget(conn: number, close: boolean): void {
    this.rx.delete(conn);
    if (close) this.net.close(conn);
  }

  private imports(): HostImports {
    const core = () => this.core;
    const str = (ptr: number, len: number) => core().text(ptr, len);
    return {
      log: (level, ptr, len) => this.log(LEVELS[level] ?? "debug", str(ptr, len)),
      random_fill: (ptr, len) => {
        const buf = new Uint8Array(len);
        (this.opts.random ?? randomFillSync)(buf);
        core().write(ptr, buf);
      },
      xor_mask: (ptr, len, mask) => core().xorMask(ptr, len, mask),
      board_id: (ptr, cap) => {
        const id = createHash("sha256").update(`picowire:${this.name}`).digest().subarray(0, Math.min(8, cap));
        core().write(ptr, id);
        return id.length;
      },
      free_heap: () => 200 * 1024,
      reset_reason: () => this.resetReason,
      temperature_mc: () => 27000,
      tcp_listen: (port) => this.net.listen(port),
      tcp_connect: (ip, port) => this.net.connect(ip >>> 0, port),
      tcp_send: (conn, ptr, len) => this.net.send(conn, core().read(ptr, len)),
      tcp_resume: (conn) => {
        const s = this.rx.get(conn);
        if (s?.blocked) {
          s.blocked = false;
          this.post(() => this.deliver(conn));
        }
      },
      tcp_close: (conn) => {
        this.rx.delete(conn);
        return this.net.close(conn);
      },
      tcp_abort: (conn) => {
        this.rx.delete(conn);
        this.net.abort(conn);
      },
      udp_open: (port, iface) => this.net.udpOpen(port, iface),
      udp_send: (sock, ip, port, ptr, len) => this.net.udpSend(sock, ip >>> 0, port, core().read(ptr, len)),
      udp_close: (sock) => this.net.udpClose(sock),
      udp_join: (sock, group, join) => (this.net.udpJoin ? this.net.udpJoin(sock, group >>> 0, join !== 0) : C.ERR_UNSUPPORTED),
      dns_resolve: (ptr, len) => this.net.resolve(str(ptr, len)),
      wifi_start_ap: (sp, sl, pp, pl, channel) => this.wifi.startAp(str(sp, sl), str(pp, pl), channel),
      wifi_join: (sp, sl, pp, pl) => this.wifi.join(str(sp, sl), str(pp, pl)),
      wifi_scan: () => this.wifi.scan(),
      wifi_stop_ap: () => this.wifi.stopAp(),
      wifi_mac: (iface, ptr) => {
        if (iface !== C.IFACE_STA && iface !== C.IFACE_AP) return C.ERR_INVAL;
        core().write(ptr, this.wifi.mac());
        return 6;
      },
      wifi_status: (iface) => this.wifi.status(iface),
      wifi_ip: (iface) => this.wifi.ip(iface),
      wifi_rssi: () => this.wifi.rssi(),
      gpio_setup: (pin, mode, pull) => this.hw.setup(pin, mode, pull),
      gpio_write: (pin, value) => this.hw.write(pin, value),
      gpio_read: (pin) => this.hw.read(pin),
      gpio_watch: (pin, edges) => this.hw.watch(pin, edges),
      pin_safe: (pin, value) => {
        if (value < 0) this.pinSafe.delete(pin);
        else this.pinSafe.set(pin, value);
      },
      pwm_set: (pin, freq, duty) => this.hw.pwm(pin, freq, duty),
      adc_read: (channel) => this.hw.adcRead(channel),
      pixels_show: (pin, ptr, len) => {
        this.hw.pixels = { pin, bytes: core().read(ptr, len) };
        return C.OK;
      },
      flash_size: (region) => this.flash.size(region),
      flash_read: (region, offset, ptr, len) => {
        const r = this.flash.read(region, offset, len);
        if (typeof r === "number") return r;
        core().write(ptr, r);
        return r.length;
      },
      flash_write: (region, offset, ptr, len) => {
        const r = this.flash.program(region, offset, core().read(ptr, len));
        if (this.trial && region === this.slot && offset === 0 && readSlot(this.flash, region).confirmed) {
          this.trial = false;
          this.clearTrialTimer();
          this.log("info", `host: the new core in slot ${slotName(region)} confirmed itself`);
        }
        return r;
      },
      flash_erase: (region, offset, len) => this.flash.erase(region, offset, len),
      asset_find: (ptr, len) => {
        const i = this.assets.findIndex(([n]) => n === str(ptr, len));
        return i < 0 ? C.ERR_NOTFOUND : i;
      },
      asset_size: (id) => this.assets[id]?.[1].length ?? C.ERR_NOTFOUND,
      asset_read: (id, offset, ptr, len) => {
        const a = this.assets[id]?.[1];
        if (!a) return C.ERR_NOTFOUND;
        if (offset < 0 || offset > a.length) return C.ERR_RANGE;
        const part = a.subarray(offset, offset + Math.max(0, len));
        core().write(ptr, part);
        return part.length;
      },
      reset: (kind) => {
        this.log("warn", `reset requested (kind ${kind})`);
        // after this event, and after the reply just queued has had a moment to leave
        const restart = () => this.post(() => this.restartCore(C.RESET_SOFTWARE));
        if (this.opts.scheduler) this.opts.scheduler.setTimer(restart, 50);
        else setTimeout(restart, 50).unref();
      },
      sleep: () => C.OK,
    };
  }
}
