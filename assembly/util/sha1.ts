// SHA-1 (FIPS 180-4), only for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 4.2.2).
// Streaming over byte ranges with a static 64-byte block: no allocation.

import { mdUpdate, mdFinish, sha1Start, h0, h1, h2, h3, h4, SHA1 } from "./md";

export function sha1Reset(): void {
  sha1Start();
}

export function sha1Update(p: usize, n: i32): void {
  mdUpdate(p, n, SHA1);
}

/** Writes the 20-byte digest to dst. */
export function sha1Final(dst: usize): void {
  mdFinish(SHA1);
  store<u32>(dst, bswap<u32>(h0));
  store<u32>(dst + 4, bswap<u32>(h1));
  store<u32>(dst + 8, bswap<u32>(h2));
  store<u32>(dst + 12, bswap<u32>(h3));
  store<u32>(dst + 16, bswap<u32>(h4));
}
