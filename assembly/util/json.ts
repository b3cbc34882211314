// Strict JSON (RFC 8259) for one control line: validates the whole text (escapes, \u surrogate pairs,
// numbers, nesting up to a depth limit, duplicate keys refused) and records the top-level object's
// members as byte ranges, so actions read their fields without copying or allocating.
import { Ascii, asciiLen, asciiAt, TAB, LF, CR, SPACE, QUOTE, PLUS, COMMA, MINUS, DOT, SLASH, DIGIT_0, COLON, BRACKET_OPEN, BACKSLASH, LOWER_B, LOWER_E, LOWER_F, LOWER_N, LOWER_R, LOWER_T, LOWER_U, BRACE_OPEN, CASE_BIT } from "./ascii";
import { utf8Feed, UTF8_OK } from "./utf8";
import { bytesEqual, bytesSame, hexValue } from "./bytes";

export const T_STRING: u8 = 1;
export const T_NUMBER: u8 = 2;
export const T_TRUE: u8 = 3;
export const T_FALSE: u8 = 4;
export const T_NULL: u8 = 5;
export const T_OBJECT: u8 = 6;
export const T_ARRAY: u8 = 7;

export const MAX_MEMBERS: i32 = 16;
// member i: key start/len (inside the quotes, raw), value type, value start/len (raw text)
const keyAt = memory.data(MAX_MEMBERS * 4);
const keyLen = memory.data(MAX_MEMBERS * 4);
const valAt = memory.data(MAX_MEMBERS * 4);
const valLen = memory.data(MAX_MEMBERS * 4);
const valType = memory.data(MAX_MEMBERS);
export let members: i32 = 0;
/** After a failure: what went wrong (a literal) and where (byte offset). */
export let error: Ascii = 0;
export let errorAt: i32 = 0;

let p: usize = 0;
let end: usize = 0;
let depthLimit: i32 = 0;
let base: usize = 0;

function failAt(why: Ascii): bool {
  error = why;
  errorAt = <i32>(p - base);
  return false;
}

function ws(): void {
  while (p < end) {
    let c = load<u8>(p);
    if (c != SPACE && c != TAB && c != LF && c != CR) return;
    p++;
  }
}

function hex4(): i32 {
  if (end - p < 4) return -1;
  let v = 0;
  for (let i = 0; i < 4; i++) {
    let d = hexValue(load<u8>(p + i));
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  p += 4;
  return v;
}

/** A string starting at the opening quote; p ends after the closing quote. */
function str(): bool {
  p++;
  let runStart = p;
  while (p < end) {
    let c = load<u8>(p);
    if (c == QUOTE) {
      if (utf8Feed(UTF8_OK, runStart, <i32>(p - runStart)) != UTF8_OK) return failAt("invalid UTF-8 in a string");
      p++;
      return true;
    }
    if (c < SPACE) return failAt("control character in a string");
    if (c == BACKSLASH) {
      if (utf8Feed(UTF8_OK, runStart, <i32>(p - runStart)) != UTF8_OK) return failAt("invalid UTF-8 in a string");
      p++;
      if (p >= end) break;
      let e = load<u8>(p++);
      if (e == LOWER_U) {
        let u = hex4();
        if (u < 0) return failAt("bad \\u escape");
        if (u >= 0xd800 && u < 0xdc00) {
          // a high surrogate must be followed by an escaped low one
          if (end - p < 6 || load<u8>(p) != BACKSLASH || load<u8>(p + 1) != LOWER_U) return failAt("lone surrogate in \\u escape");
          p += 2;
          let lo = hex4();
          if (lo < 0xdc00 || lo > 0xdfff) return failAt("lone surrogate in \\u escape");
        } else if (u >= 0xdc00 && u < 0xe000) return failAt("lone surrogate in \\u escape");
      } else if (e != QUOTE && e != BACKSLASH && e != SLASH && e != LOWER_B && e != LOWER_F && e != LOWER_N && e != LOWER_R && e != LOWER_T) {
        return failAt("bad escape");
      }
      runStart = p;
      continue;
    }
    p++;
  }
  return failAt("unterminated string");
}

function digits(): i32 {
  let n = 0;
  while (p < end && <u32>load<u8>(p) - 48 < 10) {
    p++;
    n++;
  }
  return n;
}

function num(): bool {
  if (load<u8>(p) == MINUS) p++;
  if (p < end && load<u8>(p) == DIGIT_0) p++;
  else if (digits() == 0) return failAt("bad number");
  if (p < end && load<u8>(p) == DOT) {
    p++;
    if (digits() == 0) return failAt("bad number");
  }
  if (p < end && (load<u8>(p) | CASE_BIT) == LOWER_E) {
    p++;
    if (p < end && (load<u8>(p) == PLUS || load<u8>(p) == MINUS)) p++;
    if (digits() == 0) return failAt("bad number");
  }
  return true;
}

function lit(word: Ascii): bool {
  let n = asciiLen(word);
  if (<i32>(end - p) < n || !bytesEqual(p, n, word)) return failAt("unexpected text");
  p += n;
  return true;
}

/** Keys compare as raw bytes: top-level names hold no escapes; nested ones are not interpreted. */
function sameKey(a: usize, an: i32, b: usize, bn: i32): bool {
  return an == bn && bytesSame(a, b, an);
}

let valueType: u8 = 0;
function value(depth: i32, top: bool): bool {
  ws();
  if (p >= end) return failAt("missing value");
  let c = load<u8>(p);
  if (c == QUOTE) {
    valueType = T_STRING;
    return str();
  }
  if (c == MINUS || <u32>c - 48 < 10) {
    valueType = T_NUMBER;
    return num();
  }
  if (c == LOWER_T) { valueType = T_TRUE; return lit("true"); }
  if (c == LOWER_F) { valueType = T_FALSE; return lit("false"); }
  if (c == LOWER_N) { valueType = T_NULL; return lit("null"); }
  if (c == BRACKET_OPEN || c == BRACE_OPEN) {
    if (depth >= depthLimit) return failAt("nested too deep");
    let isObject = c == BRACE_OPEN;
    p++;
    ws();
    let close: u8 = isObject ? 125 : 93;
    let objectKeys = seenCount;
    if (p < end && load<u8>(p) == close) {
      p++;
      valueType = isObject ? T_OBJECT : T_ARRAY;
      return true;
    }
    while (true) {
      ws();
      if (isObject) {
        if (p >= end || load<u8>(p) != QUOTE) return failAt("expected a key");
        let k = p + 1;
        if (!str()) return false;
        let kn = <i32>(p - 1 - k);
        // field names the actions read hold no escapes, so raw bytes compare as the decoded text would
        if (top) for (let i = 0; i < kn; i++) if (load<u8>(k + i) == BACKSLASH) return failAt("escape in a field name");
        if (!uniqueKey(objectKeys, k, kn)) return false;
        if (top) {
          if (members == MAX_MEMBERS) return failAt("too many fields");
          store<i32>(keyAt + (members << 2), <i32>(k - base));
          store<i32>(keyLen + (members << 2), kn);
        }
        ws();
        if (p >= end || load<u8>(p) != COLON) return failAt("expected ':'");
        p++;
        ws();
        let vs = p;
        if (!value(depth + 1, false)) return false;
        if (top) {
          store<i32>(valAt + (members << 2), <i32>(vs - base));
          store<i32>(valLen + (members << 2), <i32>(p - vs));
          store<u8>(valType + members, valueType);
          members++;
        }
      } else if (!value(depth + 1, false)) return false;
      ws();
      if (p >= end) return failAt(isObject ? "expected ',' or '}'" : "expected ',' or ']'");
      let d = load<u8>(p++);
      if (d == close) break;
      if (d != COMMA) return failAt(isObject ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    seenCount = objectKeys; // this object's keys are done with
    valueType = isObject ? T_OBJECT : T_ARRAY;
    return true;
  }
  return failAt("unexpected character");
}

// Keys of the objects being parsed, innermost last: each object checks its own keys for duplicates.
const MAX_KEYS: i32 = 32;
const seenAt = memory.data(MAX_KEYS * 4);
const seenLen = memory.data(MAX_KEYS * 4);
let seenCount: i32 = 0;

function uniqueKey(objectStart: i32, k: usize, kn: i32): bool {
  for (let i = objectStart; i < seenCount; i++) {
    if (sameKey(base + <usize>load<i32>(seenAt + (i << 2)), load<i32>(seenLen + (i << 2)), k, kn)) return failAt("duplicate key");
  }
  if (seenCount == MAX_KEYS) return failAt("too many fields");
  store<i32>(seenAt + (seenCount << 2), <i32>(k - base));
  store<i32>(seenLen + (seenCount << 2), kn);
  seenCount++;
  return true;
}

/** Parses [start, start+n) as exactly one JSON object; false with `error`/`errorAt` set otherwise. */
export function parseObject(start: usize, n: i32, maxDepth: i32): bool {
  base = start;
  p = start;
  end = start + n;
  members = 0;
  seenCount = 0;
  depthLimit = maxDepth;
  error = 0;
  ws();
  if (p >= end || load<u8>(p) != BRACE_OPEN) return failAt("expected a JSON object");
  if (!value(0, true)) return false;
  ws();
  if (p != end) return failAt("text after the object");
  return true;
}

/** Forgets the last object, so lookups answer "absent" until the next parse. */
export function clear(): void {
  members = 0;
}

export function memberType(i: i32): u8 {
  return load<u8>(valType + i);
}
export function memberValue(i: i32): usize {
  return base + <usize>load<i32>(valAt + (i << 2));
}
export function memberValueLen(i: i32): i32 {
  return load<i32>(valLen + (i << 2));
}

/** Index of the member named `name` (ASCII, no escapes), or -1. */
export function find(name: Ascii): i32 {
  for (let i = 0; i < members; i++) {
    if (bytesEqual(base + <usize>load<i32>(keyAt + (i << 2)), load<i32>(keyLen + (i << 2)), name)) return i;
  }
  return -1;
}

/** The member's value as a whole number within [min, max]; i64.MIN_VALUE if it is not one. */
export function intValue(i: i32, min: i64, max: i64): i64 {
  if (i < 0 || memberType(i) != T_NUMBER) return i64.MIN_VALUE;
  let q = memberValue(i);
  let n = memberValueLen(i);
  let neg = load<u8>(q) == MINUS;
  let v: i64 = 0;
  for (let j = neg ? 1 : 0; j < n; j++) {
    let d = <i32>load<u8>(q + j) - 48;
    if (<u32>d > 9 || v > 100000000000) return i64.MIN_VALUE; // fractions, exponents, huge values
    v = v * 10 + d;
  }
  if (neg) v = -v;
  return v < min || v > max ? i64.MIN_VALUE : v;
}

/** A number of seconds (e.g. 5, 0.25) as milliseconds within [0, max]; -1 if it is not one. */
export function millisValue(i: i32, max: i64): i64 {
  if (i < 0 || memberType(i) != T_NUMBER) return -1;
  let q = memberValue(i);
  let n = memberValueLen(i);
  let ms: i64 = 0;
  let frac = -1; // digits seen after the point
  for (let j = 0; j < n; j++) {
    let c = <i32>load<u8>(q + j);
    if (c == DOT && frac < 0) { frac = 0; continue; }
    let d = c - DIGIT_0;
    if (<u32>d > 9 || ms > 1000000000000) return -1; // signs, exponents, huge values
    if (frac >= 3) continue; // below a millisecond: truncated
    ms = ms * 10 + d;
    if (frac >= 0) frac++;
  }
  for (let f = frac < 0 ? 0 : frac; f < 3; f++) ms *= 10;
  return ms > max ? -1 : ms;
}
