// Two or more cores side by side on V8 with `npm run bench`'s WebSocket comparison (tools/bench/ws.ts):
// for each message size, each core's first candidate (frame parser + unmask + echo header) is run
// interleaved in one process, best of 7 rounds, and printed as MB/s. Used to compare variants of the
// same core (for example the unmask loop in u64 vs u32 words) on the engine the tests use.
//
//   npx tsx tools/emu/cores-v8.ts a.wasm b.wasm [...]
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { compare, type Comparison } from "../bench/measure.ts";
import { wsComparisons } from "../bench/ws.ts";

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error("usage: npx tsx tools/emu/cores-v8.ts a.wasm b.wasm [...]");
  process.exit(2);
}
const perCore = files.map((f) => wsComparisons(readFileSync(f), { quiet: true }));
for (let i = 0; i < perCore[0].length; i++) {
  const c: Comparison = {
    title: perCore[0][i].title,
    unit: perCore[0][i].unit,
    ops: perCore[0][i].ops,
    candidates: perCore.map((cs, k) => ({ ...cs[i].candidates[0], name: basename(files[k]) })),
  };
  const r = compare(c);
  console.log(`${perCore[0][i].title}: ${r.map((x) => `${x.name} ${(x.opsPerSec / 1e6).toFixed(1)} MB/s`).join(", ")}`);
}
