// The Pico W firmware reading the configuration sector, in the rp2040js emulator: build/picowire.uf2
// (built by `npm run build` where the Pico SDK is; test/firmware/firmware.test.ts builds it too) with a
// configuration UF2 from `picowire config set` loaded beside it, as the bootrom would, and without one.
// rp2040js does not model pull-ups: the test drives GP22 high (the factory-reset button not held) or
// leaves it low (held). Needs the firmware and the RP2040 bootrom; skipped loudly without them.
import { describe, it, expect } from "vitest";
import { existsSync, readFileSync, mkdtempSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIRMWARE_UF2, ROOT } from "../../tools/build/firmware.ts";
import { findBootrom, runImage } from "../../tools/emu/run.ts";
import { readUf2 } from "../../tools/provision/uf2.ts";
import { configCommand } from "../../tools/cli/config.ts";
import { needs } from "../helpers/inputs.ts";

const bootrom = findBootrom();
const wasmSha = createHash("sha256").update(readFileSync(join(ROOT, "build", "picowire.wasm"))).digest("hex");
/** Whether the firmware embeds the core these tests run (its SHA-256 text is in the image). */
function firmwareCurrent(): boolean {
  try {
    return Buffer.from(readUf2(new Uint8Array(readFileSync(FIRMWARE_UF2))).data).includes(wasmSha);
  } catch {
    return false;
  }
}
const missing = [
  ...(existsSync(FIRMWARE_UF2) ? [] : [`${FIRMWARE_UF2} (npm run build with PICO_SDK_PATH)`]),
  ...(existsSync(FIRMWARE_UF2) && !firmwareCurrent() ? [`${FIRMWARE_UF2} built from this core (it embeds another: npm run build with PICO_SDK_PATH)`] : []),
  ...("missing" in bootrom ? [bootrom.missing] : []),
];

async function boot(configUf2: string | null, buttonHeld: boolean) {
  return runImage(FIRMWARE_UF2, {
    until: "\u0000never",
    simulatedMs: 16_000, // board time, so a loaded machine sees as much of the boot as an idle one
    timeoutMs: 300_000,
    setup: (sim) => {
      if (configUf2) {
        const span = readUf2(new Uint8Array(readFileSync(configUf2)));
        sim.rp2040.flash.set(span.data, span.address - 0x10000000);
      }
      if (!buttonHeld) sim.rp2040.gpio[22].setInputValue(true); // the pull-up rp2040js does not model
    },
  });
}

needs(missing).describe("the firmware and the configuration sector (rp2040js)", () => {
  it("boots the shared firmware with a configuration UF2 beside it: configured from the sector", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "pw-fw-cfg-")), "cfg.uf2");
    const log = console.log;
    console.log = () => {};
    try {
      expect(await configCommand(["set", "ssid=lab", "password=firmware-secret-1", "max_conns=3", "http_port=8080", "--uf2", out])).toBe(0);
    } finally {
      console.log = log;
    }
    const r = await boot(out, false);
    expect(r.output).toContain(wasmSha); // the firmware runs the core these tests ran
    expect(r.output).toMatch(/pico: configuration from the flash sector/);
    expect(r.output).toMatch(/picowire core ready: abi \d+, 3 connection slots/);
    expect(r.output).not.toMatch(/unconfigured|factory reset/);
    expect(r.output).not.toContain("firmware-secret-1");
  }, 300_000);

  it("with an erased sector it starts in setup mode; with GP22 held it erases the configuration", async () => {
    const blank = await boot(null, false);
    expect(blank.output).toMatch(/config: unconfigured: setup mode/);
    expect(blank.output).toMatch(/wifi: starting the access point/);
    expect(blank.output).not.toMatch(/factory reset/);
    const out = join(mkdtempSync(join(tmpdir(), "pw-fw-cfg-")), "cfg.uf2");
    const log = console.log;
    console.log = () => {};
    try {
      await configCommand(["set", "max_conns=3", "--uf2", out]);
    } finally {
      console.log = log;
    }
    const held = await boot(out, true);
    expect(held.output).toMatch(/config: GP22 low at boot: factory reset/);
    expect(held.output).toMatch(/config: unconfigured: setup mode/);
  }, 300_000);
});
