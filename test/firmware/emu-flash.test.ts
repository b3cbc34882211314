// The SPI NOR flash model behind rp2040js (tools/emu/qspi-flash.ts), without firmware: bytes written
// to the SSI with chip select forced through IO_QSPI, as the boot ROM and the Pico SDK do, must erase
// and program the emulated flash like a chip; then the real boot ROM's flash_range_erase /
// flash_range_program, called in the emulator, must do the same. The ROM part needs the RP2040 bootrom
// (RP2040_BOOTROM, which `npm run deps` sets; see tools/emu/run.ts): skipped loudly without it, failed in CI.
// test/firmware/firmware-ota.test.ts checks the firmware's own writes (the "tried" mark) through the model.
import { describe, it, expect } from "vitest";
import { pathToFileURL } from "node:url";
import { Simulator, type RP2040 } from "rp2040js";
import { attachFlashModel, type FlashCommand } from "../../tools/emu/qspi-flash.ts";
import { findBootrom } from "../../tools/emu/run.ts";
import { needs } from "../helpers/inputs.ts";

const XIP_BASE = 0x10000000;
const SSI = 0x18000000;
const DR0 = SSI + 0x60;
const RXFLR = SSI + 0x24;
const SSIENR = SSI + 0x08;
const SS_CTRL = 0x4001800c; // IO_QSPI io[1].ctrl
const XOR = 0x1000;
const OUTOVER_LOW = 2 << 8;
const OUTOVER_HIGH = 3 << 8;

function emulator() {
  const mcu = new Simulator().rp2040;
  const model = attachFlashModel(mcu);
  mcu.writeUint32(SSIENR, 1);
  return { mcu, model };
}

/** One command framed by CS, bytes in and out through DR0 one for one, as the ROM's flash_put_get. */
function command(mcu: RP2040, bytes: number[]): number[] {
  mcu.writeUint32(SS_CTRL, OUTOVER_LOW);
  const out = bytes.map((b) => {
    mcu.writeUint32(DR0, b);
    return mcu.readUint32(DR0);
  });
  mcu.writeUint32(SS_CTRL, OUTOVER_HIGH);
  return out;
}

const addr = (a: number) => [(a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff];
const writeEnable = (mcu: RP2040) => command(mcu, [0x06]);
const erase = (mcu: RP2040, a: number, cmd = 0x20) => command(mcu, [cmd, ...addr(a)]);
const program = (mcu: RP2040, a: number, data: number[]) => command(mcu, [0x02, ...addr(a), ...data]);

describe("the SPI NOR flash model (driven through SSI and IO_QSPI)", () => {
  it("erases a 4 KiB sector only after a write enable, and clears the latch after", () => {
    const { mcu, model } = emulator();
    mcu.flash.fill(0x00, 0x10000, 0x13000);
    erase(mcu, 0x11000);
    expect(mcu.flash.subarray(0x11000, 0x12000).every((b) => b === 0)).toBe(true);
    expect(model.ops.erases).toBe(0);
    writeEnable(mcu);
    erase(mcu, 0x11234); // any address in the sector
    expect(mcu.flash.subarray(0x11000, 0x12000).every((b) => b === 0xff)).toBe(true);
    expect(mcu.flash[0x10fff]).toBe(0); // neighbours untouched
    expect(mcu.flash[0x12000]).toBe(0);
    expect(model.ops.erases).toBe(1);
    mcu.flash.fill(0x00, 0x11000, 0x12000);
    erase(mcu, 0x11000); // the latch went with the first erase
    expect(mcu.flash[0x11000]).toBe(0);
    expect(model.ops.erases).toBe(1);
  });

  it("erases 32 KiB (0x52) and 64 KiB (0xd8) blocks from their aligned start", () => {
    const { mcu, model } = emulator();
    mcu.flash.fill(0x00, 0, 0x30000);
    writeEnable(mcu);
    erase(mcu, 0x8123, 0x52);
    expect(mcu.flash.subarray(0x8000, 0x10000).every((b) => b === 0xff)).toBe(true);
    expect(mcu.flash[0x7fff]).toBe(0);
    expect(mcu.flash[0x10000]).toBe(0);
    writeEnable(mcu);
    erase(mcu, 0x1ffff, 0xd8);
    expect(mcu.flash.subarray(0x10000, 0x20000).every((b) => b === 0xff)).toBe(true);
    expect(mcu.flash[0x20000]).toBe(0);
    expect(model.ops.erases).toBe(2);
  });

  it("programs only after a write enable, and programming only clears bits", () => {
    const { mcu, model } = emulator();
    program(mcu, 0x2000, [0x00, 0x00]);
    expect([...mcu.flash.subarray(0x2000, 0x2002)]).toEqual([0xff, 0xff]);
    expect(model.ops.programs).toBe(0);
    mcu.flash.set([0xf0, 0x0f, 0xaa], 0x2100);
    writeEnable(mcu);
    program(mcu, 0x2100, [0x3c, 0xff, 0x55]);
    expect([...mcu.flash.subarray(0x2100, 0x2104)]).toEqual([0x30, 0x0f, 0x00, 0xff]);
    expect(mcu.flash[0x20ff]).toBe(0xff);
    expect(model.ops.programs).toBe(1);
    expect(model.chip.wel).toBe(false);
  });

  it("wraps a page program within its 256-byte page, as NOR does", () => {
    const { mcu } = emulator();
    writeEnable(mcu);
    program(mcu, 0x30fe, [0x01, 0x02, 0x03, 0x04]);
    expect([...mcu.flash.subarray(0x30fe, 0x3100)]).toEqual([0x01, 0x02]);
    expect([...mcu.flash.subarray(0x3000, 0x3002)]).toEqual([0x03, 0x04]);
    expect(mcu.flash[0x3100]).toBe(0xff); // the next page is untouched
    // more than a page: the last 256 bytes win, each at its column
    const data = Array.from({ length: 300 }, (_, i) => i & 0xff);
    writeEnable(mcu);
    program(mcu, 0x4000, data);
    expect(mcu.flash[0x4000]).toBe(0); // byte 256 (0x00) overwrote byte 0 in the page buffer
    expect(mcu.flash[0x402b]).toBe(299 & 0xff);
    expect(mcu.flash[0x402c]).toBe(0x2c);
    expect(mcu.flash[0x4100]).toBe(0xff);
  });

  it("cuts the power at erase/program number cutAt: a prefix of that step done, nothing after it", () => {
    const { mcu, model } = emulator();
    let cuts = 0;
    model.chip.onCut = () => cuts++;
    model.chip.cutAt = 1; // step 0 whole, step 1 cut
    mcu.flash.fill(0x00, 0x40000, 0x42000);
    writeEnable(mcu);
    erase(mcu, 0x40000);
    expect(mcu.flash.subarray(0x40000, 0x41000).every((b) => b === 0xff)).toBe(true);
    writeEnable(mcu);
    erase(mcu, 0x41000); // step 1: (1 % 7 + 1) / 8 of the sector
    expect(mcu.flash.subarray(0x41000, 0x41400).every((b) => b === 0xff)).toBe(true);
    expect(mcu.flash.subarray(0x41400, 0x42000).every((b) => b === 0x00)).toBe(true);
    expect(model.chip.dead).toBe(true);
    writeEnable(mcu);
    program(mcu, 0x40000, [0x12]); // the board is off: nothing more lands
    expect(mcu.flash[0x40000]).toBe(0xff);
    expect(cuts).toBe(1);
    // a cut page program: a prefix of the page
    const p = emulator();
    p.model.chip.cutAt = 0;
    writeEnable(p.mcu);
    program(p.mcu, 0x5000, Array(256).fill(0));
    expect(p.mcu.flash.subarray(0x5000, 0x5020).every((b) => b === 0)).toBe(true);
    expect(p.mcu.flash[0x5020]).toBe(0xff);
  });

  it("answers status, reads, JEDEC id and unique id; XIP reads see what was programmed", () => {
    const { mcu } = emulator();
    expect(command(mcu, [0x05, 0])[1]).toBe(0x00);
    writeEnable(mcu);
    expect(command(mcu, [0x05, 0, 0])).toEqual([0xff, 0x02, 0x02]); // WEL, never busy
    program(mcu, 0x5000, [0x12, 0x34]);
    expect(command(mcu, [0x05, 0])[1]).toBe(0x00);
    expect(command(mcu, [0x03, ...addr(0x5000), 0, 0, 0]).slice(4)).toEqual([0x12, 0x34, 0xff]);
    expect(command(mcu, [0x0b, ...addr(0x5001), 0, 0]).slice(5)).toEqual([0x34]);
    expect(command(mcu, [0x9f, 0, 0, 0]).slice(1)).toEqual([0xef, 0x40, 0x18]);
    expect(command(mcu, [0x4b, 0, 0, 0, 0, ...Array(8).fill(0)]).slice(5)).toHaveLength(8);
    expect(mcu.readUint32(XIP_BASE + 0x5000)).toBe(0xffff3412);
  });

  it("keeps IO_QSPI's registers, atomic aliases included, and only counts CS forced low", () => {
    const { mcu, model } = emulator();
    mcu.writeUint32(SS_CTRL, 0x0000001f);
    expect(mcu.readUint32(SS_CTRL)).toBe(0x1f);
    // the SDK's hw_write_masked: XOR alias; then SET/CLR aliases
    mcu.writeUint32(SS_CTRL + XOR, (mcu.readUint32(SS_CTRL) ^ OUTOVER_LOW) & 0x300);
    expect(mcu.readUint32(SS_CTRL)).toBe(0x21f);
    mcu.writeUint32(SS_CTRL + 0x2000, OUTOVER_HIGH); // SET: outover 3, CS high
    mcu.writeUint32(SS_CTRL + 0x3000, 0x1f);
    expect(mcu.readUint32(SS_CTRL)).toBe(OUTOVER_HIGH);
    expect(mcu.readUint32(0x40018000 + 0x1c)).toBe(0); // SD1 ctrl: not flash_abort()ed
    // bytes with SSI-driven CS (boot2's traffic) reach no command: no erase even after "06"
    mcu.writeUint32(SS_CTRL, 0);
    for (const b of [0x06, 0x20, 0, 0x10, 0]) mcu.writeUint32(DR0, b);
    expect(mcu.readUint32(RXFLR)).toBe(5);
    mcu.writeUint32(SSIENR, 0); // disabling the SSI empties its FIFO
    expect(mcu.readUint32(RXFLR)).toBe(0);
    expect(model.chip.wel).toBe(false);
    expect(model.ops).toEqual({ erases: 0, programs: 0 });
  });
});

const bootrom = findBootrom();

/** The ROM function with this two-letter code, from the table the ROM's header points at (0x14). */
function romFunc(mcu: RP2040, code: string): number {
  const want = code.charCodeAt(0) | (code.charCodeAt(1) << 8);
  for (let p = mcu.readUint16(0x14), i = 0; i < 64; p += 4, i++) {
    const c = mcu.readUint16(p);
    if (c === 0) break;
    if (c === want) return mcu.readUint16(p + 2);
  }
  throw new Error(`no ROM function ${code}`);
}

/** Calls a ROM function as the SDK does, returning when it returns to a marker address in SRAM. */
function callRom(mcu: RP2040, code: string, args: number[] = []): void {
  const RET = 0x20030000;
  const core = mcu.core;
  args.forEach((a, i) => (core.registers[i] = a >>> 0));
  core.SP = 0x20040000;
  core.LR = RET | 1;
  core.PC = romFunc(mcu, code) & ~1;
  for (let i = 0; i < 20_000_000; i++) {
    if (core.PC === RET) return;
    mcu.step();
  }
  throw new Error(`ROM function ${code} did not return`);
}

needs("missing" in bootrom ? bootrom.missing : null).describe("the boot ROM's flash_range_erase / flash_range_program on the model", () => {
  it("erase and program through the ROM land in the emulated flash", async () => {
    const mod = await import(pathToFileURL((bootrom as { path: string }).path).href);
    const mcu = new Simulator().rp2040;
    mcu.logger = new (await import("rp2040js")).ConsoleLogger((await import("rp2040js")).LogLevel.Error);
    mcu.loadBootrom(mod.bootromB1 ?? mod.default);
    const model = attachFlashModel(mcu);
    const trace: FlashCommand[] = [];
    model.chip.onCommand = (c) => trace.push(c);
    mcu.flash.fill(0x00, 0x1f000, 0x32000);
    const data = Array.from({ length: 512 }, (_, i) => (i * 7) & 0xff);
    mcu.sram.set(data, 0x10000);
    // the SDK's order (hardware_flash/flash.c): connect, exit XIP, the operation, flush, back to XIP
    const around = (op: () => void) => {
      callRom(mcu, "IF");
      callRom(mcu, "EX");
      op();
      callRom(mcu, "FC");
      callRom(mcu, "CX");
    };
    around(() => callRom(mcu, "RE", [0x20000, 0x11000, 0x10000, 0xd8])); // 64 KiB block + one 4 KiB sector
    expect(mcu.flash.subarray(0x20000, 0x31000).every((b) => b === 0xff)).toBe(true);
    expect(mcu.flash[0x1ffff]).toBe(0);
    expect(mcu.flash[0x31000]).toBe(0);
    expect(model.ops.erases).toBe(2);
    around(() => callRom(mcu, "RP", [0x20100, 0x20010000, 512]));
    expect([...mcu.flash.subarray(0x20100, 0x20300)]).toEqual(data);
    expect(mcu.flash[0x20300]).toBe(0xff);
    expect(model.ops.programs).toBe(2);
    const executed = trace.filter((c) => c.executed).map((c) => `${c.cmd.toString(16)}@${c.addr?.toString(16)}`);
    expect(executed).toEqual(["d8@20000", "20@30000", "2@20100", "2@20200"]);
    if (process.env.PW_FLASH_TRACE) {
      console.log(trace.map((c) => `${c.cmd.toString(16).padStart(2, "0")}${c.addr !== undefined ? ` @${c.addr.toString(16)}` : ""} (${c.length} B${c.executed ? ", executed" : ""})`).join("\n"));
    }
  });
});
