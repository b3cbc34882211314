// A SPI NOR flash chip behind the RP2040's SSI, for rp2040js. rp2040js serves XIP reads straight from
// `mcu.flash` but ignores what firmware sends the chip, so the boot ROM's flash_range_erase /
// flash_range_program (which the Pico SDK calls) changed nothing. This model listens where the ROM and
// the SDK talk to the chip: chip select forced through IO_QSPI's SS pad override (OUTOVER = low while a
// command runs) and bytes through the SSI's DR0, one byte back per byte sent. On CS rising it runs the
// command into `mcu.flash`: write enable/disable, 4/32/64 KiB erase, page program (bits only go 1 -> 0,
// wrapping in the page). XIP, boot2's own SSI-driven traffic and every other SSI register keep
// rp2040js's behaviour.
import { BasePeripheral, type Peripheral, type RP2040 } from "rp2040js";

/** mcu.peripherals is keyed by (address >>> 14) << 2 (rp2040.js findPeripheral). */
const IO_QSPI_KEY = 0x40018;
const SSI_KEY = 0x18000;

const IO_QSPI_SS_CTRL = 0x0c; // io[1].ctrl
const OUTOVER_SHIFT = 8;
const OUTOVER_LOW = 2;
const IO_QSPI_REGS = 0x58 / 4; // GPIO status/ctrl x6, then the interrupt registers

const SSI_SSIENR = 0x08;
const SSI_TXFLR = 0x20;
const SSI_RXFLR = 0x24;
const SSI_SR = 0x28;
const SSI_DR0 = 0x60;
const SR_TFNF = 0x02;
const SR_TFE = 0x04;
const SR_RFNE = 0x08;
const SR_RFF = 0x10;
const RX_FIFO_DEPTH = 16;

const PAGE = 256;
/** Bytes kept of a command besides a page program's data: opcode + 3 address bytes + dummies. */
const HEADER_MAX = 8;
const ERASE_SIZE: Record<number, number> = { 0x20: 4096, 0x52: 32768, 0xd8: 65536 };
/** What the chip sends while it has nothing to say (MISO floats high). */
const IDLE = 0xff;
/** An id the ROM or the SDK may ask for: W25Q128JV (16 MiB, rp2040js's flash size) and a fixed unique id. */
export const UNIQUE_ID = [0xe6, 0x60, 0x58, 0x38, 0x83, 0x2a, 0x5c, 0x21];

export interface FlashOps {
  erases: number;
  programs: number;
}

/** One command as the chip saw it, when CS went high (for traces). */
export interface FlashCommand {
  cmd: number;
  /** The 24-bit address, for commands that carry one and were long enough to have it. */
  addr?: number;
  /** Bytes sent while CS was low, opcode included. */
  length: number;
  /** An erase or program that changed (or was allowed to change) the flash. */
  executed: boolean;
}

/** The chip itself: select, exchange bytes, deselect. Knows nothing of the RP2040. */
export class SpiNorFlash {
  readonly ops: FlashOps = { erases: 0, programs: 0 };
  /** Write enable latch: set by 0x06, cleared by 0x04 and by every erase or program. */
  wel = false;
  /** Power-loss injection: the erase or program with this index (counting both from 0) is cut short (an
   *  erase leaves a prefix of its block erased, a program a prefix of its page programmed, the fraction
   *  varying with the index, as tools/host/flash.ts does) and every later one does nothing; -1: never. */
  cutAt = -1;
  /** The power failed (cutAt reached): nothing more is written. */
  dead = false;
  /** Called once, when the cut happens (runImage stops the emulator there: the board is off). */
  onCut?: () => void;
  onCommand?: (c: FlashCommand) => void;
  /** What 0x4B (read unique id) answers: the SDK's board id, hence a board's MAC and mDNS name. */
  uniqueId: readonly number[] = UNIQUE_ID;
  private selected = false;
  private header: number[] = [];
  private length = 0;
  /** A page program's bytes land here first, by column, so more than 256 of them wrap as on a chip. */
  private readonly page = new Uint8Array(PAGE);

  constructor(private readonly flash: Uint8Array) {}

  select(): void {
    if (this.selected) return;
    this.selected = true;
    this.header = [];
    this.length = 0;
    this.page.fill(0xff);
  }

  deselect(): void {
    if (!this.selected) return;
    this.selected = false;
    if (this.length === 0) return;
    const cmd = this.header[0];
    const addr = this.header.length >= 4 ? ((this.header[1] << 16) | (this.header[2] << 8) | this.header[3]) >>> 0 : undefined;
    let executed = false;
    const size = ERASE_SIZE[cmd];
    if (cmd === 0x06) this.wel = true;
    else if (cmd === 0x04) this.wel = false;
    else if (size !== undefined && this.length === 4 && this.wel && !this.dead) {
      // a chip runs an erase only when CS rises right after the last address byte
      const start = (addr! & ~(size - 1)) % this.flash.length;
      const end = Math.min(start + size, this.flash.length);
      this.flash.fill(0xff, start, this.cut(start, end));
      this.ops.erases++;
      this.wel = false;
      executed = true;
    } else if (cmd === 0x02 && this.length > 4 && this.wel && !this.dead) {
      const base = (addr! & ~(PAGE - 1)) % this.flash.length;
      const end = this.cut(base, Math.min(base + PAGE, this.flash.length));
      for (let i = base; i < end; i++) this.flash[i] &= this.page[i - base]; // NOR: program clears bits only
      this.ops.programs++;
      this.wel = false;
      executed = true;
    }
    this.onCommand?.({ cmd, addr, length: this.length, executed });
  }

  /** Where the erase or program of [start, end) stops: end, or at the cut a prefix of it. */
  private cut(start: number, end: number): number {
    const n = this.ops.erases + this.ops.programs;
    if (n !== this.cutAt) return end;
    this.dead = true;
    this.onCut?.();
    return start + Math.floor(((end - start) * ((n % 7) + 1)) / 8);
  }

  /** Shifts `byte` in while CS is low; returns the byte the chip shifts out at the same time. */
  transfer(byte: number): number {
    if (!this.selected) return IDLE; // CS high: the chip's output is off
    byte &= 0xff;
    const i = this.length++;
    if (this.header.length < HEADER_MAX) this.header.push(byte);
    const cmd = this.header[0];
    if (i === 0) return IDLE;
    if (cmd === 0x02 && i >= 4) {
      const column = this.header[3];
      this.page[(column + i - 4) % PAGE] = byte;
      return IDLE;
    }
    switch (cmd) {
      case 0x05:
        return this.wel ? 0x02 : 0x00; // never busy: erases and programs finish at CS high
      case 0x35:
        return 0x02; // QE set, as boot2 leaves a W25Q part
      case 0x9f:
        return [0xef, 0x40, Math.log2(this.flash.length) & 0xff][i - 1] ?? IDLE;
      case 0x4b:
        return i >= 5 ? (this.uniqueId[i - 5] ?? IDLE) : IDLE;
      case 0x03:
        return i >= 4 ? this.dataAt(i - 4) : IDLE;
      case 0x0b:
        return i >= 5 ? this.dataAt(i - 5) : IDLE; // one dummy byte after the address
    }
    return IDLE;
  }

  private dataAt(n: number): number {
    const addr = ((this.header[1] << 16) | (this.header[2] << 8) | this.header[3]) + n;
    return this.flash[addr % this.flash.length];
  }
}

/** IO_QSPI with its registers kept (rp2040js leaves it unimplemented: reads gave 0xffffffff, which the
 *  ROM took for flash_abort() and so gave up on every erase and program). */
class IoQspi extends BasePeripheral {
  private readonly regs = new Uint32Array(IO_QSPI_REGS);

  constructor(
    rp2040: RP2040,
    private readonly onCs: (low: boolean) => void,
  ) {
    super(rp2040, "IO_QSPI_BASE");
  }

  readUint32(offset: number): number {
    const i = (offset & 0xfff) >>> 2; // reads through the atomic aliases read the register
    return i < this.regs.length ? this.regs[i] : 0;
  }

  writeUint32(offset: number, value: number): void {
    const i = (offset & 0xfff) >>> 2;
    if (i >= this.regs.length) return;
    this.regs[i] = value;
    if (i === IO_QSPI_SS_CTRL >>> 2) this.onCs(((value >>> OUTOVER_SHIFT) & 3) === OUTOVER_LOW);
  }
}

export interface FlashModel {
  readonly chip: SpiNorFlash;
  readonly ops: FlashOps;
}

/** Puts a SPI NOR flash model behind mcu's SSI and IO_QSPI. Call before the first instruction. */
export function attachFlashModel(mcu: RP2040): FlashModel {
  const chip = new SpiNorFlash(mcu.flash);
  const peripherals: Record<number, Peripheral> = mcu.peripherals;
  // CS only counts when forced low; SSI-driven CS (boot2, XIP) frames bytes this model cannot see
  let csLow = false;
  peripherals[IO_QSPI_KEY] = new IoQspi(mcu, (low) => {
    if (low === csLow) return;
    csLow = low;
    if (low) chip.select();
    else chip.deselect();
  });

  // the RX FIFO: one byte back per byte written to DR0, so RXFLR/SR/DR0 reads pair up with writes
  const ssi = peripherals[SSI_KEY];
  const read = ssi.readUint32.bind(ssi);
  const write = ssi.writeUint32.bind(ssi);
  const rx: number[] = [];
  ssi.readUint32 = (offset: number): number => {
    switch (offset) {
      case SSI_DR0:
        return rx.shift() ?? 0;
      case SSI_RXFLR:
        return rx.length;
      case SSI_TXFLR:
        return 0; // sent as soon as written
      case SSI_SR:
        return SR_TFE | SR_TFNF | (rx.length ? SR_RFNE : 0) | (rx.length >= RX_FIFO_DEPTH ? SR_RFF : 0);
    }
    return read(offset);
  };
  ssi.writeUint32 = (offset: number, value: number): void => {
    if (offset === SSI_DR0) {
      // rp2040js answered 0 to everything (a status of "not busy"): kept for SSI-driven CS
      const reply = csLow ? chip.transfer(value) : 0;
      if (rx.length < RX_FIFO_DEPTH) rx.push(reply); // a full FIFO drops, as the hardware's does
      return;
    }
    if (offset === SSI_SSIENR && !(value & 1)) rx.length = 0; // disabling the SSI empties its FIFOs
    write(offset, value);
  };
  return { chip, ops: chip.ops };
}
