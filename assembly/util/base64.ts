// Base64 (RFC 4648, standard alphabet, padded) for WebSocket keys and accept values.

function encodeSextet(v: u32): u8 {
  return <u8>(v < 26 ? 65 + v : v < 52 ? 71 + v : v < 62 ? v - 4 : v == 62 ? 43 : 47);
}

function decodeChar(c: u32): i32 {
  if (c - 65 < 26) return <i32>(c - 65);
  if (c - 97 < 26) return <i32>(c - 71);
  if (c - 48 < 10) return <i32>(c + 4);
  if (c == 43) return 62;
  if (c == 47) return 63;
  return -1;
}

/** Encodes n bytes at src to dst; returns the encoded length. */
export function base64Encode(src: usize, n: i32, dst: usize): i32 {
  let o = 0;
  for (let i = 0; i < n; i += 3) {
    let left = n - i;
    let v = (<u32>load<u8>(src + i) << 16) | (left > 1 ? <u32>load<u8>(src + i + 1) << 8 : 0) | (left > 2 ? <u32>load<u8>(src + i + 2) : 0);
    store<u8>(dst + o, encodeSextet(v >> 18));
    store<u8>(dst + o + 1, encodeSextet((v >> 12) & 63));
    store<u8>(dst + o + 2, left > 1 ? encodeSextet((v >> 6) & 63) : 61);
    store<u8>(dst + o + 3, left > 2 ? encodeSextet(v & 63) : 61);
    o += 4;
  }
  return o;
}

/** Decoded length of canonical padded base64 in [p, p+n), or -1 if it is not that. */
export function base64DecodedLength(p: usize, n: i32): i32 {
  if (n == 0 || (n & 3) != 0) return -1;
  let pad = 0;
  if (load<u8>(p + n - 1) == 61) pad++;
  if (pad && load<u8>(p + n - 2) == 61) pad++;
  for (let i = 0; i < n - pad; i++) if (decodeChar(load<u8>(p + i)) < 0) return -1;
  // canonical: the bits that padding hides must be zero
  if (pad == 1 && (decodeChar(load<u8>(p + n - 2)) & 3) != 0) return -1;
  if (pad == 2 && (decodeChar(load<u8>(p + n - 3)) & 15) != 0) return -1;
  return (n >> 2) * 3 - pad;
}
