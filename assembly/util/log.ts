// Console lines built in one static buffer: logging must work after init, when nothing may allocate.
import { Ascii, asciiLen, asciiAt } from "./ascii";
import { host_log } from "../abi/host.generated";
import { putDecimal } from "./bytes";

const LOG_CAP: i32 = 200;
const buf = memory.data(LOG_CAP);
let len: i32 = 0;

function putByte(b: u32): void {
  if (len < LOG_CAP) store<u8>(buf + <usize>(len++), <u8>b);
}

/** ASCII text (a string literal at the call site). */
export function put(s: Ascii): void {
  for (let i = 0, n = asciiLen(s); i < n; i++) putByte(asciiAt(s, i));
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
    if (b >= 32 && b < 127 && b != 92) putByte(b);
    else {
      put("\\x");
      putByte(hexDigit(b >> 4));
      putByte(hexDigit(b & 15));
    }
  }
}

export function hexDigit(v: u32): u32 {
  return v < 10 ? 48 + v : 87 + v;
}

export function emit(level: i32): void {
  host_log(level, buf, len);
  len = 0;
}
