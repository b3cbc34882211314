// The MQTT 3.1.1 session with the broker: resolve, connect, CONNECT with a last will, CONNACK, keep-alive,
// QoS 1 publishes kept until their PUBACK and sent again (DUP) after a reconnect, and reconnects with a
// doubling, jittered delay. What to publish and what incoming messages mean is bridge.ts's business: the
// session knows no application, it stops at an event (EVENT_*) and bridge.ts acts on it.
import {
  host_dns_resolve, host_random_fill, host_board_id, OK, TCP_FIN, LOG_INFO, LOG_WARN, LOG_ERROR, ERR_NOMEM,
  ERR_CONFIG,
} from "../abi/host.generated";
import { tcpConnect, tcpSend, tcpResume, tcpAbort } from "../net/host";
import { Ascii, asciiLen, asciiAt, COMMA } from "../util/ascii";
import { put, putBytes, emit, putLine, putWithI32, putWithU32 } from "../util/log";
import { backoff, warnRetry } from "../util/retry";
import { reached, msUntil } from "../util/time";
import { claim, slotBufferSize, KIND_LENT } from "../net/slots";
import { putAscii, putHex } from "../util/bytes";
import * as pk from "./packet";
import * as set from "./settings";

export const IDLE: u8 = 0;
export const RESOLVING: u8 = 1;
export const CONNECTING: u8 = 2;
export const HANDSHAKE: u8 = 3; // CONNECT sent, waiting for CONNACK
export const UP: u8 = 4;
export let state: u8 = IDLE;
export let handle: i32 = -1;

const PACKET_MIN: i32 = 640; // Home Assistant's discovery configs are up to ~560 bytes
let rx: usize = 0;
export let rxCap: i32 = 0;
export let txCap: i32 = 0;
let tx: usize = 0;
let txLen: i32 = 0;
let txSent: i32 = 0;
let inflight: usize = 0; // [id u16][len u16][packet] per unacknowledged QoS 1 publish
let inflightUsed: i32 = 0;
export let inflightCount: i32 = 0;
let resendAt: i32 = -1; // next stored publish to send again after a reconnect (-1: none)
let nextId: u32 = 0;
let brokerIp: u32 = 0;
let dnsRequest: i32 = -1;
let deadline: u32 = 0; // of the step in progress: resolving, connecting, CONNACK, PINGRESP
let waiting = false;
let lastTx: u32 = 0;
let pingOut = false;
let failures: u32 = 0;
let held = false; // a received packet waits at rx for room to answer it
export let published: u32 = 0;
export let received: u32 = 0;
export let reconnects: u32 = 0;

/** What data() or sent() stopped at, for the bridge to act on before it offers more bytes. */
export const EVENT_NONE: u8 = 0;
export const EVENT_UP: u8 = 1; // CONNACK accepted: publish afresh, subscribe; then eventDone()
export const EVENT_MESSAGE: u8 = 2; // a PUBLISH waits at rx (topicAt, payloadAt, ...): then delivered()
export let event: u8 = EVENT_NONE;
const jitter = memory.data(2);

const boardId = memory.data(8);

export function enabled(): bool {
  return set.brokerHostLen > 0;
}

/** Reserves the buffers and fills in the defaults; OK, or an error after logging. */
export function startSession(peerBytes: i32): i32 {
  if (set.passwordLen >= 0 && set.userLen == 0) {
    putLine("config: mqtt_password needs mqtt_user", LOG_ERROR);
    return ERR_CONFIG;
  }
  if (set.prefixLen == 0) set.prefixLen = putAscii(set.prefix, "picowire");
  if (set.discoveryLen < 0) set.discoveryLen = putAscii(set.discovery, "homeassistant");
  if (set.clientIdLen == 0) {
    host_board_id(boardId, 8);
    let n = putAscii(set.clientId, "picowire-");
    set.clientIdLen = n + putHex(set.clientId + n, boardId, 8);
  }
  // two connection buffers: one receives (its tail holds the peer table), one sends (its tail holds
  // the unacknowledged QoS 1 publishes); MQTT costs two of max_conns and no memory of its own
  let a = claim(KIND_LENT, -2);
  let b = claim(KIND_LENT, -2);
  rxCap = slotBufferSize() - peerBytes;
  txCap = slotBufferSize() - set.inflightBytes;
  if (b == null || min(rxCap, txCap) < PACKET_MIN) {
    putWithI32("config: mqtt takes two of max_conns and needs packets of ", PACKET_MIN);
    putLine(" bytes beside mqtt_peers x 96 and mqtt_inflight_bytes", LOG_ERROR);
    return ERR_NOMEM;
  }
  rx = a!.buf;
  tx = b.buf;
  inflight = tx + txCap;
  return OK;
}

/** Where the peer table lives: after the receive buffer. */
export function rxEnd(): usize {
  return rx + rxCap;
}

function describe(): void {
  put("mqtt: ");
  putBytes(set.brokerHost, set.brokerHostLen);
  putWithI32(":", set.brokerPort);
  put(" ");
}

/** Drops the connection (if any) and schedules the next attempt. */
export function fail(why: Ascii, code: i32, now: u32): void {
  if (handle >= 0) tcpAbort(handle);
  handle = -1;
  if (state == UP) reconnects++;
  state = IDLE;
  held = false;
  waiting = true;
  failures++;
  host_random_fill(jitter, 2);
  let delay = backoff(1000, failures - 1, set.backoffMaxMs);
  delay += (delay >> 2) * <u32>load<u16>(jitter) / 65535; // up to a quarter more: a fleet spreads out
  deadline = now + delay;
  describe();
  warnRetry(why, code, delay);
}

function dial(now: u32): void {
  handle = tcpConnect(brokerIp, set.brokerPort);
  if (handle < 0) return fail("cannot connect", handle, now);
  state = CONNECTING;
  deadline = now + set.timeoutMs;
  waiting = true;
}

export function resolved(req: i32, ip: u32, status: i32, now: u32): void {
  if (state != RESOLVING || req != dnsRequest) return;
  if (status != OK || ip == 0) return fail("DNS lookup failed", status, now);
  brokerIp = ip;
  dial(now);
}

function begin(now: u32): void {
  txLen = 0;
  txSent = 0;
  pk.readReset();
  pingOut = false;
  if (set.brokerIp != 0) {
    brokerIp = set.brokerIp;
    return dial(now);
  }
  dnsRequest = host_dns_resolve(set.brokerHost, set.brokerHostLen);
  if (dnsRequest < 0) return fail("DNS lookup failed", dnsRequest, now);
  state = RESOLVING;
  deadline = now + set.timeoutMs;
  waiting = true;
}

// ---- sending -------------------------------------------------------------------------------------------
export function txRoom(): i32 {
  return txCap - (txLen - txSent);
}

/** Sends what the host takes; false after dropping a connection that failed. */
function flush(now: u32): bool {
  if (handle < 0) return false;
  while (txSent < txLen) {
    let n = tcpSend(handle, tx + txSent, txLen - txSent);
    if (n < 0) {
      fail("send failed", n, now);
      return false;
    }
    if (n == 0) break;
    txSent += n;
    lastTx = now;
  }
  if (txSent == txLen) txLen = txSent = 0;
  return true;
}

/** Starts a packet in the send buffer (packet.ts writes it). */
export function startPacket(): void {
  if (txSent > 0) {
    memory.copy(tx, tx + txSent, txLen - txSent);
    txLen -= txSent;
    txSent = 0;
  }
  pk.begin(tx + txLen, txCap - txLen);
}

/** Queues the packet begun with startPacket; false (nothing queued) when it did not fit. */
export function endPacket(first: u32, now: u32): bool {
  let n = pk.finish(first);
  if (n < 0) return false;
  txLen += n;
  return flush(now);
}

function inflightHas(id: u32): bool {
  for (let p: i32 = 0; p < inflightUsed; p += 4 + <i32>load<u16>(inflight + p + 2)) {
    if (<u32>load<u16>(inflight + p) == id) return true;
  }
  return false;
}

/** The packet id of a QoS 1 publish being written (after its topic): a free one. */
export function packetId(): void {
  do nextId = nextId == 65535 ? 1 : nextId + 1;
  while (inflightHas(nextId));
  pk.u16be(nextId);
}

/** Queues a PUBLISH begun with startPacket (topic, packetId() for QoS 1, payload); a QoS 1 one is kept
 *  until its PUBACK. False (nothing queued) when the send buffer or the in-flight store is full: the
 *  caller tries again later. */
export function endPublish(qos: i32, retain: bool, now: u32): bool {
  let at = tx + txLen;
  let n = pk.finish(pk.PUBLISH | (qos << 1) | (retain ? 1 : 0));
  if (n < 0) return false;
  if (qos > 0) {
    if (inflightUsed + 4 + n > set.inflightBytes) return false;
    let p = inflight + inflightUsed;
    store<u16>(p, <u16>nextId);
    store<u16>(p + 2, <u16>n);
    memory.copy(p + 4, at, n);
    inflightUsed += 4 + n;
    inflightCount++;
  }
  txLen += n;
  published++;
  return flush(now); // false: the connection failed, the caller stops for now
}

function acknowledged(id: u32): void {
  for (let p: i32 = 0; p < inflightUsed; ) {
    let size = 4 + <i32>load<u16>(inflight + p + 2);
    if (<u32>load<u16>(inflight + p) == id) {
      memory.copy(inflight + p, inflight + p + size, inflightUsed - p - size);
      inflightUsed -= size;
      inflightCount--;
      if (resendAt > p) resendAt -= size;
      return;
    }
    p += size;
  }
}

/** Sends stored publishes again, marked DUP, as room allows; true when none is left to resend. */
function resend(now: u32): bool {
  while (resendAt >= 0 && resendAt < inflightUsed) {
    let p = inflight + resendAt;
    let n = <i32>load<u16>(p + 2);
    if (txRoom() < n) return false;
    store<u8>(p + 4, load<u8>(p + 4) | 8); // DUP
    startPacket();
    memory.copy(tx + txLen, p + 4, n);
    txLen += n;
    resendAt += 4 + n;
    if (!flush(now)) return false;
  }
  resendAt = -1;
  return true;
}

function connect(now: u32): void {
  startPacket();
  pk.string(PROTOCOL + 1, 4);
  pk.byte(4); // protocol level 3.1.1
  let flags: u32 = 0x04 | (1 << 3) | 0x20; // will flag, will QoS 1, will retain; clean session 0
  if (set.userLen > 0) flags |= 0x80;
  if (set.passwordLen >= 0 && set.userLen > 0) flags |= 0x40;
  pk.byte(flags);
  pk.u16be(set.keepaliveS);
  pk.string(set.clientId, set.clientIdLen);
  ownTopic("status");
  pk.string(OFFLINE + 1, 7);
  if (flags & 0x80) pk.string(set.user, set.userLen);
  if (flags & 0x40) pk.string(set.password, set.passwordLen);
  if (!endPacket(pk.CONNECT, now)) return; // the send failed (and was handled): CONNECT is ~200 bytes at most
  state = HANDSHAKE;
  deadline = now + set.timeoutMs;
  waiting = true;
}
const PROTOCOL: Ascii = "MQTT";
const OFFLINE: Ascii = "offline";

/** "<prefix>/<id>" into the packet being written. */
export function topicBase(): void {
  pk.bytes(set.prefix, set.prefixLen);
  pk.byte(47);
  pk.bytes(set.clientId, set.clientIdLen);
}

/** "<prefix>/<id>/<suffix>", one of the board's own topics, as the packet's topic string. */
export function ownTopic(suffix: Ascii): void {
  pk.beginString();
  topicBase();
  pk.byte(47);
  pk.text(suffix);
  pk.endString();
}

export function connected(status: i32, now: u32): void {
  if (state != CONNECTING) return;
  if (status != OK) {
    handle = -1;
    return fail("unreachable", status, now);
  }
  connect(now);
}

export function closed(reason: i32, now: u32): void {
  if (reason != TCP_FIN) handle = -1; // the host freed it already; after a FIN fail() closes our side
  fail("closed by the broker", reason, now);
}

// ---- receiving -----------------------------------------------------------------------------------------
const CONNACK_WHY: Ascii = "bad protocol version,id rejected,server unavailable,bad user or password,not authorised";

function connack(now: u32): bool {
  if (state != HANDSHAKE || pk.first != pk.CONNACK || pk.remaining != 2 || (load<u8>(rx) & 0xfe) != 0) return false;
  let code = <i32>load<u8>(rx + 1);
  if (code != 0) {
    describe();
    if (code <= 5) putListItem(CONNACK_WHY, code);
    emit(LOG_ERROR);
    fail("refused", code, now);
    return true;
  }
  let resumed = (load<u8>(rx) & 1) != 0;
  state = UP;
  waiting = false;
  failures = 0;
  describe();
  putLine(resumed ? "connected, session resumed" : "connected", LOG_INFO);
  resendAt = inflightUsed > 0 ? 0 : -1;
  event = EVENT_UP;
  return true;
}

/** Logs item k (1-based) of a comma-separated literal. */
function putListItem(list: Ascii, k: i32): void {
  let n = asciiLen(list);
  let start = 0;
  for (let i = 0, item = 1; i <= n; i++) {
    if (i < n && asciiAt(list, i) != COMMA) continue;
    if (item++ == k) return putBytes(list + 1 + start, i - start);
    start = i + 1;
  }
}

/** The publish being handled: its topic and payload in rx, its QoS and packet id. */
export let topicAt: usize = 0;
export let topicLen: i32 = 0;
export let payloadAt: usize = 0;
export let payloadLen: i32 = 0;
export let qos: i32 = 0;
let pubId: u32 = 0;

function publishIn(): Ascii {
  qos = <i32>(pk.first >> 1) & 3;
  if (qos > 1) return "QoS 2 publish";
  if (qos == 0 && (pk.first & 8) != 0) return "DUP on QoS 0";
  if (pk.kept < 2) return "short publish";
  topicLen = (<i32>load<u8>(rx) << 8) | <i32>load<u8>(rx + 1);
  let head = 2 + topicLen + (qos > 0 ? 2 : 0);
  if (head > pk.remaining) return "short publish";
  if (head > pk.kept) return "topic too long";
  topicAt = rx + 2;
  if (!pk.validTopic(topicAt, topicLen)) return "bad topic";
  pubId = qos > 0 ? (<u32>load<u8>(rx + 2 + topicLen) << 8) | <u32>load<u8>(rx + 3 + topicLen) : 0;
  if (qos > 0 && pubId == 0) return "packet id 0";
  payloadAt = rx + head;
  payloadLen = pk.kept - head;
  return 0;
}

let hold = false; // set by dispatch: the packet must wait for room to answer it

function publish(now: u32): Ascii {
  let why = publishIn();
  if (why != 0) return why;
  if (qos > 0 && txRoom() < 4) {
    hold = true;
    return 0;
  }
  if (pk.cut) {
    describe();
    putWithI32("dropped an oversized message (", pk.remaining);
    putLine(" bytes)", LOG_WARN);
  } else {
    event = EVENT_MESSAGE;
    return 0;
  }
  acknowledge(now);
  return 0;
}

// @ts-ignore: decorator (inlined: one function less for wasm3 to keep in RAM)
@inline function acknowledge(now: u32): void {
  received++;
  if (qos > 0) {
    startPacket();
    pk.u16be(pubId);
    endPacket(pk.PUBACK, now);
  }
}

export function eventDone(): void {
  event = EVENT_NONE;
}

/** The bridge's answer to EVENT_MESSAGE: handled (acknowledged now), or not yet, for want of room to
 *  answer: the packet stays at rx and comes again once the send queue drains. */
export function delivered(handled: bool, now: u32): void {
  event = EVENT_NONE;
  if (!handled) {
    held = true;
    return;
  }
  acknowledge(now);
  if (held) release();
}

// @ts-ignore: decorator
@inline function release(): void {
  held = false;
  if (handle >= 0) tcpResume(handle);
}

function subscribed(): void {
  for (let i = 2; i < pk.kept; i++) {
    if (load<u8>(rx + i) == 0x80) {
      describe();
      putWithI32("subscription refused: ", i - 1);
      emit(LOG_WARN);
    }
  }
}

/** What the packet at rx means; the protocol error, or 0. */
function dispatch(now: u32): Ascii {
  hold = false;
  let type = pk.first & 0xf0;
  if (type == pk.CONNACK) return connack(now) ? 0 : "bad CONNACK";
  if (state != UP) return "packet before CONNACK";
  if (type == pk.PUBLISH) return publish(now);
  if (pk.first == pk.PUBACK && pk.remaining == 2) acknowledged((<u32>load<u8>(rx) << 8) | <u32>load<u8>(rx + 1));
  else if (pk.first == pk.SUBACK && pk.remaining >= 3) subscribed();
  else if (pk.first == pk.PINGRESP && pk.remaining == 0) pingOut = false;
  else if (pk.first != pk.UNSUBACK || pk.remaining != 2) return "bad packet type";
  return 0;
}

function protocolError(why: Ascii, now: u32): void {
  describe();
  put(why);
  emit(LOG_WARN);
  fail("protocol error", 0, now);
}

/** Handles the packet at rx; false when it must wait for room to answer (it stays at rx). */
function handle1(now: u32): bool {
  let why = dispatch(now);
  if (why != 0) protocolError(why, now);
  return !hold;
}

/** Bytes from the broker; returns how many were consumed. */
export function data(p: usize, n: i32, now: u32): i32 {
  if (held) return 0;
  let i = 0;
  let h = handle;
  while (i < n && handle == h && state >= HANDSHAKE) {
    let r = pk.read(p + i, n - i, rx, rxCap);
    i += pk.used;
    if (r == pk.READ_BAD) {
      protocolError("remaining length over 4 bytes", now);
      return n;
    }
    if (r == pk.READ_MORE) break;
    if (!handle1(now)) {
      held = true;
      return i;
    }
    if (event != EVENT_NONE) return i;
  }
  return handle == h ? i : n;
}

/** More of the send queue left: send the rest, then answer a held packet. */
export function sent(now: u32): void {
  if (state < HANDSHAKE || !flush(now)) return;
  if (held && handle1(now) && event == EVENT_NONE) release();
}

/** Connects when due, keeps the connection alive; returns ms until it needs a tick again. */
export function sessionTick(now: u32): u32 {
  if (waiting && reached(now, deadline)) {
    if (state == IDLE) begin(now);
    else fail("timed out", 0, now);
  }
  if (state == UP) {
    resend(now);
    let ka = <u32>set.keepaliveS * 1000;
    if (pingOut && reached(now, deadline)) fail("no PINGRESP", 0, now);
    else if (!pingOut && reached(now, lastTx + ka) && txRoom() >= 2) {
      startPacket();
      endPacket(pk.PINGREQ, now);
      pingOut = true;
      deadline = now + set.timeoutMs;
    }
    if (state == UP) return pingOut ? msUntil(now, deadline) : msUntil(now, lastTx + ka);
  }
  return waiting ? msUntil(now, deadline) : u32.MAX_VALUE;
}

export function startNow(now: u32): void {
  waiting = true;
  deadline = now;
}

export function resending(): bool {
  return resendAt >= 0;
}

export function owns(conn: i32): bool {
  return conn >= 0 && conn == handle;
}
