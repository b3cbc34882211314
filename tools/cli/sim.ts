// `picowire sim`: the deterministic bus simulator (tools/sim).
import { parseArgs } from "node:util";
import { simulate, TOPOLOGIES, type Topology } from "../sim/run.ts";
import { specToOptions, SIM_DEFAULTS, type SimSpec } from "../sim/spec.ts";
import { jsonReport, textReport } from "../sim/report.ts";
import { readCore } from "./wasm.ts";

export const SIM_USAGE = `usage: picowire sim [options]   N virtual boards on a simulated network, in virtual time
  --nodes N            boards (default 5, at most 128)
  --topology T         home (all on one network) | ap (board 0 is the access point) | auto (default home)
  --radio core|host    topology ap: the core drives the radio (wifi_mode=ap/sta, default) or the host
                       does (wifi_mode=off; board 0's access point, the others rejoin every 2 s)
  --seconds S          virtual seconds to run (default 60)
  --seed N             seed of everything random (default 1): same seed, same timeline
  --loss P --dup P --reorder P   per-datagram probabilities (default 0)
  --latency-ms A,B     one-way unicast latency, uniform (default 1,8; broadcasts add 0-102 for DTIM)
  --kill-master-at S   kill the master at S seconds; --kills N of them, --kill-every S apart (default 10)
  --reboot-after S     a killed master powers on again after S seconds (default: stays dead)
  --chaos              loss, duplication, reordering, crashes, reboots, partitions drawn from the seed
  --unsafe-votes       the deliberately broken election (bus_unsafe_votes=1): must be caught
  --heartbeat-ms N --election-ms N --dead-ms N --voters N   bus timing (default ${SIM_DEFAULTS.heartbeatMs}/${SIM_DEFAULTS.electionMs}/${SIM_DEFAULTS.deadMs}, ${SIM_DEFAULTS.voters} voters)
  --bound-ms N         liveness bound after the last fault (default dead + 3 x election + 2 s, + 6 s off home)
  --wrap               board clocks start 30 s before the u32 millisecond wrap
  --json               one JSON object instead of the timeline
  --timeline-max N     timeline lines printed (default 400)
  --log-level L        print the cores' log lines at or above L (error | warn | info | debug)
  --wasm FILE          core to run (default build/picowire.wasm)
Exit status 1 when an invariant was violated; the report gives the seed and the replay command.`;

function num(v: string | undefined, flag: string, int = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw new Error(`${flag} expects a${int ? "n integer" : " number"}, not '${v}'`);
  return n;
}

export function simSpec(argv: string[]): SimSpec & { json: boolean; timelineMax: number; logLevel?: string; wasm?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: "string", default: "5" },
      topology: { type: "string", default: "home" },
      seconds: { type: "string", default: "60" },
      seed: { type: "string", default: "1" },
      loss: { type: "string" },
      dup: { type: "string" },
      reorder: { type: "string" },
      "latency-ms": { type: "string" },
      "kill-master-at": { type: "string" },
      kills: { type: "string" },
      "kill-every": { type: "string" },
      "reboot-after": { type: "string" },
      chaos: { type: "boolean", default: false },
      "unsafe-votes": { type: "boolean", default: false },
      "heartbeat-ms": { type: "string" },
      "election-ms": { type: "string" },
      "dead-ms": { type: "string" },
      voters: { type: "string" },
      "bound-ms": { type: "string" },
      wrap: { type: "boolean", default: false },
      radio: { type: "string" },
      json: { type: "boolean", default: false },
      "timeline-max": { type: "string", default: "400" },
      "log-level": { type: "string" },
      wasm: { type: "string" },
    },
    strict: true,
  });
  const topology = values.topology as Topology;
  if (!TOPOLOGIES.includes(topology)) throw new Error(`--topology must be one of ${TOPOLOGIES.join(", ")}`);
  if (values.radio !== undefined && values.radio !== "core" && values.radio !== "host") throw new Error("--radio must be core or host");
  const nodes = num(values.nodes, "--nodes", true)!;
  if (nodes < 1 || nodes > 128) throw new Error("--nodes must be 1 to 128");
  const seconds = num(values.seconds, "--seconds")!;
  if (!(seconds > 0 && seconds <= 3600)) throw new Error("--seconds must be in (0, 3600]");
  for (const k of ["loss", "dup", "reorder"] as const) {
    const p = num(values[k], `--${k}`);
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new Error(`--${k} is a probability (0 to 1)`);
  }
  let latencyMs: [number, number] | undefined;
  if (values["latency-ms"] !== undefined) {
    const m = /^(\d+),(\d+)$/.exec(values["latency-ms"]);
    if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 60000) throw new Error("--latency-ms expects MIN,MAX in ms (MIN <= MAX)");
    latencyMs = [Number(m[1]), Number(m[2])];
  }
  const kills = num(values.kills, "--kills", true);
  if (kills !== undefined && (kills < 1 || kills > 1000)) throw new Error("--kills must be 1 to 1000");
  if (kills !== undefined && values["kill-master-at"] === undefined) throw new Error("--kills needs --kill-master-at");
  return {
    nodes,
    topology,
    seconds,
    seed: num(values.seed, "--seed", true)! >>> 0,
    loss: num(values.loss, "--loss"),
    dup: num(values.dup, "--dup"),
    reorder: num(values.reorder, "--reorder"),
    latencyMs,
    killMasterAt: num(values["kill-master-at"], "--kill-master-at"),
    kills,
    killEvery: num(values["kill-every"], "--kill-every"),
    rebootAfter: num(values["reboot-after"], "--reboot-after"),
    chaos: values.chaos || undefined,
    unsafeVotes: values["unsafe-votes"] || undefined,
    heartbeatMs: num(values["heartbeat-ms"], "--heartbeat-ms", true),
    electionMs: num(values["election-ms"], "--election-ms", true),
    deadMs: num(values["dead-ms"], "--dead-ms", true),
    voters: num(values.voters, "--voters", true),
    boundMs: num(values["bound-ms"], "--bound-ms", true),
    wrap: values.wrap || undefined,
    radio: values.radio as "core" | "host" | undefined,
    json: values.json!,
    timelineMax: num(values["timeline-max"], "--timeline-max", true)!,
    logLevel: values["log-level"],
    wasm: values.wasm,
  };
}

export async function simCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help")) return console.log(SIM_USAGE), 0;
  const spec = simSpec(argv);
  const opts = specToOptions(spec);
  opts.wasm = readCore(spec.wasm);
  if (spec.logLevel) {
    if (!["error", "warn", "info", "debug"].includes(spec.logLevel)) throw new Error("--log-level must be error, warn, info or debug");
    opts.logLevel = spec.logLevel as never;
    opts.onLog = (line) => console.error(line);
  }
  const started = Date.now();
  const result = await simulate(opts);
  const wall = Date.now() - started;
  console.log(spec.json ? jsonReport(result, wall) : textReport(result, { timelineMax: spec.timelineMax, wallMs: wall }));
  return result.violations ? 1 : 0;
}
