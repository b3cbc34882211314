// Small complete HTTP/1.1 responses written into a slot buffer, and the error answer every HTTP route
// shares (status, log line, close): the routes' handlers sit above this file and import it.
import { Ascii, asciiLen, asciiAt, SPACE, LF } from "../util/ascii";
import { putAscii, putDecimal } from "../util/bytes";
import { LOG_INFO } from "../abi/host.generated";
import { emit, putRule, putWithI32, putWithIp } from "../util/log";
import { Slot, replyAndClose } from "../net/slots";
import * as cfg from "../config";

export let badRequests: u32 = 0;

// Reason phrases, each after its status code's low byte (status & 255: distinct for these codes and
// above 127, so it never looks like text; the core answers no other status); a 0 byte ends the table.
const REASONS = memory.data<u8>([
  200, 79, 75, // 200 OK
  144, 66, 97, 100, 32, 82, 101, 113, 117, 101, 115, 116, // 400 Bad Request
  147, 70, 111, 114, 98, 105, 100, 100, 101, 110, // 403 Forbidden
  148, 78, 111, 116, 32, 70, 111, 117, 110, 100, // 404 Not Found
  149, 77, 101, 116, 104, 111, 100, 32, 78, 111, 116, 32, 65, 108, 108, 111, 119, 101, 100, // 405 Method Not Allowed
  152, 82, 101, 113, 117, 101, 115, 116, 32, 84, 105, 109, 101, 111, 117, 116, // 408 Request Timeout
  157, 67, 111, 110, 116, 101, 110, 116, 32, 84, 111, 111, 32, 76, 97, 114, 103, 101, // 413 Content Too Large
  158, 85, 82, 73, 32, 84, 111, 111, 32, 76, 111, 110, 103, // 414 URI Too Long
  170, 85, 112, 103, 114, 97, 100, 101, 32, 82, 101, 113, 117, 105, 114, 101, 100, // 426 Upgrade Required
  175, 82, 101, 113, 117, 101, 115, 116, 32, 72, 101, 97, 100, 101, 114, 32, 70, 105, 101, 108, 100, 115, 32, 84, 111, 111, 32, 76, 97, 114, 103, 101, // 431 Request Header Fields Too Large
  245, 78, 111, 116, 32, 73, 109, 112, 108, 101, 109, 101, 110, 116, 101, 100, // 501 Not Implemented
  247, 83, 101, 114, 118, 105, 99, 101, 32, 85, 110, 97, 118, 97, 105, 108, 97, 98, 108, 101, // 503 Service Unavailable
  246, 66, 97, 100, 32, 71, 97, 116, 101, 119, 97, 121, // 502 Bad Gateway
  249, 72, 84, 84, 80, 32, 86, 101, 114, 115, 105, 111, 110, 32, 78, 111, 116, 32, 83, 117, 112, 112, 111, 114, 116, 101, 100, // 505 HTTP Version Not Supported
  0,
]);

/** The reason phrase for `status` ("Error" for a status not listed): its address << 8 | its length. */
function reason(status: i32): u32 {
  let p = REASONS;
  let c = <u32>load<u8>(p);
  while (c != 0) {
    let q = p + 1;
    while (<u32>load<u8>(q) - SPACE < 96) q++; // the text runs up to the next code byte or the end
    if (c == <u32>(status & 255)) {
      return (<u32>(p + 1) << 8) | <u32>(q - p - 1);
    }
    p = q;
    c = <u32>load<u8>(p);
  }
  let e: Ascii = "Error";
  return (<u32>(e + 1) << 8) | <u32>asciiLen(e);
}

/** Writes status line, headers and body (bodyLen bytes already at dst + bodyAt, or the reason text
 *  when bodyLen < 0); returns the total length. `extra` is a full header line or "". */
export function writeResponse(dst: usize, status: i32, extra: Ascii, body: usize, bodyLen: i32, headOnly: bool): i32 {
  let text = bodyLen < 0;
  let phrase = reason(status);
  let reasonAt = <usize>(phrase >>> 8);
  let reasonLen = <i32>(phrase & 255);
  if (text) bodyLen = reasonLen + 1;
  let n = putAscii(dst, "HTTP/1.1 ");
  n += putDecimal(dst + n, status);
  store<u8>(dst + n++, SPACE);
  memory.copy(dst + n, reasonAt, reasonLen);
  n += reasonLen;
  n += putAscii(dst + n, "\r\nContent-Type: text/plain\r\nContent-Length: ");
  n += putDecimal(dst + n, bodyLen);
  n += putAscii(dst + n, "\r\nConnection: close\r\nCache-Control: no-store\r\n");
  n += putAscii(dst + n, extra);
  n += putAscii(dst + n, "\r\n");
  if (headOnly) return n;
  if (text) {
    memory.copy(dst + n, reasonAt, reasonLen);
    n += reasonLen;
    store<u8>(dst + n++, LF);
  } else {
    memory.copy(dst + n, body, bodyLen);
    n += bodyLen;
  }
  return n;
}

/** An error status with a short text body, then close; the log line names the broken `rule`. `extra` is
 *  a full header line or "". */
export function answerStatus(s: Slot, status: i32, rule: Ascii, extra: Ascii, now: u32): void {
  badRequests++;
  putWithI32("http: ", status);
  putWithIp(" to ", s.remoteIp);
  putRule(rule);
  emit(LOG_INFO);
  replyAndClose(s, writeResponse(s.buf, status, extra, 0, -1, false), now, cfg.httpTimeoutMs);
}
