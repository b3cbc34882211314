// UF2 (https://github.com/microsoft/uf2): 512-byte blocks, each carrying up to 476 bytes for one flash
// address. The RP2040 bootrom takes 256-byte payloads at 256-aligned addresses with family ID
// 0xe48bff56; blocks are numbered 0..numBlocks-1 and every block states numBlocks.
export const UF2_MAGIC_START0 = 0x0a324655; // "UF2\n"
export const UF2_MAGIC_START1 = 0x9e5d5157;
export const UF2_MAGIC_END = 0x0ab16f30;
export const UF2_FLAG_FAMILY_ID_PRESENT = 0x00002000;
export const RP2040_FAMILY_ID = 0xe48bff56;
export const UF2_PAYLOAD = 256;

/** Blocks programming `data` at `address` (both 256-aligned; the tail is padded with 0xFF). */
export function writeUf2(address: number, data: Uint8Array, familyId = RP2040_FAMILY_ID): Uint8Array {
  if (address % UF2_PAYLOAD) throw new Error(`UF2 address 0x${address.toString(16)} is not 256-byte aligned`);
  const count = Math.ceil(data.length / UF2_PAYLOAD);
  const out = new Uint8Array(count * 512);
  for (let b = 0; b < count; b++) {
    const block = out.subarray(b * 512, (b + 1) * 512);
    const v = new DataView(block.buffer, block.byteOffset, 512);
    v.setUint32(0, UF2_MAGIC_START0, true);
    v.setUint32(4, UF2_MAGIC_START1, true);
    v.setUint32(8, UF2_FLAG_FAMILY_ID_PRESENT, true);
    v.setUint32(12, address + b * UF2_PAYLOAD, true);
    v.setUint32(16, UF2_PAYLOAD, true);
    v.setUint32(20, b, true);
    v.setUint32(24, count, true);
    v.setUint32(28, familyId, true);
    const payload = block.subarray(32, 32 + UF2_PAYLOAD);
    payload.fill(0xff);
    payload.set(data.subarray(b * UF2_PAYLOAD, (b + 1) * UF2_PAYLOAD));
    v.setUint32(508, UF2_MAGIC_END, true);
  }
  return out;
}

export interface Uf2Span {
  address: number;
  data: Uint8Array;
  familyId: number;
}

export interface Uf2Block {
  address: number;
  data: Uint8Array; // UF2_PAYLOAD bytes
  familyId: number;
}

/** Every block of a UF2 file, in file order; throws on anything the RP2040 bootrom would not take as one
 *  file (bad magic, numbering other than 0..n-1 of n, payloads other than 256 bytes, no family ID). */
export function readUf2Blocks(file: Uint8Array): Uf2Block[] {
  if (file.length === 0 || file.length % 512) throw new Error(`not a UF2 file: ${file.length} bytes is not a multiple of 512`);
  const count = file.length / 512;
  const blocks: Uf2Block[] = [];
  for (let b = 0; b < count; b++) {
    const v = new DataView(file.buffer, file.byteOffset + b * 512, 512);
    if (v.getUint32(0, true) !== UF2_MAGIC_START0 || v.getUint32(4, true) !== UF2_MAGIC_START1 || v.getUint32(508, true) !== UF2_MAGIC_END) {
      throw new Error(`block ${b}: bad UF2 magic`);
    }
    if (v.getUint32(20, true) !== b || v.getUint32(24, true) !== count) throw new Error(`block ${b}: numbered ${v.getUint32(20, true)} of ${v.getUint32(24, true)}`);
    if (v.getUint32(16, true) !== UF2_PAYLOAD) throw new Error(`block ${b}: payload ${v.getUint32(16, true)} bytes, not 256`);
    if (!(v.getUint32(8, true) & UF2_FLAG_FAMILY_ID_PRESENT)) throw new Error(`block ${b}: no family ID`);
    const data = file.subarray(b * 512 + 32, b * 512 + 32 + UF2_PAYLOAD);
    blocks.push({ address: v.getUint32(12, true), data, familyId: v.getUint32(28, true) });
  }
  return blocks;
}

/** Reads a UF2 back into one contiguous span; throws on anything the RP2040 bootrom would not take. */
export function readUf2(file: Uint8Array): Uf2Span {
  const blocks = readUf2Blocks(file);
  const start = blocks[0].address;
  const data = new Uint8Array(blocks.length * UF2_PAYLOAD);
  blocks.forEach((blk, b) => {
    if (blk.address !== start + b * UF2_PAYLOAD) throw new Error(`block ${b}: address 0x${blk.address.toString(16)} is not contiguous`);
    data.set(blk.data, b * UF2_PAYLOAD);
  });
  return { address: start, data, familyId: blocks[blocks.length - 1].familyId };
}

/** One UF2 file of the blocks of several, renumbered 0..n-1 of n: the RP2040 bootrom counts a file's
 *  blocks and reboots once it has them all, so what must land together has to be one file. */
export function joinUf2(files: Uint8Array[]): Uint8Array {
  const total = files.reduce((n, f) => n + f.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of files) {
    readUf2Blocks(f); // each part well-formed on its own
    out.set(f, at);
    at += f.length;
  }
  const count = total / 512;
  const v = new DataView(out.buffer);
  for (let b = 0; b < count; b++) {
    v.setUint32(b * 512 + 20, b, true);
    v.setUint32(b * 512 + 24, count, true);
  }
  return out;
}
