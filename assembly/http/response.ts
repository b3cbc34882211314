// Small complete HTTP/1.1 responses written into a slot buffer (the caller then sends and closes).
import { Ascii, asciiLen, asciiAt } from "../util/ascii";
import { putAscii, putDecimal } from "../util/bytes";

function reason(status: i32): Ascii {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 502: return "Bad Gateway";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

/** Writes status line, headers and body (bodyLen bytes already at dst + bodyAt, or the reason text
 *  when bodyLen < 0); returns the total length. `extra` is a full header line or "". */
export function writeResponse(dst: usize, status: i32, extra: Ascii, body: usize, bodyLen: i32, headOnly: bool): i32 {
  let text = bodyLen < 0;
  if (text) bodyLen = asciiLen(reason(status)) + 1;
  let n = putAscii(dst, "HTTP/1.1 ");
  n += putDecimal(dst + n, status);
  n += putAscii(dst + n, " ");
  n += putAscii(dst + n, reason(status));
  n += putAscii(dst + n, "\r\nContent-Type: text/plain\r\nContent-Length: ");
  n += putDecimal(dst + n, bodyLen);
  n += putAscii(dst + n, "\r\nConnection: close\r\nCache-Control: no-store\r\n");
  n += putAscii(dst + n, extra);
  n += putAscii(dst + n, "\r\n");
  if (headOnly) return n;
  if (text) {
    n += putAscii(dst + n, reason(status));
    store<u8>(dst + n++, 10);
  } else {
    memory.copy(dst + n, body, bodyLen);
    n += bodyLen;
  }
  return n;
}
