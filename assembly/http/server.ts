// Connections on the HTTP port: reads each request (or the tutorial's bare one), routes it, and answers
// or upgrades it. Route handlers live with their protocols (rgb/, ws/); this file is the dispatch layer's
// router for them, and the only one that knows which handler a connection belongs to.
import { Ascii, asciiLen, asciiAt } from "../util/ascii";
import { OK, ERR_NOMEM, LOG_INFO, LOG_WARN, LOG_DEBUG, LOG_ERROR } from "../abi/host.generated";
import * as cfg from "../config";
import { Slot, accepted, arm, replyAndClose, closeNow, abortNow, KIND_HTTP, KIND_WS } from "../net/slots";
import { feed, used, isHttp, TUTORIAL, REQUEST, ROUTE_RGB, ROUTE_ECHO, ROUTE_CONTROL, ROUTE_PAGE } from "./request";
import { answerPage } from "./asset";
import { listening as controlEnabled } from "../control/server";
import { answerStatus } from "./response";
import { tcpListen } from "../net/host";
import { answerTutorial, answerRgb } from "../rgb/server";
import { upgrade } from "../ws/server";
import { put, emit, putLine, putWithI32, putWithIp } from "../util/log";

let listener: i32 = -1;

export function startHttp(): i32 {
  if (cfg.httpPort == 0) return OK;
  listener = tcpListen(cfg.httpPort);
  if (listener < 0) {
    put("http: ");
    putWithI32("cannot listen on port ", cfg.httpPort);
    putWithI32(" (error ", listener);
    putLine(")", LOG_ERROR);
    return listener;
  }
  put("http: ");
  putWithI32("listening on port ", cfg.httpPort);
  emit(LOG_INFO);
  return OK;
}

export function isListener(handle: i32): bool {
  return handle == listener;
}

export function accept(conn: i32, ip: u32, now: u32): i32 {
  let s = accepted(KIND_HTTP, conn, ip, now);
  if (s == null) return ERR_NOMEM; // net/slots.ts logs why
  arm(s, now, cfg.httpTimeoutMs);
  putWithIp("client connected from ", ip);
  emit(LOG_DEBUG);
  return OK;
}

/** Bytes from the peer; returns how many were consumed. A finished request's extra bytes are dropped,
 *  except after a WebSocket upgrade, where they are the first frames: then it returns where the request
 *  ended and the slot is a WebSocket (abi/exports.ts hands it the rest). */
export function data(s: Slot, p: usize, n: i32, now: u32): i32 {
  if (s.closing) return n;
  let r = feed(s, p, n, cfg.httpLineMax, cfg.httpHeadMax);
  if (r == TUTORIAL) answerTutorial(s, now);
  else if (r > REQUEST) answerStatus(s, s.status, r, "", now);
  else if (r == REQUEST) {
    if (s.route == ROUTE_RGB) answerRgb(s, now);
    else if (s.route == ROUTE_PAGE) answerPage(s, now);
    else if ((s.route == ROUTE_ECHO && cfg.wsEcho) || (s.route == ROUTE_CONTROL && controlEnabled())) {
      upgrade(s, now);
      if (s.kind == KIND_WS) return used;
    } else answerStatus(s, 404, "route", "", now);
  }
  return n;
}

/** The peer finished sending. Like the tutorial server, whatever arrived counts as the request. */
export function peerFinished(s: Slot, now: u32): void {
  if (s.closing || s.assetLeft > 0) return; // a reply is going out: the peer's FIN changes nothing
  if (isHttp(s)) answerStatus(s, 400, "incomplete", "", now);
  else if (s.headBytes > 0 || s.len > 0) answerTutorial(s, now);
  else closeNow(s);
}

/** Deadline passed: a request that never completed, or a reply the peer never took. */
export function expired(s: Slot, now: u32): void {
  if (s.closing || s.assetLeft > 0) abortNow(s); // the peer stopped taking the reply
  else if (isHttp(s)) answerStatus(s, 408, cfg.settingName(cfg.K_HTTP_TIMEOUT_MS), "", now);
  else if (s.len > 0) answerTutorial(s, now);
  else closeNow(s);
}
