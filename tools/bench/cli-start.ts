// How long `picowire --help` takes to start: the package's compiled CLI (dist/, what `npm pack` ships)
// against the TypeScript sources through tsx (a checkout without dist/), runs interleaved so both see the
// same machine load. Compiles dist/ for the measurement and removes it again (a checkout runs its sources).
//
//   npx tsx tools/bench/cli-start.ts [RUNS]     (default 10 of each; also the end of npm run bench)
import { spawnSync } from "node:child_process";
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../build/firmware.ts";
import { compileCli, removeDist, DIST } from "../build/pack.ts";

/** Compiled ≤ this fraction of the tsx start: the reason dist/ exists. */
export const TARGET_RATIO = 0.5;
const BIN = join(ROOT, "bin", "picowire.js");

function once(): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, "--help"], { stdio: "ignore", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`picowire --help exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export function cliStartReport(runs = 10): string {
  if (existsSync(DIST)) throw new Error(`${DIST} exists already (left by an interrupted npm pack?): remove it first`);
  const compiled: number[] = [];
  const tsx: number[] = [];
  const away = `${DIST}.bench-${process.pid}`;
  compileCli();
  try {
    for (let i = 0; i < runs; i++) {
      compiled.push(once()); // dist/ present: bin/picowire.js runs it
      renameSync(DIST, away);
      tsx.push(once()); // dist/ absent: bin/picowire.js registers tsx
      renameSync(away, DIST);
    }
  } finally {
    if (existsSync(away)) renameSync(away, DIST);
    removeDist();
  }
  const ratio = median(compiled) / median(tsx);
  return `cli start (picowire --help, median of ${runs}): compiled ${median(compiled).toFixed(0)} ms, tsx ${median(tsx).toFixed(0)} ms: ` +
    `${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x) ${ratio <= TARGET_RATIO ? "ok" : "MISSED"}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) console.log(cliStartReport(Number(process.argv[2] ?? 10)));
