// The block framing SHA-1 and SHA-256 share (Merkle-Damgard, 64-byte blocks, big-endian bit length):
// bytes are gathered into one static block and handed to the hash's compress function. The two hashes
// never run interleaved (each digest is finished within one call), so they share the block. The
// compress function is picked by a flag, not passed as a function: no indirect calls in the core.
import { sha1Compress } from "./sha1";
import { sha256Compress } from "./sha256";

export const SHA1: bool = false;
export const SHA256: bool = true;

function compress(sha256: bool): void {
  if (sha256) sha256Compress();
  else sha1Compress();
}

export const block = memory.data(64);
let fill: i32 = 0;
let total: u64 = 0;

export function mdReset(): void {
  fill = 0;
  total = 0;
}

export function mdUpdate(p: usize, n: i32, sha256: bool): void {
  total += <u64>n;
  for (let i = 0; i < n; i++) {
    store<u8>(block + fill++, load<u8>(p + i));
    if (fill == 64) {
      compress(sha256);
      fill = 0;
    }
  }
}

/** The final padding: 0x80, zeros, the message length in bits; compresses the last block(s). */
export function mdFinish(sha256: bool): void {
  let bits = total << 3;
  store<u8>(block + fill++, 0x80);
  if (fill > 56) {
    while (fill < 64) store<u8>(block + fill++, 0);
    compress(sha256);
    fill = 0;
  }
  while (fill < 56) store<u8>(block + fill++, 0);
  store<u64>(block + 56, bswap<u64>(bits));
  compress(sha256);
}
