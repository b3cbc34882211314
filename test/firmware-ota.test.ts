// The Pico's boot side of over-the-air updates on the RP2040 itself, in rp2040js: the emulator image built
// with the wasm3 engine (PICOWIRE_ENGINE=wasm3, build/pico-wasm3-ota) boots with core slots written into its
// flash (a UF2 of the slot regions appended to the image's, as a board would hold them after updates):
// the same boot rules, SHA-256 over XIP flash, wasm3 parsing the chosen slot's core in place, the "tried"
// mark through flash_safe_execute. Needs what test/firmware.test.ts needs plus WASM3_PATH and wat2wasm;
// skipped loudly without them. rp2040js does not program flash itself; runImage's flash model
// (tools/emu/qspi-flash.ts) does, so the "tried" mark the boot ROM programs lands in the emulated flash,
// and the next boot from those bytes rolls the untried-and-unconfirmed core back.
// Most slot cores are tiny cores with the ABI's exports (made from assembly/abi/spec.json): each boots in a
// moment and tells the boot rules' cases apart by its SHA-256. One test boots the real core
// (build/picowire.wasm) from slot B, its compiled code in the flash code region; the image's own embedded
// core is booted by test/firmware.test.ts.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firmwareEnv, ROOT } from "../tools/build/firmware.ts";
import { findBootrom, runImage } from "../tools/emu/run.ts";
import { ABI_VERSION, C } from "../tools/host/abi.generated.ts";
import { Flash } from "../tools/host/flash.ts";
import { programWord, writeSlot, H_TRIED } from "../tools/host/slots.ts";
import { picoLayout } from "../tools/provision/layout.ts";
import { writeUf2 } from "../tools/provision/uf2.ts";
import spec from "../assembly/abi/spec.json" with { type: "json" };
import { needs } from "./helpers/inputs.ts";

const env = firmwareEnv();
const bootrom = findBootrom();
const WASM3_PATH = process.env.WASM3_PATH ?? "";
const missing = [
  ...env.missing,
  ...("missing" in bootrom ? [bootrom.missing] : []),
  ...(!WASM3_PATH || !existsSync(join(WASM3_PATH, "source/wasm3.h")) ? ["WASM3_PATH (the root of a wasm3 source tree)"] : []),
  ...(spawnSync("wat2wasm", ["--version"], { stdio: "ignore" }).status === 0 ? [] : ["wat2wasm (Debian package wabt)"]),
];

// its own build directory, so it never races npm run build's build/pico-wasm3
const BUILD = join(ROOT, "build", "pico-wasm3-ota");
const EMU = join(BUILD, "native", "pico", "picowire_emu.uf2");

/** A tiny core with every export of the ABI (init succeeds, the rest answer 0) and `tag` in its data:
 *  enough for the host's ABI check and init, a few KB of wasm3 RAM. */
function tinyCore(tag: string): { bytes: Uint8Array; sha256: string } {
  const body = (name: string) =>
    name === "abi_version" ? `i32.const ${ABI_VERSION}` : name === "io_buffer" ? "i32.const 1024" : name === "tick" ? `i32.const ${C.TICK_NONE}`
      : name === "stat" ? `local.get 0 i32.const ${C.STAT_HEAP_LIMIT} i32.eq if (result i32) i32.const 32768 else i32.const 0 end` : "i32.const 0";
  const funcs = spec.exports.map((e) => {
    const params = e.params.length ? `(param ${e.params.map(() => "i32").join(" ")})` : "";
    return e.result === "void" || !e.result ? `(func (export "${e.name}") ${params})` : `(func (export "${e.name}") ${params} (result i32) ${body(e.name)})`;
  });
  const wat = `(module (memory (export "memory") 1 1) (data (i32.const 64) "${tag}") ${funcs.join("\n")})`;
  const dir = mkdtempSync(join(tmpdir(), "picowire-tiny-core-"));
  writeFileSync(join(dir, "core.wat"), wat);
  const r = spawnSync("wat2wasm", [join(dir, "core.wat"), "-o", join(dir, "core.wasm")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`wat2wasm: ${r.stderr}`);
  const bytes = new Uint8Array(readFileSync(join(dir, "core.wasm")));
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** The emulator image with both slots holding `slots` (slot A then slot B, as in a board's flash): its
 *  UART output up to the line naming the core that runs (or a failure), and the slots' bytes after. */
async function bootSlots(slots: Uint8Array): Promise<{ output: string; slots: Uint8Array; programs: number }> {
  const layout = picoLayout();
  const at = layout.configAddress + layout.configSize; // slot A's bus address; slot B follows
  const image = join(mkdtempSync(join(tmpdir(), "picowire-emu-ota-")), "emu-with-slots.uf2");
  writeFileSync(image, Buffer.concat([readFileSync(EMU), writeUf2(at, slots)]));
  let flash = new Uint8Array(0);
  const r = await runImage(image, { until: "picowire emu: core from", timeoutMs: 60_000, setup: (sim) => (flash = sim.rp2040.flash) });
  expect(r.done, `no "core from" line within 60 s; UART:\n${r.output}`).toBe(true);
  if (process.env.PW_EMU_ECHO) console.log(r.output);
  const off = at - 0x10000000;
  return { output: r.output, slots: flash.slice(off, off + 2 * layout.slotSize), programs: r.flashOps.programs };
}

/** Both slots as `setup` leaves them in a Node host's flash, in the board's order. */
function slotsOf(setup: (f: Flash) => void): Uint8Array {
  const f = new Flash();
  setup(f);
  const { slotSize } = picoLayout();
  const slots = new Uint8Array(2 * slotSize);
  slots.set(f.read(C.REGION_SLOT_A, 0, slotSize) as Uint8Array, 0);
  slots.set(f.read(C.REGION_SLOT_B, 0, slotSize) as Uint8Array, slotSize);
  return slots;
}

/** bootSlots for slots as `setup` leaves them: the UART output. */
async function bootWith(setup: (f: Flash) => void): Promise<string> {
  return (await bootSlots(slotsOf(setup))).output;
}

needs(missing).describe("the Pico's OTA boot side (wasm3 emulator image in rp2040js)", () => {
  beforeAll(() => {
    const cfg = spawnSync(
      "cmake",
      ["-S", ROOT, "-B", BUILD, `-DPICO_SDK_PATH=${env.sdk}`, `-Dpicotool_DIR=${env.picotoolDir}`, "-DPICOWIRE_ENGINE=wasm3", `-DWASM3_PATH=${WASM3_PATH}`, "-DPICOWIRE_EMU_HEAP_KB=0"],
      { encoding: "utf8", timeout: 300_000 },
    );
    if (cfg.status !== 0) throw new Error(`configuring ${BUILD} failed:\n${cfg.stderr}`);
    const b = spawnSync("cmake", ["--build", BUILD, "--parallel", "--target", "picowire_emu"], { encoding: "utf8", timeout: 600_000 });
    if (b.status !== 0) throw new Error(`building picowire_emu (wasm3) failed:\n${b.stdout}\n${b.stderr}`);
  }, 900_000);

  let v1: { bytes: Uint8Array; sha256: string }, v2: typeof v1;
  beforeAll(() => {
    v1 = tinyCore("emu-v1");
    v2 = tinyCore("emu-v2");
  });

  it("a confirmed core in slot A: checked over XIP and run in place", async () => {
    const out = await bootWith((f) => writeSlot(f, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true));
    expect(out).toContain(`picowire emu: core from slot A, sha256 ${v1.sha256}`);
  }, 90_000);

  it("the real core as an update in slot B: run from the slot by wasm3, its compiled code in the flash code region", async () => {
    const bytes = new Uint8Array(readFileSync(join(ROOT, "build", "picowire.wasm")));
    const real = createHash("sha256").update(bytes).digest("hex");
    const out = await bootWith((f) => {
      writeSlot(f, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true);
      writeSlot(f, C.REGION_SLOT_B, bytes, 2, ABI_VERSION);
    });
    expect(out).toContain(`picowire emu: core from slot B, sha256 ${real}`);
    expect(out).toMatch(/\[info\] wasm3: \d+ bytes \(other \d+\) after compiling \d+ functions into flash \(code \d+ of \d+ bytes, [1-9]\d* sectors rewritten/);
    expect(out).toMatch(/picowire emu: core initialised: init OK/);
  }, 120_000);

  it("checks a slot image of 60 KB over XIP at boot (the SHA-256's cost, in cycles)", async () => {
    // the same tiny core with a 60,000-byte custom section: wasm3 skips it, the boot rules hash it all
    const name = Buffer.from("picowire-pad");
    const pad = Buffer.concat([Buffer.from([name.length]), name, Buffer.alloc(60000, 0x5a)]);
    const size = [pad.length & 0x7f | 0x80, (pad.length >> 7) & 0x7f | 0x80, pad.length >> 14]; // LEB128, 3 bytes
    const bytes = new Uint8Array(Buffer.concat([v1.bytes, Buffer.from([0, ...size]), pad]));
    const big = { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
    const cycles = (out: string) => Number(/init OK in (\d+) cycles/.exec(out)?.[1]);
    const small = await bootWith((f) => writeSlot(f, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true));
    const large = await bootWith((f) => writeSlot(f, C.REGION_SLOT_A, big.bytes, 1, ABI_VERSION, true));
    expect(large).toContain(`picowire emu: core from slot A, sha256 ${big.sha256}`);
    const extra = cycles(large) - cycles(small);
    console.log(`boot from slot A in rp2040js: ${cycles(small)} cycles for a ${v1.bytes.length}-byte core, ${cycles(large)} for ${big.bytes.length} bytes: ${(extra / (big.bytes.length - v1.bytes.length)).toFixed(1)} cycles per byte more`);
    expect(extra).toBeGreaterThan(0);
  }, 120_000);

  it("a pending core newer than the confirmed one: marked tried in flash, booted on trial from XIP in place; the next boot rolls it back", async () => {
    const before = slotsOf((f) => {
      writeSlot(f, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true);
      writeSlot(f, C.REGION_SLOT_B, v2.bytes, 2, ABI_VERSION);
    });
    const { slotSize } = picoLayout();
    const tried = (slots: Uint8Array) => new DataView(slots.buffer, slots.byteOffset + slotSize).getUint32(H_TRIED, true);
    expect(tried(before)).toBe(0xffffffff);
    const first = await bootSlots(before);
    expect(first.output).toContain(`[info] host: slot B: booting the new core ${v2.sha256.slice(0, 8)} on trial`);
    expect(first.output).toContain(`picowire emu: core from slot B, sha256 ${v2.sha256}`);
    // the boot ROM's page program, through the flash model: only the "tried" word changed
    expect(tried(first.slots)).toBe(0);
    expect(first.programs).toBeGreaterThanOrEqual(1);
    const changed = first.slots.reduce((n, b, i) => n + (b !== before[i] ? 1 : 0), 0);
    expect(changed).toBe(4);
    // the tiny core never confirms itself: booting again from these very bytes rolls it back
    const second = await bootSlots(first.slots);
    expect(second.output).toContain(`[warn] host: slot B: core ${v2.sha256.slice(0, 8)} was tried and never confirmed itself: rolled back`);
    expect(second.output).toContain(`picowire emu: core from slot A, sha256 ${v1.sha256}`);
  }, 150_000);

  it("a core tried and never confirmed: rolled back to the confirmed slot", async () => {
    const out = await bootWith((f) => {
      writeSlot(f, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true);
      writeSlot(f, C.REGION_SLOT_B, v2.bytes, 2, ABI_VERSION);
      programWord(f, C.REGION_SLOT_B, H_TRIED);
    });
    expect(out).toContain(`[warn] host: slot B: core ${v2.sha256.slice(0, 8)} was tried and never confirmed itself: rolled back`);
    expect(out).toContain(`picowire emu: core from slot A, sha256 ${v1.sha256}`);
  }, 90_000);
});
