// Console lines built in one static buffer: logging must work after init, when nothing may allocate.
import { alloc } from "./heap";
import { Ascii, asciiLen, asciiAt, COMMA, SPACE, DIGIT_0, BACKSLASH, DEL } from "./ascii";
import { host_log } from "../abi/host.generated";
import { reached } from "./time";
import { putDecimal, hexDigit } from "./bytes";
export { hexDigit };

const LOG_CAP: i32 = 200;
const buf = memory.data(LOG_CAP);
let len: i32 = 0;
/** log_repeat_ms (config.ts sets it, so logging imports no configuration); 0: no rate limit. */
let logRepeatMs: u32 = 60000;
export function setLogRepeatMs(v: u32): void {
  logRepeatMs = v;
}

function putByte(b: u32): void {
  if (len < LOG_CAP) store<u8>(buf + <usize>(len++), <u8>b);
}

/** ASCII text (a string literal at the call site), or a name of a list (util/ascii.ts listItem). */
export function put(s: Ascii): void {
  let place = 0; // the name to print, counted from 1 (0: the whole text)
  let at = 0; // the name the loop is in
  if (s >= 0x10000) {
    place = <i32>(s & 255);
    at = 1;
    s >>>= 8;
  }
  for (let i = 0, n = asciiLen(s); i < n; i++) {
    let c = asciiAt(s, i);
    if (place && c == COMMA) at++;
    else if (at == place) putByte(c);
  }
}

/** ": <rule>", the rule a peer broke, at the end of a line. A line's kind (below) ends where its rule
 *  begins: a peer breaking rule after rule makes no new kinds, so the rate limit holds for it too. */
let ruleAt: i32 = -1;
export function putRule(rule: Ascii): void {
  ruleAt = len;
  put(": ");
  put(rule);
}

const digits = memory.data(10);

export function putU32(n: u32): void {
  for (let i = 0, k = putDecimal(digits, n); i < k; i++) putByte(load<u8>(digits + i));
}

export function putI32(n: i32): void {
  if (n < 0) {
    putByte(45);
    putU32(<u32>-n);
  } else putU32(<u32>n);
}

export function putIp(ip: u32): void {
  for (let shift = 24; shift >= 0; shift -= 8) {
    putU32((ip >>> shift) & 255);
    if (shift) putByte(46);
  }
}

/** Untrusted bytes, printable ASCII kept, the rest as \xNN, so a log line never carries control codes. */
export function putBytes(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    if (b >= SPACE && b < DEL && b != BACKSLASH) putByte(b);
    else {
      put("\\x");
      putByte(hexDigit(b >> 4));
      putByte(hexDigit(b & 15));
    }
  }
}

// The log tail (control action get_log): the latest error/warn/info lines, each "<E|W|I> text\n", in a
// ring taken from the heap when the module starts, before init (a heap block, not static data, keeps
// every static address after it short in the code). `logEnd` counts every byte ever written: a line's
// sequence number is the count at its first byte. Only what went to host_log goes here: never secrets.
export const RING: u32 = 1024; // a power of two, so positions stay right when logEnd wraps
export const ring = alloc(RING);
export let logEnd: u32 = 0;

function ringByte(b: u32): void {
  store<u8>(ring + (logEnd++ & (RING - 1)), <u8>b);
}

export function ringAt(seq: u32): u32 {
  return load<u8>(ring + (seq & (RING - 1)));
}

/** The sequence number of the first whole line at or after `since` still in the ring. */
export function tailFrom(since: u32): u32 {
  if (logEnd - since <= RING) return since;
  if (logEnd <= RING) return 0;
  let p = logEnd - RING;
  while (ringAt(p++) != 10);
  return p;
}

/** Copies the line starting at `seq` (without its line end) into the line buffer; returns its length. */
export function lineAt(seq: u32): i32 {
  let n = 0;
  for (let c = ringAt(seq); c != 10; c = ringAt(seq + <u32>++n)) store<u8>(buf + n, <u8>c);
  return n;
}
export const lineBuf = buf;

export function emit(level: i32): void {
  out(level, level < 3 && !repeated(level)); // not LOG_DEBUG: every connection would push the news out
}

function out(level: i32, ringToo: bool): void {
  host_log(level, buf, len);
  if (ringToo) {
    ringByte(asciiAt("EWI", level));
    ringByte(32);
    for (let i = 0; i < len && i < LOG_CAP - 2; i++) ringByte(load<u8>(buf + i)); // lineAt fits LOG_CAP
    ringByte(10);
  }
  len = 0;
  ruleAt = -1;
}

// Lines that repeat at network speed (a flood of connections or bad requests) would push every other
// line out of the ring (docs/SECURITY.md). A line's kind is its text without digits and without its
// rule (putRule), so addresses, numbers and rules make no new kind; the first BURST of a kind go to the ring, the rest within log_repeat_ms only
// to the console, and logTick writes the last of them once more with the count: "... (x410 more in 60 s)".
const KINDS: i32 = 8;
const BURST: i32 = 3;
const TEXT: i32 = 72;
const ENTRY: i32 = 16 + TEXT; // hash, start, count, level, then the last counted line's text
const kinds = memory.data(KINDS * ENTRY);
export let clock: u32 = 0; // set by the entry points that may log at network speed

function repeated(level: i32): bool {
  if (logRepeatMs == 0) return false; // off
  let h: u32 = <u32>level + 1;
  for (let i = 0, n = ruleAt < 0 ? len : ruleAt; i < n; i++) {
    let b = <u32>load<u8>(buf + i);
    if (b - DIGIT_0 > 9) h = (h ^ b) * 16777619;
  }
  let free: usize = 0;
  for (let e = kinds; e < kinds + KINDS * ENTRY; e += ENTRY) {
    let k = load<u32>(e);
    if (k == h) {
      let n = load<u32>(e, 8) + 1;
      store<u32>(e, n, 8);
      if (n < <u32>BURST) return false;
      memory.copy(e + 16, buf, min(len, TEXT));
      store<u8>(e, <u8>min(len, TEXT), 12 + 1); // text length in the level word's second byte
      return true;
    }
    if (k == 0) free = e;
  }
  if (free) { // more kinds than entries at once pass unlimited
    store<u32>(free, h);
    store<u32>(free, clock, 4);
    store<u32>(free, 0, 8);
    store<u8>(free, <u8>level, 12);
  }
  return false;
}

/** Writes the count of each kind whose window ended; the kind's next line goes out as a first again. */
export function logTick(now: u32): void {
  clock = now;
  for (let e = kinds; e < kinds + KINDS * ENTRY; e += ENTRY) {
    if (load<u32>(e) == 0 || !reached(now, load<u32>(e, 4) + logRepeatMs)) continue;
    let n = <i32>load<u32>(e, 8) - (BURST - 1);
    store<u32>(e, 0);
    if (n <= 0) continue;
    memory.copy(buf, e + 16, len = <i32>load<u8>(e, 13));
    putWithI32(" (x", n);
    putWithU32(" more in ", (now - load<u32>(e, 4) + 500) / 1000);
    put(" s)");
    out(<i32>load<u8>(e, 12), true);
  }
}

// A text and what follows it in one call: log lines are mostly such pairs, and one call instead of
// two is a few bytes less at every one of them.
export function putWithI32(s: Ascii, n: i32): void {
  put(s);
  putI32(n);
}

export function putWithU32(s: Ascii, n: u32): void {
  put(s);
  putU32(n);
}

export function putWithIp(s: Ascii, ip: u32): void {
  put(s);
  putIp(ip);
}

/** The last text of a line, and the line out. */
export function putLine(s: Ascii, level: i32): void {
  put(s);
  emit(level);
}
