// The simulation: N virtual boards, each its own instance of the identical build/picowire.wasm, on the
// simulated air and network, in virtual time. A run is a pure function of its options (seed included).
import { createHash } from "node:crypto";
import { C } from "../host/abi.generated.ts";
import { Board, type LogLevel } from "../host/board.ts";
import { compileCore, ipToString } from "../host/core.ts";
import { Flash } from "../host/flash.ts";
import { SIM_WIFI_TIMING, type WifiTiming } from "../host/wifi.ts";
import { readCore } from "../cli/wasm.ts";
import { SimAir } from "./air.ts";
import { EventQueue, LimitError, Prng, boardScheduler, hash32 } from "./clock.ts";
import { describeFault, lastFaultEnd, type Fault } from "./faults.ts";
import { Monitor, roleName, type BoardView, type Violation } from "./invariants.ts";
import { Failovers, MemoryMeter, type Memory } from "./metrics.ts";
import { DEFAULT_LINK, SimNetwork, type LinkModel, type NetStats, type SimNet } from "./net.ts";

export type Topology = "home" | "ap" | "auto";
export const TOPOLOGIES: Topology[] = ["home", "ap", "auto"];

export interface BusParams {
  heartbeatMs: number;
  electionMs: number;
  deadMs: number;
  voters: number;
  unsafeVotes: boolean;
}

export interface SimOptions {
  nodes: number;
  topology: Topology;
  seconds: number;
  seed: number;
  link?: Partial<LinkModel>;
  bus: BusParams;
  faults?: Fault[];
  /** liveness must hold this long after the last fault (and after boot) */
  boundMs: number;
  /** liveness/convergence sampling period in virtual ms (default 10) */
  sampleMs?: number;
  maxEvents?: number;
  wrap?: boolean;
  /** who drives the radio in topology ap: the core (wifi_mode=ap/sta, default) or the simulated host
   *  (wifi_mode=off: the host brings up board 0's access point, joins the others and rejoins them
   *  every 2 s while they are off the network, as a firmware reconnect loop does) */
  radio?: "core" | "host";
  /** the core (default build/picowire.wasm) */
  wasm?: Uint8Array | WebAssembly.Module;
  coreSha256?: string;
  /** stop at the first violation (the tests: a failing seed costs no more than needed) */
  stopOnViolation?: boolean;
  wifiTiming?: WifiTiming;
  /** the command that replays this run, printed with any violation */
  replay?: string;
  /** core log lines at or above this level go to `onLog` */
  logLevel?: LogLevel;
  onLog?: (line: string) => void;
}

export interface SimResult {
  seed: number;
  nodes: number;
  topology: Topology;
  seconds: number;
  converge_ms: number | null;
  failover_ms: { p50: number | null; p99: number | null; count: number; unresolved: number };
  violations: number;
  violation_list: Violation[];
  msgs_per_node_s: number;
  bytes_per_node_s: number;
  core_sent_per_node_s: number;
  /** timer wakeups per board per second (mean, and the busiest board) */
  wakeups_per_node_s: number;
  wakeups_max_s: number;
  elections: number;
  role_changes: number;
  term_regressions: number;
  memory: Memory;
  net: NetStats;
  params: Record<string, unknown>;
  events: number;
  virtual_ms: number;
  trace_sha256: string;
  warnings: string[];
  timeline: string[];
  replay?: string;
}

interface Slot {
  slot: number;
  name: string;
  board: Board | null;
  ep: SimNet | null;
  flash: Flash;
  incarnation: number;
  alive: boolean;
  /** core datagrams sent by earlier incarnations (STAT_BUS_SENT restarts at each boot) */
  sentBefore: number;
  /** timer wakeups (the core's tick deadlines and the radio's timers), all incarnations */
  wakeups: number;
}

const LOG_LEVELS: LogLevel[] = ["error", "warn", "info", "debug"];
export const SIM_SSID = "picowire-bus";
const SIM_PASSWORD = "picowire-sim-pw";
const WRAP_OFFSET = 2 ** 32 - 30_000;

/** The configuration each virtual board gets (key=value lines, assembly/config.ts). */
export function boardConfig(o: SimOptions, slot: number): string {
  const b = o.bus;
  const lines = [
    "bus=1",
    "http_port=0",
    "control_port=0",
    `bus_heartbeat_ms=${b.heartbeatMs}`,
    `bus_election_ms=${b.electionMs}`,
    `bus_dead_ms=${b.deadMs}`,
    `bus_voters=${b.voters}`,
    `bus_max_members=${Math.min(128, Math.max(2, o.nodes))}`,
  ];
  if (o.topology === "home") lines.push("wifi_mode=off");
  else if (o.radio === "host") lines.push("wifi_mode=off", `dhcp_count=${Math.min(64, Math.max(1, o.nodes))}`);
  else {
    const mode = o.topology === "auto" ? "auto" : slot === 0 ? "ap" : "sta";
    lines.push(`wifi_mode=${mode}`, `wifi_ssid=${SIM_SSID}`, `wifi_password=${SIM_PASSWORD}`, `dhcp_count=${Math.min(64, Math.max(1, o.nodes))}`);
  }
  if (b.unsafeVotes) lines.push("bus_unsafe_votes=1");
  return lines.join("\n");
}

export class Simulation {
  readonly q = new EventQueue();
  readonly monitor = new Monitor();
  readonly air: SimAir;
  readonly net: SimNetwork;
  readonly link: LinkModel;
  private readonly slots: Slot[] = [];
  private readonly module: WebAssembly.Module;
  private readonly coreSha256?: string;
  private readonly failovers = new Failovers();
  private readonly memory = new MemoryMeter();
  private readonly trace = createHash("sha256");
  private readonly warnings: string[] = [];
  private readonly errors: string[] = [];
  private readonly timing: WifiTiming;
  private lastFault = 0;
  private converged: number | null = null;
  private radioActivity = 0;
  /** host-managed radio: no access point on this slot before this time (an ap-loss fault) */
  private readonly apBlockedUntil = new Map<number, number>();
  private everLeftOff = false;

  constructor(readonly o: SimOptions) {
    if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 128) throw new Error("nodes must be 1 to 128");
    if (o.radio === "host" && o.topology !== "ap") throw new Error("a host-managed radio is for topology ap (home is always host-managed; auto is the core's policy)");
    const wasm = o.wasm ?? readCore();
    this.module = wasm instanceof WebAssembly.Module ? wasm : compileCore(wasm);
    this.coreSha256 = wasm instanceof WebAssembly.Module ? o.coreSha256 : createHash("sha256").update(wasm).digest("hex");
    this.link = { ...DEFAULT_LINK, ...o.link };
    this.timing = o.wifiTiming ?? SIM_WIFI_TIMING;
    this.air = new SimAir(o.topology === "home", 0xc0a80410, Math.min(64, Math.max(1, o.nodes)), (slot, what) => {
      this.radioActivity++;
      this.monitor.note(this.q.now, `board-${slot}`.padEnd(10) + ` radio: ${what}`);
    });
    this.net = new SimNetwork(this.q, this.air, new Prng(o.seed, "net"), this.link, (t, from, to, port, bytes) =>
      this.trace.update(`${t} ${from}>${to}:${port} ${bytes.length} ${hash32(Buffer.from(bytes).toString("latin1"))}\n`),
    );
    for (let i = 0; i < o.nodes; i++) {
      this.slots.push({ slot: i, name: `board-${i}`, board: null, ep: null, flash: new Flash(), incarnation: 0, alive: false, sentBefore: 0, wakeups: 0 });
    }
  }

  params(): Record<string, unknown> {
    return {
      core_sha256: this.coreSha256 ?? "(compiled module given)",
      bus: this.o.bus,
      link: this.link,
      radio: this.o.topology === "home" ? "home network: boards start joined (wifi_mode=off, the host's radio)" : this.o.radio === "host" ? "host-managed (wifi_mode=off): board 0's access point, the others rejoin every 2 s" : "the core's (wifi_mode=ap/sta/auto)",
      wifi_timing: this.timing,
      wifi_addresses: "home 10.0.0.x; an access point 192.168.4.1 leasing 192.168.4.16.. (leased by the simulator, not by the core's DHCP server)",
      liveness_bound_ms: this.o.boundMs,
      sample_ms: this.o.sampleMs ?? 10,
      faults: (this.o.faults ?? []).map((f) => `${(f.t / 1000).toFixed(3)}s ${describeFault(f)}`),
      clock: this.o.wrap ? "boards start 30 s before the u32 ms wrap" : "boards count ms from power-on",
    };
  }

  private view(s: Slot): BoardView {
    return { slot: s.slot, name: s.name, alive: s.alive, stat: (k) => s.board!.core.exports.stat(k) };
  }

  private boot(s: Slot): Promise<void> {
    const i = s.slot;
    s.incarnation++;
    const home = this.o.topology === "home";
    const random = new Prng(this.o.seed, `random:${i}:${s.incarnation}`);
    const radio = new Prng(this.o.seed, `radio:${i}:${s.incarnation}`);
    const level = LOG_LEVELS.indexOf(this.o.logLevel ?? "error");
    const board = new Board({
      wasm: this.module,
      coreSha256: this.coreSha256,
      config: boardConfig(this.o, i),
      host: home ? ipToString(SimAir.homeAddress(i)) : "0.0.0.0",
      name: s.name,
      scheduler: boardScheduler(this.q, i, this.q.now, this.o.wrap ? WRAP_OFFSET : 0, () => s.wakeups++),
      simulated: true,
      net: (ev) => (s.ep = this.net.attach(i, ev)),
      random: (dst) => random.fill(dst),
      networks: home ? undefined : [],
      flash: s.flash,
      wifi: { air: this.air.forSlot(i), timing: this.timing, random: () => radio.next() },
      log: (l, text) => {
        if (l === "error") this.errors.push(`${s.name}: ${text}`);
        if (this.o.onLog && LOG_LEVELS.indexOf(l) <= level) this.o.onLog(`${(this.q.now / 1000).toFixed(3).padStart(9)}s  ${s.name} ${l}: ${text}`);
      },
    });
    s.board = board;
    s.alive = true;
    this.air.register(i, board.wifi, home);
    if (this.o.radio === "host") this.hostRadio(s, board, s.incarnation);
    this.monitor.reset(i);
    // the core is instantiated and initialised synchronously inside start(); only its promise is late
    return board.start().catch((e: Error) => {
      this.errors.push(`${s.name}: ${e.message}`);
      throw e;
    });
  }

  /** The simulated firmware's radio loop (radio "host"): keep board 0's access point up, keep the
   *  others joined to it, checking every 2 s. */
  private hostRadio(s: Slot, board: Board, incarnation: number): void {
    if (!s.alive || s.incarnation !== incarnation) return;
    const w = board.wifi;
    if (s.slot === 0) {
      if (w.status(C.IFACE_AP) === C.WIFI_DOWN && this.q.now >= (this.apBlockedUntil.get(0) ?? 0)) w.startAp(SIM_SSID, SIM_PASSWORD, 6);
    } else if (w.status(C.IFACE_STA) !== C.WIFI_UP && w.status(C.IFACE_STA) !== C.WIFI_CONNECTING) {
      w.join(SIM_SSID, SIM_PASSWORD);
    }
    this.q.after(2000, () => this.hostRadio(s, board, incarnation), -3);
  }

  private kill(s: Slot, why: string): void {
    if (!s.alive || !s.board) return;
    s.sentBefore += s.board.core.exports.stat(C.STAT_BUS_SENT);
    s.alive = false;
    void s.board.stop();
    s.ep?.kill();
    this.air.remove(s.slot);
    this.monitor.note(this.q.now, `${s.name.padEnd(10)} KILLED${why}`);
  }

  /** The board that is MASTER now (highest term if several), or undefined. */
  private currentMaster(): Slot | undefined {
    let best: Slot | undefined;
    let term = -1;
    for (const s of this.slots) {
      if (!s.alive || s.board!.core.exports.stat(C.STAT_BUS_ROLE) !== C.BUS_ROLE_MASTER) continue;
      const t = s.board!.core.exports.stat(C.STAT_BUS_TERM);
      if (t > term) (best = s), (term = t);
    }
    return best;
  }

  private apply(f: Fault): void {
    const now = this.q.now;
    this.lastFault = Math.max(this.lastFault, now);
    switch (f.kind) {
      case "kill": {
        const s = f.slot === "master" ? this.currentMaster() : this.slots[f.slot];
        if (!s || !s.alive) {
          this.monitor.note(now, `(${describeFault(f)}: ${s ? `${s.name} is already dead` : "there is no master"})`);
          return;
        }
        const wasMaster = s.board!.core.exports.stat(C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER;
        this.kill(s, wasMaster ? " (it was MASTER)" : "");
        if (wasMaster) this.failovers.killed(now, s.slot);
        if (f.rebootAfterMs !== undefined) this.q.after(f.rebootAfterMs, () => this.apply({ t: now + f.rebootAfterMs!, kind: "reboot", slot: s.slot }));
        return;
      }
      case "reboot": {
        const s = this.slots[f.slot];
        if (s.alive) return;
        this.monitor.note(now, `${s.name.padEnd(10)} POWER ON (incarnation ${s.incarnation + 1})`);
        void this.boot(s).catch(() => {});
        return;
      }
      case "partition":
        this.net.partition(f.groups);
        this.monitor.note(now, `PARTITION ${f.groups.map((g) => `{${g.join(",")}}`).join(" | ")} | rest`);
        return;
      case "heal":
        this.net.partition(null);
        this.monitor.note(now, "HEAL partition");
        return;
      case "ap-loss": {
        if (f.slot === "home") {
          if (!this.air.home) return;
          this.air.dropHome();
          this.monitor.note(now, `HOME ACCESS POINT GONE for ${f.forMs} ms`);
          this.q.after(f.forMs, () => {
            this.lastFault = Math.max(this.lastFault, this.q.now);
            this.monitor.note(this.q.now, "HOME ACCESS POINT BACK");
            this.air.restoreHome();
          });
          return;
        }
        const s = f.slot === "master" ? (this.slots.find((x) => x.alive && this.air.apOf(x.slot)) ?? undefined) : this.slots[f.slot];
        if (!s || !this.air.dropAp(s.slot)) this.monitor.note(now, `(${describeFault(f)}: no access point)`);
        else {
          this.apBlockedUntil.set(s.slot, now + f.forMs);
          this.monitor.note(now, `${s.name.padEnd(10)} ACCESS POINT GONE (${f.forMs} ms before a host-managed radio may restart it)`);
        }
        return;
      }
    }
  }

  /** The largest set of alive boards that can all reach each other, with each one's address there. */
  private largestSet(): { view: BoardView; ip: number }[] {
    const sets = new Map<string, { view: BoardView; ip: number }[]>();
    for (const s of this.slots) {
      if (!s.alive) continue;
      for (const a of this.air.attachments(s.slot)) {
        // boards of one segment split by a partition: group by who can reach the first of each group
        let key = "";
        for (const [k, members] of sets) {
          if (k.startsWith(a.segment + "#") && this.net.canReach(members[0].view.slot, s.slot)) key = k;
        }
        if (!key) sets.set((key = `${a.segment}#${sets.size}`), []);
        sets.get(key)!.push({ view: this.view(s), ip: a.ip });
      }
    }
    let best: { view: BoardView; ip: number }[] = [];
    for (const m of sets.values()) if (m.length > best.length) best = m;
    return best;
  }

  private sample(t: number): void {
    const set = this.largestSet();
    if (!set.length) return;
    const voters = Math.min(this.o.bus.voters, this.o.nodes);
    const outside = this.o.nodes - set.length;
    const res = Monitor.agreement(set);
    if ("master" in res) {
      this.failovers.agreed(t, res.master);
      if (this.converged === null && set.length === this.o.nodes && this.slots[res.master].board!.core.exports.stat(C.STAT_BUS_MEMBERS) >= this.o.nodes) {
        this.converged = t;
        this.monitor.note(t, `CONVERGED: ${this.slots[res.master].name} master of all ${this.o.nodes} boards`);
      }
    }
    const required = outside * 2 < voters && t >= this.lastFault + this.o.boundMs;
    if (required && "why" in res) {
      this.monitor.livenessFailed(t, this.lastFault, `${res.why}; ${set.length} connected, ${outside} dead or cut off, ${t - this.lastFault} ms after the last fault`);
    }
  }

  async run(): Promise<SimResult> {
    const o = this.o;
    const endMs = Math.round(o.seconds * 1000);
    const sampleMs = o.sampleMs ?? 10;
    const maxEvents = o.maxEvents ?? 100_000 + o.nodes * o.seconds * 20_000;
    for (const f of o.faults ?? []) this.q.at(f.t, () => this.apply(f));
    await Promise.all(this.slots.map((s) => this.boot(s)));
    const after = (tag: number) => {
      if (tag < 0) {
        for (const s of this.slots) if (s.alive) this.monitor.check(this.q.now, this.view(s));
        return;
      }
      const s = this.slots[tag];
      if (s?.alive) this.monitor.check(this.q.now, this.view(s));
    };
    try {
      for (let t = 0; t <= endMs; t += sampleMs) {
        this.q.runUntil(t, after, maxEvents);
        this.sample(t);
        if (t % 1000 === 0) {
          for (const s of this.slots) {
            if (!s.alive) continue;
            this.memory.sample(s.board!.core);
            if (s.board!.core.exports.stat(C.STAT_BUS_ROLE) !== C.BUS_ROLE_OFF) this.everLeftOff = true;
          }
        }
        if (o.stopOnViolation && this.monitor.violations.length) break;
      }
    } catch (e) {
      if (!(e instanceof LimitError)) throw e;
      this.warnings.push(e.message);
    }
    this.failovers.finish();
    return this.result();
  }

  private result(): SimResult {
    const o = this.o;
    const seconds = Math.max(0.001, this.q.now / 1000);
    let coreSent = 0;
    for (const s of this.slots) {
      coreSent += s.sentBefore;
      if (s.alive) {
        coreSent += s.board!.core.exports.stat(C.STAT_BUS_SENT);
        s.board!.core.checkCanary();
        if (s.board!.traps) this.warnings.push(`${s.name}: the core trapped ${s.board!.traps} time(s)`);
      }
    }
    let wakeups = 0;
    let busiest = this.slots[0];
    for (const s of this.slots) {
      wakeups += s.wakeups;
      if (s.wakeups > busiest.wakeups) busiest = s;
    }
    const busiestRate = busiest.wakeups / seconds;
    if (busiestRate > 100) {
      this.warnings.push(`${busiest.name} was woken ${Math.round(busiestRate)} times a second on average: its core's tick keeps asking for a 0-1 ms deadline (a busy loop on the device)`);
    }
    if (!this.everLeftOff) this.warnings.push("every board reports BUS_ROLE_OFF: this build of the core has no bus yet (bus=1 had no effect)");
    if (o.topology !== "home" && !this.radioActivity) this.warnings.push(`topology ${o.topology}: no board started an access point or joined one (the core's wifi_mode handling is missing?)`);
    for (const e of this.errors.slice(0, 5)) this.warnings.push(`core error: ${e}`);
    if (this.errors.length > 5) this.warnings.push(`... and ${this.errors.length - 5} more core errors`);
    const timeline = this.monitor.timeline;
    const trace = this.trace.update(timeline.join("\n")).digest("hex");
    const v = this.monitor.violations;
    return {
      seed: o.seed,
      nodes: o.nodes,
      topology: o.topology,
      seconds: o.seconds,
      converge_ms: this.converged,
      failover_ms: this.failovers.summary(),
      violations: v.length,
      violation_list: v,
      msgs_per_node_s: round(this.net.stats.sent / o.nodes / seconds),
      bytes_per_node_s: round(this.net.stats.bytes / o.nodes / seconds),
      core_sent_per_node_s: round(coreSent / o.nodes / seconds),
      wakeups_per_node_s: round(wakeups / o.nodes / seconds),
      wakeups_max_s: round(busiestRate),
      elections: this.monitor.elections,
      role_changes: this.monitor.roleChanges,
      term_regressions: this.monitor.termRegressions,
      memory: this.memory.result(),
      net: { ...this.net.stats },
      params: this.params(),
      events: this.q.processed,
      virtual_ms: this.q.now,
      trace_sha256: trace,
      warnings: this.warnings,
      timeline,
      replay: o.replay,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function simulate(o: SimOptions): Promise<SimResult> {
  return new Simulation(o).run();
}

export { roleName };
