// A model of the RP2040's XIP flash cache, and a tap that feeds it every flash access rp2040js makes.
// rp2040js models no cache (flash costs what RAM costs), so this is how a run estimates what misses add
// on a board. Used by tools/bench/xip.ts; unit-tested alone in test/firmware/xip-cache.test.ts.
//
// What the model assumes (RP2040 datasheet §2.6.3.1-2, pico-sdk hardware/regs/xip.h):
// - 16 KiB, two-way set-associative, 8-byte lines, 1-cycle hit. 16384 / 8 / 2 = 1024 sets (the datasheet's
//   flush "takes just over 1024 clock cycles (16 kB total size / 8 bytes per line / 2 ways per set)").
// - It caches the 24-bit flash address space: offset = address & 0xffffff; set index = offset bits [12:3],
//   tag = bits [23:13] (the conventional split; the datasheet does not spell the index out).
// - Replacement within a set: LRU (the datasheet does not state the policy; "random" is offered to see
//   how much the answer depends on it). An invalid way is always filled first.
// - Aliases: 0x10 cached + allocating; 0x11 checks for a hit but does not allocate on a miss; 0x12 does
//   not check, always reads the flash and allocates; 0x13 bypasses the cache. A write to the 0x10 alias
//   deletes a matching line; writing XIP_CTRL FLUSH (0x14000004) empties the cache.
// - A miss is one QSPI line fill that stalls the bus master; the penalty is the caller's parameter.

/** Kinds of flash access: an instruction fetch (one bus word), a data load by the core, another master (DMA). */
export const FETCH = 0;
export const DATA = 1;
export const OTHER = 2;
export type AccessKind = typeof FETCH | typeof DATA | typeof OTHER;

export const XIP_BASE = 0x10000000;
export const XIP_CTRL_FLUSH = 0x14000004;

/** [start, end) in system addresses; compared by flash offset, so any alias of the range matches. */
export interface AddressRange {
  start: number;
  end: number;
  name?: string;
}

export interface XipCacheOptions {
  sizeBytes?: number;
  ways?: number;
  lineBytes?: number;
  replacement?: "lru" | "random";
  /** What-if: these ranges live in RAM (no cache lookup, no miss); counted apart. */
  inRam?: AddressRange[];
  /** Keep a bitmap of the lines touched (working set); 256 KiB of memory. */
  trackLines?: boolean;
  /** Called on every flash transfer (a miss, or an uncached read). */
  onMiss?: (addr: number, kind: AccessKind) => void;
}

export interface XipStats {
  /** Accesses that went to the XIP block (not those moved to RAM). */
  accesses: number;
  hits: number;
  /** Flash transfers: misses, plus every read through the 0x12/0x13 aliases. */
  misses: number;
  missesByKind: [number, number, number];
  /** Reads through the uncached aliases (0x12, 0x13). */
  uncached: number;
  /** Accesses to what-if RAM ranges. */
  inRam: number;
  flushes: number;
}

const emptyStats = (): XipStats => ({ accesses: 0, hits: 0, misses: 0, missesByKind: [0, 0, 0], uncached: 0, inRam: 0, flushes: 0 });

/** Sorted, merged copies of ranges, as flash offsets. */
function normalise(ranges: AddressRange[]): { starts: Float64Array; ends: Float64Array; bytes: number } {
  const rs = ranges.map((r) => [r.start & 0xffffff, (r.start & 0xffffff) + (r.end - r.start)] as [number, number]).filter((r) => r[1] > r[0]);
  rs.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([...r]);
  }
  return { starts: Float64Array.from(out, (r) => r[0]), ends: Float64Array.from(out, (r) => r[1]), bytes: out.reduce((s, r) => s + r[1] - r[0], 0) };
}

export class XipCache {
  readonly sets: number;
  readonly ways: number;
  readonly lineShift: number;
  /** Bytes the what-if RAM ranges take (merged). */
  readonly ramBytes: number;
  stats: XipStats = emptyStats();
  private readonly setMask: number;
  private readonly setBits: number;
  private readonly tags: Int32Array; // set * ways + way; -1: invalid
  private readonly used: Float64Array; // last use, for LRU
  private tick = 0;
  private rng = 0x2545f491;
  private readonly random: boolean;
  private readonly ramStarts: Float64Array;
  private readonly ramEnds: Float64Array;
  private readonly lines: Uint8Array | null;
  private distinct = 0;
  private readonly onMiss?: (addr: number, kind: AccessKind) => void;

  constructor(opts: XipCacheOptions = {}) {
    const size = opts.sizeBytes ?? 16384;
    const line = opts.lineBytes ?? 8;
    this.ways = opts.ways ?? 2;
    this.lineShift = Math.log2(line);
    this.sets = size / line / this.ways;
    if (!Number.isInteger(this.lineShift) || !Number.isInteger(Math.log2(this.sets))) throw new Error("xip-cache: sizes must be powers of two");
    this.setBits = Math.log2(this.sets);
    this.setMask = this.sets - 1;
    this.tags = new Int32Array(this.sets * this.ways).fill(-1);
    this.used = new Float64Array(this.sets * this.ways);
    this.random = opts.replacement === "random";
    const ram = normalise(opts.inRam ?? []);
    this.ramStarts = ram.starts;
    this.ramEnds = ram.ends;
    this.ramBytes = ram.bytes;
    this.lines = opts.trackLines ? new Uint8Array(1 << (24 - this.lineShift)) : null;
    this.onMiss = opts.onMiss;
  }

  /** The set an address maps to. */
  setOf(addr: number): number {
    return ((addr & 0xffffff) >>> this.lineShift) & this.setMask;
  }

  /** Whether a what-if RAM range holds the address. */
  inRam(addr: number): boolean {
    const off = addr & 0xffffff;
    const s = this.ramStarts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (off < s[mid]) hi = mid - 1;
      else if (off >= this.ramEnds[mid]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Whether the line holding addr is cached (no side effects). */
  holds(addr: number): boolean {
    return this.find(addr) >= 0;
  }

  /** n consecutive accesses to the line of addr (n > 1 only when nothing else touched the cache between
   *  them: a compressed trace). Returns the number of flash transfers they caused. */
  access(addr: number, kind: AccessKind = DATA, n = 1): number {
    if (this.ramStarts.length && this.inRam(addr)) {
      this.stats.inRam += n;
      return 0;
    }
    const st = this.stats;
    st.accesses += n;
    const alias = (addr >>> 24) & 3; // 0x10..0x13
    if (this.lines) {
      const l = (addr & 0xffffff) >>> this.lineShift;
      if (!this.lines[l]) (this.lines[l] = 1), this.distinct++;
    }
    if (alias >= 2) {
      // 0x12 / 0x13: no lookup, every read goes to the flash; 0x12 also allocates
      if (alias === 2) this.fill(addr);
      st.uncached += n;
      this.miss(addr, kind, n);
      return n;
    }
    if (this.find(addr) >= 0) {
      st.hits += n;
      return 0;
    }
    if (alias === 1) {
      // non-allocating: every one of the n misses
      this.miss(addr, kind, n);
      return n;
    }
    this.fill(addr);
    st.hits += n - 1;
    this.miss(addr, kind, 1);
    return 1;
  }

  /** A write through the 0x10 alias: deletes the matching line (datasheet §2.6.3.2). */
  invalidate(addr: number): void {
    const base = this.setOf(addr) * this.ways;
    const tag = (addr & 0xffffff) >>> (this.lineShift + this.setBits);
    for (let w = 0; w < this.ways; w++) if (this.tags[base + w] === tag) this.tags[base + w] = -1;
  }

  flush(): void {
    this.tags.fill(-1);
    this.stats.flushes++;
  }

  /** Keeps the cache's contents, zeroes the counters and the working set. */
  resetStats(): void {
    this.stats = emptyStats();
    if (this.lines) this.lines.fill(0);
    this.distinct = 0;
  }

  /** Distinct lines touched since the last resetStats (needs trackLines). */
  get linesTouched(): number {
    return this.distinct;
  }

  /** Sets that more lines than ways map to, among the lines touched: where a working set that fits in
   *  16 KiB still thrashes. */
  overfullSets(): number {
    if (!this.lines) return 0;
    const per = new Uint32Array(this.sets);
    const lines = this.lines;
    for (let l = 0; l < lines.length; l++) if (lines[l]) per[l & this.setMask]++;
    let n = 0;
    for (const c of per) if (c > this.ways) n++;
    return n;
  }

  private find(addr: number): number {
    const off = addr & 0xffffff;
    const set = (off >>> this.lineShift) & this.setMask;
    const tag = off >>> (this.lineShift + this.setBits);
    const base = set * this.ways;
    for (let w = 0; w < this.ways; w++) {
      if (this.tags[base + w] === tag) {
        this.used[base + w] = ++this.tick;
        return w;
      }
    }
    return -1;
  }

  private fill(addr: number): void {
    const off = addr & 0xffffff;
    const set = (off >>> this.lineShift) & this.setMask;
    const tag = off >>> (this.lineShift + this.setBits);
    const base = set * this.ways;
    let victim = -1;
    for (let w = 0; w < this.ways && victim < 0; w++) if (this.tags[base + w] === tag || this.tags[base + w] === -1) victim = w;
    if (victim < 0) {
      if (this.random) {
        this.rng ^= this.rng << 13, this.rng ^= this.rng >>> 17, this.rng ^= this.rng << 5;
        victim = (this.rng >>> 0) % this.ways;
      } else {
        victim = 0;
        for (let w = 1; w < this.ways; w++) if (this.used[base + w] < this.used[base + victim]) victim = w;
      }
    }
    this.tags[base + victim] = tag;
    this.used[base + victim] = ++this.tick;
  }

  private miss(addr: number, kind: AccessKind, n: number): void {
    this.stats.misses += n;
    this.stats.missesByKind[kind] += n;
    if (this.onMiss) for (let i = 0; i < n; i++) this.onMiss(addr, kind);
  }
}

// ------------------------------------------------------------------ the emulator tap

export interface FlashTapHandlers {
  /** Every bus access to the XIP aliases 0x10-0x13 (a fetch is reported once per 32-bit word, as the
   *  Cortex-M0+ fetches: the second halfword of a word comes from its fetch buffer). */
  onAccess(addr: number, kind: AccessKind): void;
  /** Each instruction, when its first halfword is fetched (any memory), before its accesses. */
  onInstruction?(pc: number): void;
  /** A write to the 0x10 alias (invalidates a line) or to XIP_CTRL FLUSH. */
  onControl?(addr: number): void;
}

export interface FlashTap {
  /** Cycles of the instructions executed since the tap went on (rp2040js's count, no cache). */
  readonly cycles: number;
  readonly instructions: number;
}

type Mcu = {
  core: { PC: number; executeInstruction(): number };
  readUint32(a: number): number;
  readUint16(a: number): number;
  readUint8(a: number): number;
  writeUint32(a: number, v: number): void;
  writeUint16(a: number, v: number): void;
  writeUint8(a: number, v: number): void;
};

const isXip = (a: number) => (a >>> 26) === 0x10 >>> 2; // 0x10000000-0x13ffffff

/**
 * Wraps rp2040js's bus reads so each flash access is seen once. The core fetches an instruction with
 * rp2040.readUint16 (twice for a 32-bit one) from executeInstruction; loads use readUint32/16/8; the
 * DMA reads the same functions outside executeInstruction (kind OTHER). readUint16/8 of the aliases
 * and writeUint8/16 fall back on readUint32 inside rp2040js: only the outermost call counts.
 */
export function tapFlash(sim: { rp2040: unknown }, h: FlashTapHandlers): FlashTap {
  const mcu = sim.rp2040 as Mcu;
  const core = mcu.core;
  const r32 = mcu.readUint32.bind(mcu);
  const r16 = mcu.readUint16.bind(mcu);
  const r8 = mcu.readUint8.bind(mcu);
  const w32 = mcu.writeUint32.bind(mcu);
  const w16 = mcu.writeUint16.bind(mcu);
  const w8 = mcu.writeUint8.bind(mcu);
  const exec = core.executeInstruction.bind(core);
  const onAccess = h.onAccess;
  const onInstruction = h.onInstruction;
  let depth = 0;
  let inInsn = false;
  let fetchState = 0; // 1: the next readUint16 is the opcode; 2: the second half of a 32-bit one
  let pc = 0;
  let size = 2;
  let lastWord = -1; // the word in the core's fetch buffer
  const tap = { cycles: 0, instructions: 0 };

  const fetch = (a: number) => {
    const word = a >>> 2;
    if (word !== lastWord) {
      lastWord = word;
      if (isXip(a)) onAccess(a, FETCH);
    }
  };
  mcu.readUint16 = (a: number) => {
    if (depth === 0 && fetchState === 1) {
      fetchState = 0;
      pc = a;
      onInstruction?.(a);
      fetch(a);
      depth++;
      const v = r16(a);
      depth--;
      if (v >> 12 === 0b1111 || v >> 11 === 0b11101) (fetchState = 2), (size = 4);
      return v;
    }
    if (depth === 0 && fetchState === 2 && a === pc + 2) {
      fetchState = 0;
      fetch(a);
    } else if (depth === 0 && isXip(a)) onAccess(a, inInsn ? DATA : OTHER);
    depth++;
    const v = r16(a);
    depth--;
    return v;
  };
  mcu.readUint32 = (a: number) => {
    if (depth === 0 && isXip(a >>> 0)) onAccess(a >>> 0, inInsn ? DATA : OTHER);
    depth++;
    const v = r32(a);
    depth--;
    return v;
  };
  mcu.readUint8 = (a: number) => {
    if (depth === 0 && isXip(a)) onAccess(a, inInsn ? DATA : OTHER);
    depth++;
    const v = r8(a);
    depth--;
    return v;
  };
  const write = (w: (a: number, v: number) => void) => (a: number, v: number) => {
    a >>>= 0;
    if (depth === 0 && h.onControl && ((a >>> 24 === 0x10) || a === XIP_CTRL_FLUSH)) h.onControl(a);
    depth++;
    w(a, v);
    depth--;
  };
  mcu.writeUint32 = write(w32);
  mcu.writeUint16 = write(w16);
  mcu.writeUint8 = write(w8);
  core.executeInstruction = () => {
    inInsn = true;
    fetchState = 1;
    size = 2;
    const c = exec();
    inInsn = false;
    fetchState = 0;
    if ((core.PC & ~1) !== pc + size) lastWord = -1; // a taken branch refetches
    tap.cycles += c;
    tap.instructions++;
    return c;
  };
  return tap;
}
