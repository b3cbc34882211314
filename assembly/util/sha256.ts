// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for authenticated control and OTA images.
// Streaming over byte ranges with static state: no allocation.

import { mdUpdate, mdFinish, sha256Start, h, SHA256 } from "./md";

export function sha256Reset(): void {
  sha256Start();
}

export function sha256Update(p: usize, n: i32): void {
  mdUpdate(p, n, SHA256);
}

/** Writes the 32-byte digest to dst. */
export function sha256Final(dst: usize): void {
  mdFinish(SHA256);
  for (let i = 0; i < 8; i++) store<u32>(dst + (i << 2), bswap<u32>(load<u32>(h + (i << 2))));
}

// HMAC: the key is at most 64 bytes (longer keys are refused by the configuration).
const pad = memory.data(64);
const inner = memory.data(32);
let hmacKey: usize = 0;
let hmacKeyLen: i32 = 0;

function keyPad(x: u8): void {
  memory.fill(pad, x, 64);
  for (let i = 0; i < hmacKeyLen; i++) store<u8>(pad + i, load<u8>(hmacKey + i) ^ x);
}

export function hmacStart(key: usize, keyLen: i32): void {
  hmacKey = key;
  hmacKeyLen = keyLen;
  sha256Reset();
  keyPad(0x36);
  sha256Update(pad, 64);
}

export function hmacUpdate(p: usize, n: i32): void {
  sha256Update(p, n);
}

/** Writes the 32-byte MAC to dst. */
export function hmacFinal(dst: usize): void {
  sha256Final(inner);
  sha256Reset();
  keyPad(0x5c);
  sha256Update(pad, 64);
  sha256Update(inner, 32);
  sha256Final(dst);
}
