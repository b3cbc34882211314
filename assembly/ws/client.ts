// The board's outgoing WebSocket (ws_url): connects to a computer collecting data, verifies the 101 and
// its Sec-WebSocket-Accept before any frame, streams the board's colour every ws_push_ms, and reconnects
// with backoff when the connection fails or closes.
import { Ascii, asciiLen, asciiAt } from "../util/ascii";
import { host_random_fill, OK, LOG_INFO, LOG_WARN } from "../abi/host.generated";
import { tcpConnect, tcpSend } from "../net/host";
import * as cfg from "../config";
import { Slot, aux, claim, arm, release, abortNow, KIND_WS, KIND_WS_DIAL } from "../net/slots";
import { feed, used, STATUS_LINE, REQUEST } from "../http/request";
import { writeUpgrade, acceptDigest } from "./handshake";
import { wsStart, wsFeed, wsSendText, ENDPOINT_PUSH } from "./frame";
import { base64Encode } from "../util/base64";
import { Ascii } from "../util/ascii";
import { backoff, warnRetry } from "../util/retry";
import { putAscii, putDecimal } from "../util/bytes";
import { reached, msUntil } from "../util/time";
import { put, putBytes, emit, putLine, putWithI32 } from "../util/log";
import { current } from "../rgb/server";
import { lastColour } from "../rgb/client";

const BACKOFF_MAX_MS: u32 = 30000;
const key = memory.data(40);
const message = memory.data(64);

let active: Slot | null = null;
let activeHandle: i32 = 0; // slots are reused: the handle tells whether `active` is still ours
let nextTry: u32 = 0;
let nextPush: u32 = 0;
let failures: u32 = 0;
export let pushes: u32 = 0;

function describe(): void {
  put("ws-client: ");
  put("ws://");
  putBytes(cfg.wsUrlHost, cfg.wsUrlHostLen);
  putWithI32(":", cfg.wsUrlPort);
  put(" ");
}

export function startWsClient(now: u32): void {
  nextTry = now;
}

function fail(why: Ascii, code: i32, now: u32): void {
  active = null;
  failures++;
  let delay = backoff(cfg.wsPushMs, failures, BACKOFF_MAX_MS);
  nextTry = now + delay;
  describe();
  warnRetry(why, code, delay);
}

function dial(now: u32): void {
  let s = claim(KIND_WS_DIAL, -1);
  if (s == null) return fail("no free connection slot", 0, now);
  let h = tcpConnect(cfg.wsUrlIp, cfg.wsUrlPort);
  if (h < 0) {
    release(s);
    return fail("cannot connect", h, now);
  }
  s.handle = h;
  activeHandle = h;
  s.wsClient = true;
  s.remoteIp = cfg.wsUrlIp;
  arm(s, now, cfg.httpTimeoutMs);
  active = s;
}

export function connected(s: Slot, status: i32, now: u32): void {
  if (status != OK) {
    release(s);
    return fail("unreachable", status, now);
  }
  host_random_fill(key, 16);
  base64Encode(key, 16, key + 16);
  acceptDigest(key + 16, 24, aux(s));
  let n = writeUpgrade(s.buf, cfg.wsUrlHost, cfg.wsUrlHostLen, cfg.wsUrlPort, cfg.wsUrlPath, cfg.wsUrlPathLen, key + 16);
  if (tcpSend(s.handle, s.buf, n) != n) {
    abortNow(s);
    return fail("could not send the handshake", 0, now);
  }
  s.phase = STATUS_LINE;
  s.len = 0;
}

/** Handshake bytes; after a verified 101 the rest are frames. */
export function data(s: Slot, p: usize, n: i32, now: u32): i32 {
  let r = feed(s, p, n, cfg.httpLineMax, cfg.httpHeadMax);
  if (r > REQUEST) {
    abortNow(s);
    fail("sent a malformed handshake reply", 0, now);
    return n;
  }
  if (r != REQUEST) return n;
  let why: Ascii = s.status != 101 ? "refused the upgrade (HTTP status in the log above)"
    : !s.wsUpgrade || !s.wsConnUpgrade ? "answered 101 without Upgrade: websocket and Connection: upgrade"
    : !s.wsKeyOk ? "sent a wrong Sec-WebSocket-Accept"
    : s.wsOriginBad ? "accepted an extension or subprotocol it was not offered" : 0;
  if (why != 0) {
    if (s.status != 101) {
      put("ws-client: ");
      putWithI32("server answered HTTP ", s.status);
      emit(LOG_WARN);
    }
    abortNow(s);
    fail(why, 0, now);
    return n;
  }
  let at = used;
  s.kind = KIND_WS;
  wsStart(s, true, ENDPOINT_PUSH, now);
  failures = 0;
  nextPush = now;
  describe();
  putLine("connected", LOG_INFO);
  return at + wsFeed(s, p + at, n - at, now); // our push socket gets no /control messages: no events
}

export function expired(s: Slot, now: u32): void {
  abortNow(s);
  fail("handshake timed out", 0, now);
}

export function isActive(s: Slot): bool {
  return s == active;
}

/** Dials when due and pushes the colour when due; returns ms until the next of those. */
export function wsClientTick(now: u32): u32 {
  if (cfg.wsUrlIp == 0) return u32.MAX_VALUE;
  let s = active;
  if (s == null) {
    if (!reached(now, nextTry)) return msUntil(now, nextTry);
    dial(now);
    return active == null ? msUntil(now, nextTry) : u32.MAX_VALUE;
  }
  if (s.handle != activeHandle || (s.kind != KIND_WS && s.kind != KIND_WS_DIAL)) {
    fail("connection closed", 0, now);
    return msUntil(now, nextTry);
  }
  if (s.kind != KIND_WS) return u32.MAX_VALUE;
  if (reached(now, nextPush)) {
    let rgb = lastColour >= 0 ? lastColour : current;
    let n = putAscii(message, "{\"rgb\":[");
    n += putDecimal(message + n, (rgb >> 16) & 255);
    store<u8>(message + n++, 44);
    n += putDecimal(message + n, (rgb >> 8) & 255);
    store<u8>(message + n++, 44);
    n += putDecimal(message + n, rgb & 255);
    n += putAscii(message + n, "]}");
    if (wsSendText(s, message, n, now)) pushes++;
    nextPush = now + cfg.wsPushMs;
  }
  return msUntil(now, nextPush);
}
