// Incremental HTTP/1.1 request reader for one slot: any segmentation, one byte at a time if need be.
// It also recognises the tutorial's bare "GET Data" (no request target, no line end) from the first
// bytes, so such a client is answered at once instead of waiting for a line end that never comes.
import { Ascii, asciiLen, asciiAt, listItem, SPACE, BANG, HASH, STAR, PLUS, COMMA, MINUS, DOT, SLASH, DIGIT_0, COLON, QUESTION, UPPER_A, CARET, LOWER_A, PIPE, TILDE, CASE_BIT, TAB } from "../util/ascii";
import { Slot, aux } from "../net/slots";
import { bytesEqual, bytesEqualNoCase, indexInList, inList, bytesSame, parseDecimal } from "../util/bytes";
import { isBase64Of16 } from "../util/base64";
import { acceptDigest } from "../ws/handshake";
import * as cfg from "../config";

// Results of feed()
export const MORE: i32 = 0; // need more bytes
export const TUTORIAL: i32 = 1; // not HTTP: answer the tutorial way
export const REQUEST: i32 = 2; // head (and body, if any) complete: s.method, s.route, s.buf[0..s.len) = body
// anything above REQUEST: the request broke a rule; the result is the rule's name (an Ascii address,
// never below 3) and s.status holds the HTTP status to answer with

export const METHOD_OTHER: u8 = 0;
export const METHOD_GET: u8 = 1;
export const METHOD_HEAD: u8 = 2;
export const METHOD_PUT: u8 = 3;

export const ROUTE_NONE: u8 = 0;
export const ROUTE_RGB: u8 = 1;
export const ROUTE_ECHO: u8 = 2;
export const ROUTE_CONTROL: u8 = 3;
export const ROUTE_PAGE: u8 = 4;

// s.phase
const SNIFF_METHOD: u8 = 0; // method bytes so far, not yet known to be HTTP
const SNIFF_TARGET: u8 = 1; // method and one space seen: '/' decides
const REQUEST_LINE: u8 = 2;
const HEADER_LINE: u8 = 3;
const BODY: u8 = 4;
const DONE: u8 = 5;
/** Set by a client before feeding a response: the first line is a status line. */
export const STATUS_LINE: u8 = 6;

const METHOD_MAX: i32 = 16;
export const BODY_MAX: i32 = 64;

/** RFC 9110 tchar: digits, letters and !#$%&'*+-.^_`|~ */
function isTokenChar(b: u32): bool {
  if (b - DIGIT_0 < 10 || (b | CASE_BIT) - LOWER_A < 26) return true;
  return b == BANG || b - HASH < 5 || b == STAR || b == PLUS || b == MINUS || b == DOT || b - CARET < 3 || b == PIPE || b == TILDE;
}

function fail(s: Slot, status: u16, rule: Ascii): i32 {
  s.status = status;
  s.phase = DONE;
  return <i32>rule;
}

/** Whether the bytes received so far can still be the start of an HTTP request; TUTORIAL once not. */
function sniff(s: Slot, b: u32): i32 {
  if (s.phase == SNIFF_METHOD) {
    if (b == SPACE && s.len > 1) s.phase = SNIFF_TARGET;
    else if (!isTokenChar(b) || s.len > METHOD_MAX) return TUTORIAL;
  } else if (b == SLASH) {
    s.phase = REQUEST_LINE;
  } else {
    return TUTORIAL;
  }
  return MORE;
}

// by METHOD_* and ROUTE_* (1-based; "/index.html" is ROUTE_PAGE too)
const METHODS: Ascii = "GET,HEAD,PUT";

function parseRequestLine(s: Slot, n: i32): i32 {
  let p = s.buf;
  let sp1 = 0;
  while (load<u8>(p + sp1) != SPACE) sp1++; // sniff() guaranteed one space before '/'
  let sp2 = -1;
  for (let i = sp1 + 1; i < n; i++) if (load<u8>(p + i) == SPACE) { sp2 = i; break; }
  if (sp2 < 0) return fail(s, 400, "request line");
  if (!bytesEqual(p + sp2 + 1, n - sp2 - 1, "HTTP/1.1") && !bytesEqual(p + sp2 + 1, n - sp2 - 1, "HTTP/1.0")) {
    return n - sp2 - 1 == 8 && bytesEqual(p + sp2 + 1, 5, "HTTP/") ? fail(s, 505, "version") : fail(s, 400, "request line");
  }
  s.http11 = bytesEqual(p + sp2 + 1, n - sp2 - 1, "HTTP/1.1");
  s.method = <u8>inList(METHODS, p, sp1);
  let pathEnd = sp1 + 1;
  while (pathEnd < sp2 && load<u8>(p + pathEnd) != QUESTION) pathEnd++; // the query does not pick the route
  let path = p + sp1 + 1;
  let pathLen = pathEnd - sp1 - 1;
  s.route = bytesEqual(path, pathLen, "/rgb") ? ROUTE_RGB : bytesEqual(path, pathLen, "/echo") ? ROUTE_ECHO
    : bytesEqual(path, pathLen, "/control") ? ROUTE_CONTROL
    : bytesEqual(path, pathLen, "/") || bytesEqual(path, pathLen, "/index.html") ? ROUTE_PAGE : ROUTE_NONE;
  s.phase = HEADER_LINE;
  return MORE;
}

/** "HTTP/1.1 101 Switching Protocols": the status goes to s.status. */
function parseStatusLine(s: Slot, n: i32): i32 {
  let p = s.buf;
  let shaped = n >= 12 && bytesEqual(p, 9, "HTTP/1.1 ") && (n == 12 || load<u8>(p + 12) == SPACE);
  let code = shaped ? parseDecimal(p + 9, 3, 3) : -1;
  if (code < 100) return fail(s, 502, "status");
  s.status = <u16>code;
  s.phase = HEADER_LINE;
  return MORE;
}

// @ts-ignore: decorator
@inline function isBlank(b: u32): bool {
  return b == SPACE || b == TAB; // optional whitespace (RFC 9110 5.6.3)
}

/** Bytes [from, to) of p without the optional whitespace around them: from << 16 | to, trimmed. */
function trim(p: usize, from: i32, to: i32): u32 {
  while (from < to && isBlank(load<u8>(p + from))) from++;
  while (to > from && isBlank(load<u8>(p + to - 1))) to--;
  return (<u32>from << 16) | <u32>to;
}

/** Where the comma-separated token of a header value starting at `start` ends: its comma, or n. */
function tokenEnd(p: usize, n: i32, start: i32): i32 {
  while (start < n && load<u8>(p + start) != COMMA) start++;
  return start;
}

/** Whether a comma-separated header value holds `lit` (lower case) as one of its tokens. */
function hasToken(p: usize, n: i32, lit: Ascii): bool {
  for (let at = 0; at <= n; ) {
    let end = tokenEnd(p, n, at);
    let t = trim(p, at, end);
    let a = <i32>(t >>> 16);
    if (bytesEqualNoCase(p + a, <i32>(t & 0xffff) - a, lit)) return true;
    at = end + 1;
  }
  return false;
}

/** 1-based index in `list` (comma-separated) of the first token of the header value found there. */
function firstMatch(p: usize, n: i32, list: usize, listLen: i32): u8 {
  for (let at = 0; at <= n; ) {
    let end = tokenEnd(p, n, at);
    let t = trim(p, at, end);
    let a = <i32>(t >>> 16);
    let idx = indexInList(list, listLen, p + a, <i32>(t & 0xffff) - a);
    if (idx > 0) return <u8>idx;
    at = end + 1;
  }
  return 0;
}

// Header names the core reads, lower case; their 1-based index picks what to do with the value.
export const HEADERS: Ascii = "content-length,transfer-encoding,upgrade,connection,host,sec-websocket-version,sec-websocket-key,sec-websocket-accept,sec-websocket-protocol,sec-websocket-extensions,origin";
const H_CONTENT_LENGTH = 1;
const H_TRANSFER_ENCODING = 2;
const H_UPGRADE = 3;
const H_CONNECTION = 4;
const H_HOST = 5;
export const H_WS_VERSION = 6;
const H_WS_KEY = 7;
const H_WS_ACCEPT = 8;
const H_WS_PROTOCOL = 9;
const H_WS_EXTENSIONS = 10;
const H_ORIGIN = 11;

/** Headers of the WebSocket opening handshake (RFC 6455 4.2.1 server side, 4.1 client side). */
function webSocketHeader(s: Slot, h: i32, v: usize, vn: i32): i32 {
  // a header may come in several lines (RFC 9110 5.3): what any of them says counts
  if (h == H_UPGRADE) s.wsUpgrade = s.wsUpgrade || hasToken(v, vn, "websocket");
  else if (h == H_CONNECTION) s.wsConnUpgrade = s.wsConnUpgrade || hasToken(v, vn, "upgrade");
  else if (h == H_HOST) s.sawHost = true;
  else if (h == H_WS_VERSION) s.wsVersion = bytesEqual(v, vn, "13") ? 1 : 2;
  else if (h == H_WS_KEY) {
    if (s.wsClient) return MORE;
    if (s.wsKeyOk) return fail(s, 400, listItem(HEADERS, H_WS_KEY));
    s.wsKeyOk = isBase64Of16(v, vn);
    if (s.wsKeyOk) acceptDigest(v, vn, aux(s));
  } else if (h == H_WS_ACCEPT) {
    // client side: aux holds the accept value we expect
    if (s.wsClient) s.wsKeyOk = vn == 28 && bytesSame(v, aux(s), 28);
  } else if (h == H_WS_PROTOCOL || h == H_WS_EXTENSIONS) {
    if (s.wsClient) s.wsOriginBad = true; // we offered neither: RFC 6455 4.1 says fail the connection
    else if (h == H_WS_PROTOCOL && s.wsProtocol == 0) s.wsProtocol = firstMatch(v, vn, cfg.wsProtocols, cfg.wsProtocolsLen);
  } else if (h == H_ORIGIN) {
    s.wsOriginBad = cfg.wsOriginsLen > 0 && indexInList(cfg.wsOrigins, cfg.wsOriginsLen, v, vn) == 0;
  }
  return MORE;
}

function parseHeaderLine(s: Slot, n: i32): i32 {
  let p = s.buf;
  let b = load<u8>(p);
  if (isBlank(b)) return fail(s, 400, "header line"); // obsolete line folding (RFC 9112 5.2)
  let colon = -1;
  for (let i = 0; i < n; i++) if (load<u8>(p + i) == COLON) { colon = i; break; }
  if (colon <= 0) return fail(s, 400, "header line");
  for (let i = 0; i < colon; i++) {
    let c = <u32>load<u8>(p + i);
    if (!isTokenChar(c)) return fail(s, 400, "header line");
    if (c - UPPER_A < 26) store<u8>(p + i, c | CASE_BIT); // names compare lower case (the line is not kept)
  }
  let value = trim(p, colon + 1, n);
  let v = <i32>(value >>> 16);
  let e = <i32>(value & 0xffff);
  let h = inList(HEADERS, p, colon);
  if (h == H_CONTENT_LENGTH) {
    let len = parseDecimal(p + v, e - v, 9);
    if (len < 0 || s.sawLength) return fail(s, 400, listItem(HEADERS, H_CONTENT_LENGTH)); // two lengths: refuse rather than pick one
    s.sawLength = true;
    s.bodyLeft = <i32>len;
  } else if (h == H_TRANSFER_ENCODING) {
    return fail(s, 501, listItem(HEADERS, H_TRANSFER_ENCODING)); // no chunked bodies: refusing beats mis-framing (request smuggling)
  }
  return webSocketHeader(s, h, p + v, e - v);
}

/** Consumes bytes from [p, p+n); returns MORE, TUTORIAL, REQUEST or a broken rule (above REQUEST, the
 *  status in s.status), and sets `used`. */
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
    if (++s.headBytes > headMax) return fail(s, 431, cfg.settingName(cfg.K_HTTP_HEAD_MAX));
    if (b == 10) {
      let len = s.len;
      if (len > 0 && load<u8>(s.buf + len - 1) == 13) len--;
      s.len = 0;
      let r = MORE;
      if (s.phase < REQUEST_LINE) return TUTORIAL; // a line end before any request target
      // (STATUS_LINE is above REQUEST_LINE: clients never take the tutorial path)
      if (s.phase == REQUEST_LINE) r = parseRequestLine(s, len);
      else if (s.phase == STATUS_LINE) r = parseStatusLine(s, len);
      else if (len == 0) {
        if (s.http11 && !s.sawHost && !s.wsClient) return fail(s, 400, listItem(HEADERS, H_HOST)); // RFC 9112 3.2: Host is required
        if (s.bodyLeft > BODY_MAX) return fail(s, 413, listItem(HEADERS, H_CONTENT_LENGTH));
        if (s.bodyLeft == 0) {
          s.phase = DONE;
          return REQUEST;
        }
        s.phase = BODY;
      } else r = parseHeaderLine(s, len);
      if (r != MORE) return r;
      continue;
    }
    if (s.len >= lineMax) return fail(s, s.phase <= REQUEST_LINE ? 414 : s.phase == STATUS_LINE ? 502 : 431, cfg.settingName(cfg.K_HTTP_LINE_MAX));
    store<u8>(s.buf + s.len++, <u8>b);
    if (s.phase < REQUEST_LINE && sniff(s, b) == TUTORIAL) return TUTORIAL;
  }
  return MORE;
}

/** True once the first bytes showed an HTTP request (method, space, '/'). */
export function isHttp(s: Slot): bool {
  return s.phase >= REQUEST_LINE;
}
