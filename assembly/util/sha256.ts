// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for authenticated control and OTA images.
// Streaming over byte ranges with static state: no allocation.

import { block, mdFeed, mdPad, mdPadLength, mdReset } from "./md";

const K = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const h = memory.data(32);
const w = memory.data(64 * 4);

export function sha256Reset(): void {
  store<u32>(h, 0x6a09e667);
  store<u32>(h + 4, 0xbb67ae85);
  store<u32>(h + 8, 0x3c6ef372);
  store<u32>(h + 12, 0xa54ff53a);
  store<u32>(h + 16, 0x510e527f);
  store<u32>(h + 20, 0x9b05688c);
  store<u32>(h + 24, 0x1f83d9ab);
  store<u32>(h + 28, 0x5be0cd19);
  mdReset();
}

function sha256Compress(): void {
  for (let i = 0; i < 16; i++) store<u32>(w + (i << 2), bswap<u32>(load<u32>(block + (i << 2))));
  for (let i = 16; i < 64; i++) {
    let a = load<u32>(w + ((i - 15) << 2));
    let b = load<u32>(w + ((i - 2) << 2));
    let s0 = rotr<u32>(a, 7) ^ rotr<u32>(a, 18) ^ (a >>> 3);
    let s1 = rotr<u32>(b, 17) ^ rotr<u32>(b, 19) ^ (b >>> 10);
    store<u32>(w + (i << 2), load<u32>(w + ((i - 16) << 2)) + s0 + load<u32>(w + ((i - 7) << 2)) + s1);
  }
  let a = load<u32>(h), b = load<u32>(h + 4), c = load<u32>(h + 8), d = load<u32>(h + 12);
  let e = load<u32>(h + 16), f = load<u32>(h + 20), g = load<u32>(h + 24), hh = load<u32>(h + 28);
  for (let i = 0; i < 64; i++) {
    let t1 = hh + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(K + (i << 2)) + load<u32>(w + (i << 2));
    let t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(h, load<u32>(h) + a);
  store<u32>(h + 4, load<u32>(h + 4) + b);
  store<u32>(h + 8, load<u32>(h + 8) + c);
  store<u32>(h + 12, load<u32>(h + 12) + d);
  store<u32>(h + 16, load<u32>(h + 16) + e);
  store<u32>(h + 20, load<u32>(h + 20) + f);
  store<u32>(h + 24, load<u32>(h + 24) + g);
  store<u32>(h + 28, load<u32>(h + 28) + hh);
}

export function sha256Update(p: usize, n: i32): void {
  for (let at = 0; (at = mdFeed(p, n, at)) >= 0; ) sha256Compress();
}

/** Writes the 32-byte digest to dst. */
export function sha256Final(dst: usize): void {
  if (mdPad()) sha256Compress();
  mdPadLength();
  sha256Compress();
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
