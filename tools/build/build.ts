// `npm run build`: generated files, then build/picowire.wasm (release) and its debug twin, then the
// firmware where the Pico SDK and the ARM toolchain exist; otherwise it says plainly what was skipped.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ROOT, OUTPUTS, loadSpec, staleOutputs } from "../abi/generate.ts";
import { writeFileSync } from "node:fs";
import { checkBudgets } from "../wasm/size.ts";

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
}

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

const spec = loadSpec();
for (const file of staleOutputs(spec)) {
  writeFileSync(join(ROOT, file), OUTPUTS.find(([f]) => f === file)![1](spec));
  console.log(`gen: wrote ${file}`);
}
const asc = join(ROOT, "node_modules", ".bin", "asc");
run(asc, ["assembly/index.ts", "--target", "release"]);
run(asc, ["assembly/index.ts", "--target", "debug"]);
const wasm = readFileSync(join(ROOT, "build", "picowire.wasm"));
console.log(`build/picowire.wasm: ${wasm.length} bytes, sha256 ${createHash("sha256").update(wasm).digest("hex")}`);
const broken = checkBudgets(wasm);
if (broken.length) {
  for (const b of broken) console.error(`BUDGET BROKEN: ${b}`);
  console.error("build failed: the core no longer fits the board (npm run size shows where the bytes go)");
  process.exit(1);
}

const missing = [
  !process.env.PICO_SDK_PATH && "PICO_SDK_PATH is not set",
  !has("arm-none-eabi-gcc") && "arm-none-eabi-gcc is not installed",
  !has("cmake") && "cmake is not installed",
].filter(Boolean);
if (missing.length) {
  console.log(`firmware: SKIPPED, build/picowire.uf2 not built (${missing.join("; ")}). See README "Firmware".`);
} else {
  console.log("firmware: SKIPPED, build/picowire.uf2 not built (the Pico W firmware target lands with the native host issue).");
}
