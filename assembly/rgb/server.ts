// The RGB service on the HTTP port, tutorial-compatible: a bare request ("GET Data") gets the bare
// "r,g,b" text and the connection is closed, as the tutorial's server does; GET/HEAD/PUT /rgb speak HTTP.
import {
  host_random_fill, host_adc_read, host_tcp_listen, OK, ERR_NOMEM, LOG_INFO, LOG_WARN, LOG_DEBUG, LOG_ERROR,
} from "../abi/host.generated";
import * as cfg from "../config";
import { Slot, claim, arm, replyAndClose, closeNow, abortNow, KIND_HTTP } from "../net/slots";
import { feed, isHttp, TUTORIAL, REQUEST, ERROR, METHOD_GET, METHOD_HEAD, METHOD_PUT, ROUTE_RGB } from "../http/request";
import { writeResponse } from "../http/response";
import { formatText, parseEither } from "./codec";
import { put, putBytes, putIp, putI32, emit } from "../util/log";

export let current: i32 = 0;
export let requests: u32 = 0;
export let badRequests: u32 = 0;
let listener: i32 = -1;
const scratch = memory.data(16);

export function startServer(): i32 {
  current = cfg.rgbValue;
  if (cfg.httpPort == 0) return OK;
  listener = host_tcp_listen(cfg.httpPort);
  if (listener < 0) {
    put("http: cannot listen on port ");
    putI32(cfg.httpPort);
    put(" (error ");
    putI32(listener);
    put(")");
    emit(LOG_ERROR);
    return listener;
  }
  put("http: listening on port ");
  putI32(cfg.httpPort);
  emit(LOG_INFO);
  return OK;
}

export function isListener(handle: i32): bool {
  return handle == listener;
}

function adcChannel(ch: i32): i32 {
  let v = host_adc_read(ch);
  return v < 0 ? -1 : min(v >> 4, 255); // 12-bit sample to 0..255
}

/** The colour to serve now, from the configured source. */
function nextColour(): i32 {
  if (cfg.rgbSource == cfg.SOURCE_RANDOM) {
    host_random_fill(scratch, 3);
    current = (<i32>load<u8>(scratch) << 16) | (<i32>load<u8>(scratch + 1) << 8) | <i32>load<u8>(scratch + 2);
  } else if (cfg.rgbSource == cfg.SOURCE_ADC) {
    let r = adcChannel(cfg.rgbAdc0);
    let g = adcChannel(cfg.rgbAdc1);
    let b = adcChannel(cfg.rgbAdc2);
    if (r < 0 || g < 0 || b < 0) {
      put("rgb: ADC read failed, serving the last colour");
      emit(LOG_WARN);
    } else current = (r << 16) | (g << 8) | b;
  }
  return current;
}

export function accept(conn: i32, ip: u32, now: u32): i32 {
  let s = claim(KIND_HTTP, conn);
  if (s == null) {
    put("http: all connection slots busy, refusing ");
    putIp(ip);
    emit(LOG_WARN);
    return ERR_NOMEM;
  }
  s.remoteIp = ip;
  arm(s, now, cfg.httpTimeoutMs);
  put("client connected from ");
  putIp(ip);
  emit(LOG_DEBUG);
  return OK;
}

function answerTutorial(s: Slot, now: u32): void {
  let n = formatText(nextColour(), s.buf);
  put("Sent:");
  putBytes(s.buf, n);
  emit(LOG_INFO);
  requests++;
  replyAndClose(s, n, now, cfg.httpTimeoutMs);
}

function answerStatus(s: Slot, status: i32, now: u32): void {
  badRequests++;
  put("http: ");
  putI32(status);
  put(" to ");
  putIp(s.remoteIp);
  emit(LOG_INFO);
  replyAndClose(s, writeResponse(s.buf, status, status == 405 ? "Allow: GET, HEAD, PUT\r\n" : "", 0, -1, false), now, cfg.httpTimeoutMs);
}

function answerRequest(s: Slot, now: u32): void {
  if (s.route != ROUTE_RGB) return answerStatus(s, 404, now);
  if (s.method == METHOD_PUT) {
    let rgb = parseEither(s.buf, s.len);
    if (rgb < 0) return answerStatus(s, 400, now);
    current = rgb;
    cfg.rgbSource = cfg.SOURCE_FIXED;
    put("rgb: set to ");
    putBytes(scratch, formatText(rgb, scratch));
    put(" by ");
    putIp(s.remoteIp);
    emit(LOG_INFO);
  } else if (s.method != METHOD_GET && s.method != METHOD_HEAD) {
    return answerStatus(s, 405, now);
  } else nextColour();
  let n = formatText(current, scratch);
  requests++;
  replyAndClose(s, writeResponse(s.buf, 200, "", scratch, n, s.method == METHOD_HEAD), now, cfg.httpTimeoutMs);
}

/** Bytes from the peer; returns how many were consumed (all: a finished request's extra bytes are dropped). */
export function data(s: Slot, p: usize, n: i32, now: u32): i32 {
  if (s.closing) return n;
  let r = feed(s, p, n, cfg.httpLineMax, cfg.httpHeadMax);
  if (r == TUTORIAL) answerTutorial(s, now);
  else if (r == REQUEST) answerRequest(s, now);
  else if (r == ERROR) answerStatus(s, s.status, now);
  return n;
}

/** The peer finished sending. Like the tutorial server, whatever arrived counts as the request. */
export function peerFinished(s: Slot, now: u32): void {
  if (s.closing) return;
  if (isHttp(s)) answerStatus(s, 400, now);
  else if (s.headBytes > 0 || s.len > 0) answerTutorial(s, now);
  else closeNow(s);
}

/** Deadline passed: a request that never completed, or a reply the peer never took. */
export function expired(s: Slot, now: u32): void {
  if (s.closing) abortNow(s);
  else if (isHttp(s)) answerStatus(s, 408, now);
  else if (s.len > 0) answerTutorial(s, now);
  else closeNow(s);
}
