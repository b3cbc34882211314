// MQTT 3.1.1 packets: a builder that writes one packet at a time into a caller's buffer, and a strict,
// bounded reader for the broker's byte stream. Nothing here knows what the packets are for.
import { Ascii, asciiLen, HASH, PLUS } from "../util/ascii";

// The fixed header's first byte of each packet the board sends or accepts: type << 4 and the flags
// MQTT 3.1.1 requires (a PUBLISH adds DUP 8, QoS << 1 and RETAIN 1).
export const CONNECT: u32 = 0x10;
export const CONNACK: u32 = 0x20;
export const PUBLISH: u32 = 0x30;
export const PUBACK: u32 = 0x40;
export const SUBSCRIBE: u32 = 0x82;
export const SUBACK: u32 = 0x90;
export const UNSUBSCRIBE: u32 = 0xa2;
export const UNSUBACK: u32 = 0xb0;
export const PINGREQ: u32 = 0xc0;
export const PINGRESP: u32 = 0xd0;

// ---- building ---------------------------------------------------------------------------------------
// The body is written 5 bytes in (the longest fixed header); finish() moves it down behind the real one.
const HEAD_ROOM: usize = 5;
let start: usize = 0;
let at: usize = 0;
let limit: usize = 0;
let over = false;
let lengthAt: usize = 0; // a string's 2-byte length, patched by endString

export function begin(dst: usize, cap: i32): void {
  start = dst;
  at = dst + HEAD_ROOM;
  limit = dst + <usize>max(cap, 0);
  over = cap < <i32>HEAD_ROOM;
}

export function byte(b: u32): void {
  if (at < limit) store<u8>(at++, <u8>b);
  else over = true;
}

export function u16be(v: u32): void {
  byte(v >> 8);
  byte(v & 255);
}

export function bytes(p: usize, n: i32): void {
  if (at + <usize>n > limit) {
    over = true;
    return;
  }
  memory.copy(at, p, n);
  at += n;
}

export function text(lit: Ascii): void {
  bytes(lit + 1, asciiLen(lit));
}

export function decimal(v: u32): void {
  let len = 1;
  for (let t = v; t >= 10; t /= 10) len++;
  if (at + <usize>len > limit) {
    over = true;
    return;
  }
  for (let i = len - 1; i >= 0; i--) {
    store<u8>(at + i, <u8>(48 + v % 10));
    v /= 10;
  }
  at += len;
}

/** A length-prefixed string whose bytes the caller appends next. */
export function beginString(): void {
  lengthAt = at;
  u16be(0);
}

export function endString(): void {
  if (over) return;
  let n = <u32>(at - lengthAt - 2);
  store<u8>(lengthAt, <u8>(n >> 8));
  store<u8>(lengthAt + 1, <u8>n);
}

export function string(p: usize, n: i32): void {
  u16be(n);
  bytes(p, n);
}

/** Bytes of body written so far. */
export function bodyLength(): i32 {
  return <i32>(at - start - HEAD_ROOM);
}

/** Puts the fixed header in front of the body; the packet's length from `start`, or -1 if it did not
 *  fit the buffer. */
export function finish(first: u32): i32 {
  if (over) return -1;
  let body = bodyLength();
  let h = body < 128 ? 2 : body < 16384 ? 3 : 4; // bodies stay far below 2 MiB
  let p = start;
  store<u8>(p++, <u8>first);
  let v = body;
  do {
    let d = v & 127;
    v >>= 7;
    store<u8>(p++, <u8>(v > 0 ? d | 128 : d));
  } while (v > 0);
  memory.copy(start + h, start + HEAD_ROOM, body);
  return h + body;
}

// ---- reading -----------------------------------------------------------------------------------------
export const READ_MORE: i32 = 0; // need more bytes
export const READ_PACKET: i32 = 1; // a whole packet is at buf (or its first `kept` bytes, see `cut`)
export const READ_BAD: i32 = -1; // a remaining length longer than 4 bytes

const S_HEAD: u8 = 0;
const S_LENGTH: u8 = 1;
const S_BODY: u8 = 2;
let state: u8 = S_HEAD;
let lengthBytes: i32 = 0;
export let first: u32 = 0; // the fixed header's first byte
export let remaining: i32 = 0; // the body's length
export let kept: i32 = 0; // body bytes stored
export let cut = false; // the body was longer than the buffer: only its first bytes were kept
let got: i32 = 0; // body bytes seen

export function readReset(): void {
  state = S_HEAD;
  got = 0;
  kept = 0;
}

/** Reads from [p, p+n) up to the end of one packet; `used` says how far. The body goes to buf (at most
 *  cap bytes; the rest of a longer one is dropped and `cut` is set). */
export let used: i32 = 0;
export function read(p: usize, n: i32, buf: usize, cap: i32): i32 {
  used = 0;
  while (used < n) {
    let b = <u32>load<u8>(p + used);
    if (state == S_HEAD) {
      first = b;
      remaining = 0;
      lengthBytes = 0;
      state = S_LENGTH;
      used++;
      continue;
    }
    if (state == S_LENGTH) {
      used++;
      remaining |= <i32>(b & 127) << (7 * lengthBytes);
      lengthBytes++;
      if (b & 128) {
        if (lengthBytes == 4) return READ_BAD;
        continue;
      }
      state = S_BODY;
      got = 0;
      kept = 0;
      cut = remaining > cap;
      if (remaining == 0) break;
      continue;
    }
    let take = min(n - used, remaining - got);
    let room = min(take, cap - kept);
    if (room > 0) {
      memory.copy(buf + kept, p + used, room);
      kept += room;
    }
    got += take;
    used += take;
    if (got == remaining) break;
  }
  if (state != S_BODY || got < remaining) return READ_MORE;
  state = S_HEAD;
  return READ_PACKET;
}

/** Whether [p, p+n) is a topic name a broker may send: valid UTF-8 (RFC 3629), no U+0000 and no
 *  wildcards. */
export function validTopic(p: usize, n: i32): bool {
  if (n < 1) return false;
  let need = 0;
  let min: u32 = 0;
  let cp: u32 = 0;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (need > 0) {
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
      if (--need == 0 && (cp < min || cp > 0x10ffff || cp - 0xd800 < 0x800)) return false;
      continue;
    }
    if (c == 0 || c == HASH || c == PLUS) return false; // NUL, '#', '+'
    if (c < 0x80) continue;
    if (c - 0xc2 < 30) { need = 1; min = 0x80; cp = c & 0x1f; }
    else if (c - 0xe0 < 16) { need = 2; min = 0x800; cp = c & 0x0f; }
    else if (c - 0xf0 < 5) { need = 3; min = 0x10000; cp = c & 0x07; }
    else return false;
  }
  return need == 0;
}
