// The JSON writer of the control protocol, which every service's actions answer through (control, lights,
// OTA, store, MQTT): builds a reply in place over the command line it answers. The reply repeats the
// command's members (its text, already validated), then appends results: {<command members>,"k":v,...}\n.
// An error reply puts "error" first: {"error":"why",<command members>}\n.
import { Ascii, asciiLen, asciiAt, TAB, LF, CR, SPACE, QUOTE, COMMA, MINUS, COLON, BACKSLASH, BRACE_OPEN, BRACE_CLOSE } from "./ascii";
import { putAscii, putDecimal, hexDigit } from "./bytes";
import * as json from "./json";

let at: usize = 0; // write position
let limit: usize = 0;
let first = true; // no member written yet
let skipping = false; // the command already has the member being written: leave it out
export let overflow = false;
// the command's members, [innerAt, innerAt + innerLen), kept in place for an error reply
let innerAt: usize = 0;
let innerLen: i32 = 0;

/** Starts a reply over the command object text [buf, buf+n) (n == 0: no command to repeat). The
 *  text stays where it is (the parser's member offsets remain valid); results replace its '}'. */
export function beginReply(buf: usize, n: i32, cap: i32): void {
  limit = buf + <usize>cap;
  overflow = false;
  skipping = false;
  innerLen = 0;
  if (n == 0) {
    json.clear(); // no command: every result is new
    store<u8>(buf, BRACE_OPEN);
    at = buf + 1;
    first = true;
    return;
  }
  let s: i32 = 0, e: i32 = n;
  while (load<u8>(buf + s) != BRACE_OPEN) s++;
  while (load<u8>(buf + e - 1) != BRACE_CLOSE) e--;
  innerAt = buf + s + 1;
  first = true;
  for (let i = s + 1; i < e - 1; i++) {
    let c = load<u8>(buf + i);
    if (c != SPACE && c != TAB && c != CR && c != LF) first = false;
  }
  innerLen = first ? 0 : e - s - 2;
  at = buf + e - 1; // over the closing brace
}

function byte(b: u32): void {
  if (skipping) return;
  if (at < limit) store<u8>(at++, <u8>b);
  else overflow = true;
}

function raw(lit: Ascii): void {
  for (let i = 0, n = asciiLen(lit); i < n; i++) byte(asciiAt(lit, i));
}

/** Starts a result member; one the command already has is left out (a reply never repeats a key). */
export function key(name: Ascii): void {
  skipping = json.find(name) >= 0;
  if (!first) byte(COMMA);
  first = false;
  byte(QUOTE);
  raw(name);
  byte(QUOTE);
  byte(COLON);
}

export function num(v: i64): void {
  if (skipping) return;
  if (v < 0) {
    byte(MINUS);
    v = -v;
  }
  if (at + 20 >= limit) {
    overflow = true;
    return;
  }
  at += putDecimal(at, <u32>v > 0xffffffff ? 0 : <u32>v);
}

/** A result member with a number: one call where most results need two. */
export function keyNum(name: Ascii, v: i64): void {
  key(name);
  num(v);
}

/** Starts a nested object: its first member needs no comma. */
export function open(): void {
  byte(BRACE_OPEN);
  first = true;
}

/** Bytes left for results (a long list stops early and says where to go on). */
export function room(): i32 {
  return <i32>(limit - at);
}

export function lit(text: Ascii): void {
  raw(text);
}

/** Bytes already valid JSON (e.g. an object another board sent and the parser checked). */
export function rawBytes(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) byte(load<u8>(p + i));
}

/** A JSON string from ASCII literal text (no characters needing escapes). */
export function str(text: Ascii): void {
  byte(QUOTE);
  raw(text);
  byte(QUOTE);
}

/** A JSON array of strings from a comma-separated ASCII literal (no characters needing escapes). */
export function strList(list: Ascii): void {
  byte(91);
  byte(QUOTE);
  for (let i = 0, n = asciiLen(list); i < n; i++) {
    let c = asciiAt(list, i);
    if (c == COMMA) {
      byte(QUOTE);
      byte(COMMA);
      byte(QUOTE);
    } else byte(c);
  }
  byte(QUOTE);
  byte(93);
}

/** A JSON string from bytes, escaping quotes, backslashes and control characters. */
export function strBytes(p: usize, n: i32): void {
  byte(QUOTE);
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    if (c == QUOTE || c == BACKSLASH) {
      byte(BACKSLASH);
      byte(c);
    } else if (c < SPACE) {
      raw("\\u00");
      byte(hexDigit(c >> 4));
      byte(hexDigit(c & 15));
    } else byte(c);
  }
  byte(QUOTE);
}

export function hexBytes(p: usize, n: i32): void {
  byte(QUOTE);
  for (let i = 0; i < n; i++) {
    let b = <u32>load<u8>(p + i);
    byte(hexDigit(b >> 4));
    byte(hexDigit(b & 15));
  }
  byte(QUOTE);
}

export function ip(v: u32): void {
  if (skipping) return;
  byte(QUOTE);
  for (let shift = 24; shift >= 0; shift -= 8) {
    if (at + 4 >= limit) {
      overflow = true;
      return;
    }
    at += putDecimal(at, (v >>> shift) & 255);
    if (shift) byte(46);
  }
  byte(QUOTE);
}

/** Closes the object and the line; returns the reply's length from buf. */
export function endReply(buf: usize): i32 {
  skipping = false;
  byte(BRACE_CLOSE);
  byte(LF);
  return <i32>(at - buf);
}

// ---- error replies -----------------------------------------------------------------------------

const why = memory.data(160);
let whyLen: i32 = 0;

export function errorStart(text: Ascii): void {
  whyLen = 0;
  errorMore(text);
}

/** Appends to the reason, escaped for a JSON string. */
export function errorMore(text: Ascii): void {
  errorBytes(text + 1, asciiLen(text));
}

/** Appends bytes to the reason, escaped for a JSON string. */
export function errorBytes(p: usize, n: i32): void {
  for (let i = 0; i < n && whyLen < 158; i++) {
    let c = load<u8>(p + i);
    if (c == QUOTE || c == BACKSLASH) store<u8>(why + whyLen++, BACKSLASH);
    store<u8>(why + whyLen++, <u8>c);
  }
}

export function errorNum(v: i64): void {
  if (whyLen + 21 > 160) return;
  if (v < 0) {
    store<u8>(why + whyLen++, MINUS);
    v = -v;
  }
  whyLen += putDecimal(why + whyLen, <u32>v);
}

/** The reason for a command that is not JSON: the parser's error and where it stopped. */
// @ts-ignore: decorator (inlined: one function less for wasm3 to keep in RAM)
@inline export function invalidJson(): void {
  errorStart("invalid JSON: ");
  errorMore(json.error);
  errorMore(" at byte ");
  errorNum(json.errorAt);
  noCommand();
}

/** The name of the action being run (the command's own bytes, set by control/actions.ts), for reasons. */
export let actionAt: usize = 0;
export let actionLen: i32 = 0;

export function setAction(at: usize, len: i32): void {
  actionAt = at;
  actionLen = len;
}

/** The reason for a missing or wrong field, naming the action being run. */
export function missing(field: Ascii, what: Ascii): bool {
  errorStart("missing or invalid field '");
  errorMore(field);
  errorMore("': ");
  errorBytes(actionAt, actionLen);
  errorMore(" needs ");
  errorMore(what);
  return false;
}

/** {"error":"<why>",<command members>}\n, after beginReply (or noCommand for a line that was not one). */
export function errorReply(buf: usize, cap: i32): i32 {
  let prefix = 10 + whyLen + 2; // {"error":" + why + ",
  let n = innerLen;
  if (prefix + n + 2 > cap) n = 0; // the reason matters more than the echo
  if (n > 0) memory.copy(buf + prefix, innerAt, n);
  let o = buf;
  o += putAscii(o, "{\"error\":\"");
  memory.copy(o, why, whyLen);
  o += whyLen;
  store<u8>(o++, QUOTE);
  if (n > 0) {
    store<u8>(o, COMMA);
    o += 1 + n;
  }
  store<u8>(o++, BRACE_CLOSE);
  store<u8>(o++, LF);
  return <i32>(o - buf);
}

/** For errors about a line that is not a command: nothing to repeat. */
export function noCommand(): void {
  innerLen = 0;
}
