// SHA-1 and SHA-256 (FIPS 180-4): their state, their compression functions and the block framing both
// share (Merkle-Damgard, 64-byte blocks, big-endian bit length). sha1.ts and sha256.ts are the API on top;
// this file imports neither. Bytes are gathered into one static block: the two hashes never run
// interleaved (each digest is finished within one call), so they share it. The compress function is
// picked by a flag, not passed as a function: no indirect calls in the core. Static state: no allocation.

export const SHA1: bool = false;
export const SHA256: bool = true;

// ---- SHA-1 -------------------------------------------------------------------------------------

const w1 = memory.data(80 * 4);
export let h0: u32 = 0;
export let h1: u32 = 0;
export let h2: u32 = 0;
export let h3: u32 = 0;
export let h4: u32 = 0;

export function sha1Start(): void {
  h0 = 0x67452301;
  h1 = 0xefcdab89;
  h2 = 0x98badcfe;
  h3 = 0x10325476;
  h4 = 0xc3d2e1f0;
  mdReset(0);
}

@inline function sha1Compress(): void {
  swapWords(w1, block, 16);
  for (let i = 16; i < 80; i++) {
    let x = load<u32>(w1 + ((i - 3) << 2)) ^ load<u32>(w1 + ((i - 8) << 2)) ^ load<u32>(w1 + ((i - 14) << 2)) ^ load<u32>(w1 + ((i - 16) << 2));
    store<u32>(w1 + (i << 2), rotl<u32>(x, 1));
  }
  let a = h0, b = h1, c = h2, d = h3, e = h4;
  for (let i = 0; i < 80; i++) {
    let f: u32, k: u32;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    let t = rotl<u32>(a, 5) + f + e + k + load<u32>(w1 + (i << 2));
    e = d; d = c; c = rotl<u32>(b, 30); b = a; a = t;
  }
  h0 += a; h1 += b; h2 += c; h3 += d; h4 += e;
}

// ---- SHA-256 ----------------------------------------------------------------------------------

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

// the initial state (FIPS 180-4 5.3.3)
const IV = memory.data<u32>([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
export const h = memory.data(32);
const w2 = memory.data(64 * 4);

export function sha256Start(): void {
  memory.copy(h, IV, 32);
  mdReset(0);
}

/** HMAC's key pads (util/sha256.ts): the states after a first block of the 64 bytes at p XORed with 0x36
 *  (to `states`) and with 0x5c (to states + 32). Saved once per key, each MAC resumes from them. */
export function sha256PadStates(p: usize, states: usize): void {
  for (let k = 0; k < 2; k++) {
    sha256Start();
    let x: u8 = k ? 0x5c : 0x36;
    for (let i = 0; i < 64; i++) store<u8>(block + i, load<u8>(p + i) ^ x);
    compress(SHA256);
    memory.copy(states + (k << 5), h, 32);
  }
}

@inline function sha256Compress(): void {
  swapWords(w2, block, 16);
  for (let i = 16; i < 64; i++) {
    let a = load<u32>(w2 + ((i - 15) << 2));
    let b = load<u32>(w2 + ((i - 2) << 2));
    let s0 = rotr<u32>(a, 7) ^ rotr<u32>(a, 18) ^ (a >>> 3);
    let s1 = rotr<u32>(b, 17) ^ rotr<u32>(b, 19) ^ (b >>> 10);
    store<u32>(w2 + (i << 2), load<u32>(w2 + ((i - 16) << 2)) + s0 + load<u32>(w2 + ((i - 7) << 2)) + s1);
  }
  let a = load<u32>(h), b = load<u32>(h + 4), c = load<u32>(h + 8), d = load<u32>(h + 12);
  let e = load<u32>(h + 16), f = load<u32>(h + 20), g = load<u32>(h + 24), hh = load<u32>(h + 28);
  for (let i = 0; i < 64; i++) {
    let t1 = hh + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(K + (i << 2)) + load<u32>(w2 + (i << 2));
    let t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  // the schedule is spent: the working values go there, to be added to the state in one loop
  store<u32>(w2, a);
  store<u32>(w2 + 4, b);
  store<u32>(w2 + 8, c);
  store<u32>(w2 + 12, d);
  store<u32>(w2 + 16, e);
  store<u32>(w2 + 20, f);
  store<u32>(w2 + 24, g);
  store<u32>(w2 + 28, hh);
  for (let i = 0; i < 32; i += 4) store<u32>(h + i, load<u32>(h + i) + load<u32>(w2 + i));
}

// ---- the block framing both share ------------------------------------------------------------------

/** Copies n 32-bit words from src to dst, each byte-swapped (the hashes' words are big-endian). */
export function swapWords(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n << 2; i += 4) store<u32>(dst + i, bswap<u32>(load<u32>(src + i)));
}

function compress(sha256: bool): void {
  if (sha256) sha256Compress();
  else sha1Compress();
}

export const block = memory.data(64);
let fill: i32 = 0;
let total: u64 = 0;

/** Starts the framing with `hashed` bytes (whole blocks) already in the state. */
export function mdReset(hashed: u64): void {
  fill = 0;
  total = hashed;
}

export function mdUpdate(p: usize, n: i32, sha256: bool): void {
  total += <u64>n;
  while (n > 0) {
    let k = min(64 - fill, n);
    memory.copy(block + fill, p, k);
    fill += k;
    p += k;
    n -= k;
    if (fill == 64) {
      compress(sha256);
      fill = 0;
    }
  }
}

/** The final padding: 0x80, zeros, the message length in bits; compresses the last block(s). */
export function mdFinish(sha256: bool): void {
  let at = fill;
  store<u8>(block + at, 0x80);
  memory.fill(block + at + 1, 0, 63 - at);
  if (at >= 56) { // no room for the length: it goes in a block of its own
    compress(sha256);
    memory.fill(block, 0, 56);
  }
  store<u64>(block + 56, bswap<u64>(total << 3));
  compress(sha256);
}
