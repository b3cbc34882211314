// The RP2040 side of `npm run bench`: the picowire_emu images (wasm2c, and wasm3 where built) run in
// rp2040js at 125 MHz, their "bench:" lines side by side with the plain C loop and issue 4's targets.
// Cycles are exact in rp2040js (no flash-cache misses modelled: best cases); one run each.
//
//   npx tsx tools/bench/emu.ts          (npm run build first, with the Pico SDK and WASM3_PATH set)
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { EMU_UF2, EMU_WASM3_HEAP_KB, EMU_WASM3_UF2, PICO_WASM3_BUILD, firmwareSizes } from "../build/firmware.ts";
import { findBootrom, runImage } from "../emu/run.ts";

/** Issue 4: WebSocket unmask + parse of 1 KiB frames, cycles per byte. */
const TARGET = { wasm2c: 6, wasm3: 62 };
/** Heap free on the wasm3 WiFi firmware before the core is loaded: the RAM its linker map leaves to malloc
 *  (lwIP's heap and pools and the CYW43 buffers are static; the WiFi image's boot line, free heap with the
 *  core running, matches this less the core's load, test/firmware.test.ts). */
function freeBeforeCore(): number | null {
  const dir = join(PICO_WASM3_BUILD, "native", "pico");
  if (!existsSync(join(dir, "picowire.elf.map"))) return null;
  return firmwareSizes(join(dir, "picowire.elf"), join(dir, "picowire.uf2")).heapBytes;
}
/** What must stay free beside WiFi once the core runs. */
const KEEP_FREE = 48 * 1024;

interface Run {
  engine: string;
  sha: string;
  bench: Map<string, number>;
  wasm3?: string; // wasm3's own heap line after the load
  heapAtEnd?: number;
  error?: string;
}

async function runEmu(image: string, sramKb?: number): Promise<Run> {
  const r = await runImage(image, { timeoutMs: 600_000, sramKb });
  const out = r.output;
  const engine = out.match(/engine (\w+)/)?.[1] ?? "?";
  const sha = out.match(/sha256 ([0-9a-f]{64})/)?.[1] ?? "?";
  const bench = new Map<string, number>();
  for (const m of out.matchAll(/^bench: (.+?)\s+([0-9.]+) cycles\/\S+$/gm)) bench.set(m[1].trim(), Number(m[2]));
  const run: Run = { engine, sha, bench };
  run.wasm3 = out.match(/wasm3: (\d+ bytes after compiling .*?)\)/)?.[1];
  const end = out.match(/C heap used by the engine at the end: (\d+)/);
  if (end) run.heapAtEnd = Number(end[1]);
  if (!r.done) run.error = out.includes("*** PANIC ***") ? `panicked: ${out.slice(out.indexOf("*** PANIC ***")).trim().split("\n").slice(0, 3).join(" ")}` : "did not finish";
  return run;
}

const ROWS: [string, string, string?][] = [
  // [label, the image's bench line, the plain C line beside it]
  ["ws unmask+parse 1 KiB frames (cycles/B)", "ws unmask+parse 1 KiB frames, core", "ws unmask+parse 1 KiB frames, plain C"],
  ["ws echo 1 KiB frames streamed, canary off", "ws echo 1 KiB frames streamed, canary off"],
  ["ws echo 1 KiB frames, idle between, canary off", "ws echo 1 KiB masked frames, canary off"],
  ["unmask alone, C u32 words (cycles/B)", "unmask, native C, u32 words"],
  ["rgb text parse (cycles/B)", "rgb text parse through the core (per byte)"],
  ["one export call (cycles)", "one export call through the engine (stat)"],
  ["pw_host_service with a tick, canary off (cycles)", "pw_host_service, tick, canary off"],
  ["480-px DDP frame (cycles/px)", "480-px DDP frame -> gamma -> GRB -> show (pixel)"],
];

export async function emuReport(): Promise<string> {
  const lines: string[] = [];
  const boot = findBootrom();
  if ("missing" in boot) return `RP2040 (rp2040js): SKIPPED, missing ${boot.missing}`;
  const want = createHash("sha256").update(readFileSync("build/picowire.wasm")).digest("hex");
  const runs: Run[] = [];
  for (const [image, sram] of [[EMU_UF2, undefined], [EMU_WASM3_UF2, EMU_WASM3_HEAP_KB ? 1024 : undefined]] as const) {
    if (!existsSync(image)) {
      lines.push(`  (${image} not built: npm run build with PICO_SDK_PATH${image === EMU_WASM3_UF2 ? " and WASM3_PATH" : ""} set)`);
      continue;
    }
    const r = await runEmu(image, sram);
    if (r.sha !== want) r.error = `${image} embeds core ${r.sha.slice(0, 16)}, not build/picowire.wasm (${want.slice(0, 16)}): npm run build`;
    runs.push(r);
  }
  lines.unshift(`RP2040 in rp2040js, 125 MHz, cycles (one run each; core sha256 ${want})`);
  if (!runs.length) return lines.join("\n");
  const col = (s: string, w = 12) => s.padStart(w);
  lines.push(`  ${"".padEnd(48)}${runs.map((r) => col(r.engine)).join("")}${col("plain C")}${col("target")}`);
  for (const [label, key, cKey] of ROWS) {
    const vals = runs.map((r) => (r.bench.has(key) ? r.bench.get(key)!.toFixed(2) : "-"));
    const c = cKey ? runs.find((r) => r.bench.has(cKey))?.bench.get(cKey)?.toFixed(2) ?? "-" : "";
    const target = key === ROWS[0][1] ? runs.map((r) => `≤${TARGET[r.engine as keyof typeof TARGET] ?? "?"}`).join(" / ") : "";
    lines.push(`  ${label.padEnd(48)}${vals.map((v) => col(v)).join("")}${col(c)}${col(target)}`);
  }
  const parse = runs.map((r) => ({ r, v: r.bench.get(ROWS[0][1]), t: TARGET[r.engine as keyof typeof TARGET] }));
  for (const { r, v, t } of parse)
    if (v !== undefined && t !== undefined) lines.push(`  ${r.engine}: unmask+parse ${v.toFixed(2)} cycles/B, ${v <= t ? "within" : `${(v / t).toFixed(2)}x`} issue 4's ${t}`);
  for (const r of runs) {
    if (r.error) lines.push(`  ${r.engine}: ${r.error}`);
    if (r.wasm3) {
      const heap = Number(r.wasm3.match(/^(\d+)/)![1]);
      lines.push(`  wasm3 RAM, whole core compiled at load: ${r.wasm3})`);
      const free = freeBeforeCore();
      if (free === null) {
        lines.push("  wasm3 beside WiFi: the wasm3 WiFi image is not built (npm run build with WASM3_PATH)");
        continue;
      }
      const left = free - heap;
      lines.push(
        `  wasm3 beside WiFi: ${free} B free before the core (the WiFi image's linker map) - ${heap} = ${left} B; ` +
          (left >= KEEP_FREE ? `fits with ${left} B free` : `does NOT fit: ${KEEP_FREE - left} B short of keeping ${KEEP_FREE} B free`),
      );
    }
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await emuReport());
  process.exit(0); // rp2040js leaves timers behind
}
