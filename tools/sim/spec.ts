// A run as the user states it (the CLI's flags), turned into the simulator's options. The same spec
// gives the replay command, so any failing run, from the CLI or a test, prints how to rerun it exactly.
import { Prng } from "./clock.ts";
import { masterKills, randomFaults, type Fault } from "./faults.ts";
import type { SimOptions, Topology } from "./run.ts";

export interface SimSpec {
  nodes: number;
  topology: Topology;
  seconds: number;
  seed: number;
  loss?: number;
  dup?: number;
  reorder?: number;
  /** one-way unicast latency range in ms (default 1..8) */
  latencyMs?: [number, number];
  /** master kills: first at killMasterAt seconds, `kills` of them, `killEvery` seconds apart */
  killMasterAt?: number;
  kills?: number;
  killEvery?: number;
  /** a killed master powers on again after this many seconds (default: stays dead) */
  rebootAfter?: number;
  /** loss, duplication, reordering and a fault schedule drawn from the seed */
  chaos?: boolean;
  unsafeVotes?: boolean;
  heartbeatMs?: number;
  electionMs?: number;
  deadMs?: number;
  voters?: number;
  /** topology ap: who drives the radio (default core) */
  radio?: "core" | "host";
  /** board clocks start 30 s before the u32 millisecond wrap */
  wrap?: boolean;
  /** liveness bound after the last fault (ms); default from the bus timing and the topology */
  boundMs?: number;
}

export const SIM_DEFAULTS = { heartbeatMs: 200, electionMs: 1000, deadMs: 3000, voters: 5 };

/** The options that replay `spec` (same seed => byte-identical timeline). */
export function specToArgs(spec: SimSpec): string[] {
  const a = ["--nodes", `${spec.nodes}`, "--topology", spec.topology, "--seconds", `${spec.seconds}`, "--seed", `${spec.seed}`];
  const num = (flag: string, v: number | undefined) => v !== undefined && a.push(flag, `${v}`);
  num("--loss", spec.loss);
  num("--dup", spec.dup);
  num("--reorder", spec.reorder);
  if (spec.latencyMs) a.push("--latency-ms", spec.latencyMs.join(","));
  num("--kill-master-at", spec.killMasterAt);
  num("--kills", spec.kills);
  num("--kill-every", spec.killEvery);
  num("--reboot-after", spec.rebootAfter);
  num("--heartbeat-ms", spec.heartbeatMs);
  num("--election-ms", spec.electionMs);
  num("--dead-ms", spec.deadMs);
  num("--voters", spec.voters);
  num("--bound-ms", spec.boundMs);
  if (spec.chaos) a.push("--chaos");
  if (spec.unsafeVotes) a.push("--unsafe-votes");
  if (spec.wrap) a.push("--wrap");
  if (spec.radio) a.push("--radio", spec.radio);
  return a;
}

export function replayCommand(spec: SimSpec): string {
  return `node bin/picowire.js sim ${specToArgs(spec).join(" ")}`;
}

export function specToOptions(spec: SimSpec): SimOptions {
  const heartbeatMs = spec.heartbeatMs ?? SIM_DEFAULTS.heartbeatMs;
  const electionMs = spec.electionMs ?? SIM_DEFAULTS.electionMs;
  const deadMs = spec.deadMs ?? SIM_DEFAULTS.deadMs;
  const voters = spec.voters ?? SIM_DEFAULTS.voters;
  let { loss = 0, dup = 0, reorder = 0 } = spec;
  const faults: Fault[] = [];
  const endMs = spec.seconds * 1000;
  const wifiMs = spec.topology === "home" ? 0 : 6000; // scan + join + DHCP + the core's backoff, generously
  const boundMs = spec.boundMs ?? deadMs + 3 * electionMs + 2000 + wifiMs;
  if (spec.chaos) {
    const rng = new Prng(spec.seed, "chaos");
    loss = spec.loss ?? Math.round(rng.next() * 100) / 1000; // 0..10 %
    dup = spec.dup ?? Math.round(rng.next() * 50) / 1000; // 0..5 %
    reorder = spec.reorder ?? Math.round(rng.next() * 100) / 1000; // 0..10 %
    faults.push(...randomFaults(rng, spec.nodes, voters, 1000, endMs - boundMs - 1000, spec.topology));
  }
  if (spec.killMasterAt !== undefined) {
    faults.push(...masterKills(spec.killMasterAt, spec.kills ?? 1, spec.killEvery ?? 10, spec.rebootAfter));
  }
  return {
    nodes: spec.nodes,
    topology: spec.topology,
    seconds: spec.seconds,
    seed: spec.seed,
    link: { loss, dup, reorder, ...(spec.latencyMs ? { latencyMs: spec.latencyMs } : {}) },
    bus: { heartbeatMs, electionMs, deadMs, voters, unsafeVotes: !!spec.unsafeVotes },
    faults: faults.sort((a, b) => a.t - b.t),
    boundMs,
    wrap: spec.wrap,
    radio: spec.radio,
    replay: replayCommand(spec),
  };
}
