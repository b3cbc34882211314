// The Pico's boot side of over-the-air updates on the RP2040 itself, in rp2040js: the emulator image built
// with the wasm3 engine (PICOWIRE_ENGINE=wasm3, build/pico-wasm3-ota) boots with core slots written into its
// flash (a UF2 of the slot regions appended to the image's, as a board would hold them after updates):
// the same boot rules, SHA-256 over XIP flash, wasm3 parsing the chosen slot's core in place, the "tried"
// mark through flash_safe_execute. Needs what test/firmware/firmware.test.ts needs plus WASM3_PATH and wat2wasm;
// skipped loudly without them. rp2040js does not program flash itself; runImage's flash model
// (tools/emu/qspi-flash.ts) does, so the "tried" mark the boot ROM programs lands in the emulated flash,
// and the next boot from those bytes rolls the untried-and-unconfirmed core back.
// Most slot cores are tiny cores with the ABI's exports (made from assembly/abi/spec.json): each boots in a
// moment and tells the boot rules' cases apart by its SHA-256. One test boots the real core
// (build/picowire.wasm) from slot B, its compiled code in the flash code region; the image's own embedded
// core is booted by test/firmware/firmware.test.ts.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { firmwareEnv, ROOT } from "../../tools/build/firmware.ts";
import { findBootrom, runImage } from "../../tools/emu/run.ts";
import { ABI_VERSION, C } from "../../tools/host/abi.generated.ts";
import { Flash } from "../../tools/host/flash.ts";
import { programWord, writeSlot, H_TRIED } from "../../tools/host/slots.ts";
import { layoutStamp, picoLayout } from "../../tools/provision/layout.ts";
import { writeUf2 } from "../../tools/provision/uf2.ts";
import spec from "../../assembly/abi/spec.json" with { type: "json" };
import { commandRuns, needs } from "../helpers/inputs.ts";

const env = firmwareEnv();
const bootrom = findBootrom();
const WASM3_PATH = process.env.WASM3_PATH ?? "";
const missing = [
  ...env.missing,
  ...("missing" in bootrom ? [bootrom.missing] : []),
  ...(!WASM3_PATH || !existsSync(join(WASM3_PATH, "source/wasm3.h")) ? ["WASM3_PATH (the root of a wasm3 source tree)"] : []),
  ...(commandRuns("wat2wasm") ? [] : ["wat2wasm (Debian package wabt)"]),
];

// its own build directory, so it never races npm run build's build/pico-wasm3
const BUILD = join(ROOT, "build", "pico-wasm3-ota");
const EMU = join(BUILD, "native", "pico", "picowire_emu.uf2");

/** A tiny core with every export of the ABI (init succeeds, the rest answer 0) and `tag` in its data:
 *  enough for the host's ABI check and init, a few KB of wasm3 RAM. */
function tinyCore(tag: string, extra = 0, salt = 0): { bytes: Uint8Array; sha256: string } {
  const body = (name: string) =>
    name === "abi_version" ? `i32.const ${ABI_VERSION}` : name === "io_buffer" ? "i32.const 1024" : name === "tick" ? `i32.const ${C.TICK_NONE}`
      : name === "stat" ? `local.get 0 i32.const ${C.STAT_HEAP_LIMIT} i32.eq if (result i32) i32.const 32768 else i32.const 0 end` : "i32.const 0";
  const funcs = spec.exports.map((e) => {
    const params = e.params.length ? `(param ${e.params.map(() => "i32").join(" ")})` : "";
    return e.result === "void" || !e.result ? `(func (export "${e.name}") ${params})` : `(func (export "${e.name}") ${params} (result i32) ${body(e.name)})`;
  });
  // `extra` functions of 30 operations each: compiled code spanning several flash sectors; `salt` changes
  // which operations (wasm3 keeps constants apart from the code, so changing those would not do)
  const OPS = ["i32.add", "i32.sub", "i32.xor", "i32.or", "i32.and", "i32.mul"];
  for (let i = 0; i < extra; i++) {
    const body = Array.from({ length: 30 }, (_, k) => `local.get 0 i32.const ${i * 1000 + k} ${OPS[(i + k + salt) % OPS.length]} local.set 0`).join(" ");
    funcs.push(`(func (export "extra${i}") (param i32) (result i32) ${body} local.get 0)`);
  }
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
  const r = await runImage(image, { until: "picowire emu: core from", timeoutMs: 300_000, setup: (sim) => (flash = sim.rp2040.flash) });
  expect(r.done, `no "core from" line within 60 s; UART:\n${r.output}`).toBe(true);
  if (process.env.PW_EMU_ECHO) console.log(r.output);
  const off = at - 0x10000000;
  return { output: r.output, slots: flash.slice(off, off + 2 * layout.slotSize), programs: r.flashOps.programs };
}

const MIB2 = 2 * 1024 * 1024;

interface FlashBoot {
  output: string;
  /** The first 2 MiB of the emulated flash afterwards (the board's flash). */
  flash: Uint8Array;
  cut: boolean;
  /** Every erase and program the flash model executed, in order: its bus offset and kind. */
  ops: { addr: number; erase: boolean }[];
}

/** The emulator image booted from `flash` (the board's 2 MiB; the image's own bytes are in it) until the
 *  core runs, fails, or the power is cut at erase/program number cutAt. */
async function bootFlash(flash: Uint8Array, cutAt?: number): Promise<FlashBoot> {
  let mem = new Uint8Array(0);
  const ops: FlashBoot["ops"] = [];
  const r = await runImage(EMU, {
    until: "picowire emu: core from",
    timeoutMs: 120_000,
    flashCutAt: cutAt,
    setup: (sim) => {
      mem = sim.rp2040.flash;
      mem.set(flash.subarray(0, MIB2));
    },
    onFlashCommand: (c) => {
      if (c.executed) ops.push({ addr: c.addr!, erase: c.cmd !== 0x02 });
    },
  });
  if (!r.cut) expect(r.done || /core init FAILED/.test(r.output), `no "core from" line; UART:\n${r.output}`).toBe(true);
  if (process.env.PW_EMU_ECHO) console.log(r.output);
  return { output: r.output, flash: mem.slice(0, MIB2), cut: r.cut, ops };
}

/** The emulator image's flash as a UF2 load leaves it (erased but for the image), with `slots` in both
 *  slots and, unless `stamp` is false, the layout sector of this layout. */
function flashImage(slots?: Uint8Array, stamp = true): Uint8Array {
  const f = new Uint8Array(MIB2).fill(0xff);
  const uf2 = readFileSync(EMU);
  for (let off = 0; off + 512 <= uf2.length; off += 512) {
    const addr = uf2.readUInt32LE(off + 12) - 0x10000000, size = uf2.readUInt32LE(off + 16);
    if (addr >= 0 && addr + size <= MIB2) f.set(uf2.subarray(off + 32, off + 32 + size), addr);
  }
  const l = picoLayout();
  if (slots) f.set(slots, l.configAddress - 0x10000000 + l.configSize);
  if (stamp) f.set(layoutStamp(l), l.layoutSectorAddress - 0x10000000);
  return f;
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

/** Configures and builds the emulator image once per run (every describe below needs it, whichever runs). */
let built = false;
function buildEmu(): void {
  if (built) return;
  const cfg = spawnSync(
    "cmake",
    ["-S", ROOT, "-B", BUILD, `-DPICO_SDK_PATH=${env.sdk}`, `-Dpicotool_DIR=${env.picotoolDir}`, "-DPICOWIRE_ENGINE=wasm3", `-DWASM3_PATH=${WASM3_PATH}`, "-DPICOWIRE_EMU_HEAP_KB=0"],
    { encoding: "utf8", timeout: 300_000 },
  );
  if (cfg.status !== 0) throw new Error(`configuring ${BUILD} failed:\n${cfg.stderr}`);
  const b = spawnSync("cmake", ["--build", BUILD, "--parallel", "--target", "picowire_emu"], { encoding: "utf8", timeout: 600_000 });
  if (b.status !== 0) throw new Error(`building picowire_emu (wasm3) failed:\n${b.stdout}\n${b.stderr}`);
  built = true;
}

needs(missing).describe("the Pico's OTA boot side (wasm3 emulator image in rp2040js)", () => {
  beforeAll(buildEmu, 900_000);

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

/** The flash's code region for wasm3 as offsets: below the layout sector, as large as the engine's line
 *  says (PICOWIRE_WASM3_CODE_KB). */
function codeRegion(output: string): { start: number; end: number } {
  const size = Number(/into flash \(code \d+ of (\d+) bytes/.exec(output)?.[1]);
  expect(size).toBeGreaterThan(0);
  const end = picoLayout().layoutSectorAddress - 0x10000000;
  return { start: end - size, end };
}
const compiled = /wasm3: .* after compiling (\d+) functions into flash \(code (\d+) of \d+ bytes, (\d+) sectors rewritten/;
const bound = /wasm3: .* after binding (\d+) functions to their code cached in flash \(code (\d+) of \d+ bytes, 0 sectors rewritten/;
const powerOn = (out: string) => Number(/power-on to the core's init: (\d+) cycles/.exec(out)?.[1]);

needs(missing).describe("wasm3's compiled code cached in flash (emulator image in rp2040js)", () => {
  let m1: { bytes: Uint8Array; sha256: string }, m2: typeof m1;
  let first: FlashBoot;
  beforeAll(async () => {
    buildEmu();
    m1 = tinyCore("cache-v1", 60);
    m2 = tinyCore("cache-v2", 60, 7);
    first = await bootFlash(flashImage(slotsOf((f) => writeSlot(f, C.REGION_SLOT_A, m1.bytes, 1, ABI_VERSION, true))));
  }, 1_200_000);

  it("the first boot compiles into the region and writes the record last; the next binds without compiling", async () => {
    expect(first.output).toContain(`picowire emu: core from slot A, sha256 ${m1.sha256}`);
    const c = compiled.exec(first.output);
    expect(c, first.output).not.toBeNull();
    const { start, end } = codeRegion(first.output);
    const code = first.ops.filter((o) => o.addr >= start && o.addr < end);
    expect(code.at(-1)!.addr & ~4095).toBe(end - 4096); // the record's sector, last
    const again = await bootFlash(first.flash);
    const b = bound.exec(again.output);
    expect(b, again.output).not.toBeNull();
    expect(b![1]).toBe(c![1]);
    expect(again.output).toMatch(/picowire emu: core initialised: init OK/);
    expect(again.ops.filter((o) => o.addr >= start && o.addr < end)).toEqual([]); // not a sector touched
    console.log(`boot of a ${m1.bytes.length}-byte core (${c![1]} functions, ${c![2]} B of code): power-on to init ${powerOn(first.output)} cycles compiling, ${powerOn(again.output)} bound to the cached code`);
    expect(powerOn(again.output)).toBeLessThan(powerOn(first.output));
  }, 300_000);

  it("compiles again when the core changed, or when the region's content no longer matches its record", async () => {
    const { start, end } = codeRegion(first.output);
    const other = flashImage(slotsOf((f) => writeSlot(f, C.REGION_SLOT_A, m2.bytes, 1, ABI_VERSION, true)));
    other.set(first.flash.subarray(start, end), start); // m1's code and record
    const r = await bootFlash(other);
    expect(r.output).toContain(`core from slot A, sha256 ${m2.sha256}`);
    expect(compiled.exec(r.output)?.[3]).not.toBe("0");
    const damaged = first.flash.slice();
    damaged[start + 4096 + 100] ^= 0x10; // one bit of the code, the record intact
    const d = await bootFlash(damaged);
    expect(d.output).toMatch(compiled);
    expect(d.output).toMatch(/init OK/);
  }, 300_000);

  it("a power cut in every sector of a rewrite: the next boot compiles again (never binds half-written code), the one after binds", async () => {
    const { start, end } = codeRegion(first.output);
    const before = flashImage(slotsOf((f) => writeSlot(f, C.REGION_SLOT_A, m2.bytes, 1, ABI_VERSION, true)));
    before.set(first.flash.subarray(start, end), start); // m1's code: m2's differs in every function
    const clean = await bootFlash(before);
    const steps = clean.ops.map((o, i) => ({ ...o, i })).filter((o) => o.addr >= start && o.addr < end);
    const sectors = steps.filter((o) => o.erase);
    expect(sectors.length).toBeGreaterThanOrEqual(6); // the record's erase, code sectors, the record
    // in each sector a different step: its erase, or one of its page programs; then the final record
    // sector's erase and its first page (the record)
    const record = sectors.at(-1)!;
    const cuts = sectors.slice(0, -1).map((s, n) => {
      const own = steps.filter((o) => o.i >= s.i && o.i < record.i && Math.floor(o.addr / 4096) === Math.floor(s.addr / 4096));
      return own[n % own.length].i;
    });
    cuts.push(record.i, steps.find((o) => !o.erase && o.i > record.i)!.i);
    for (const k of cuts) {
      const cut = await bootFlash(before, k);
      expect(cut.cut, `step ${k}`).toBe(true);
      const next = await bootFlash(cut.flash);
      // until the record's own program the code is incomplete: never bound; a record program cut after
      // its 168 bytes landed seals complete code, and binding to it is right
      const last = k === cuts.at(-1);
      if (!last) expect(next.output, `after a cut at step ${k}`).not.toMatch(bound);
      expect(next.output, `after a cut at step ${k}`).toMatch(last ? /after (compiling|binding) \d+ functions/ : compiled);
      expect(next.output).toContain(`core from slot A, sha256 ${m2.sha256}`);
      expect(next.output).toMatch(/init OK/);
      if (k === cuts.at(-1)) expect((await bootFlash(next.flash)).output).toMatch(bound);
    }
    console.log(`code rewrite: ${steps.length} steps in ${sectors.length} sectors; power cut at steps ${cuts.join(", ")}: each next boot compiled again`);
  }, 900_000);
});

needs(missing).describe("the flash layout on the board (emulator image in rp2040js)", () => {
  const l = picoLayout();
  const at = (bus: number) => bus - 0x10000000;
  const OLD_CONFIG = MIB2 - l.oldBytes, LAYOUT = at(l.layoutSectorAddress);
  const STATE = MIB2 - 4096; // the last sector in both layouts
  const oldConfig = new Uint8Array(l.configSize).map((_, i) => (i * 13 + 5) & 0xff);
  oldConfig.set([0x50, 0x57, 0x43, 0x46], 0); // "PWCF": a configuration copy's magic
  const oldState = new Uint8Array(4096).map((_, i) => (i * 7 + 1) & 0xff);
  let v1: { bytes: Uint8Array; sha256: string };
  /** A board of the layout before: its configuration and state where they were, no stamp; a tiny core
   *  in the new slot A (its few bytes stay clear of the old configuration, 24 KiB into it). */
  const oldBoard = () => {
    const f = flashImage(slotsOf((fl) => writeSlot(fl, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true)), false);
    f.set(oldConfig, OLD_CONFIG);
    f.set(oldState, MIB2 - 4096);
    return f;
  };
  const migrated = (f: Uint8Array) => {
    expect(f.subarray(at(l.configAddress), at(l.configAddress) + l.configSize)).toEqual(oldConfig);
    expect(f.subarray(STATE, STATE + 4096)).toEqual(oldState);
    expect(f.subarray(LAYOUT, LAYOUT + 256)).toEqual(layoutStamp(l));
  };
  beforeAll(() => {
    buildEmu();
    v1 = tinyCore("layout-v1");
  }, 900_000);

  it("migrates a board of the layout before: configuration moved, state where it was, stamped; the next boot leaves it", async () => {
    const r = await bootFlash(oldBoard());
    expect(r.output).toContain("picowire emu: flash layout: migrated to 81920-byte slots: the configuration moved along, the state kept where it was");
    expect(r.output).toContain(`core from slot A, sha256 ${v1.sha256}`);
    migrated(r.flash);
    const again = await bootFlash(r.flash);
    expect(again.output).not.toContain("flash layout:");
    expect(again.ops.filter((o) => o.addr >= LAYOUT)).toEqual([]);
  }, 300_000);

  it("keeps a configuration UF2 made for this layout; leaves a flash stamped by another layout alone, saying why", async () => {
    const f = oldBoard();
    const fresh = new Uint8Array(4096).fill(0x33);
    fresh.set([0x50, 0x57, 0x43, 0x46], 0);
    f.set(fresh, at(l.configAddress));
    const r = await bootFlash(f);
    expect(r.output).toContain("the configuration UF2 written for this layout kept");
    expect(r.flash.subarray(at(l.configAddress), at(l.configAddress) + 4096)).toEqual(fresh);
    const other = oldBoard();
    const stamp = layoutStamp({ ...l, slotSize: 65536 });
    other.set(stamp, LAYOUT);
    const o = await bootFlash(other);
    expect(o.output).toMatch(/flash layout: the regions were laid out by another firmware \(65536-byte slots; this one has 81920\): left as they are.*picotool erase/);
    expect(o.flash.subarray(LAYOUT, MIB2)).toEqual(other.subarray(LAYOUT, MIB2));
  }, 300_000);

  it("a power cut at any step of the migration: a later boot finishes it with the old configuration", async () => {
    const before = oldBoard();
    const clean = await bootFlash(before);
    const steps = clean.ops.map((o, i) => ({ ...o, i })).filter((o) => o.addr >= LAYOUT);
    expect(steps.length).toBeGreaterThan(30);
    const cuts = steps.map((o) => o.i);
    for (const k of cuts) {
      const cut = await bootFlash(before, k);
      expect(cut.cut).toBe(true);
      const next = await bootFlash(cut.flash);
      expect(next.output, `after a cut at step ${k}`).toContain(`core from slot A, sha256 ${v1.sha256}`);
      migrated(next.flash);
    }
    console.log(`layout migration: ${steps.length} steps, power cut at each: each later boot finished it`);
  }, 900_000);
});
