// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for authenticated control and OTA images.
// Streaming over byte ranges with static state: no allocation.

import { mdUpdate, mdFinish, mdReset, swapWords, sha256Start, sha256PadStates, h, SHA256 } from "./md";
import { bytesSame } from "./bytes";

export function sha256Reset(): void {
  sha256Start();
}

export function sha256Update(p: usize, n: i32): void {
  mdUpdate(p, n, SHA256);
}

/** Writes the 32-byte digest to dst. */
export function sha256Final(dst: usize): void {
  mdFinish(SHA256);
  swapWords(dst, h, 8);
}

// HMAC: the key is at most 64 bytes (longer keys are refused by the configuration). The states after
// the key's inner and outer pad blocks are kept with a copy of the key bytes they came from, so a MAC
// under the same key skips those two compressions. The cache is keyed on the bytes, not on who set
// them: a new key from settings, the config sector or the digest export's io buffer misses it.
const padsKey = memory.data(64); // the key, zero-padded to the block
let padsKeyLen1: i32 = 0; // the cached key's length + 1; 0: nothing cached
const padStates = memory.data(64); // after the inner pad block, then after the outer one
const inner = memory.data(32);

export function hmacStart(key: usize, keyLen: i32): void {
  if (keyLen + 1 != padsKeyLen1 || !bytesSame(key, padsKey, keyLen)) {
    memory.fill(padsKey, 0, 64);
    memory.copy(padsKey, key, keyLen);
    padsKeyLen1 = keyLen + 1;
    sha256PadStates(padsKey, padStates);
  }
  memory.copy(h, padStates, 32);
  mdReset(64);
}

export function hmacUpdate(p: usize, n: i32): void {
  sha256Update(p, n);
}

/** Writes the 32-byte MAC to dst. */
export function hmacFinal(dst: usize): void {
  sha256Final(inner);
  memory.copy(h, padStates + 32, 32);
  mdReset(64);
  sha256Update(inner, 32);
  sha256Final(dst);
}
