// `npm run bench`: every comparison, printed as ratios measured side by side in this run.
// Later issues add their comparisons to the list below.
import "../build/deps-env.ts"; // the firmware inputs `npm run deps` prepared, as the build and the tests read them
import { createHash } from "node:crypto";
import { readCore } from "../cli/wasm.ts";
import { compare, report, type Comparison } from "./measure.ts";
import { rgbComparisons } from "./rgb.ts";
import { wsComparisons, wsReport } from "./ws.ts";
import { lightsComparisons, lightsReport } from "./lights.ts";

const wasm = readCore();
console.log(`picowire bench: build/picowire.wasm sha256 ${createHash("sha256").update(wasm).digest("hex").slice(0, 16)}, node ${process.version}`);
const comparisons: Comparison[] = [...rgbComparisons(wasm)];
for (const c of comparisons) console.log(report(c, compare(c)));
for (const c of wsComparisons(wasm)) console.log(wsReport(c, compare(c)));
for (const c of lightsComparisons(wasm)) console.log(lightsReport(c, compare(c)));
// the RP2040 figures (rp2040js): both engines and the plain C loop side by side (tools/bench/emu.ts)
const { emuReport, wifiHeapReport } = await import("./emu.ts");
console.log(await emuReport());
console.log(await wifiHeapReport()); // issue 22: the board's heap beside WiFi, measured
// build/picowire.uf2 with the CYW43439 model: WiFi join, first request, cycles per request (tools/bench/radio.ts)
console.log(await (await import("./radio.ts")).radioReport());
// what the board's 16 KiB flash cache would add to those figures (a cache model; tools/bench/xip.ts)
const { EMU_UF2, EMU_WASM3_UF2 } = await import("../build/firmware.ts");
const { existsSync } = await import("node:fs");
if (existsSync(EMU_UF2) || existsSync(EMU_WASM3_UF2)) {
  const { spawnSync } = await import("node:child_process");
  spawnSync(process.execPath, ["--import", "tsx", new URL("./xip.ts", import.meta.url).pathname], { stdio: "inherit", timeout: 600_000 });
}
// the CLI's start-up: the package's compiled dist/ against tsx (tools/bench/cli-start.ts)
console.log((await import("./cli-start.ts")).cliStartReport());
process.exit(0); // rp2040js leaves timers behind
