// Small byte helpers over linear memory (no strings at run time: they would allocate).

/** Case-sensitive compare of bytes with an ASCII literal. */
export function bytesEqual(p: usize, n: i32, lit: Ascii): bool {
  if (n != asciiLen(lit)) return false;
  for (let i = 0; i < n; i++) if (<u32>load<u8>(p + i) != asciiAt(lit, i)) return false;
  return true;
}

/** ASCII case-insensitive compare; `lit` must be lower case. */
export function bytesEqualNoCase(p: usize, n: i32, lit: Ascii): bool {
  if (n != asciiLen(lit)) return false;
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    if (b >= 65 && b <= 90) b += 32;
    if (b != asciiAt(lit, i)) return false;
  }
  return true;
}

/** Copies an ASCII literal to dst; returns bytes written. */
export function putAscii(dst: usize, lit: Ascii): i32 {
  let n = asciiLen(lit);
  memory.copy(dst, lit + 1, n);
  return n;
}

/** Writes n in decimal at dst; returns bytes written. */
export function putDecimal(dst: usize, n: u32): i32 {
  let len = 1;
  for (let t = n; t >= 10; t /= 10) len++;
  for (let i = len - 1; i >= 0; i--) {
    store<u8>(dst + i, <u8>(48 + n % 10));
    n /= 10;
  }
  return len;
}

/** Parses 1..maxDigits decimal digits exactly filling [p, p+n); -1 on anything else. */
export function parseDecimal(p: usize, n: i32, maxDigits: i32): i64 {
  if (n < 1 || n > maxDigits) return -1;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    let d = <i32>load<u8>(p + i) - 48;
    if (<u32>d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Parses a dotted IPv4 address; -1 when malformed. */
export function parseIp(p: usize, n: i32): i64 {
  let ip: u32 = 0;
  let start = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    if (i == n || load<u8>(p + i) == 46) {
      let v = parseDecimal(p + start, i - start, 3);
      if (v < 0 || v > 255 || parts == 4) return -1;
      ip = (ip << 8) | <u32>v;
      parts++;
      start = i + 1;
    }
  }
  return parts == 4 ? <i64>ip : -1;
}import { Ascii, asciiLen, asciiAt } from "./ascii";

