// NOR flash as the board has it, in memory or backed by a file: erase sets whole sectors to 0xFF,
// programming only clears bits, both on aligned units. Virtual boards keep their flash across restarts.
// For power-loss tests it counts every erase and program step, can record them (`journal`) and can cut
// the power at step `cutAt`: that program leaves its page partly programmed (a prefix of its bytes, one
// byte half done), that erase leaves its sector partly erased, and every later step fails (ERR_IO)
// until powerOn().
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { C } from "./abi.generated.ts";
import { picoLayout } from "../provision/layout.ts";

const LAYOUT = picoLayout();
/** Region sizes of the board's flash layout (native/host/pw_layout.h, docs/FLASH-LAYOUT.md). */
export const REGIONS: Record<number, number> = {
  [C.REGION_CONFIG]: LAYOUT.configSize, // two sectors, one copy of the configuration each (docs/CONFIG.md)
  [C.REGION_SLOT_A]: LAYOUT.slotSize,
  [C.REGION_SLOT_B]: LAYOUT.slotSize,
  [C.REGION_STATE]: LAYOUT.stateSize,
};
const ORDER = [C.REGION_CONFIG, C.REGION_SLOT_A, C.REGION_SLOT_B, C.REGION_STATE];

/** A flash file of the layout before (64 KiB slots) with every region moved to its place in this one;
 *  the slots' images fit the larger slots as they are. */
export function migrateOldLayout(old: Uint8Array): Uint8Array {
  const out = new Uint8Array(LAYOUT.regionsBytes).fill(0xff);
  const oldSize = [LAYOUT.configSize, LAYOUT.oldSlotSize, LAYOUT.oldSlotSize, LAYOUT.stateSize];
  let from = 0, to = 0;
  ORDER.forEach((r, i) => {
    out.set(old.subarray(from, from + oldSize[i]), to);
    from += oldSize[i];
    to += REGIONS[r];
  });
  return out;
}

export interface FlashOp {
  kind: "erase" | "program";
  region: number;
  offset: number;
  /** program: the bytes; erase: undefined */
  data?: Uint8Array;
  len: number;
}

export class Flash {
  private readonly base = new Map<number, number>();
  readonly bytes: Uint8Array;
  /** Erase and program steps so far. */
  ops = 0;
  /** The step (0-based, counted in `ops`) at which the power fails; -1 never. */
  cutAt = -1;
  /** The power failed: nothing more is written until powerOn(). */
  dead = false;
  /** When set, every erase and program step is appended here. */
  journal: FlashOp[] | null = null;

  constructor(private readonly file?: string) {
    let total = 0;
    for (const region of ORDER) {
      this.base.set(region, total);
      total += REGIONS[region];
    }
    this.bytes = new Uint8Array(total).fill(0xff);
    if (file && existsSync(file)) {
      const saved = new Uint8Array(readFileSync(file));
      if (saved.length === LAYOUT.oldBytes) {
        // written whole to a new file renamed over the old one: a cut leaves one or the other
        this.bytes.set(migrateOldLayout(saved));
        writeFileSync(`${file}.migrating`, this.bytes);
        renameSync(`${file}.migrating`, file);
        console.error(`${file}: migrated from the ${LAYOUT.oldBytes}-byte layout (64 KiB slots) to ${total} bytes (${LAYOUT.slotSize / 1024} KiB slots)`);
      } else if (saved.length !== total) {
        throw new Error(
          `${file}: ${saved.length} bytes, expected a ${total}-byte flash image (or a ${LAYOUT.oldBytes}-byte one of the layout before, which is migrated); ` +
            "it is neither: give another --flash-file, or move this one away to start blank",
        );
      } else this.bytes.set(saved);
    }
  }

  /** A flash holding a copy of these bytes (a snapshot). */
  static from(bytes: Uint8Array): Flash {
    const f = new Flash();
    f.bytes.set(bytes);
    return f;
  }

  powerOn(): void {
    this.dead = false;
    this.cutAt = -1;
  }

  size(region: number): number {
    return REGIONS[region] ?? C.ERR_NOTFOUND;
  }

  private span(region: number, offset: number, len: number, unit: number): number {
    const size = REGIONS[region];
    if (size === undefined) return C.ERR_NOTFOUND;
    if (offset < 0 || len < 0 || offset + len > size) return C.ERR_RANGE;
    if (offset % unit || len % unit) return C.ERR_INVAL;
    return this.base.get(region)!;
  }

  read(region: number, offset: number, len: number): Uint8Array | number {
    const at = this.span(region, offset, len, 1);
    return at < 0 ? at : this.bytes.slice(at + offset, at + offset + len);
  }

  /** How much of step `ops` happens: all of it (len), or, at the cut, a prefix that varies by step. */
  private step(op: FlashOp): number {
    if (this.dead) return -1;
    this.journal?.push(op);
    const n = this.ops++;
    if (n !== this.cutAt) return op.len;
    this.dead = true;
    return Math.floor((op.len * ((n % 7) + 1)) / 8);
  }

  program(region: number, offset: number, data: Uint8Array): number {
    const at = this.span(region, offset, data.length, C.FLASH_PAGE);
    if (at < 0) return at;
    const done = this.step({ kind: "program", region, offset, data: data.slice(), len: data.length });
    if (done < 0) return C.ERR_IO;
    for (let i = 0; i < done; i++) this.bytes[at + offset + i] &= data[i];
    if (done < data.length) this.bytes[at + offset + done] &= data[done] | 0x55; // one byte half programmed
    this.save();
    return done < data.length ? C.ERR_IO : C.OK;
  }

  erase(region: number, offset: number, len: number): number {
    const at = this.span(region, offset, len, C.FLASH_SECTOR);
    if (at < 0) return at;
    const done = this.step({ kind: "erase", region, offset, len });
    if (done < 0) return C.ERR_IO;
    this.bytes.fill(0xff, at + offset, at + offset + done);
    this.save();
    return done < len ? C.ERR_IO : C.OK;
  }

  /** Replays recorded steps (stopping where the power fails). */
  replay(ops: FlashOp[]): void {
    for (const op of ops) {
      if (this.dead) return;
      if (op.kind === "erase") this.erase(op.region, op.offset, op.len);
      else this.program(op.region, op.offset, op.data!);
    }
  }

  private save(): void {
    if (this.file) writeFileSync(this.file, this.bytes);
  }
}
