// The CYW43439's gSPI slave at the bit level: what the chip sees on CS, clock and the shared data line.
// The host (the SDK's PIO program) shifts a 32-bit command then write data, or turns the line around and
// clocks the response in. Words travel in the byte order the bus-control register selects: at power-on
// 16-bit words, low half first (the driver's read_reg_u32_swap); after the driver writes WORD_LENGTH_32 |
// ENDIAN_BIG, each word's bytes in memory order. The bus knows framing only; registers live in the chip.
//
// Timing served: the host samples the line between rising edges (spi_gap01_sample0, the SDK default):
// the chip puts the next response bit on the line at each rising edge once the host stops driving it.

export const FN_BUS = 0;
export const FN_BACKPLANE = 1;
export const FN_WLAN = 2;

export const WORD_LENGTH_32 = 0x01;
export const ENDIAN_BIG = 0x02;
export const STATUS_ENABLE = 0x01;

export interface Command {
  write: boolean;
  increment: boolean;
  fn: number;
  addr: number;
  /** Bytes, as the command's 11-bit length field says (0 means 2048). */
  len: number;
}

export function decodeCommand(word: number): Command {
  const len = word & 0x7ff;
  return { write: !!(word >>> 31), increment: !!((word >>> 30) & 1), fn: (word >>> 28) & 3, addr: (word >>> 11) & 0x1ffff, len: len || 2048 };
}

export function encodeCommand(c: Omit<Command, "len"> & { len: number }): number {
  return ((c.write ? 1 : 0) << 31 | (c.increment ? 1 : 0) << 30 | c.fn << 28 | (c.addr & 0x1ffff) << 11 | (c.len & 0x7ff)) >>> 0;
}

/** What the bus needs from the chip. */
export interface GspiTarget {
  /** Bus-control byte 0 (word length, endianness) in force for the next transaction. */
  busMode(): number;
  /** Bytes of padding the chip sends before data of a read from `fn`. */
  responseDelay(fn: number): number;
  /** Whether the 32-bit status word follows read data (SPI_STATUS_ENABLE bit 0). */
  statusEnabled(): boolean;
  statusWord(): number;
  read(cmd: Command): Uint8Array;
  write(cmd: Command, data: Uint8Array): void;
  /** The interrupt the chip drives on the data line while CS is high. */
  irqLevel(): boolean;
  fault(message: string): never;
}

/** Wire order of one word's four bytes for a bus mode: wire byte i carries value byte ORDER[i]. */
export function wireOrder(mode: number, fault: (m: string) => never): readonly number[] {
  if (mode & WORD_LENGTH_32) return mode & ENDIAN_BIG ? [0, 1, 2, 3] : [3, 2, 1, 0];
  if (mode & ENDIAN_BIG) fault("gSPI: 16-bit big-endian word mode is not modelled (the driver never selects it)");
  return [1, 0, 3, 2];
}

export class GspiBus {
  private selected = false;
  private order: readonly number[] = [1, 0, 3, 2];
  private inBits = 0;
  private inByte = 0;
  private inBytes: number[] = [];
  private cmd: Command | null = null;
  private response: Uint8Array | null = null;
  private outBit = 0;
  /** Transactions completed (for tests and traces). */
  transactions = 0;
  onTransaction?: (cmd: Command, data: Uint8Array) => void;

  constructor(private readonly target: GspiTarget) {}

  get isSelected(): boolean {
    return this.selected;
  }

  /** CS went low: a new transaction, in the word order the bus mode selects now. */
  select(): void {
    this.selected = true;
    this.order = wireOrder(this.target.busMode(), (m) => this.target.fault(m));
    this.inBits = 0;
    this.inByte = 0;
    this.inBytes = [];
    this.cmd = null;
    this.response = null;
    this.outBit = 0;
  }

  /** CS went high: a write transaction takes effect now. */
  deselect(): void {
    if (!this.selected) return;
    this.selected = false;
    const cmd = this.cmd;
    if (cmd && cmd.write) {
      const data = this.unwire(this.inBytes.slice(4));
      if (data.length < cmd.len)
        this.target.fault(`gSPI: write of ${cmd.len} bytes to function ${cmd.fn} address 0x${cmd.addr.toString(16)} ended after ${data.length}`);
      const payload = data.subarray(0, cmd.len);
      this.target.write(cmd, payload);
      this.onTransaction?.(cmd, payload);
    } else if (cmd) {
      this.onTransaction?.(cmd, new Uint8Array(0));
    } else if (this.inBits || this.inBytes.length) {
      this.target.fault(`gSPI: CS rose after ${this.inBytes.length * 8 + this.inBits} bits, before a whole command`);
    }
    if (cmd) this.transactions++;
  }

  /**
   * A rising clock edge while selected. hostDrives: the host's data pin is an output (its bit is sampled);
   * otherwise the chip puts its next response bit on the line, returned here.
   */
  clock(hostDrives: boolean, hostBit: boolean): boolean {
    if (!this.selected) return false;
    if (hostDrives) {
      if (this.response) this.target.fault("gSPI: host drove the data line during a read response");
      this.inByte = (this.inByte << 1) | (hostBit ? 1 : 0);
      if (++this.inBits === 8) {
        this.inBytes.push(this.inByte);
        this.inBits = 0;
        this.inByte = 0;
        if (this.inBytes.length === 4 && !this.cmd) this.command();
      }
      return false;
    }
    if (!this.response) {
      if (!this.cmd) this.target.fault("gSPI: host turned the data line around before a whole command");
      this.target.fault(`gSPI: host read after a write command (function ${this.cmd!.fn} address 0x${this.cmd!.addr.toString(16)})`);
    }
    const r = this.response!;
    const byte = this.outBit >> 3;
    const bit = byte < r.length ? (r[byte] >> (7 - (this.outBit & 7))) & 1 : 0;
    this.outBit++;
    return bit === 1;
  }

  private command(): void {
    const v = this.unwire(this.inBytes);
    const word = (v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24) >>> 0;
    const cmd = decodeCommand(word);
    this.cmd = cmd;
    if (cmd.write) return;
    const pad = this.target.responseDelay(cmd.fn);
    const data = this.target.read(cmd);
    const aligned = (cmd.len + 3) & ~3;
    const status = this.target.statusEnabled() ? 4 : 0;
    const plain = new Uint8Array(pad + aligned + status);
    plain.set(data.subarray(0, cmd.len), pad);
    if (status) new DataView(plain.buffer).setUint32(pad + aligned, this.target.statusWord(), true);
    this.response = this.wire(plain);
  }

  /** Value bytes -> wire bytes, word by word in the current order. */
  private wire(v: Uint8Array): Uint8Array {
    const out = new Uint8Array((v.length + 3) & ~3);
    for (let w = 0; w < out.length; w += 4) for (let i = 0; i < 4; i++) out[w + i] = v[w + this.order[i]] ?? 0;
    return out;
  }

  private unwire(b: number[]): Uint8Array {
    const out = new Uint8Array(b.length & ~3);
    for (let w = 0; w + 4 <= b.length; w += 4) for (let i = 0; i < 4; i++) out[w + this.order[i]] = b[w + i];
    return out;
  }
}
