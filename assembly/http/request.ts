// Incremental HTTP/1.1 request reader for one slot: any segmentation, one byte at a time if need be.
// It also recognises the tutorial's bare "GET Data" (no request target, no line end) from the first
// bytes, so such a client is answered at once instead of waiting for a line end that never comes.
import { Slot } from "../net/slots";
import { bytesEqual, bytesEqualNoCase, parseDecimal } from "../util/bytes";

// Results of feed()
export const MORE: i32 = 0; // need more bytes
export const TUTORIAL: i32 = 1; // not HTTP: answer the tutorial way
export const REQUEST: i32 = 2; // head (and body, if any) complete: s.method, s.route, s.buf[0..s.len) = body
export const ERROR: i32 = 3; // s.status holds the HTTP status to answer with

export const METHOD_OTHER: u8 = 0;
export const METHOD_GET: u8 = 1;
export const METHOD_HEAD: u8 = 2;
export const METHOD_PUT: u8 = 3;

export const ROUTE_NONE: u8 = 0;
export const ROUTE_RGB: u8 = 1;

// s.phase
const SNIFF_METHOD: u8 = 0; // method bytes so far, not yet known to be HTTP
const SNIFF_TARGET: u8 = 1; // method and one space seen: '/' decides
const REQUEST_LINE: u8 = 2;
const HEADER_LINE: u8 = 3;
const BODY: u8 = 4;
const DONE: u8 = 5;

const METHOD_MAX: i32 = 16;
export const BODY_MAX: i32 = 64;

/** RFC 9110 tchar: digits, letters and !#$%&'*+-.^_`|~ */
function isTokenChar(b: u32): bool {
  if (b - 48 < 10 || (b | 32) - 97 < 26) return true;
  return b == 33 || b - 35 < 5 || b == 42 || b == 43 || b == 45 || b == 46 || b - 94 < 3 || b == 124 || b == 126;
}

function fail(s: Slot, status: u16): i32 {
  s.status = status;
  s.phase = DONE;
  return ERROR;
}

/** Whether the bytes received so far can still be the start of an HTTP request; TUTORIAL once not. */
function sniff(s: Slot, b: u32): i32 {
  if (s.phase == SNIFF_METHOD) {
    if (b == 32 && s.len > 1) s.phase = SNIFF_TARGET;
    else if (!isTokenChar(b) || s.len > METHOD_MAX) return TUTORIAL;
  } else if (b == 47) {
    s.phase = REQUEST_LINE;
  } else {
    return TUTORIAL;
  }
  return MORE;
}

function parseRequestLine(s: Slot, n: i32): i32 {
  let p = s.buf;
  let sp1 = 0;
  while (load<u8>(p + sp1) != 32) sp1++; // sniff() guaranteed one space before '/'
  let sp2 = -1;
  for (let i = sp1 + 1; i < n; i++) if (load<u8>(p + i) == 32) { sp2 = i; break; }
  if (sp2 < 0) return fail(s, 400);
  if (!bytesEqual(p + sp2 + 1, n - sp2 - 1, "HTTP/1.1") && !bytesEqual(p + sp2 + 1, n - sp2 - 1, "HTTP/1.0")) {
    return n - sp2 - 1 == 8 && bytesEqual(p + sp2 + 1, 5, "HTTP/") ? fail(s, 505) : fail(s, 400);
  }
  s.method = bytesEqual(p, sp1, "GET") ? METHOD_GET : bytesEqual(p, sp1, "HEAD") ? METHOD_HEAD
    : bytesEqual(p, sp1, "PUT") ? METHOD_PUT : METHOD_OTHER;
  let pathEnd = sp1 + 1;
  while (pathEnd < sp2 && load<u8>(p + pathEnd) != 63) pathEnd++; // the query does not pick the route
  s.route = bytesEqual(p + sp1 + 1, pathEnd - sp1 - 1, "/rgb") ? ROUTE_RGB : ROUTE_NONE;
  s.phase = HEADER_LINE;
  return MORE;
}

function parseHeaderLine(s: Slot, n: i32): i32 {
  let p = s.buf;
  let b = load<u8>(p);
  if (b == 32 || b == 9) return fail(s, 400); // obsolete line folding (RFC 9112 5.2)
  let colon = -1;
  for (let i = 0; i < n; i++) if (load<u8>(p + i) == 58) { colon = i; break; }
  if (colon <= 0) return fail(s, 400);
  for (let i = 0; i < colon; i++) if (!isTokenChar(load<u8>(p + i))) return fail(s, 400);
  let v = colon + 1;
  let e = n;
  while (v < e && (load<u8>(p + v) == 32 || load<u8>(p + v) == 9)) v++;
  while (e > v && (load<u8>(p + e - 1) == 32 || load<u8>(p + e - 1) == 9)) e--;
  if (bytesEqualNoCase(p, colon, "content-length")) {
    let len = parseDecimal(p + v, e - v, 9);
    if (len < 0 || s.sawLength) return fail(s, 400); // two lengths: refuse rather than pick one
    s.sawLength = true;
    s.bodyLeft = <i32>len;
  } else if (bytesEqualNoCase(p, colon, "transfer-encoding")) {
    return fail(s, 501); // no chunked bodies: refusing beats mis-framing (request smuggling)
  }
  return MORE;
}

/** Consumes bytes from [p, p+n); returns MORE, TUTORIAL, REQUEST or ERROR in s.status, and sets *used. */
export let used: i32 = 0;
export function feed(s: Slot, p: usize, n: i32, lineMax: i32, headMax: i32): i32 {
  used = 0;
  while (used < n) {
    if (s.phase == DONE) return MORE;
    let b = <u32>load<u8>(p + used++);
    if (s.phase == BODY) {
      store<u8>(s.buf + s.len++, <u8>b);
      if (--s.bodyLeft == 0) {
        s.phase = DONE;
        return REQUEST;
      }
      continue;
    }
    if (++s.headBytes > headMax) return fail(s, 431);
    if (b == 10) {
      let len = s.len;
      if (len > 0 && load<u8>(s.buf + len - 1) == 13) len--;
      s.len = 0;
      let r = MORE;
      if (s.phase < REQUEST_LINE) return TUTORIAL; // a line end before any request target
      if (s.phase == REQUEST_LINE) r = parseRequestLine(s, len);
      else if (len == 0) {
        if (s.bodyLeft > BODY_MAX) return fail(s, 413);
        if (s.bodyLeft == 0) {
          s.phase = DONE;
          return REQUEST;
        }
        s.phase = BODY;
      } else r = parseHeaderLine(s, len);
      if (r != MORE) return r;
      continue;
    }
    if (s.len >= lineMax) return fail(s, s.phase <= REQUEST_LINE ? 414 : 431);
    store<u8>(s.buf + s.len++, <u8>b);
    if (s.phase < REQUEST_LINE && sniff(s, b) == TUTORIAL) return TUTORIAL;
  }
  return MORE;
}

/** True once the first bytes showed an HTTP request (method, space, '/'). */
export function isHttp(s: Slot): bool {
  return s.phase >= REQUEST_LINE;
}
