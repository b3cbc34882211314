// The RP2040 side of `npm run bench`: the picowire_emu images (wasm2c, and wasm3 where built) run in
// rp2040js at 125 MHz, their "bench:" lines side by side with the plain C loop and issue 4's targets.
// Cycles are exact in rp2040js (no flash-cache misses modelled: best cases); one run each.
//
//   npx tsx tools/bench/emu.ts          (npm run build first, with the Pico SDK and WASM3_PATH set)
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { EMU_UF2, EMU_WASM3_HEAP_KB, EMU_WASM3_UF2, FIRMWARE_UF2, PICO_BUILD, PICO_WASM3_BUILD, hotOpsPlacement } from "../build/firmware.ts";
import { findBootrom, runImage } from "../emu/run.ts";
import { HEADER_BYTES } from "../host/slots.ts";
import { picoLayout } from "../provision/layout.ts";

/** Issue 4: WebSocket unmask + parse of 1 KiB frames, cycles per byte. */
const TARGET = { wasm2c: 6, wasm3: 62 };
/** Issue 22: a 480-pixel frame at 60 fps under 20% of one 125 MHz core, in cycles per pixel. */
export const LIGHTS_TARGET_CYCLES_PER_PX = Math.floor((0.2 * 125e6) / (60 * 480));

interface Run {
  engine: string;
  sha: string;
  bench: Map<string, number>;
  wasm3?: string; // wasm3's own heap line after the load
  heapAtEnd?: number;
  error?: string;
  /** Cycles from reset to the core's init returning, and the code region sectors the boot rewrote. */
  powerOn?: number;
  sectorsWritten?: number;
  /** The board's flash afterwards (the first 2 MiB). */
  flash?: Uint8Array;
}

/** Issue 22's boot targets, seconds of board time at 125 MHz. */
const BOOT_TARGET = { cached: 0.25, first: 1.5 };
/** Issue 22: what an OTA slot must hold beyond the core. */
const HEADROOM_TARGET = 12 * 1024;
/** Erase (45 ms) and 16 page programs (0.7 ms each) of one 4 KiB sector on the Pico's W25Q16 (datasheet typicals). */
const SECTOR_WRITE_MS = 45 + 16 * 0.7;
const CLK_HZ = 125e6;

function bootFigures(run: Run, out: string): void {
  run.powerOn = Number(out.match(/power-on to the core's init: (\d+) cycles/)?.[1]) || undefined;
  run.sectorsWritten = Number(out.match(/(\d+) sectors rewritten/)?.[1]);
}

async function runEmu(image: string, sramKb?: number, flash?: Uint8Array): Promise<Run> {
  let mem: Uint8Array | undefined;
  const r = await runImage(image, {
    timeoutMs: 600_000,
    sramKb,
    until: flash ? "picowire emu: core from" : undefined, // the boot alone: the benchmarks ran the first time
    setup: (sim) => {
      mem = sim.rp2040.flash;
      if (flash) mem.set(flash);
    },
  });
  const out = r.output;
  const engine = out.match(/engine (\w+)/)?.[1] ?? "?";
  const sha = out.match(/sha256 ([0-9a-f]{64})/)?.[1] ?? "?";
  const bench = new Map<string, number>();
  for (const m of out.matchAll(/^bench: (.+?)\s+([0-9.]+) cycles\/\S+$/gm)) bench.set(m[1].trim(), Number(m[2]));
  const run: Run = { engine, sha, bench };
  run.wasm3 = out.match(/wasm3: (\d+ bytes \(other -?\d+\) after (?:compiling|binding) .*?)\)/)?.[1] ?? out.match(/wasm3: (\d+ bytes after compiling .*?)\)/)?.[1];
  const end = out.match(/C heap used by the engine at the end: (\d+)/);
  if (end) run.heapAtEnd = Number(end[1]);
  if (!r.done) run.error = out.includes("*** PANIC ***") ? `panicked: ${out.slice(out.indexOf("*** PANIC ***")).trim().split("\n").slice(0, 3).join(" ")}` : "did not finish";
  bootFigures(run, out);
  run.flash = mem?.slice(0, 2 * 1024 * 1024);
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
    const target =
      key === ROWS[0][1] ? runs.map((r) => `≤${TARGET[r.engine as keyof typeof TARGET] ?? "?"}`).join(" / ") : key === ROWS[7][1] ? `≤${LIGHTS_TARGET_CYCLES_PER_PX}` : "";
    lines.push(`  ${label.padEnd(48)}${vals.map((v) => col(v)).join("")}${col(c)}${col(target)}`);
  }
  const parse = runs.map((r) => ({ r, v: r.bench.get(ROWS[0][1]), t: TARGET[r.engine as keyof typeof TARGET] }));
  for (const { r, v, t } of parse)
    if (v !== undefined && t !== undefined) lines.push(`  ${r.engine}: unmask+parse ${v.toFixed(2)} cycles/B, ${v <= t ? "within" : `${(v / t).toFixed(2)}x`} issue 4's ${t}`);
  const slot = picoLayout().slotSize - HEADER_BYTES, core = readFileSync("build/picowire.wasm").length;
  lines.push(`  core headroom in an OTA slot: ${slot} - ${core} = ${slot - core} B, target >= ${HEADROOM_TARGET}: ${slot - core >= HEADROOM_TARGET ? "met" : "NOT met"}`);
  const w3 = runs.find((r) => r.engine === "wasm3");
  if (w3?.powerOn && w3.flash) {
    // the same image powered up again on the flash the first boot left: the code region holds this core's code
    const again = await runEmu(EMU_WASM3_UF2, EMU_WASM3_HEAP_KB ? 1024 : undefined, w3.flash);
    const s = (c: number) => (c / CLK_HZ).toFixed(3);
    const writes = (w3.sectorsWritten ?? 0) * SECTOR_WRITE_MS;
    lines.push(`  wasm3 first boot after a change (compiles into flash): power-on to init ${w3.powerOn} cycles = ${s(w3.powerOn)} s, target <= ${BOOT_TARGET.first} s: ${w3.powerOn / CLK_HZ <= BOOT_TARGET.first ? "met" : "NOT met"}; plus ${w3.sectorsWritten} sectors written (~${(writes / 1000).toFixed(1)} s on the board's chip)`);
    if (again.powerOn && /after binding/.test(again.wasm3 ?? ""))
      lines.push(`  wasm3 boot with the code cached in flash: power-on to init ${again.powerOn} cycles = ${s(again.powerOn)} s, target <= ${BOOT_TARGET.cached} s: ${again.powerOn / CLK_HZ <= BOOT_TARGET.cached ? "met" : "NOT met"}`);
    else lines.push(`  wasm3 boot with the code cached in flash: did not bind (${again.error ?? again.wasm3 ?? "no wasm3 line"})`);
  }
  for (const r of runs) {
    if (r.error) lines.push(`  ${r.engine}: ${r.error}`);
    if (r.wasm3) lines.push(`  wasm3 RAM, whole core compiled at load: ${r.wasm3})`);
  }
  const px = runs.find((r) => r.engine === "wasm3")?.bench.get(ROWS[7][1]);
  if (px !== undefined)
    lines.push(
      `  wasm3: 480 px at 60 fps = ${((100 * px * 480 * 60) / 125e6).toFixed(1)}% of one core (issue 22's target: under 20%, ` +
        `${LIGHTS_TARGET_CYCLES_PER_PX} cycles/px; ${px <= LIGHTS_TARGET_CYCLES_PER_PX ? "met" : "NOT met"}; the cache model's misses: tools/bench/xip.ts)`,
    );
  return lines.join("\n");
}

/** Issue 22: the WiFi image (build/picowire.uf2, wasm3, hot op handlers in RAM) keeps this much heap free. */
export const WIFI_HEAP_TARGET = 56 * 1024;

/** Boots the board's WiFi image in rp2040js (no radio there: the core runs without a network) and reads
 *  the free heap it reports once the core runs, as test/firmware/firmware.test.ts does. */
export async function wifiHeapReport(): Promise<string> {
  if (!existsSync(FIRMWARE_UF2)) return `  WiFi image: ${FIRMWARE_UF2} not built`;
  const boot = findBootrom();
  if ("missing" in boot) return `  WiFi image: SKIPPED, missing ${boot.missing}`;
  const r = await runImage(FIRMWARE_UF2, { until: "\u0000never", simulatedMs: 6_000, timeoutMs: 120_000 });
  const engine = r.output.match(/picowire firmware: ABI v\d+, engine (\w+)/)?.[1] ?? "?";
  const free = r.output.match(/core running, stack high-water (\d+) of (\d+) bytes, free heap (\d+) bytes/);
  if (!free) return `  WiFi image (${engine}): no "core running" line in 6 s of board time`;
  const heap = Number(free[3]);
  const elf = join(engine === "wasm3" ? PICO_WASM3_BUILD : PICO_BUILD, "native", "pico", "picowire.elf");
  const hot = engine === "wasm3" && existsSync(elf) ? hotOpsPlacement(elf) : null;
  return (
    `  WiFi image (build/picowire.uf2, ${engine}${hot ? `, ${hot.inRam.length} hot wasm3 functions in RAM, ${hot.ramBytes} B` : ""}): ` +
    `free heap ${heap} B with the core running (target >= ${WIFI_HEAP_TARGET}: ${heap >= WIFI_HEAP_TARGET ? "met" : "NOT met"}); ` +
    `stack high-water ${free[1]} of ${free[2]} B`
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await emuReport());
  console.log(await wifiHeapReport());
  process.exit(0); // rp2040js leaves timers behind
}
