// NOR flash as the board has it, in memory or backed by a file: erase sets whole sectors to 0xFF,
// programming only clears bits, both on aligned units. Virtual boards keep their flash across restarts.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { C } from "./abi.generated.ts";

/** Region sizes of the board's flash layout (the OTA and provisioning issues build on it). */
export const REGIONS: Record<number, number> = {
  [C.REGION_CONFIG]: 4096,
  [C.REGION_SLOT_A]: 64 * 1024,
  [C.REGION_SLOT_B]: 64 * 1024,
  [C.REGION_STATE]: 4096,
};

export class Flash {
  private readonly base = new Map<number, number>();
  readonly bytes: Uint8Array;

  constructor(private readonly file?: string) {
    let total = 0;
    for (const [region, size] of Object.entries(REGIONS)) {
      this.base.set(Number(region), total);
      total += size;
    }
    this.bytes = new Uint8Array(total).fill(0xff);
    if (file && existsSync(file)) {
      const saved = readFileSync(file);
      if (saved.length !== total) throw new Error(`${file}: ${saved.length} bytes, expected a ${total}-byte flash image`);
      this.bytes.set(saved);
    }
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

  program(region: number, offset: number, data: Uint8Array): number {
    const at = this.span(region, offset, data.length, C.FLASH_PAGE);
    if (at < 0) return at;
    for (let i = 0; i < data.length; i++) this.bytes[at + offset + i] &= data[i];
    this.save();
    return C.OK;
  }

  erase(region: number, offset: number, len: number): number {
    const at = this.span(region, offset, len, C.FLASH_SECTOR);
    if (at < 0) return at;
    this.bytes.fill(0xff, at + offset, at + offset + len);
    this.save();
    return C.OK;
  }

  private save(): void {
    if (this.file) writeFileSync(this.file, this.bytes);
  }
}
