// WebSocket framing (RFC 6455 section 5), incremental: any segmentation, from one byte at a time to many
// frames per segment. Data frames stream through to their endpoint in chunks, so a message far larger
// than the core's buffers passes with flow control; control frames are collected (at most 125 bytes).
// It knows no application: a whole /control message is an event (s.wsMessageDone) that wsFeed returns
// on, and the dispatch layer (ws/server.ts) hands it to its service.
import { host_random_fill, host_xor_mask, LOG_INFO, LOG_DEBUG } from "../abi/host.generated";
import { tcpSend, tcpResume } from "../net/host";
import * as cfg from "../config";
import { Slot, aux, flush, abortNow, closeNow, STAGE, STAGE_SIZE, CONTROL_AT } from "../net/slots";
import { utf8Feed, UTF8_OK, UTF8_BAD } from "../util/utf8";
import { reached } from "../util/time";
import { Ascii } from "../util/ascii";
import { emit, putRule, putWithI32, putWithIp } from "../util/log";

export const OP_CONT: u8 = 0;
export const OP_TEXT: u8 = 1;
export const OP_BINARY: u8 = 2;
export const OP_CLOSE: u8 = 8;
export const OP_PING: u8 = 9;
export const OP_PONG: u8 = 10;

export const CLOSE_NORMAL: u16 = 1000;
export const CLOSE_GOING_AWAY: u16 = 1001;
export const CLOSE_PROTOCOL: u16 = 1002;
export const CLOSE_UNSUPPORTED: u16 = 1003;
export const CLOSE_POLICY: u16 = 1008;
export const CLOSE_INVALID_DATA: u16 = 1007;
export const CLOSE_TOO_BIG: u16 = 1009;

/** What a connection's messages are for. */
export const ENDPOINT_ECHO: u8 = 1; // /echo: every message back, same type and fragmentation
export const ENDPOINT_PUSH: u8 = 2; // our outgoing ws_url connection: we send, incoming data is dropped
export const ENDPOINT_CONTROL: u8 = 3; // /control: whole text messages, each a control command

const RETRY_MS: u32 = 50;
const HEAD: u8 = 0;
const PAYLOAD: u8 = 1;
const CLOSED: u8 = 2;

export function wsStart(s: Slot, client: bool, endpoint: u8, now: u32): void {
  s.wsClient = client;
  s.wsEndpoint = endpoint;
  s.wsState = HEAD;
  s.wsHeadLen = 0;
  s.wsMessage = 0;
  s.txOffset = STAGE;
  s.len = 0;
  s.sent = 0;
  s.closing = false;
  s.wsHeard = now;
  s.wsLastTx = now;
  if (endpoint != ENDPOINT_CONTROL) s.since = now; // /control keeps its accept time: the auth deadline
  armTimer(s, now);
}

// ---- sending -----------------------------------------------------------------------------------

/** Stages one whole frame (header, mask if we are the client, payload) for sending. The stage must be
 *  empty and n small (control frames, short pushes). */
function stageFrame(s: Slot, b0: u32, p: usize, n: i32): void {
  let d = s.buf + <usize>STAGE;
  s.txOffset = STAGE;
  let o = putFrameHeader(d, b0, n);
  if (s.wsClient) {
    // every client frame gets a fresh random mask (RFC 6455 5.3)
    store<u8>(d + 1, load<u8>(d + 1) | 0x80);
    host_random_fill(d + o, 4);
    memory.copy(d + o + 4, p, n);
    host_xor_mask(d + o + 4, n, load<u32>(d + o));
    o += 4;
  } else memory.copy(d + o, p, n);
  s.len = o + n;
  s.sent = 0;
}

// inlined: a call costs more than the comparison, on both engines, and it runs several times per frame
@inline export function stageFree(s: Slot): bool {
  return s.sent >= s.len;
}

/** Sends the staged frame as far as the host takes it; false if the connection went away. */
export function pump(s: Slot, now: u32): bool {
  if (s.wsHold || stageFree(s)) return true; // a held echo header waits for valid payload
  s.wsLastTx = now;
  return flush(s);
}

/** Stages the header of an outgoing server data frame whose payload will follow in chunks. */
function stageHeader(s: Slot, b0: u32, len: u64): void {
  s.txOffset = STAGE;
  s.len = putFrameHeader(s.buf + <usize>STAGE, b0, len);
  s.sent = 0;
  s.wsOutLeft = len;
}

/** Writes an unmasked frame header (first byte b0, payload length len) at d; returns its size. */
export function putFrameHeader(d: usize, b0: u32, len: u64): i32 {
  store<u8>(d, <u8>b0);
  if (len < 126) {
    store<u8>(d + 1, <u8>len);
    return 2;
  }
  if (len < 65536) {
    store<u8>(d + 1, 126);
    store<u16>(d + 2, bswap<u16>(<u16>len));
    return 4;
  }
  store<u8>(d + 1, 127);
  store<u64>(d + 2, bswap<u64>(len));
  return 10;
}

/** Starts the closing handshake with `code`, or fails the connection at once if a frame of ours is
 *  half sent (a close frame cannot be put inside it). `rule` names what was broken, for the log line. */
export function wsClose(s: Slot, code: u16, rule: Ascii, now: u32): void {
  if (s.wsCloseSent) return;
  putWithIp("ws: closing ", s.remoteIp);
  putWithI32(" with ", code);
  putRule(rule);
  emit(code == CLOSE_NORMAL || code == CLOSE_GOING_AWAY ? LOG_DEBUG : LOG_INFO);
  s.wsCloseSent = true;
  s.wsLastTx = now;
  if (s.wsHold && s.sent == 0) {
    // the echo of the failing frame never started: drop its header, the close frame can go out
    s.len = 0;
    s.wsOutLeft = 0;
    s.wsHold = false;
  }
  if (s.wsOutLeft > 0 || !stageFree(s)) {
    closeNow(s);
    return;
  }
  let p = s.buf + <usize>(STAGE + STAGE_SIZE - 2); // the code's two bytes, just past the stage
  store<u16>(p, bswap<u16>(code));
  stageFrame(s, 0x80 | OP_CLOSE, p, 2);
  let failing = code != CLOSE_NORMAL && code != CLOSE_GOING_AWAY;
  if (failing) s.wsState = CLOSED; // the stream can no longer be parsed: nothing more is read
  // once the peer's close came (or the stream failed), the server closes TCP right after its frame
  if (failing || (s.wsCloseRecv && !s.wsClient)) s.closing = true;
  armTimer(s, now);
  pump(s, now);
}

/** Sends a short text message from the core (at most 120 bytes); false when the stage is busy. */
export function wsSendText(s: Slot, p: usize, n: i32, now: u32): bool {
  if (s.wsCloseSent || s.wsOutLeft > 0 || !stageFree(s) || n > 120) return false;
  stageFrame(s, 0x80 | OP_TEXT, p, n);
  pump(s, now);
  return true;
}

// ---- timers ------------------------------------------------------------------------------------

// What keeps a WebSocket open (docs/SECURITY.md): on /echo, data messages only; on our own outgoing
// connection and an authenticated /control, any bytes (pongs too: the key's holder may sit and listen);
// an unauthenticated /control has control_auth_ms from accept. `since` holds the last such life.
export function armTimer(s: Slot, now: u32): void {
  let next = now + 0x7fffffff;
  if (s.wsCloseSent) next = s.wsLastTx + cfg.wsCloseMs;
  else {
    if (cfg.wsIdleMs > 0) next = s.since + cfg.wsIdleMs;
    if (cfg.wsPingMs > 0 && !s.wsPingOut) next = sooner(next, s.wsHeard + cfg.wsPingMs, now);
    if (unproven(s)) next = sooner(next, s.since + cfg.controlAuthMs, now);
  }
  // a ping that had to wait (our send side busy) is retried shortly, never in a tight loop
  if (<i32>(next - now) <= 0) next = now + RETRY_MS;
  s.deadline = next;
  s.armed = <i32>(next - now) < 0x7fffffff;
}

/** The earlier of two times, judged from now (a may be the "none" sentinel, now + 2^31 - 1). */
function sooner(a: u32, b: u32, now: u32): u32 {
  return <i32>(b - now) < <i32>(a - now) ? b : a;
}

function unproven(s: Slot): bool {
  return s.wsEndpoint == ENDPOINT_CONTROL && !s.ctlAuthed;
}

/** The deadline passed: close handshake timed out, the peer went idle, or a keep-alive ping is due. */
export function wsExpired(s: Slot, now: u32): void {
  if (s.wsCloseSent) return abortNow(s);
  if (unproven(s) && reached(now, s.since + cfg.controlAuthMs)) return wsClose(s, CLOSE_POLICY, cfg.settingName(cfg.K_CONTROL_AUTH_MS), now);
  if (cfg.wsIdleMs > 0 && reached(now, s.since + cfg.wsIdleMs)) return wsClose(s, CLOSE_GOING_AWAY, cfg.settingName(cfg.K_WS_IDLE_MS), now);
  if (cfg.wsPingMs > 0 && !s.wsPingOut && reached(now, s.wsHeard + cfg.wsPingMs) && s.wsOutLeft == 0 && stageFree(s)) {
    stageFrame(s, 0x80 | OP_PING, s.buf, 0);
    s.wsPingOut = true;
    if (!pump(s, now)) return;
  }
  armTimer(s, now);
}

// ---- receiving ---------------------------------------------------------------------------------

function isValidCloseCode(code: u32): bool {
  return (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006) || (code >= 3000 && code <= 4999);
}

/** Header size once its first two bytes are known. */
function headerSize(s: Slot): i32 {
  let b1 = <i32>load<u8>(aux(s) + 1);
  let len7 = b1 & 127;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

// The rules a frame header can break, as the log names them
const RULE_RSV: Ascii = "rsv bits";
const RULE_MASK: Ascii = "mask bit";
const RULE_LENGTH: Ascii = "length";
const RULE_CONTROL_FRAME: Ascii = "control frame";
const RULE_OPCODE: Ascii = "opcode";
const RULE_BINARY: Ascii = "binary";
const RULE_CONTINUATION: Ascii = "continuation";

/** Validates a complete header and starts the frame; true if it broke a rule (the connection is then
 *  failing, and the log names the rule). Each check only records its rule and leaves: one close for
 *  all of them keeps the checks every frame passes as cheap as a bare test (tools/bench/emu.ts). */
function beginFrame(s: Slot, now: u32): bool {
  let h = aux(s);
  let b0 = <u32>load<u8>(h);
  let b1 = <u32>load<u8>(h + 1);
  let op = <u8>(b0 & 15);
  let rule: Ascii = 0;
  s.wsFin = (b0 & 0x80) != 0;
  s.wsOpcode = op;
  do {
    if (b0 & 0x70) { rule = RULE_RSV; break; } // no extension was negotiated
    let masked = (b1 & 0x80) != 0;
    if (masked == s.wsClient) { rule = RULE_MASK; break; } // clients must mask, servers must not
    let len7 = b1 & 127;
    let len: u64 = len7;
    let o = 2;
    if (len7 == 126) {
      len = <u64>bswap<u16>(load<u16>(h + 2));
      o = 4;
    } else if (len7 == 127) {
      len = bswap<u64>(load<u64>(h + 2));
      if (len >> 63) { rule = RULE_LENGTH; break; } // the most significant bit must be 0
      o = 10;
    }
    s.wsMask = masked ? load<u32>(h + o) : 0;
    s.wsMaskPos = 0;
    s.wsPayloadLeft = len;
    if (op >= 8) {
      if (op > OP_PONG || !s.wsFin || len > 125) { rule = RULE_CONTROL_FRAME; break; }
      s.wsCtlLen = 0;
      return false;
    }
    if (op > OP_BINARY) { rule = RULE_OPCODE; break; } // reserved data opcodes 3-7
    if (op == OP_BINARY && s.wsEndpoint == ENDPOINT_CONTROL) { rule = RULE_BINARY; break; } // commands are text
    if (op == OP_CONT) {
      if (s.wsMessage == 0) { rule = RULE_CONTINUATION; break; }
    } else {
      if (s.wsMessage != 0) { rule = RULE_CONTINUATION; break; } // a new message inside a fragmented one
      s.wsMessage = op;
      s.wsMessageLen = 0;
      s.wsUtf8 = UTF8_OK;
    }
    if (len > <u64>cfg.wsMaxMessage - s.wsMessageLen) { rule = cfg.settingName(cfg.K_WS_MAX_MESSAGE); break; }
    if (s.wsEndpoint == ENDPOINT_ECHO && !s.wsCloseSent) {
      stageHeader(s, b0 & 0x8f, len);
      s.wsHold = true;
    }
    return false;
  } while (false);
  let tooBig = rule == cfg.settingName(cfg.K_WS_MAX_MESSAGE);
  wsClose(s, rule == RULE_BINARY ? CLOSE_UNSUPPORTED : tooBig ? CLOSE_TOO_BIG : CLOSE_PROTOCOL, rule, now);
  return true;
}

/** Unmasks in place. The host does the XOR (the xor_mask import): in C it costs about 2 cycles a byte on
 *  the board, the best wasm loop under wasm3 about 30 (docs/BOARD-PERFORMANCE.md). */
function unmask(s: Slot, p: usize, n: i32): void {
  if (s.wsMask == 0) return;
  let rot = (s.wsMaskPos & 3) << 3;
  host_xor_mask(p, n, rot ? rotr<u32>(s.wsMask, rot) : s.wsMask); // the mask as seen from p
}

/** A complete control frame (payload at s.buf): answer pings, finish the close handshake. */
function control(s: Slot, now: u32): void {
  let n = <i32>s.wsCtlLen;
  if (s.wsOpcode == OP_PING) {
    if (!s.wsCloseSent) stageFrame(s, 0x80 | OP_PONG, s.buf, n);
    pump(s, now);
    return;
  }
  if (s.wsOpcode == OP_PONG) {
    s.wsPingOut = false;
    return;
  }
  // close
  if (n == 1) return wsClose(s, CLOSE_PROTOCOL, "close code", now);
  let code: u16 = CLOSE_NORMAL;
  if (n >= 2) {
    code = bswap<u16>(load<u16>(s.buf));
    if (!isValidCloseCode(code)) return wsClose(s, CLOSE_PROTOCOL, "close code", now);
    if (utf8Feed(UTF8_OK, s.buf + 2, n - 2) != UTF8_OK) return wsClose(s, CLOSE_INVALID_DATA, "utf-8", now);
  }
  s.wsCloseRecv = true;
  s.wsState = CLOSED;
  if (s.wsCloseSent) {
    // our close was answered: the server closes TCP; a client waits for it (armed close timeout)
    if (!s.wsClient) closeNow(s);
    return;
  }
  wsClose(s, code, "none", now);
}

/** Bytes from the peer; returns how many were consumed: fewer when the send side is full, or when a
 *  /control message is complete (s.wsMessageDone: the caller handles it, then offers the rest). */
export function wsFeed(s: Slot, p: usize, n: i32, now: u32): i32 {
  let i = 0;
  if (n > 0) {
    s.wsHeard = now;
    if (s.ctlAuthed || s.wsClient) s.since = now;
  }
  let handle = s.handle;
  while (i < n) {
    if (!s.wsHold) {
      if (!pump(s, now) || s.handle != handle) return n; // the connection is gone
      if (!stageFree(s)) break;
    }
    if (s.wsState == CLOSED) return n; // after a close, the peer's bytes mean nothing
    if (s.wsState == HEAD) {
      // the header's first two bytes give its size; the rest comes in one copy, not a byte per round
      let h = aux(s);
      let have = <i32>s.wsHeadLen;
      while (have < 2 && i < n) store<u8>(h + have++, load<u8>(p + i++));
      let want = have < 2 ? 2 : headerSize(s);
      let take = min(want - have, n - i);
      memory.copy(h + have, p + i, take);
      i += take;
      s.wsHeadLen = <u8>(have + take);
      if (have + take < want) continue;
      s.wsHeadLen = 0;
      if (beginFrame(s, now)) return n;
      s.wsState = PAYLOAD;
      if (s.wsPayloadLeft > 0) continue;
    } else {
      let take = <i32>min(<u64>(n - i), s.wsPayloadLeft);
      let q = p + i;
      if (s.wsOpcode >= 8) {
        memory.copy(s.buf + s.wsCtlLen, q, take);
        unmask(s, s.buf + s.wsCtlLen, take);
        s.wsCtlLen += <u8>take;
        s.wsMaskPos += take;
        i += take;
        s.wsPayloadLeft -= take;
        if (s.wsPayloadLeft > 0) continue;
      } else {
        if (s.wsEndpoint == ENDPOINT_ECHO) s.since = now; // data: what keeps an /echo socket alive
        unmask(s, q, take);
        let before = s.wsUtf8;
        if (s.wsMessage == OP_TEXT) {
          s.wsUtf8 = utf8Feed(before, q, take);
          if (s.wsUtf8 == UTF8_BAD) {
            wsClose(s, CLOSE_INVALID_DATA, "utf-8", now);
            return n;
          }
        }
        if (s.wsHold) {
          s.wsHold = false;
          if (!pump(s, now) || s.handle != handle) return n;
          if (!stageFree(s)) {
            if (s.wsMessage == OP_TEXT) s.wsUtf8 = before;
            break; // the header is not out yet: the payload waits, still masked at the host
          }
        }
        let used = take;
        if (s.wsEndpoint == ENDPOINT_CONTROL && !s.wsCloseSent) {
          // a whole command is collected: it must fit a control line
          if (s.wsMessageLen + <u64>take > <u64>cfg.controlLineMax) {
            wsClose(s, CLOSE_TOO_BIG, cfg.settingName(cfg.K_CONTROL_LINE_MAX), now);
            return n;
          }
          memory.copy(s.buf + <usize>(CONTROL_AT + <i32>s.wsMessageLen), q, take);
        } else if (s.wsEndpoint == ENDPOINT_ECHO && take > 0 && !s.wsCloseSent) {
          used = tcpSend(s.handle, q, take);
          if (used < 0) {
            abortNow(s);
            return n;
          }
          s.wsOutLeft -= used;
          s.wsLastTx = now;
        }
        if (used < take && s.wsMessage == OP_TEXT) {
          // the host re-offers the rest as it came off the wire: only `used` bytes moved the mask
          s.wsUtf8 = utf8Feed(before, q, used);
        }
        s.wsMaskPos += used;
        s.wsMessageLen += used;
        s.wsPayloadLeft -= used;
        i += used;
        if (used < take) break;
        if (s.wsPayloadLeft > 0) continue;
      }
    }
    // a frame is complete
    s.wsState = HEAD;
    s.wsHold = false; // an empty frame's echo header goes out as it is
    if (s.wsOpcode >= 8) control(s, now);
    else if (s.wsFin) {
      let text = s.wsMessage == OP_TEXT;
      s.wsMessage = 0;
      if (text && s.wsUtf8 != UTF8_OK) {
        wsClose(s, CLOSE_INVALID_DATA, "utf-8", now); // the message ended inside a character
        return n;
      }
      if (s.wsEndpoint == ENDPOINT_CONTROL && !s.wsCloseSent) {
        // the message is at CONTROL_AT, wsMessageLen bytes: the caller handles it, then offers the rest
        s.wsMessageDone = true;
        return i;
      }
    }
    if (s.handle != handle || s.kind == 0) return n;
  }
  if (s.kind == 0 || s.handle != handle) return n;
  if (!s.wsHold && !pump(s, now)) return n;
  if (i < n) s.wsBlocked = true; // the host holds the rest until tcp_resume
  armTimer(s, now);
  return i;
}

/** The send queue drained: finish staged bytes, then let the host offer what we declined. */
export function wsSent(s: Slot, now: u32): void {
  if (!pump(s, now)) return;
  if (s.wsBlocked && stageFree(s)) {
    s.wsBlocked = false;
    tcpResume(s.handle);
  }
}

/** The peer closed TCP: close ours too (the closing handshake, if any, is over). */
export function wsPeerFinished(s: Slot, now: u32): void {
  closeNow(s);
}
