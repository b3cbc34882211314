// Control connections: one JSON object per line each way, any split or merge across TCP segments.
// With a bus key, a connection first answers a challenge (HMAC-SHA256 over a fresh nonce), then every
// command carries a rising "seq" and a "mac" over the nonce and the command, so replays and tampering
// are refused. Without a key, control is off unless control_insecure=1 (piconetcontrol-compatible).
import { Ascii, asciiLen, asciiAt, COMMA, BRACE_CLOSE, CR, SPACE, LF } from "../util/ascii";
import { host_random_fill, OK, ERR_NOMEM, LOG_INFO, LOG_WARN, LOG_ERROR } from "../abi/host.generated";
import { tcpListen, tcpResume } from "../net/host";
import * as cfg from "../config";
import * as json from "../util/json";
import * as reply from "../util/reply";
import { run } from "./actions";
import { Slot, accepted, arm, aux, flush, closeNow, abortNow, slotAt, slotCount, KIND_CONTROL, KIND_WS, CONTROL_AT, REPLY_ROOM } from "../net/slots";
import { hmacStart, hmacUpdate, hmacFinal } from "../util/sha256";
import { wsClose, putFrameHeader, ENDPOINT_CONTROL, CLOSE_POLICY } from "../ws/frame";
import { put, emit, putLine, putRule, putWithI32, putWithIp } from "../util/log";
import { putHex } from "../util/bytes";

let listener: i32 = -1;
export let bootAt: u32 = 0;
export let commands: u32 = 0;
export let refusedAuth: u32 = 0;
const mac = memory.data(32);
const hex = memory.data(64);
const PREFIX: Ascii = "picowire-auth:";

export function startControl(now: u32): i32 {
  bootAt = now;
  if (cfg.controlPort == 0) return OK;
  if (cfg.busKeyLen == 0 && !cfg.controlInsecure) {
    put("control: ");
    putLine("off: no bus key configured (set key=..., or control_insecure=1 to accept unauthenticated commands as piconetcontrol does)", LOG_WARN);
    return OK;
  }
  listener = tcpListen(cfg.controlPort);
  if (listener < 0) {
    put("control: ");
    putWithI32("cannot listen on port ", cfg.controlPort);
    emit(LOG_ERROR);
    return listener;
  }
  put("control: ");
  putWithI32("listening on port ", cfg.controlPort);
  if (cfg.busKeyLen == 0) {
    putLine(" WITHOUT AUTHENTICATION: anyone on the network can drive the pins", LOG_WARN);
  } else {
    putLine(" (HMAC-SHA256 authenticated)", LOG_INFO);
  }
  return OK;
}

export function isListener(handle: i32): bool {
  return handle == listener;
}

export function listening(): bool {
  return listener >= 0;
}

/** Connections that speak control, over TCP or as a WebSocket on /control. */
export function isControl(s: Slot): bool {
  return s.kind == KIND_CONTROL || (s.kind == KIND_WS && s.wsEndpoint == ENDPOINT_CONTROL);
}

export function clients(): i32 {
  let n = 0;
  for (let i = 0; i < slotCount(); i++) if (isControl(slotAt(i))) n++;
  return n;
}


/** The session nonce (aux holds a WebSocket frame header in its first half). */
function nonce(s: Slot): usize {
  return aux(s) + 16;
}

/** Sends a reply written at `line`: as it is over TCP, as one text frame over a WebSocket. */
function send(s: Slot, line: usize, len: i32, now: u32): void {
  let at = <i32>(line - s.buf);
  if (s.kind == KIND_WS) {
    let h = len < 126 ? 2 : 4; // a reply is shorter than 65536 bytes
    at -= h;
    len += putFrameHeader(s.buf + at, 0x81, len); // FIN, text
  }
  s.txOffset = at;
  s.len = len;
  s.sent = 0;
  flush(s);
}

/** The first line of an authenticated session: the challenge. */
export function sendChallenge(s: Slot, now: u32): void {
  if (cfg.busKeyLen == 0) {
    s.ctlAuthed = true;
    return;
  }
  let line = s.buf + CONTROL_AT;
  host_random_fill(nonce(s), 16);
  reply.beginReply(line, 0, 128);
  reply.key("challenge");
  putHex(hex, nonce(s), 16);
  reply.strBytes(hex, 32);
  reply.key("auth");
  reply.str("hmac-sha256");
  send(s, line, reply.endReply(line), now);
}

export function accept(conn: i32, ip: u32, now: u32): i32 {
  let s = accepted(KIND_CONTROL, conn, ip, now);
  if (s == null) return ERR_NOMEM; // net/slots.ts logs why
  // until it authenticates, a connection has control_auth_ms from now, whatever it sends
  arm(s, now, cfg.controlAuthMs);
  put("control: ");
  putWithIp("client connected from ", ip);
  emit(LOG_INFO);
  sendChallenge(s, now);
  if (s.ctlAuthed) armIdle(s, now); // no key: nothing to prove
  return OK;
}

function armIdle(s: Slot, now: u32): void {
  if (s.kind != KIND_CONTROL || s.closing) return; // a WebSocket's timer is its own (ws/frame.ts)
  if (cfg.controlIdleMs > 0) arm(s, now, cfg.controlIdleMs);
  else s.armed = false;
}

/** Constant-time compare of 64 lowercase hex digits at p with the MAC in `mac`. */
function macMatches(p: usize, n: i32): bool {
  if (n != 64) return false;
  putHex(hex, mac, 32);
  let diff = 0;
  for (let i = 0; i < 64; i++) diff |= <i32>(load<u8>(p + i) ^ load<u8>(hex + i));
  return diff == 0;
}

function hmacNonceHex(s: Slot): void {
  putHex(hex, nonce(s), 16);
  hmacUpdate(hex, 32);
}

/** The challenge answer: {"auth":"<hex HMAC(key, "picowire-auth:" + nonce hex)>"}. */
function authenticate(s: Slot): bool {
  let f = json.find("auth");
  if (f < 0 || json.memberType(f) != json.T_STRING) {
    reply.errorStart("authenticate first: answer the challenge with {\"auth\":\"<HMAC-SHA256 hex>\"}");
    return false;
  }
  hmacStart(cfg.busKey, cfg.busKeyLen);
  hmacUpdate(PREFIX + 1, asciiLen(PREFIX));
  hmacNonceHex(s);
  hmacFinal(mac);
  if (!macMatches(json.memberValue(f) + 1, json.memberValueLen(f) - 2)) {
    reply.errorStart("authentication failed: wrong key");
    return false;
  }
  s.ctlAuthed = true;
  reply.key("authenticated");
  reply.lit("true");
  return true;
}

/** An authenticated command: a "seq" above the last, and "mac" as the last member over nonce + text. */
function verifyCommand(s: Slot, line: usize, n: i32): bool {
  let sf = json.find("seq");
  let seq = json.intValue(sf, 1, 0xffffffff);
  let mf = json.find("mac");
  if (seq == i64.MIN_VALUE || mf < 0 || mf != json.members - 1 || json.memberType(mf) != json.T_STRING) {
    reply.errorStart("authenticated commands need a \"seq\" (a rising whole number) and \"mac\" as the last field");
    return false;
  }
  // the MAC covers the nonce and the command up to the comma before "mac", closed with '}'
  let q = json.memberValue(mf);
  while (q > line && load<u8>(q) != COMMA) q--; // back over the key to the comma
  if (q == line) {
    reply.errorStart("\"mac\" must follow the other fields");
    return false;
  }
  hmacStart(cfg.busKey, cfg.busKeyLen);
  hmacNonceHex(s);
  hmacUpdate(line, <i32>(q - line));
  store<u8>(hex, BRACE_CLOSE);
  hmacUpdate(hex, 1);
  hmacFinal(mac);
  if (!macMatches(json.memberValue(mf) + 1, json.memberValueLen(mf) - 2)) {
    reply.errorStart("bad mac: the command was altered or signed with another key");
    return false;
  }
  if (<u32>seq <= s.ctlSeq) {
    reply.errorStart("seq must rise: this command repeats or predates one already run (a replay?)");
    return false;
  }
  s.ctlSeq = <u32>seq;
  return true;
}

/** "control: closing <address>: <the rule it broke>". Inline: a wasm3 function costs the board ~167 B of RAM. */
@inline function logClosing(s: Slot, rule: Ascii): void {
  putWithIp("control: closing ", s.remoteIp);
  putRule(rule);
  emit(LOG_INFO);
}

/** One chance to authenticate: after the error reply the connection closes, whatever the peer does;
 *  `rule` names what the peer got wrong, for the log line. */
function refuseUnauthenticated(s: Slot, rule: Ascii, now: u32): void {
  if (!isControl(s)) return;
  if (s.kind == KIND_WS) return wsClose(s, CLOSE_POLICY, rule, now);
  logClosing(s, rule);
  s.closing = true;
  arm(s, now, cfg.httpTimeoutMs); // a peer that never reads the refusal cannot keep the slot
  if (s.sent >= s.len) closeNow(s);
}

/** One command (a TCP line or a WebSocket message) at `line`; the reply replaces it. */
export function handleLine(s: Slot, line: usize, n: i32, now: u32): void {
  let cap = cfg.controlLineMax + REPLY_ROOM;
  while (n > 0 && (load<u8>(line + n - 1) == CR || load<u8>(line + n - 1) == SPACE)) n--;
  if (n == 0) return;
  let parsed = json.parseObject(line, n, cfg.controlDepth);
  if (!parsed || json.find("error") >= 0) {
    // an "error" field in a command would collide with the reply's own: refused, like bad JSON
    if (parsed) {
      reply.errorStart("a command may not have a field named \"error\"");
      reply.noCommand();
    } else reply.invalidJson();
    send(s, line, reply.errorReply(line, cap), now);
    if (!s.ctlAuthed) refuseUnauthenticated(s, "json", now);
    return;
  }
  let ok: bool;
  let wasAuthed = s.ctlAuthed;
  reply.beginReply(line, n, cap); // reads the line only: verifyCommand sees it unchanged
  if (!s.ctlAuthed) {
    ok = authenticate(s);
    if (!ok) refusedAuth++;
    else armIdle(s, now);
  } else if (cfg.busKeyLen > 0 && !verifyCommand(s, line, n)) {
    ok = false;
    refusedAuth++;
  } else {
    ok = run(now, bootAt);
    commands++;
  }
  if (ok && !reply.overflow) send(s, line, reply.endReply(line), now);
  else {
    if (ok) reply.errorStart("the reply does not fit the board's buffer");
    send(s, line, reply.errorReply(line, cap), now);
  }
  if (!wasAuthed && !s.ctlAuthed && isControl(s)) refuseUnauthenticated(s, "auth", now);
}

/** Bytes from the peer; returns how many were consumed (none while a reply is still going out). */
export function data(s: Slot, p: usize, n: i32, now: u32): i32 {
  let i = 0;
  let handle = s.handle;
  if (s.ctlAuthed) armIdle(s, now); // bytes keep an authenticated session alive, no other
  while (i < n) {
    if (s.kind != KIND_CONTROL || s.handle != handle || s.closing) return n;
    if (s.sent < s.len) {
      s.wsBlocked = true; // the host keeps the rest until the reply is out
      return i;
    }
    let b = load<u8>(p + i++);
    if (b == LF) {
      let len = s.headBytes;
      s.headBytes = 0;
      if (s.ctlDiscard) {
        s.ctlDiscard = false;
        reply.errorStart("line longer than control_line_max (");
        reply.errorNum(cfg.controlLineMax);
        reply.errorMore(" bytes); it was dropped");
        reply.noCommand();
        send(s, s.buf + CONTROL_AT, reply.errorReply(s.buf + CONTROL_AT, cfg.controlLineMax + REPLY_ROOM), now);
        if (!s.ctlAuthed) refuseUnauthenticated(s, cfg.settingName(cfg.K_CONTROL_LINE_MAX), now);
      } else handleLine(s, s.buf + CONTROL_AT, len, now);
      continue;
    }
    if (s.ctlDiscard) continue;
    if (s.headBytes >= cfg.controlLineMax) {
      s.ctlDiscard = true;
      continue;
    }
    store<u8>(s.buf + <usize>(CONTROL_AT + s.headBytes), b);
    s.headBytes++;
  }
  return n;
}

/** The reply queue drained: let the host offer what we held back. */
export function sent(s: Slot): void {
  if (!flush(s) || s.kind != KIND_CONTROL) return;
  if (s.wsBlocked && s.sent >= s.len) {
    s.wsBlocked = false;
    tcpResume(s.handle);
  }
}

export function peerFinished(s: Slot): void {
  closeNow(s); // fail-safe reverts stay armed: a dropped connection does not cancel them
}

export function expired(s: Slot, now: u32): void {
  if (s.closing) return abortNow(s);
  logClosing(s, s.ctlAuthed ? cfg.settingName(cfg.K_CONTROL_IDLE_MS) : cfg.settingName(cfg.K_CONTROL_AUTH_MS));
  closeNow(s);
}
