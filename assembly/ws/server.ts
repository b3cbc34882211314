// The server side of the WebSocket opening handshake on an HTTP connection (RFC 6455 4.2), and the
// dispatch of a WebSocket's events (ws/frame.ts) to the service its endpoint belongs to.
import { COMMA, listItem } from "../util/ascii";
import { LOG_DEBUG } from "../abi/host.generated";
import * as cfg from "../config";
import { Slot, aux, flush, KIND_WS, CONTROL_AT } from "../net/slots";
import { METHOD_GET, ROUTE_CONTROL, HEADERS, H_WS_VERSION } from "../http/request";
import { handleLine, sendChallenge } from "../control/server";
import { answerStatus } from "../http/response";
import { writeSwitching } from "./handshake";
import { wsStart, wsFeed, wsSent, pump, stageFree, ENDPOINT_ECHO, ENDPOINT_CONTROL } from "./frame";
import { put, emit, putWithIp } from "../util/log";

/** Protocol name `index` (1-based) of the comma-separated ws_protocols: its address << 8 | its length
 *  (a name is at most 96 bytes, an address below 2^24). */
function protocolAt(index: i32): u32 {
  let start = 0;
  let k = 1;
  let list = cfg.wsProtocols;
  for (let i = 0; i <= cfg.wsProtocolsLen; i++) {
    if (i < cfg.wsProtocolsLen && load<u8>(list + i) != COMMA) continue;
    if (k++ == index) return (<u32>(list + start) << 8) | <u32>(i - start);
    start = i + 1;
  }
  return <u32>list << 8;
}

/** A complete request for a WebSocket route: answer 101 and switch the slot to frames (KIND_WS), or
 *  refuse. Bytes after the request are the first frames: the caller offers them to wsData. */
export function upgrade(s: Slot, now: u32): void {
  if (!s.wsUpgrade) return answerStatus(s, 426, "upgrade", "Upgrade: websocket\r\n", now);
  if (s.method != METHOD_GET || !s.http11 || !s.wsConnUpgrade || !s.wsKeyOk || s.wsVersion == 0) {
    return answerStatus(s, 400, "handshake", "", now);
  }
  if (s.wsVersion != 1) return answerStatus(s, 426, listItem(HEADERS, H_WS_VERSION), "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n", now);
  if (s.wsOriginBad) return answerStatus(s, 403, cfg.settingName(cfg.K_WS_ORIGINS), "", now);
  let proto = s.wsProtocol ? protocolAt(s.wsProtocol) : 0;
  // the 101 is written over the request line (free now); frames later use the stage
  let len = writeSwitching(s.buf, aux(s), proto >>> 8, <i32>(proto & 255));
  putWithIp("ws: ", s.remoteIp);
  let control = s.route == ROUTE_CONTROL;
  put(control ? " opened /control" : " opened /echo");
  emit(LOG_DEBUG);
  s.kind = KIND_WS;
  wsStart(s, false, control ? ENDPOINT_CONTROL : ENDPOINT_ECHO, now);
  s.ctlChallenge = control; // sent once the 101 is out
  s.txOffset = 0;
  s.len = len; // the 101 goes out ahead of any frame
  if (!flush(s) || s.kind != KIND_WS) return;
  if (s.ctlChallenge && s.sent >= s.len) {
    s.ctlChallenge = false;
    sendChallenge(s, now);
  }
}

/** Bytes from a WebSocket's peer (either side); returns how many were consumed. Each whole /control
 *  message goes to the control service before the rest is offered to the framing again. Inlined: a
 *  frame per call is the hot path, and it costs one test more than the framing alone. */
// @ts-ignore: decorator
@inline export function wsData(s: Slot, p: usize, n: i32, now: u32): i32 {
  let used = wsFeed(s, p, n, now);
  return s.wsMessageDone ? controlMessages(s, p, n, used, now) : used;
}

/** The /control messages among the bytes: each handled, then the rest offered (`used` so far). */
function controlMessages(s: Slot, p: usize, n: i32, used: i32, now: u32): i32 {
  let handle = s.handle;
  while (s.wsMessageDone) {
    s.wsMessageDone = false;
    handleLine(s, s.buf + CONTROL_AT, <i32>s.wsMessageLen, now);
    if (s.handle != handle || s.kind == 0) return n; // the command closed the connection
    used += wsFeed(s, p + used, n - used, now);
  }
  return used;
}

/** A WebSocket's send queue drained: a /control challenge still owed goes out first, then the framing
 *  finishes its staged bytes and lets the host offer what it declined. */
export function wsDrained(s: Slot, now: u32): void {
  if (s.ctlChallenge) {
    if (!pump(s, now)) return;
    if (stageFree(s)) {
      s.ctlChallenge = false;
      sendChallenge(s, now);
    }
  }
  wsSent(s, now);
}
