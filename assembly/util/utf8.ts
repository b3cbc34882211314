// Incremental UTF-8 validation (RFC 3629): state survives between chunks and fragments, and an invalid
// byte is reported at once (WebSocket fails fast with 1007). No tables: the state packs the bytes still
// expected (low 2 bits) and the allowed range of the next byte (to refuse overlongs, surrogates and
// code points above U+10FFFF).

export const UTF8_OK: u32 = 0; // at a character boundary
export const UTF8_BAD: u32 = 0xffffffff;

// The state: (lo << 16) | (hi << 8) | remaining — the next byte must lie in [lo, hi].
function expect(remaining: u32, lo: u32, hi: u32): u32 {
  return (lo << 16) | (hi << 8) | remaining;
}

/** Feeds n bytes; returns the new state, UTF8_BAD as soon as a byte is invalid. */
export function utf8Feed(state: u32, p: usize, n: i32): u32 {
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    let remaining = state & 3;
    if (remaining == 0) {
      if (b < 0x80) continue;
      if (b < 0xc2) return UTF8_BAD;
      if (b < 0xe0) state = expect(1, 0x80, 0xbf);
      else if (b == 0xe0) state = expect(2, 0xa0, 0xbf);
      else if (b == 0xed) state = expect(2, 0x80, 0x9f); // no surrogates
      else if (b < 0xf0) state = expect(2, 0x80, 0xbf);
      else if (b == 0xf0) state = expect(3, 0x90, 0xbf);
      else if (b < 0xf4) state = expect(3, 0x80, 0xbf);
      else if (b == 0xf4) state = expect(3, 0x80, 0x8f); // up to U+10FFFF
      else return UTF8_BAD;
    } else {
      if (b < (state >> 16) || b > ((state >> 8) & 255)) return UTF8_BAD;
      state = remaining == 1 ? UTF8_OK : expect(remaining - 1, 0x80, 0xbf);
    }
  }
  return state;
}
