// How the bus scales in the simulator: convergence, failover, traffic and memory for 3 -> 10 -> 100
// boards on one home network (a bench, not a test). Run: npx tsx tools/sim/scale.ts [--seconds 60] [--seed 1]
import { parseArgs } from "node:util";
import { compileCore } from "../host/core.ts";
import { readCore } from "../cli/wasm.ts";
import { simulate } from "./run.ts";
import { specToOptions } from "./spec.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "60" }, seed: { type: "string", default: "1" }, loss: { type: "string", default: "0.02" } } });
const seconds = Number(values.seconds);
const bytes = readCore();
const module = compileCore(bytes);
const rows: string[][] = [["boards", "converge ms", "failover ms", "datagrams/board/s", "B/board/s", "wakeups/board/s", "heap top B", "wasm mem B", "violations", "wall ms"]];
for (const nodes of [3, 10, 100]) {
  const o = specToOptions({ nodes, topology: "home", seconds, seed: Number(values.seed), loss: Number(values.loss), killMasterAt: seconds / 2 });
  o.wasm = module;
  const t0 = Date.now();
  const r = await simulate(o);
  rows.push([
    `${nodes}`,
    `${r.converge_ms ?? "-"}`,
    `${r.failover_ms.p50 ?? "-"}`,
    `${r.msgs_per_node_s}`,
    `${r.bytes_per_node_s}`,
    `${r.wakeups_per_node_s}`,
    `${r.memory.heap_top_max}`,
    `${r.memory.wasm_memory_bytes}`,
    `${r.violations}`,
    `${Date.now() - t0}`,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`picowire sim scale: home network, ${seconds} s virtual, master killed at ${seconds / 2} s, loss ${values.loss}, seed ${values.seed}`);
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i])).join("  "));
