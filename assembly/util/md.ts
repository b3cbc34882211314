// The block framing SHA-1 and SHA-256 share (Merkle-Damgard, 64-byte blocks, big-endian bit length):
// bytes are gathered into one static block; the hash on top (sha1.ts, sha256.ts) compresses it whenever
// mdFeed() says it is full. The two hashes never run interleaved (each digest is finished within
// one call), so they share the block. This file imports neither hash: no circle, no indirect call.

export const block = memory.data(64);
let fill: i32 = 0;
let total: u64 = 0;

export function mdReset(): void {
  fill = 0;
  total = 0;
}

/** Gathers the bytes [p + at, p + n) into the block. Returns where it stopped when the block filled up
 *  (the caller compresses it and calls again from there), or -1 once all of them are in. */
export function mdFeed(p: usize, n: i32, at: i32): i32 {
  let k = min(n - at, 64 - fill);
  memory.copy(block + fill, p + at, k);
  total += <u64>k;
  fill += k;
  if (fill < 64) return -1;
  fill = 0;
  return at + k;
}

/** The final padding's first part (0x80, zeros): true when the length no longer fits in this block,
 *  which the caller then compresses before mdPadLength(). */
export function mdPad(): bool {
  store<u8>(block + fill++, 0x80);
  if (fill <= 56) return false;
  while (fill < 64) store<u8>(block + fill++, 0);
  fill = 0;
  return true;
}

/** The final padding's second part: zeros, the message length in bits; the caller compresses. */
export function mdPadLength(): void {
  while (fill < 56) store<u8>(block + fill++, 0);
  store<u64>(block + 56, bswap<u64>(total << 3));
}
