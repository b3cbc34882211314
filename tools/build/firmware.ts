// The Pico W firmware step of `npm run build`: configure and build the top-level CMakeLists.txt into
// build/pico (wasm2c) and build/pico-wasm3 (wasm3, where WASM3_PATH is set), copy the UF2s to build/,
// print sizes. Where the Pico SDK, the ARM toolchain, cmake, wasm2c or picotool are missing it prints
// exactly what is missing and that the step was skipped.
//
//   npm run deps -- firmware-deps.tar.xz && npm run build     (or PICO_SDK_PATH=... picotool_DIR=... WASM3_PATH=... npm run build)
//   npx tsx tools/build/firmware.ts          (the firmware step alone)
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import "./deps-env.ts"; // the variables `npm run deps` saved, where the user set none
import { writeManifest, DEFAULT_IMAGE, WASM2C_IMAGE, MANIFEST } from "../provision/firmware-images.ts";

export const ROOT = resolve(import.meta.dirname, "..", "..");
/** The wasm2c build: its WiFi image (build/picowire-wasm2c.uf2) and the wasm2c emulator image. */
export const PICO_BUILD = join(ROOT, "build", "pico");
/** What a board is flashed with: the wasm3 image where WASM3_PATH is set (it takes new cores over the air),
 *  else the wasm2c image, with a notice. PICOWIRE_ENGINE=wasm2c picks the wasm2c image anyway. */
export const FIRMWARE_UF2 = join(ROOT, "build", "picowire.uf2");
export const FIRMWARE_WASM2C_UF2 = join(ROOT, "build", "picowire-wasm2c.uf2");
export const EMU_UF2 = join(ROOT, "build", "picowire-emu.uf2");
/** The wasm3 emulator image for rp2040js (built where WASM3_PATH is set). */
export const EMU_WASM3_UF2 = join(ROOT, "build", "picowire-emu-wasm3.uf2");
/** The wasm3 build: the board's default WiFi image and the wasm3 emulator image. */
export const PICO_WASM3_BUILD = join(ROOT, "build", "pico-wasm3");
/** KiB of heap past the real SRAM for the wasm3 emulator image (a measurement layout, rp2040js only); 0: the
 *  board's own layout, which holds wasm3 and the whole core since the compiled code lives in flash. */
export const EMU_WASM3_HEAP_KB = 0;
/** The wasm3 image is built for size (CMake MinSizeRel; wasm3's interpreter keeps -O2, native/cmake/wasm3.cmake):
 *  with Release (-O3) everywhere its UF2 is 1,127,936 B, over the budget; MinSizeRel gives 1,024,512 B. */
export const WASM3_BUILD_TYPE = "MinSizeRel";
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
  engine?: "wasm2c" | "wasm3"; // of build/picowire.uf2
}

function run(cmd: string, args: string[], quiet: boolean): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit", encoding: "utf8" });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
    throw new Error(`firmware: ${cmd} ${args.join(" ")} failed (status ${r.status})`);
  }
}

/** Where a wasm3 checkout is, or why the wasm3 images cannot be built. */
export function wasm3Env(): { path?: string; missing?: string } {
  const w3 = process.env.WASM3_PATH;
  if (!w3) return { missing: "WASM3_PATH is not set (a wasm3 checkout: git clone https://github.com/wasm3/wasm3)" };
  if (!existsSync(join(w3, "source", "wasm3.h"))) return { missing: `WASM3_PATH=${w3} has no source/wasm3.h` };
  return { path: resolve(w3) };
}

function configureAndBuild(dir: string, env: FirmwareEnv, defs: string[], quiet: boolean): void {
  const wasm = join(ROOT, "build", "picowire.wasm");
  const sha = createHash("sha256").update(readFileSync(wasm)).digest("hex");
  run(
    "cmake",
    [
      "-S", ROOT, "-B", dir,
      `-DPICO_SDK_PATH=${resolve(env.sdk!)}`,
      `-Dpicotool_DIR=${env.picotoolDir}`,
      `-DPICOWIRE_WASM=${wasm}`,
      `-DPICOWIRE_WASM_SHA256=${sha}`, // the build fails if the embedded bytes are not the tested ones
      `-DPICOWIRE_PAGE=${join(ROOT, "build", "index.html.gz")}`,
      // always passed, so a build directory made before the flash configuration sector (which baked
      // "http_port=80" in) cannot keep an old value: empty means "read the sector"
      `-DPICOWIRE_CONFIG=${process.env.PICOWIRE_CONFIG ?? ""}`,
      ...defs,
    ],
    quiet,
  );
  run("cmake", ["--build", dir, "-j", String(Math.max(1, availableParallelism()))], quiet);
}

/** Builds the firmware images for the core in build/picowire.wasm: the wasm2c images in build/pico and,
 *  where WASM3_PATH is set, the wasm3 images in build/pico-wasm3; build/picowire.uf2 is the wasm3 image
 *  (or the wasm2c one without wasm3, or with PICOWIRE_ENGINE=wasm2c). Never throws for missing tools: it
 *  returns { built: false, skipped } after printing what is missing. */
export function buildFirmware(opts: { quiet?: boolean } = {}): FirmwareResult {
  const env = firmwareEnv();
  if (env.missing.length) {
    const skipped = env.missing.join("; ");
    console.log(`firmware: SKIPPED, build/picowire.uf2 not built. Missing: ${skipped}. See docs/FIRMWARE.md.`);
    return { built: false, skipped };
  }
  const wasm = join(ROOT, "build", "picowire.wasm");
  if (!existsSync(wasm)) throw new Error("firmware: build/picowire.wasm does not exist (build the core first)");
  if (!existsSync(join(ROOT, "build", "index.html.gz")))
    throw new Error("firmware: build/index.html.gz does not exist (npx tsx tools/build/dashboard.ts, or npm run build)");
  const sha = createHash("sha256").update(readFileSync(wasm)).digest("hex");
  const quiet = opts.quiet ?? true;

  configureAndBuild(PICO_BUILD, env, ["-DPICOWIRE_ENGINE=wasm2c", "-DCMAKE_BUILD_TYPE=Release"], quiet);
  copyFileSync(join(OUT_DIR, "picowire.uf2"), FIRMWARE_WASM2C_UF2);
  copyFileSync(join(OUT_DIR, "picowire_emu.uf2"), EMU_UF2);
  const w2c = firmwareSizes(join(OUT_DIR, "picowire.elf"), FIRMWARE_WASM2C_UF2);
  console.log(`firmware: ${describeSizes("picowire-wasm2c (build/picowire-wasm2c.uf2)", w2c)}`);
  console.log(`firmware: ${describeSizes("picowire_emu (rp2040js image, build/picowire-emu.uf2)", firmwareSizes(join(OUT_DIR, "picowire_emu.elf"), EMU_UF2))}`);

  const w3 = wasm3Env();
  const forced = process.env.PICOWIRE_ENGINE;
  if (forced && forced !== "wasm2c" && forced !== "wasm3") throw new Error(`firmware: PICOWIRE_ENGINE must be wasm2c or wasm3, not ${forced}`);
  if (forced === "wasm3" && !w3.path) throw new Error(`firmware: PICOWIRE_ENGINE=wasm3 but ${w3.missing}`);
  const engine = w3.path && forced !== "wasm2c" ? "wasm3" : "wasm2c"; // of build/picowire.uf2
  let sizes = w2c;
  if (w3.path) {
    const dir = join(PICO_WASM3_BUILD, "native", "pico");
    configureAndBuild(PICO_WASM3_BUILD, env, ["-DPICOWIRE_ENGINE=wasm3", `-DWASM3_PATH=${w3.path}`,
      `-DPICOWIRE_EMU_HEAP_KB=${EMU_WASM3_HEAP_KB}`, `-DCMAKE_BUILD_TYPE=${WASM3_BUILD_TYPE}`], quiet);
    copyFileSync(join(dir, "picowire_emu.uf2"), EMU_WASM3_UF2);
    const w3sizes = firmwareSizes(join(dir, "picowire.elf"), join(dir, "picowire.uf2"));
    console.log(`firmware: ${describeSizes("picowire-wasm3", w3sizes)}`);
    console.log(`firmware: ${describeSizes("picowire_emu wasm3 (rp2040js image, build/picowire-emu-wasm3.uf2)", firmwareSizes(join(dir, "picowire_emu.elf"), EMU_WASM3_UF2))}`);
    if (engine === "wasm3") {
      copyFileSync(join(dir, "picowire.uf2"), FIRMWARE_UF2);
      sizes = w3sizes;
    }
  }
  if (engine === "wasm2c") {
    copyFileSync(FIRMWARE_WASM2C_UF2, FIRMWARE_UF2);
    const why = forced === "wasm2c" ? "PICOWIRE_ENGINE=wasm2c" : (w3.missing ?? "");
    console.log(`${"!".repeat(80)}\nfirmware: build/picowire.uf2 is the wasm2c image (${why}): it runs its core compiled in and cannot\n` +
      `take a new core over the air. Set WASM3_PATH (docs/FIRMWARE.md; npm run deps) for the board's default image.\n${"!".repeat(80)}`);
  }
  console.log(`firmware: build/picowire.uf2 (${engine}) for core sha256 ${sha}`);
  for (const [uf2, s] of [[FIRMWARE_UF2, sizes], [FIRMWARE_WASM2C_UF2, w2c]] as const)
    if (s.uf2Bytes > UF2_MAX_BYTES) throw new Error(`firmware: ${uf2} is ${s.uf2Bytes} bytes, over the ${UF2_MAX_BYTES}-byte budget`);
  writeManifest(sha, { [DEFAULT_IMAGE]: engine, [WASM2C_IMAGE]: "wasm2c" }, ROOT); // what npm pack and picowire flash check
  console.log(`firmware: ${MANIFEST}: the images and the core they embed`);
  return { built: true, uf2: FIRMWARE_UF2, emuUf2: EMU_UF2, sizes, engine };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    buildFirmware({ quiet: !process.argv.includes("--verbose") });
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
