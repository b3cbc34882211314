// `npm run deps -- PATH/firmware-deps.tar.xz`: the third-party sources the firmware build and the
// emulator tests read (pico-sdk 2.2.0 with cyw43-driver, lwIP and tinyusb; picotool 2.2.0; wasm3; rp2040js's
// boot ROM) extracted into .deps/ (ignored by git), picotool built there without libusb, and the variables
// the build and tests need written to .deps/env.json (read by tools/build/deps-env.ts: `npm run build` and
// `npm test` use them with nothing exported) and .deps/env.sh (for a shell: `. .deps/env.sh`).
// The extraction and the picotool build are reused while the bundle's SHA-256 is unchanged.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, createReadStream } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DEPS_DIR, DEPS_ENV_JSON, DEPS_ENV_KEYS } from "./deps-env.ts";

const STAMP = join(DEPS_DIR, "bundle.sha256");
const PICOTOOL_BUILD = join(DEPS_DIR, "picotool-build");
const PICOTOOL_INSTALL = join(DEPS_DIR, "picotool-install");
/** What the bundle must hold once extracted (a file each), named for the error when one is absent. */
const EXPECTED: [string, string][] = [
  ["pico-sdk/pico_sdk_init.cmake", "the Pico SDK"],
  ["pico-sdk/lib/cyw43-driver/src/cyw43_ll.c", "the SDK's cyw43-driver"],
  ["pico-sdk/lib/lwip/src/Filelists.cmake", "the SDK's lwIP"],
  ["picotool/CMakeLists.txt", "picotool's source"],
  ["wasm3/source/wasm3.h", "wasm3"],
  ["rp2040js/demo/bootrom.ts", "rp2040js's boot ROM"],
];

export class DepsError extends Error {}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

function run(cmd: string, args: string[], what: string, quiet: boolean): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: quiet ? "pipe" : "inherit", maxBuffer: 64 << 20 });
  if (r.error) throw new DepsError(`${what}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new DepsError(`${what} failed (${cmd} exited ${r.status})${quiet ? `:\n${(r.stdout ?? "") + (r.stderr ?? "")}`.slice(-4000) : ""}`);
}

export function depsEnv(dir = DEPS_DIR): Record<(typeof DEPS_ENV_KEYS)[number], string> {
  return {
    PICO_SDK_PATH: join(dir, "pico-sdk"),
    picotool_DIR: join(dir, "picotool-install", "picotool"),
    WASM3_PATH: join(dir, "wasm3"),
    RP2040_BOOTROM: join(dir, "rp2040js", "demo", "bootrom.ts"),
  };
}

function ready(sha: string): boolean {
  return (
    existsSync(STAMP) &&
    readFileSync(STAMP, "utf8").trim() === sha &&
    EXPECTED.every(([f]) => existsSync(join(DEPS_DIR, f))) &&
    existsSync(join(PICOTOOL_INSTALL, "picotool", "picotoolConfig.cmake")) &&
    existsSync(DEPS_ENV_JSON)
  );
}

/** Extracts (or reuses) the bundle and builds picotool; returns the variables for the build and tests. */
export async function prepareDeps(bundle: string, opts: { quiet?: boolean } = {}): Promise<Record<string, string>> {
  const quiet = opts.quiet ?? false;
  const path = resolve(bundle);
  if (!existsSync(path)) throw new DepsError(`${bundle}: no such file (give the path of firmware-deps.tar.xz)`);
  if (!statSync(path).isFile()) throw new DepsError(`${bundle}: not a file (give the path of firmware-deps.tar.xz)`);
  const head = readFileSync(path).subarray(0, 6);
  if (!head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw new DepsError(`${bundle}: not an xz archive (expected firmware-deps.tar.xz)`);
  const sha = await sha256File(path);
  const env = depsEnv();
  if (ready(sha)) {
    console.log(`deps: .deps/ already holds bundle ${sha.slice(0, 12)}; reused`);
    return env;
  }
  console.log(`deps: extracting ${bundle} (sha256 ${sha}) into .deps/`);
  rmSync(DEPS_DIR, { recursive: true, force: true });
  mkdirSync(DEPS_DIR, { recursive: true });
  run("tar", ["-xJf", path, "-C", DEPS_DIR], "extracting the bundle", true);
  const absent = EXPECTED.filter(([f]) => !existsSync(join(DEPS_DIR, f)));
  if (absent.length) throw new DepsError(`${bundle} is not the firmware bundle: it lacks ${absent.map(([f, w]) => `${w} (${f})`).join(", ")}`);

  // picotool without libusb: the firmware build needs it to make UF2s; it cannot `load` (see docs/FIRMWARE.md)
  console.log("deps: building picotool (about 20 s on 2 cores)");
  run(
    "cmake",
    ["-S", join(DEPS_DIR, "picotool"), "-B", PICOTOOL_BUILD, "-DPICOTOOL_NO_LIBUSB=1", `-DPICO_SDK_PATH=${env.PICO_SDK_PATH}`,
      `-DCMAKE_INSTALL_PREFIX=${PICOTOOL_INSTALL}`, "-DPICOTOOL_FLAT_INSTALL=1", "-DCMAKE_BUILD_TYPE=Release"],
    "configuring picotool (needs cmake and a host C++ compiler: apt-get install cmake g++)",
    true,
  );
  run("cmake", ["--build", PICOTOOL_BUILD, "-j", "2"], "building picotool", true);
  run("cmake", ["--install", PICOTOOL_BUILD], "installing picotool into .deps/picotool-install", true);

  writeFileSync(DEPS_ENV_JSON, JSON.stringify(env, null, 2) + "\n");
  // only sets what the user has not set, like deps-env.ts
  writeFileSync(join(DEPS_DIR, "env.sh"), Object.entries(env).map(([k, v]) => `: "\${${k}:=${v}}"; export ${k}\n`).join(""));
  writeFileSync(STAMP, sha + "\n"); // last: an interrupted run is redone
  return env;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    console.error("usage: npm run deps -- PATH/firmware-deps.tar.xz\n  extracts the firmware's third-party sources into .deps/ and builds picotool there");
    return 2;
  }
  try {
    const env = await prepareDeps(argv[0]);
    console.log("deps: ready. `npm run build` and `npm test` use them; for a shell of your own:");
    for (const [k, v] of Object.entries(env)) console.log(`  export ${k}=${v}`);
    console.log("  (or: . .deps/env.sh)");
    return 0;
  } catch (e) {
    if (!(e instanceof DepsError)) throw e;
    console.error(`deps: ${e.message}`);
    return 2;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = await main(process.argv.slice(2));
