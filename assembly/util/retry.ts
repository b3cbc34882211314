// Retrying what failed (a poll, a connection): a doubling delay and the warning that says so.
import { LOG_WARN } from "../abi/host.generated";
import { Ascii } from "./ascii";
import { put, putLine, putWithI32, putWithU32 } from "./log";

/** base doubled per failure, at most cap. */
export function backoff(base: u32, failures: u32, cap: u32): u32 {
  return <u32>min(<u64>base << min(failures, 16), <u64>cap);
}

/** Ends a warning line the caller began with its own prefix: "<why> (<code>), retry in N ms". */
export function warnRetry(why: Ascii, code: i32, delayMs: u32): void {
  put(why);
  if (code != 0) {
    putWithI32(" (", code);
    put(")");
  }
  putWithU32(", retry in ", delayMs);
  putLine(" ms", LOG_WARN);
}
