// The CYW43439 as the host sees it through gSPI: function 0 (the SPI core's registers: test pattern,
// bus control, interrupts, status), function 1 (the backplane: SDIO-core registers, the 32 KiB window
// onto the chip's address space, RAM, the ARM and SOCSRAM cores' wrappers) and function 2 (the WLAN
// FIFO carrying SDPCM frames). The firmware the driver downloads is checked byte for byte against the
// blob it embeds when the ARM core leaves reset: a wrong image never brings the HT clock up, as a real
// chip whose firmware crashed. Anything the model does not know is a fault naming it.
import { FN_BACKPLANE, FN_BUS, FN_WLAN, STATUS_ENABLE, type Command, type GspiTarget } from "./gspi.ts";
import { buildCdc, buildSdpcm, CHANNEL_CONTROL, CHANNEL_DATA, CHANNEL_EVENT, DATA_HEADER_LEN, EVENT_HEADER_LEN, parseBdc, parseCdc, parseSdpcm, SDPCM_HEADER_LEN } from "./sdpcm.ts";
import type { Cyw43Blobs } from "./blobs.ts";

export const TEST_PATTERN = 0xfeedbead;
export const RAM_SIZE = 512 * 1024;
export const CHIP_ID = 43439;

// function 0 registers (cyw43_spi.h)
const SPI_INTERRUPT_REGISTER = 0x04;
const SPI_INTERRUPT_ENABLE = 0x06;
const SPI_STATUS_REGISTER = 0x08;
const SPI_READ_TEST_REGISTER = 0x14;
const SPI_RESP_DELAY_F1 = 0x1d;
export const F2_PACKET_AVAILABLE = 0x0020;
export const DATA_UNAVAILABLE = 0x0001;
export const STATUS_F2_RX_READY = 0x20;
export const STATUS_F2_PKT_AVAILABLE = 0x100;

// function 1 registers (cyw43_ll.c)
const SDIO_FUNCTION2_WATERMARK = 0x10008;
const SDIO_BACKPLANE_ADDRESS_LOW = 0x1000a;
const SDIO_BACKPLANE_ADDRESS_HIGH = 0x1000c;
const SPI_FRAME_CONTROL = 0x1000d;
const SDIO_CHIP_CLOCK_CSR = 0x1000e;
const SDIO_PULL_UP = 0x1000f;
const SDIO_WAKEUP_CTRL = 0x1001e;
const SDIO_SLEEP_CSR = 0x1001f;
const SBSDIO_ALP_AVAIL_REQ = 0x08;
const SBSDIO_HT_AVAIL_REQ = 0x10;
const SBSDIO_FORCE_HT = 0x02;
const SBSDIO_ALP_AVAIL = 0x40;
const SBSDIO_HT_AVAIL = 0x80;
const KEEP_SDIO_ON = 0x01;
const DEVICE_ON = 0x02;

// backplane addresses
const CHIPCOMMON = 0x18000000;
const CHIPCOMMON_SR_CONTROL1 = CHIPCOMMON + 0x508;
const SDIO_INT_STATUS = 0x18002020;
const SDIO_INT_HOST_MASK = 0x18002024;
const SDIO_FUNCTION_INT_MASK = 0x18002034;
const SOCSRAM_BANKX_INDEX = 0x18004010;
const SOCSRAM_BANKX_PDA = 0x18004044;
const WRAPPER_ARM = 0x18103000;
const WRAPPER_SOCSRAM = 0x18104000;
const AI_IOCTRL = 0x408;
const AI_RESETCTRL = 0x800;
const SICF_CPUHALT = 0x20;
const SICF_FGC = 0x02;
const SICF_CLOCK_EN = 0x01;

/** A frame the chip holds for the host: sequence and credit are stamped when the host reads it. */
interface Queued {
  channel: number;
  headerLength: number;
  body: Uint8Array;
}

/** The WLAN firmware running on the chip (wlan.ts), fed the host's SDPCM frames. */
export interface ChipFirmware {
  control(cmd: number, set: boolean, itf: number, payload: Uint8Array, outLen: number): { status: number; payload: Uint8Array };
  data(itf: number, frame: Uint8Array): void;
  /** The ARM core started the (checked) firmware image. */
  booted(): void;
  /** WL_ON went low: the firmware's state is gone. */
  poweredOff?(): void;
}

export class ModelFault extends Error {}

export interface Cyw43ChipOptions {
  blobs: Cyw43Blobs;
  /** Receive buffers the firmware grants the host (SDPCM credit window); the driver accepts up to 20. */
  creditWindow?: number;
}

export class Cyw43Chip implements GspiTarget {
  readonly blobs: Cyw43Blobs;
  readonly creditWindow: number;
  firmware: ChipFirmware | null = null;
  /** Every fault, in order (the first is also thrown). */
  readonly faults: string[] = [];
  /** Register accesses, for traces and the unit tests: "F1 W 0x1000e=0x08". */
  trace?: (line: string) => void;
  /** The interrupt line may have changed (the pin wiring drives GP24 from irqLevel() while CS is high). */
  onIrqChange?: () => void;

  powered = false;
  private f0 = new Uint8Array(0x20);
  private f1 = new Map<number, number>();
  private window = 0;
  private ram = new Uint8Array(RAM_SIZE);
  private bp = new Map<number, number>();
  private clmChunks: Uint8Array[] = [];
  running = false;
  /** Why the WLAN core did not come up (download check), or null. */
  bootFailure: string | null = null;
  private rxQueue: Queued[] = [];
  private txSequence = 0;
  private hostSequence = 0;
  private hostCredit = 0;
  private inControl = false;
  private deferred: Queued[] = [];

  constructor(opts: Cyw43ChipOptions) {
    this.blobs = opts.blobs;
    this.creditWindow = opts.creditWindow ?? 8;
    if (this.creditWindow < 1 || this.creditWindow > 20) throw new Error(`cyw43 model: credit window ${this.creditWindow} outside 1..20 (the driver ignores larger jumps)`);
  }

  fault(message: string): never {
    this.faults.push(message);
    throw new ModelFault(`cyw43 model: ${message}`);
  }

  /** WL_ON: low holds the chip in reset (all state lost), high powers it up. */
  setPower(on: boolean): void {
    if (on === this.powered) return;
    this.powered = on;
    if (!on) this.firmware?.poweredOff?.();
    this.f0.fill(0);
    this.f0[0x0c] = 0x03; // F1 enabled and ready
    this.f1.clear();
    // the window resets to the enumeration base (chipcommon), as brcmfmac assumes; the driver's cached
    // window survives a failed init, so its retry relies on this
    this.window = CHIPCOMMON;
    this.f1.set(SDIO_BACKPLANE_ADDRESS_HIGH, CHIPCOMMON >>> 24);
    this.ram.fill(0);
    this.bp.clear();
    this.bp.set(WRAPPER_ARM + AI_RESETCTRL, 1); // both cores held in reset at power-on
    this.bp.set(WRAPPER_SOCSRAM + AI_RESETCTRL, 1);
    this.clmChunks = [];
    this.running = false;
    this.bootFailure = null;
    this.rxQueue = [];
    this.deferred = [];
    this.txSequence = 0;
    this.hostSequence = 0;
    this.hostCredit = 1; // the driver starts with last credit 1: one frame may go before any answer
  }

  // ---------------------------------------------------------------- gSPI target

  busMode(): number {
    return this.f0[0];
  }

  responseDelay(fn: number): number {
    if (fn !== FN_BACKPLANE) return 0;
    return this.f0[SPI_RESP_DELAY_F1] || this.f0[1];
  }

  statusEnabled(): boolean {
    return !!(this.f0[2] & STATUS_ENABLE);
  }

  statusWord(): number {
    let s = 0;
    if (this.running) s |= STATUS_F2_RX_READY;
    const head = this.rxQueue[0];
    if (head) s |= STATUS_F2_PKT_AVAILABLE | (this.frameLength(head) << 9);
    return s >>> 0;
  }

  irqLevel(): boolean {
    const pending = this.f0[SPI_INTERRUPT_REGISTER] | (this.f0[SPI_INTERRUPT_REGISTER + 1] << 8);
    const enabled = this.f0[SPI_INTERRUPT_ENABLE] | (this.f0[SPI_INTERRUPT_ENABLE + 1] << 8);
    return this.powered && (pending & enabled) !== 0;
  }

  read(cmd: Command): Uint8Array {
    if (!this.powered) this.fault("gSPI read while WL_ON is low");
    if (cmd.fn === FN_BUS) return this.readF0(cmd);
    if (cmd.fn === FN_BACKPLANE) return this.readF1(cmd);
    if (cmd.fn === FN_WLAN) return this.readF2(cmd);
    this.fault(`gSPI read from function ${cmd.fn} (only 0, 1 and 2 exist on the 43439 without Bluetooth)`);
  }

  write(cmd: Command, data: Uint8Array): void {
    if (!this.powered) this.fault("gSPI write while WL_ON is low");
    if (cmd.fn === FN_BUS) return this.writeF0(cmd, data);
    if (cmd.fn === FN_BACKPLANE) return this.writeF1(cmd, data);
    if (cmd.fn === FN_WLAN) return this.writeF2(cmd, data);
    this.fault(`gSPI write to function ${cmd.fn}`);
  }

  // ---------------------------------------------------------------- function 0

  private readF0(cmd: Command): Uint8Array {
    const out = new Uint8Array(cmd.len);
    for (let i = 0; i < cmd.len; i++) {
      const a = cmd.addr + i;
      if (a >= SPI_STATUS_REGISTER && a < SPI_STATUS_REGISTER + 4) out[i] = (this.statusWord() >>> ((a - SPI_STATUS_REGISTER) * 8)) & 0xff;
      else if (a >= SPI_READ_TEST_REGISTER && a < SPI_READ_TEST_REGISTER + 4) out[i] = (TEST_PATTERN >>> ((a - SPI_READ_TEST_REGISTER) * 8)) & 0xff;
      else if (a < 0x14 || (a >= 0x18 && a < 0x20)) out[i] = this.f0[a];
      else this.fault(`F0 read of unknown gSPI register 0x${a.toString(16)}`);
    }
    this.trace?.(`F0 R 0x${cmd.addr.toString(16)}/${cmd.len}=${hex(out)}`);
    return out;
  }

  private writeF0(cmd: Command, data: Uint8Array): void {
    this.trace?.(`F0 W 0x${cmd.addr.toString(16)}/${cmd.len}=${hex(data)}`);
    for (let i = 0; i < data.length; i++) {
      const a = cmd.addr + i;
      const v = data[i];
      if (a === SPI_INTERRUPT_REGISTER || a === SPI_INTERRUPT_REGISTER + 1) {
        this.f0[a] &= ~v; // write 1 to clear; a packet still waiting raises it again at once
        if (a === SPI_INTERRUPT_REGISTER && this.rxQueue.length) this.f0[a] |= F2_PACKET_AVAILABLE;
      }
      else if (a <= 0x03 || a === SPI_INTERRUPT_ENABLE || a === SPI_INTERRUPT_ENABLE + 1 || (a >= 0x18 && a < 0x20)) this.f0[a] = v;
      else if (a === 0xf0) {
        // SDIOD_CCCR_BRCM_CARDCAP: the driver writes this SDIO card register through the SPI core too; no effect on gSPI
      } else this.fault(`F0 write of read-only or unknown gSPI register 0x${a.toString(16)} (0x${v.toString(16)})`);
    }
    this.onIrqChange?.();
  }

  // ---------------------------------------------------------------- function 1

  private readF1(cmd: Command): Uint8Array {
    if (cmd.addr >= 0x10000) {
      if (cmd.len !== 1) this.fault(`F1 read of ${cmd.len} bytes from SDIO register 0x${cmd.addr.toString(16)}`);
      const v = this.readSdioReg(cmd.addr);
      this.trace?.(`F1 R 0x${cmd.addr.toString(16)}=0x${v.toString(16)}`);
      return Uint8Array.of(v);
    }
    const base = this.window + (cmd.addr & 0x7fff);
    const out = new Uint8Array(cmd.len);
    if (base < RAM_SIZE) {
      if (base + cmd.len > RAM_SIZE) this.fault(`F1 read past the end of RAM at 0x${base.toString(16)}`);
      out.set(this.ram.subarray(base, base + cmd.len));
    } else {
      const v = this.readBackplane(base, cmd.len);
      for (let i = 0; i < cmd.len; i++) out[i] = (v >>> (8 * i)) & 0xff;
    }
    this.trace?.(`BP R 0x${base.toString(16)}/${cmd.len}=${hex(out)}`);
    return out;
  }

  private writeF1(cmd: Command, data: Uint8Array): void {
    if (cmd.addr >= 0x10000) {
      if (cmd.len !== 1) this.fault(`F1 write of ${cmd.len} bytes to SDIO register 0x${cmd.addr.toString(16)}`);
      this.trace?.(`F1 W 0x${cmd.addr.toString(16)}=0x${data[0].toString(16)}`);
      this.writeSdioReg(cmd.addr, data[0]);
      return;
    }
    const base = this.window + (cmd.addr & 0x7fff);
    if (base < RAM_SIZE) {
      if (base + data.length > RAM_SIZE) this.fault(`F1 write past the end of RAM at 0x${base.toString(16)}`);
      if (this.running) this.fault(`F1 write into RAM at 0x${base.toString(16)} while the WLAN firmware runs`);
      this.ram.set(data, base);
      return;
    }
    if (data.length !== 1 && data.length !== 2 && data.length !== 4) this.fault(`backplane write of ${data.length} bytes to register 0x${base.toString(16)}`);
    let v = 0;
    for (let i = data.length - 1; i >= 0; i--) v = (v << 8) | data[i];
    this.trace?.(`BP W 0x${base.toString(16)}/${data.length}=0x${(v >>> 0).toString(16)}`);
    this.writeBackplane(base, v >>> 0);
  }

  private readSdioReg(a: number): number {
    switch (a) {
      case SDIO_CHIP_CLOCK_CSR: {
        const req = this.f1.get(a) ?? 0;
        let v = req & 0x3f;
        if (req & SBSDIO_ALP_AVAIL_REQ || this.running) v |= SBSDIO_ALP_AVAIL;
        if (this.running) v |= SBSDIO_HT_AVAIL; // the booted firmware requests HT itself
        return v;
      }
      case SDIO_SLEEP_CSR: {
        const v = this.f1.get(a) ?? 0;
        return v & KEEP_SDIO_ON ? v | DEVICE_ON : v;
      }
      case SDIO_FUNCTION2_WATERMARK:
      case SDIO_BACKPLANE_ADDRESS_LOW:
      case SDIO_BACKPLANE_ADDRESS_LOW + 1:
      case SDIO_BACKPLANE_ADDRESS_HIGH:
      case SDIO_PULL_UP:
      case SDIO_WAKEUP_CTRL:
        return this.f1.get(a) ?? 0;
    }
    this.fault(`F1 read of unknown SDIO register 0x${a.toString(16)}`);
  }

  private writeSdioReg(a: number, v: number): void {
    switch (a) {
      case SDIO_BACKPLANE_ADDRESS_LOW:
        this.window = (this.window & 0xffff0000) | ((v & 0x80) << 8);
        break;
      case SDIO_BACKPLANE_ADDRESS_LOW + 1:
        this.window = ((this.window & 0xff00ffff) | (v << 16)) >>> 0;
        break;
      case SDIO_BACKPLANE_ADDRESS_HIGH:
        this.window = ((this.window & 0x00ffffff) | (v << 24)) >>> 0;
        break;
      case SDIO_CHIP_CLOCK_CSR:
        if (v & ~(SBSDIO_ALP_AVAIL_REQ | SBSDIO_HT_AVAIL_REQ | SBSDIO_FORCE_HT)) this.fault(`F1 clock CSR write 0x${v.toString(16)}: bits the model does not know`);
        break;
      case SPI_FRAME_CONTROL:
        if (v & 1) this.rxQueue.shift(); // terminate the frame being read: drop it
        return;
      case SDIO_FUNCTION2_WATERMARK:
      case SDIO_PULL_UP:
      case SDIO_WAKEUP_CTRL:
      case SDIO_SLEEP_CSR:
        break;
      default:
        this.fault(`F1 write of unknown SDIO register 0x${a.toString(16)} (0x${v.toString(16)})`);
    }
    this.f1.set(a, v);
  }

  private readBackplane(a: number, len: number): number {
    if (a === CHIPCOMMON) return (CHIP_ID | (0 << 16) | (1 << 28)) >>> 0; // chip id 43439, rev 0, AI interconnect
    if (a === CHIPCOMMON_SR_CONTROL1) return 0; // save/restore off
    if (this.bp.has(a) || knownBackplaneRegister(a)) return (this.bp.get(a) ?? 0) & (len === 4 ? 0xffffffff : (1 << (len * 8)) - 1);
    this.fault(`backplane read of unknown address 0x${a.toString(16)}`);
  }

  private writeBackplane(a: number, v: number): void {
    if (!knownBackplaneRegister(a)) this.fault(`backplane write of unknown address 0x${a.toString(16)} (0x${v.toString(16)})`);
    if (a === SDIO_INT_STATUS) {
      this.bp.set(a, (this.bp.get(a) ?? 0) & ~v);
      return;
    }
    if (a === RAM_SIZE - 4) {
      this.ram.set([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24], a);
      return;
    }
    this.bp.set(a, v);
    if (a === WRAPPER_ARM + AI_RESETCTRL || a === WRAPPER_ARM + AI_IOCTRL) this.armChanged();
  }

  /** The WLAN ARM core runs when out of reset with its clock on, not halted and not force-gated. */
  private armChanged(): void {
    const reset = (this.bp.get(WRAPPER_ARM + AI_RESETCTRL) ?? 1) & 1;
    const io = this.bp.get(WRAPPER_ARM + AI_IOCTRL) ?? 0;
    const runs = !reset && (io & (SICF_CLOCK_EN | SICF_FGC | SICF_CPUHALT)) === SICF_CLOCK_EN;
    if (!runs || this.running || this.bootFailure) return;
    this.bootFailure = this.checkDownload();
    if (this.bootFailure) {
      this.faults.push(`WLAN firmware did not start: ${this.bootFailure}`);
      return; // like a crashed firmware: HT never comes, the driver gives up
    }
    this.running = true;
    this.firmware?.booted();
  }

  private checkDownload(): string | null {
    const fw = this.blobs.firmware;
    for (let i = 0; i < fw.length; i++)
      if (this.ram[i] !== fw[i]) return `RAM 0x${i.toString(16)} holds 0x${this.ram[i].toString(16)}, the driver's firmware blob has 0x${fw[i].toString(16)}`;
    const nv = this.blobs.nvram;
    const padded = (nv.length + 3) & ~3; // CYW43_WRITE_BYTES_PAD: 4 on SPI
    const at = RAM_SIZE - 4 - padded;
    for (let i = 0; i < nv.length; i++)
      if (this.ram[at + i] !== nv[i]) return `NVRAM byte ${i} at RAM 0x${(at + i).toString(16)} differs from the driver's NVRAM`;
    const words = padded / 4;
    const want = (((~words & 0xffff) << 16) | words) >>> 0;
    const got = new DataView(this.ram.buffer).getUint32(RAM_SIZE - 4, true);
    if (got !== want) return `NVRAM length word 0x${got.toString(16)} (expected 0x${want.toString(16)} for ${padded} bytes)`;
    return null;
  }

  /** The CLM blob as the "clmload" iovar delivered it, checked against the driver's. */
  clmChunk(flag: number, data: Uint8Array): void {
    if (flag & 2) this.clmChunks = [];
    this.clmChunks.push(data.slice());
  }

  clmStatus(): { ok: boolean; why?: string } {
    const got = Buffer.concat(this.clmChunks);
    const want = this.blobs.clm;
    if (got.length !== want.length) return { ok: false, why: `CLM of ${got.length} bytes, the driver's blob has ${want.length}` };
    const at = got.findIndex((b, i) => b !== want[i]);
    return at < 0 ? { ok: true } : { ok: false, why: `CLM byte ${at} differs from the driver's blob` };
  }

  // ---------------------------------------------------------------- function 2: SDPCM

  private readF2(cmd: Command): Uint8Array {
    const head = this.rxQueue.shift();
    if (!head) {
      this.f0[SPI_INTERRUPT_REGISTER] |= DATA_UNAVAILABLE;
      this.fault(`F2 read of ${cmd.len} bytes with no frame pending (the status register said none)`);
    }
    const frame = this.finish(head);
    if (cmd.len < frame.length) this.fault(`F2 read of ${cmd.len} bytes for a ${frame.length}-byte frame`);
    this.trace?.(`F2 R ${frame.length} channel ${head.channel}`);
    return frame;
  }

  private writeF2(cmd: Command, data: Uint8Array): void {
    if (!this.running) this.fault("F2 write before the WLAN firmware runs (F2 not ready)");
    const f = parseSdpcm(data, (m) => this.fault(m));
    if (f.sequence !== this.hostSequence) this.fault(`SDPCM: host sequence ${f.sequence}, expected ${this.hostSequence}`);
    if (((this.hostCredit - f.sequence) & 0xff) === 0 || ((this.hostCredit - f.sequence) & 0xff) > 20)
      this.fault(`SDPCM: host sent sequence ${f.sequence} without credit (credit ${this.hostCredit})`);
    this.hostSequence = (this.hostSequence + 1) & 0xff;
    this.trace?.(`F2 W seq ${f.sequence} channel ${f.channel} ${f.size} bytes`);
    const fw = this.firmware ?? this.fault("F2 frame with no WLAN firmware model attached");
    if (f.channel === CHANNEL_CONTROL) this.control(f.body);
    else if (f.channel === CHANNEL_DATA) {
      const { itf, payload } = parseBdc(f.body, (m) => this.fault(m));
      fw.data(itf, payload);
      // a header-only frame grants more credit when the host has half the window or less left and
      // nothing else is on its way back to carry it
      if (this.rxQueue.length === 0 && ((this.hostCredit - this.hostSequence) & 0xff) <= this.creditWindow / 2)
        this.queue(CHANNEL_CONTROL, SDPCM_HEADER_LEN, new Uint8Array(0));
    } else this.fault(`SDPCM: host frame on channel ${f.channel} (only control 0 and data 2 go to the chip)`);
  }

  private control(body: Uint8Array): void {
    const { hdr, payload } = parseCdc(body, (m) => this.fault(m));
    const set = !!(hdr.flags & 2);
    const itf = (hdr.flags >>> 12) & 0xf;
    this.inControl = true;
    let r: { status: number; payload: Uint8Array };
    try {
      r = this.firmware!.control(hdr.cmd, set, itf, payload.subarray(0, hdr.outLen), hdr.outLen);
    } finally {
      this.inControl = false;
    }
    // the answer keeps the request's id, kind and interface in its flags
    this.queue(CHANNEL_CONTROL, SDPCM_HEADER_LEN, buildCdc({ cmd: hdr.cmd, outLen: r.payload.length, flags: hdr.flags, status: r.status }, r.payload));
    // events an ioctl caused leave after its answer, as the driver sets its join state between the two
    const later = this.deferred;
    this.deferred = [];
    for (const q of later) this.queue(q.channel, q.headerLength, q.body);
  }

  /** Credit the firmware grants now: the host may send sequences below it. */
  private grantedCredit(): number {
    return (this.hostSequence + this.creditWindow) & 0xff;
  }

  private frameLength(q: Queued): number {
    return q.headerLength + q.body.length;
  }

  /** The frame as the host reads it: sequence and credit stamped when it leaves the chip. */
  private finish(q: Queued): Uint8Array {
    this.hostCredit = this.grantedCredit();
    const out = buildSdpcm(q.channel, q.headerLength, q.body, this.txSequence, this.hostCredit);
    this.txSequence = (this.txSequence + 1) & 0xff;
    return out;
  }

  /** A frame for the host: raises F2_PACKET_AVAILABLE on the interrupt line. */
  queue(channel: number, headerLength: number, body: Uint8Array): void {
    if (this.inControl) {
      this.deferred.push({ channel, headerLength, body });
      return;
    }
    if (headerLength + body.length > 2047) this.fault(`a ${headerLength + body.length}-byte frame for the host does not fit gSPI's 11-bit length`);
    this.rxQueue.push({ channel, headerLength, body });
    this.packetAvailable();
  }

  private packetAvailable(): void {
    this.f0[SPI_INTERRUPT_REGISTER] |= F2_PACKET_AVAILABLE;
    this.onIrqChange?.();
  }

  sendEvent(body: Uint8Array): void {
    this.queue(CHANNEL_EVENT, EVENT_HEADER_LEN, body);
  }

  sendData(body: Uint8Array): void {
    this.queue(CHANNEL_DATA, DATA_HEADER_LEN, body);
  }

  get pendingFrames(): number {
    return this.rxQueue.length;
  }
}

function knownBackplaneRegister(a: number): boolean {
  return (
    a === SDIO_INT_STATUS || a === SDIO_INT_HOST_MASK || a === SDIO_FUNCTION_INT_MASK || a === SOCSRAM_BANKX_INDEX || a === SOCSRAM_BANKX_PDA ||
    a === WRAPPER_ARM + AI_IOCTRL || a === WRAPPER_ARM + AI_RESETCTRL || a === WRAPPER_SOCSRAM + AI_IOCTRL || a === WRAPPER_SOCSRAM + AI_RESETCTRL ||
    a === RAM_SIZE - 4
  );
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
