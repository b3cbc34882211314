// The embedding example (native/examples/minimal): a Pico SDK project of a user's that links picowire's
// host library and runs the core. Built as a user would, with its own CMake project, and booted in rp2040js:
// the core must start through the C host and the main loop run. Needs the Pico SDK, picotool, cmake,
// wasm2c, the ARM toolchain and the RP2040 boot ROM (`npm run deps`); in CI a missing one fails.
import { expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { firmwareEnv, ROOT } from "../../tools/build/firmware.ts";
import { findBootrom, runImage } from "../../tools/emu/run.ts";
import { needs } from "../helpers/inputs.ts";

const env = firmwareEnv();
const bootrom = findBootrom();
const BUILD = join(ROOT, "build", "example-minimal");
const UF2 = join(BUILD, "picowire_minimal.uf2");

needs([...env.missing, "missing" in bootrom ? bootrom.missing : null]).describe("the embedding example (native/examples/minimal)", () => {
  it("builds as a standalone Pico SDK project and runs the core in rp2040js", async () => {
    const wasm = join(ROOT, "build", "picowire.wasm");
    expect(existsSync(wasm), "npm run build makes build/picowire.wasm").toBe(true);
    const configure = spawnSync(
      "cmake",
      ["-S", join(ROOT, "native/examples/minimal"), "-B", BUILD, `-DPICO_SDK_PATH=${env.sdk}`, `-Dpicotool_DIR=${env.picotoolDir}`, "-DCMAKE_BUILD_TYPE=MinSizeRel"],
      { encoding: "utf8", timeout: 300_000 },
    );
    expect(configure.status, configure.stdout + configure.stderr).toBe(0);
    const build = spawnSync("cmake", ["--build", BUILD, "-j", "2"], { encoding: "utf8", timeout: 600_000 });
    expect(build.status, (build.stdout + build.stderr).slice(-4000)).toBe(0);
    expect(existsSync(UF2)).toBe(true);

    const r = await runImage(UF2, { until: "minimal: done", simulatedMs: 20_000, timeoutMs: 240_000 });
    expect(r.done, r.output).toBe(true);
    expect(r.output).toMatch(/minimal: core running, colour 0x[0-9a-f]{6}/);
    expect(r.output).not.toMatch(/did not start|trapped|PANIC/);
  }, 900_000);
});
