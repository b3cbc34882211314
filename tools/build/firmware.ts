// The Pico W firmware step of `npm run build`: configure and build the top-level CMakeLists.txt into
// build/pico, copy the UF2s to build/, print sizes. Where the Pico SDK, the ARM toolchain, cmake,
// wasm2c or picotool are missing it prints exactly what is missing and that the step was skipped.
//
//   PICO_SDK_PATH=/work/deps/pico-sdk picotool_DIR=/work/deps/picotool/picotool npm run build
//   npx tsx tools/build/firmware.ts          (the firmware step alone)
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const PICO_BUILD = join(ROOT, "build", "pico");
export const FIRMWARE_UF2 = join(ROOT, "build", "picowire.uf2");
export const EMU_UF2 = join(ROOT, "build", "picowire-emu.uf2");
/** The wasm3 benchmark image for rp2040js (built where WASM3_PATH is set): a measurement image whose
 *  heap lies past the real SRAM, because wasm3 with the whole core does not fit the board's heap. */
export const EMU_WASM3_UF2 = join(ROOT, "build", "picowire-emu-wasm3.uf2");
export const PICO_WASM3_BUILD = join(ROOT, "build", "pico-wasm3");
/** KiB of heap the wasm3 measurement image gets past the real SRAM (run it with --sram-kb 1024). */
/** KiB of heap past the real SRAM for the wasm3 emulator image (a measurement layout, rp2040js only); 0: the
 *  board's own layout, which holds wasm3 and the whole core since the compiled code lives in flash. */
export const EMU_WASM3_HEAP_KB = 0;
const OUT_DIR = join(PICO_BUILD, "native", "pico");
export const UF2_MAX_BYTES = 1024 * 1024;

function which(cmd: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** picotool's CMake package dir: picotool_DIR / PICOTOOL_DIR, else next to the SDK (deps/picotool/picotool). */
function findPicotoolDir(sdk: string | undefined): string | null {
  const cands = [process.env.picotool_DIR, process.env.PICOTOOL_DIR];
  if (sdk) cands.push(join(dirname(resolve(sdk)), "picotool", "picotool"), join(dirname(resolve(sdk)), "picotool"));
  for (const c of cands) if (c && existsSync(join(c, "picotoolConfig.cmake"))) return resolve(c);
  return null;
}

export interface FirmwareEnv {
  sdk?: string;
  picotoolDir?: string;
  missing: string[];
}

/** What the firmware build needs, and what of it is missing (human-readable, one item each). */
export function firmwareEnv(): FirmwareEnv {
  const missing: string[] = [];
  const sdk = process.env.PICO_SDK_PATH;
  if (!sdk) missing.push("PICO_SDK_PATH is not set (a pico-sdk 2.2.0 checkout with lib/cyw43-driver and lib/lwip)");
  else if (!existsSync(join(sdk, "pico_sdk_init.cmake"))) missing.push(`PICO_SDK_PATH=${sdk} is not a Pico SDK`);
  if (!which("arm-none-eabi-gcc")) missing.push("arm-none-eabi-gcc is not installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib)");
  if (!which("cmake")) missing.push("cmake is not installed");
  if (!which("wasm2c")) missing.push("wasm2c is not installed (apt-get install wabt)");
  const picotoolDir = findPicotoolDir(sdk) ?? undefined;
  if (!picotoolDir)
    missing.push("picotool is not built (build it with -DPICOTOOL_NO_LIBUSB=1 and set picotool_DIR; the SDK would otherwise download it)");
  return { sdk, picotoolDir, missing };
}

export interface FirmwareSizes {
  uf2Bytes: number;
  flashBytes: number; // __flash_binary_end - XIP base: what the image occupies in flash
  ramStaticBytes: number; // .data + .bss (+ scratch stacks), from the linker map
  heapBytes: number; // RAM left for malloc (the core's 64 KiB linear memory comes from here)
  text: number;
  data: number;
  bss: number;
}

/** Sizes of an ELF from its linker map and arm-none-eabi-size. */
export function firmwareSizes(elf: string, uf2: string): FirmwareSizes {
  const map = readFileSync(`${elf}.map`, "utf8");
  const sym = (name: string): number => {
    const m = map.match(new RegExp(`^\\s+0x([0-9a-f]+)\\s+(?:PROVIDE \\()?${name}\\b`, "m"));
    if (!m) throw new Error(`${elf}.map: no ${name}`);
    return parseInt(m[1], 16);
  };
  const size = spawnSync("arm-none-eabi-size", [elf], { encoding: "utf8" });
  const cols = size.stdout.trim().split("\n")[1]?.trim().split(/\s+/).map(Number) ?? [0, 0, 0];
  const flashEnd = sym("__flash_binary_end");
  const bssEnd = sym("__bss_end__");
  const heapLimit = sym("__HeapLimit");
  return {
    uf2Bytes: statSync(uf2).size,
    flashBytes: flashEnd - 0x10000000,
    ramStaticBytes: bssEnd - 0x20000000 + 8192, // + SCRATCH_X/Y (core 0 and core 1 boot stacks)
    heapBytes: heapLimit - bssEnd,
    text: cols[0],
    data: cols[1],
    bss: cols[2],
  };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function describeSizes(name: string, s: FirmwareSizes): string {
  return (
    `${name}: UF2 ${s.uf2Bytes} bytes; flash ${s.flashBytes} B (${kib(s.flashBytes)} of 2 MiB); ` +
    `RAM static ${s.ramStaticBytes} B (${kib(s.ramStaticBytes)} of 264 KiB), heap ${s.heapBytes} B (${kib(s.heapBytes)}); ` +
    `arm-none-eabi-size text ${s.text} data ${s.data} bss ${s.bss}`
  );
}

export interface FirmwareResult {
  built: boolean;
  skipped?: string; // why, when not built
  uf2?: string;
  emuUf2?: string;
  sizes?: FirmwareSizes;
}

function run(cmd: string, args: string[], quiet: boolean): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit", encoding: "utf8" });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
    throw new Error(`firmware: ${cmd} ${args.join(" ")} failed (status ${r.status})`);
  }
}

/** Builds the firmware for the core in build/picowire.wasm (its SHA-256 is pinned in the CMake cache,
 *  so the build fails if the embedded bytes are not the tested ones). Never throws for missing tools:
 *  it returns { built: false, skipped } after printing what is missing. */
export function buildFirmware(opts: { quiet?: boolean; engine?: string } = {}): FirmwareResult {
  const env = firmwareEnv();
  if (env.missing.length) {
    const skipped = env.missing.join("; ");
    console.log(`firmware: SKIPPED, build/picowire.uf2 not built. Missing: ${skipped}. See native/README.md "Firmware".`);
    return { built: false, skipped };
  }
  const wasm = join(ROOT, "build", "picowire.wasm");
  if (!existsSync(wasm)) throw new Error("firmware: build/picowire.wasm does not exist (build the core first)");
  // the dashboard page the firmware serves on GET / (asset index.html.gz), written by buildDashboard()
  const page = join(ROOT, "build", "index.html.gz");
  if (!existsSync(page))
    throw new Error("firmware: build/index.html.gz does not exist (npx tsx tools/build/dashboard.ts, or npm run build)");
  const sha = createHash("sha256").update(readFileSync(wasm)).digest("hex");
  const quiet = opts.quiet ?? true;
  run(
    "cmake",
    [
      "-S", ROOT, "-B", PICO_BUILD,
      `-DPICO_SDK_PATH=${resolve(env.sdk!)}`,
      `-Dpicotool_DIR=${env.picotoolDir}`,
      `-DPICOWIRE_WASM=${wasm}`,
      `-DPICOWIRE_WASM_SHA256=${sha}`,
      `-DPICOWIRE_PAGE=${page}`,
      `-DPICOWIRE_ENGINE=${opts.engine ?? process.env.PICOWIRE_ENGINE ?? "wasm2c"}`,
      // always passed, so a build directory made before the flash configuration sector (which baked
      // "http_port=80" in) cannot keep an old value: empty means "read the sector"
      `-DPICOWIRE_CONFIG=${process.env.PICOWIRE_CONFIG ?? ""}`,
      "-DCMAKE_BUILD_TYPE=Release",
    ],
    quiet,
  );
  run("cmake", ["--build", PICO_BUILD, "-j", String(Math.max(1, availableParallelism()))], quiet);
  const uf2 = join(OUT_DIR, "picowire.uf2");
  copyFileSync(uf2, FIRMWARE_UF2);
  const emu = join(OUT_DIR, "picowire_emu.uf2");
  if (existsSync(emu)) copyFileSync(emu, EMU_UF2);
  const sizes = firmwareSizes(join(OUT_DIR, "picowire.elf"), uf2);
  console.log(`firmware: build/picowire.uf2 for core sha256 ${sha}`);
  console.log(`firmware: ${describeSizes("picowire", sizes)}`);
  console.log(`firmware: serves build/index.html.gz on GET / (${statSync(page).size} bytes in flash, asset index.html.gz)`);
  if (existsSync(emu)) console.log(`firmware: ${describeSizes("picowire_emu (rp2040js image, build/picowire-emu.uf2)", firmwareSizes(join(OUT_DIR, "picowire_emu.elf"), emu))}`);
  if (sizes.uf2Bytes > UF2_MAX_BYTES) {
    throw new Error(`firmware: build/picowire.uf2 is ${sizes.uf2Bytes} bytes, over the ${UF2_MAX_BYTES}-byte budget`);
  }
  return { built: true, uf2: FIRMWARE_UF2, emuUf2: existsSync(emu) ? EMU_UF2 : undefined, sizes };
}

/** The wasm3 emulator image (picowire_emu with PICOWIRE_ENGINE=wasm3, EMU_WASM3_HEAP_KB) in
 *  build/pico-wasm3, copied to build/picowire-emu-wasm3.uf2; skipped with a message without WASM3_PATH
 *  or the firmware's tools. Only the emulator target: the wasm3 WiFi image does not fit the board. */
export function buildWasm3EmuImage(opts: { quiet?: boolean } = {}): { built: boolean; skipped?: string } {
  const env = firmwareEnv();
  const w3 = process.env.WASM3_PATH;
  const missing = [...env.missing];
  if (!w3) missing.push("WASM3_PATH is not set (a wasm3 checkout)");
  else if (!existsSync(join(w3, "source", "wasm3.h"))) missing.push(`WASM3_PATH=${w3} has no source/wasm3.h`);
  if (missing.length) {
    const skipped = missing.join("; ");
    console.log(`firmware: wasm3 emulator image SKIPPED. Missing: ${skipped}`);
    return { built: false, skipped };
  }
  const wasm = join(ROOT, "build", "picowire.wasm");
  const page = join(ROOT, "build", "index.html.gz");
  const sha = createHash("sha256").update(readFileSync(wasm)).digest("hex");
  const quiet = opts.quiet ?? true;
  run(
    "cmake",
    [
      "-S", ROOT, "-B", PICO_WASM3_BUILD,
      `-DPICO_SDK_PATH=${resolve(env.sdk!)}`,
      `-Dpicotool_DIR=${env.picotoolDir}`,
      `-DPICOWIRE_WASM=${wasm}`,
      `-DPICOWIRE_WASM_SHA256=${sha}`,
      `-DPICOWIRE_PAGE=${page}`,
      "-DPICOWIRE_ENGINE=wasm3",
      `-DWASM3_PATH=${resolve(w3!)}`,
      `-DPICOWIRE_EMU_HEAP_KB=${EMU_WASM3_HEAP_KB}`,
      `-DPICOWIRE_CONFIG=${process.env.PICOWIRE_CONFIG ?? ""}`,
      "-DCMAKE_BUILD_TYPE=Release",
    ],
    quiet,
  );
  run("cmake", ["--build", PICO_WASM3_BUILD, "--target", "picowire_emu", "-j", String(Math.max(1, availableParallelism()))], quiet);
  copyFileSync(join(PICO_WASM3_BUILD, "native", "pico", "picowire_emu.uf2"), EMU_WASM3_UF2);
  const layout = EMU_WASM3_HEAP_KB ? `${EMU_WASM3_HEAP_KB} KiB heap past the real SRAM` : "the board's RAM layout";
  console.log(`firmware: build/picowire-emu-wasm3.uf2 (wasm3 emulator image, ${layout}) for core sha256 ${sha}`);
  return { built: true };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    buildFirmware({ quiet: !process.argv.includes("--verbose") });
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
