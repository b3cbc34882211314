// The tutorial's client board: poll a colour server, parse its reply strictly, drive an RGB LED by PWM.
// Like the tutorial it sends "GET Data" and reads until the server closes, so it works against the
// tutorial's MicroPython server as well as a picowire board. Failures back off, never stop the board.
import { Ascii, asciiLen, asciiAt } from "../util/ascii";
import { host_pwm_set, OK, LOG_INFO, LOG_WARN } from "../abi/host.generated";
import { tcpConnect, tcpSend } from "../net/host";
import * as cfg from "../config";
import { Slot, claim, arm, release, closeNow, abortNow, KIND_RGB_CLIENT } from "../net/slots";
import { parseText, channelDuty } from "./codec";
import { put, putBytes, emit, putLine, putWithI32, putWithIp } from "../util/log";
import { reached, msUntil } from "../util/time";
import { putAscii } from "../util/bytes";
import { backoff, warnRetry } from "../util/retry";

const REPLY_MAX: i32 = 16; // "255,255,255\r\n" is 13
const CONNECTING: u8 = 1;
const READING: u8 = 2;

let enabled = false;
let nextPoll: u32 = 0;
let active: Slot | null = null;
let activeHandle: i32 = 0; // slots are reused: the handle tells whether `active` is still ours
let failures: u32 = 0;
export let pollsOk: u32 = 0;
export let pollsFailed: u32 = 0;
export let lastColour: i32 = -1;

let followsBus = false; // no rgb_server configured on a bus board: poll whichever board is MASTER

export function startClient(now: u32): void {
  enabled = cfg.rgbServerIp != 0;
  followsBus = cfg.busOn && !enabled && cfg.httpPort != 0;
  nextPoll = now;
}

/** The bus has a new master (0: none, or this board): poll it, or stop and serve from here. */
export function followMaster(ip: u32, now: u32): void {
  if (!followsBus || ip == cfg.rgbServerIp) return;
  cfg.rgbServerIp = ip;
  cfg.rgbServerPort = cfg.httpPort;
  enabled = ip != 0;
  lastColour = -1;
  failures = 0;
  nextPoll = now;
}

function schedule(now: u32): void {
  nextPoll = now + (failures > 0 ? backoff(cfg.rgbPollMs, failures, cfg.rgbBackoffMaxMs) : cfg.rgbPollMs);
}

function fail(why: Ascii, code: i32, now: u32): void {
  failures++;
  pollsFailed++;
  schedule(now);
  putWithIp("rgb-client: ", cfg.rgbServerIp);
  putWithI32(":", cfg.rgbServerPort);
  put(" ");
  warnRetry(why, code, msUntil(now, nextPoll));
}

function pinFor(channel: i32): i32 {
  return channel == 0 ? cfg.rgbPinR : channel == 1 ? cfg.rgbPinG : cfg.rgbPinB;
}

function show(rgb: i32): void {
  lastColour = rgb;
  putWithI32("rgb: ", (rgb >> 16) & 255);
  putWithI32(" ", (rgb >> 8) & 255);
  putWithI32(" ", rgb & 255);
  emit(LOG_INFO);
  if (cfg.rgbPinR < 0) return;
  for (let i = 0; i < 3; i++) {
    let duty = channelDuty((rgb >> (16 - 8 * i)) & 255, cfg.brightness);
    host_pwm_set(pinFor(i), cfg.rgbPwmHz, cfg.rgbCommonAnode ? 65535 - duty : duty);
  }
}

function poll(now: u32): void {
  let s = claim(KIND_RGB_CLIENT, -1);
  if (s == null) return fail("no free connection slot", 0, now);
  let handle = tcpConnect(cfg.rgbServerIp, cfg.rgbServerPort);
  if (handle < 0) {
    release(s);
    return fail("cannot connect", handle, now);
  }
  s.handle = handle;
  activeHandle = handle;
  s.phase = CONNECTING;
  arm(s, now, cfg.rgbTimeoutMs);
  active = s;
}

function finish(s: Slot): void {
  active = null;
  closeNow(s);
}

export function connected(s: Slot, status: i32, now: u32): void {
  if (status != OK) {
    active = null;
    release(s); // the handle is dead on a failed connect
    return fail("unreachable", status, now);
  }
  s.phase = READING;
  let n = putAscii(s.buf, "GET Data");
  if (tcpSend(s.handle, s.buf, n) != n) {
    // 8 bytes always fit a fresh connection's window; anything else means it is already failing
    active = null;
    abortNow(s);
    return fail("could not send the request", 0, now);
  }
  s.len = 0;
}

export function data(s: Slot, p: usize, n: i32, now: u32): i32 {
  if (s.len + n > REPLY_MAX) {
    put("rgb-client: ");
    put("reply too long: ");
    putBytes(s.buf, s.len);
    putBytes(p, min(n, REPLY_MAX));
    emit(LOG_WARN);
    active = null;
    abortNow(s);
    fail("sent garbage", 0, now);
    return n;
  }
  memory.copy(s.buf + <usize>s.len, p, n);
  s.len += n;
  return n;
}

/** The server closed: the reply is complete. */
export function peerFinished(s: Slot, now: u32): void {
  let rgb = parseText(s.buf, s.len);
  if (rgb < 0) {
    put("rgb-client: ");
    put("bad reply '");
    putBytes(s.buf, s.len);
    putLine("'", LOG_WARN);
    finish(s);
    return fail("sent garbage", rgb, now);
  }
  finish(s);
  failures = 0;
  pollsOk++;
  schedule(now);
  show(rgb);
}

/** The connection broke before the reply was complete. */
export function closed(s: Slot, reason: i32, now: u32): void {
  active = null;
  release(s);
  fail("connection lost", reason, now);
}

export function expired(s: Slot, now: u32): void {
  active = null;
  abortNow(s);
  fail("timed out", 0, now);
}

/** Starts a poll when one is due; returns ms until the next one (u32.MAX_VALUE when idle or busy). */
export function clientTick(now: u32): u32 {
  if (!enabled) return u32.MAX_VALUE;
  let a = active;
  if (a != null) {
    if (a.kind == KIND_RGB_CLIENT && a.handle == activeHandle) return u32.MAX_VALUE;
    active = null; // the slot went away under us (aborted by a failed send): count it and retry
    fail("connection lost", 0, now);
  }
  if (reached(now, nextPoll)) poll(now);
  return active != null ? u32.MAX_VALUE : msUntil(now, nextPoll);
}
