// Long seed sweeps outside the default suite: `npx tsx tools/sim/soak.ts [FIRST] [COUNT]` runs COUNT
// chaos seeds (3-7 boards, fast timers, and the master-kill storm) and prints every failing seed with
// its replay command. Exit status 1 on any safety or liveness violation.
import { readFileSync } from "node:fs";
import { simulate } from "./run.ts";
import { replayCommand, specToOptions, type SimSpec } from "./spec.ts";

const first = Number(process.argv[2] ?? 1000);
const count = Number(process.argv[3] ?? 1000);
const wasm = new WebAssembly.Module(readFileSync("build/picowire.wasm"));
let failed = 0;
for (let seed = first; seed < first + count; seed++) {
  const specs: SimSpec[] = [
    { nodes: 3 + (seed % 5), topology: "home", seconds: 12, seed, chaos: true, heartbeatMs: 100, electionMs: 500, deadMs: 1000 },
    { nodes: 5 + (seed % 3), topology: "home", seconds: 12, seed, chaos: true, heartbeatMs: 25, electionMs: 100, deadMs: 300, killMasterAt: 1, kills: 10, killEvery: 1, rebootAfter: 0.5, latencyMs: [1, 30] },
  ];
  for (const spec of specs) {
    const o = specToOptions(spec);
    o.wasm = wasm;
    o.stopOnViolation = true;
    const r = await simulate(o);
    if (r.violation_list.length) {
      failed++;
      console.log(`seed ${seed}: ${r.violation_list.map((v) => `${v.kind}: ${v.text}`).join("; ")}\n    ${replayCommand(spec)}`);
    }
  }
}
console.log(`${count * 2} runs, ${failed} failed`);
process.exit(failed ? 1 : 0);
