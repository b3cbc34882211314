// SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 4.2.2).
// Streaming over byte ranges with a static 64-byte block: no allocation.

import { block, mdFeed, mdPad, mdPadLength, mdReset } from "./md";

const w = memory.data(80 * 4);
let h0: u32 = 0;
let h1: u32 = 0;
let h2: u32 = 0;
let h3: u32 = 0;
let h4: u32 = 0;

export function sha1Reset(): void {
  h0 = 0x67452301;
  h1 = 0xefcdab89;
  h2 = 0x98badcfe;
  h3 = 0x10325476;
  h4 = 0xc3d2e1f0;
  mdReset();
}

function sha1Compress(): void {
  for (let i = 0; i < 16; i++) store<u32>(w + (i << 2), bswap<u32>(load<u32>(block + (i << 2))));
  for (let i = 16; i < 80; i++) {
    let x = load<u32>(w + ((i - 3) << 2)) ^ load<u32>(w + ((i - 8) << 2)) ^ load<u32>(w + ((i - 14) << 2)) ^ load<u32>(w + ((i - 16) << 2));
    store<u32>(w + (i << 2), rotl<u32>(x, 1));
  }
  let a = h0, b = h1, c = h2, d = h3, e = h4;
  for (let i = 0; i < 80; i++) {
    let f: u32, k: u32;
    if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
    else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
    else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
    else { f = b ^ c ^ d; k = 0xca62c1d6; }
    let t = rotl<u32>(a, 5) + f + e + k + load<u32>(w + (i << 2));
    e = d; d = c; c = rotl<u32>(b, 30); b = a; a = t;
  }
  h0 += a; h1 += b; h2 += c; h3 += d; h4 += e;
}

export function sha1Update(p: usize, n: i32): void {
  for (let at = 0; (at = mdFeed(p, n, at)) >= 0; ) sha1Compress();
}

/** Writes the 20-byte digest to dst. */
export function sha1Final(dst: usize): void {
  if (mdPad()) sha1Compress();
  mdPadLength();
  sha1Compress();
  store<u32>(dst, bswap<u32>(h0));
  store<u32>(dst + 4, bswap<u32>(h1));
  store<u32>(dst + 8, bswap<u32>(h2));
  store<u32>(dst + 12, bswap<u32>(h3));
  store<u32>(dst + 16, bswap<u32>(h4));
}
