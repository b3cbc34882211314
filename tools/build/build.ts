// `npm run build`: generated files, then build/picowire.wasm (release) and its debug twin, then the
// firmware where the Pico SDK and the ARM toolchain exist; otherwise it says plainly what was skipped.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ROOT, renderOutput, loadSpec, staleOutputs } from "../abi/generate.ts";
import { writeFileSync } from "node:fs";
import { checkBudgets } from "../wasm/size.ts";
import { mergeDataSegments } from "./merge-data.ts";
import { shrink } from "./shrink.ts";
import { buildFirmware } from "./firmware.ts";
import { buildDashboard } from "./dashboard.ts";
import { buildSetupPage } from "./setup.ts";


/** asc, with its binaryen's "Last converge was suboptimal." left out: it only means binaryen stopped
 *  iterating early, which tools/build/shrink.ts's extra round makes up for; everything else is shown. */
function asc(args: string[]): void {
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "asc"), args, { cwd: ROOT, encoding: "utf8" });
  const shown = (text: string) => text.split("\n").filter((l) => l.trim() !== "Last converge was suboptimal.").join("\n");
  process.stdout.write(shown(r.stdout ?? ""));
  process.stderr.write(shown(r.stderr ?? ""));
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const spec = loadSpec();
for (const file of staleOutputs(spec)) {
  writeFileSync(join(ROOT, file), renderOutput(file, spec));
  console.log(`gen: wrote ${file}`);
}
// the transform compacts text literals (tools/build/ascii-literals.mjs); asconfig.json cannot name a
// local transform file, so it is passed here
const TRANSFORM = ["--transform", "./tools/build/ascii-literals.mjs"];
// --debug only adds the name section; shrink() drops it from the binary and keeps it in the .wat
asc(["assembly/index.ts", "--target", "release", "--debug", ...TRANSFORM]);
asc(["assembly/index.ts", "--target", "debug", ...TRANSFORM]);
// one data segment per literal costs headers the board pays for in RAM: merge them (image unchanged)
const wasmPath = join(ROOT, "build", "picowire.wasm");
// one more binaryen round where asc's stopped early (tools/build/shrink.ts), then the segments merged
const shrunk = shrink(readFileSync(wasmPath));
writeFileSync(join(ROOT, "build", "picowire.wat"), shrunk.wat);
const g = shrunk.globals;
console.log(`build/picowire.wasm: ${g.moved} module globals moved to ${g.bytes} bytes of low memory, ${g.kept} kept (tools/build/globals-to-memory.ts)`);
const emitted = shrunk.wasm;
const wasm = mergeDataSegments(emitted);
writeFileSync(wasmPath, wasm);
console.log(`build/picowire.wasm: data segments merged, ${emitted.length} -> ${wasm.length} bytes`);
console.log(`build/picowire.wasm: ${wasm.length} bytes, sha256 ${createHash("sha256").update(wasm).digest("hex")}`);
const broken = checkBudgets(wasm);
if (broken.length) {
  for (const b of broken) console.error(`BUDGET BROKEN: ${b}`);
  console.error("build failed: the core no longer fits the board (npm run size shows where the bytes go)");
  process.exit(1);
}
// the dashboard page the boards serve on GET / (build/index.html.gz, tools/build/dashboard.ts)
try {
  buildDashboard();
  buildSetupPage(); // what an unconfigured board serves instead (tools/build/setup.ts)
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}

// The Pico W firmware (tools/build/firmware.ts): built where the Pico SDK and the ARM toolchain exist,
// otherwise it prints what is missing and that the step was skipped.
try {
  buildFirmware();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
