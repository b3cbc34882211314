// The board in the broker's topic tree ("<prefix>/<id>/..."; README "MQTT" has the layout): publishes its
// availability, light, pins, bus role and diagnostics when they change, announces them to Home Assistant,
// and takes commands only on its own command topics. State is compared with what was last published on
// every tick, so a change from any source (control, HTTP, the bus) reaches the broker.
import {
  host_wifi_rssi, host_wifi_ip, host_free_heap, IFACE_STA, IFACE_AP, PIN_COUNT, LOG_INFO, LOG_WARN,
} from "../abi/host.generated";
import { Ascii, SLASH } from "../util/ascii";
import { bytesEqual, bytesSame, parseDecimal, putHex, putIpText } from "../util/bytes";
import { put, putBytes, putLine, emit } from "../util/log";
import { reached, msUntil } from "../util/time";
import * as json from "../util/json";
import * as cfg from "../config";
import { setColour, current } from "../rgb/server";
import { lastColour } from "../rgb/client";
import { parseEither } from "../rgb/codec";
import * as pins from "../control/pins";
import * as bus from "../bus/node";
import { count as busMembers, scratchId } from "../bus/table";
import { roleName } from "../control/bus";
import { setBrightness } from "../lights/lights";
import * as pk from "./packet";
import * as session from "./session";
import * as set from "./settings";
import * as discovery from "./discovery";
import { peerMessage, startPeers, peerBytes } from "./peers";
import { command } from "./command";

const SLOTS: i32 = PIN_COUNT + 1;
const wanted = memory.data(SLOTS); // the component each pin has now (discovery.SWITCH / BINARY_SENSOR)
const shown = memory.data(SLOTS); // the component announced
const levels = memory.data(SLOTS); // the level last published, 255: none
let fixedShown: i32 = 0; // bit per fixed entity announced
let subscribed = false;
let online = false;
let sweeping = false; // subscribed to our own retained discovery configs
let upAt: u32 = 0;
let startedAt: u32 = 0;
let shownRgb: i32 = -1;
let shownBrightness: i32 = -1;
let shownRole: i32 = -1; // the bus presence last published: role, members, bus id
let shownMembers: i32 = -1;
let shownBusId: u64 = 0;
let diagDue: u32 = 0;
let pollDue: u32 = 0; // the next comparison of pins, light and bus with what was published
let unfinished = true; // the last comparison stopped for room: go on at the next chance, not a poll later
let lastOn: i32 = 0xffffff; // the colour "ON" restores

export function startMqtt(now: u32): i32 {
  if (!session.enabled()) return 0;
  let r = session.startSession(peerBytes());
  if (r != 0) return r;
  startPeers(session.rxEnd());
  startedAt = now;
  session.startNow(now);
  return 0;
}

/** Connected (again): everything is published afresh, the subscriptions renewed. */
function bridgeUp(now: u32): void {
  subscribed = false;
  online = false;
  upAt = now;
  forgetShown();
}

function forgetShown(): void {
  memory.fill(shown, 0, SLOTS);
  memory.fill(levels, 255, SLOTS);
  fixedShown = 0;
  shownRgb = -1;
  shownBrightness = -1;
  shownRole = -1;
  diagDue = 0;
  unfinished = true;
}

// ---- topics ------------------------------------------------------------------------------------------
function pinTopic(i: i32, what: Ascii): void {
  pk.beginString();
  session.topicBase();
  pk.text("/pin/");
  pk.decimal(discovery.pinNumber(i));
  pk.text(what);
  pk.endString();
}

function filter(prefixOnly: bool, suffix: Ascii): void {
  pk.beginString();
  if (prefixOnly) pk.bytes(set.prefix, set.prefixLen);
  else session.topicBase();
  pk.text(suffix);
  pk.endString();
  pk.byte(1); // QoS 1
}

function subscribe(now: u32): bool {
  session.startPacket();
  session.packetId();
  filter(false, "/light/set");
  filter(false, "/light/+/set");
  filter(false, "/pin/+/set");
  filter(false, "/cmd");
  filter(false, "/msg");
  if (set.peersMax > 0) {
    filter(true, "/+/status");
    filter(true, "/+/bus");
  }
  if (set.discoveryLen > 0) {
    pk.beginString();
    pk.bytes(set.discovery, set.discoveryLen);
    pk.text("/status"); // Home Assistant's birth message: announce again when it restarts
    pk.endString();
    pk.byte(1);
    sweepFilter();
    pk.byte(1);
  }
  sweeping = set.discoveryLen > 0;
  return session.endPacket(pk.SUBSCRIBE, now);
}

/** "<discovery>/+/<id>/+/config": our own retained configs, to remove the stale ones after a restart. */
function sweepFilter(): void {
  pk.beginString();
  pk.bytes(set.discovery, set.discoveryLen);
  pk.text("/+/");
  pk.bytes(set.clientId, set.clientIdLen);
  pk.text("/+/config");
  pk.endString();
}

// ---- publishing what changed -------------------------------------------------------------------------
function onOff(on: bool): void {
  pk.text(on ? "ON" : "OFF");
}

function colourNow(): i32 {
  return lastColour >= 0 ? lastColour : current;
}

function publishLight(now: u32): bool {
  let rgb = colourNow();
  if (rgb != shownRgb) {
    session.startPacket();
    session.ownTopic("light/state");
    session.packetId();
    onOff(rgb != 0);
    if (!session.endPublish(1, true, now)) return false;
    session.startPacket();
    session.ownTopic("light/rgb");
    session.packetId();
    pk.decimal((rgb >> 16) & 255);
    pk.byte(44);
    pk.decimal((rgb >> 8) & 255);
    pk.byte(44);
    pk.decimal(rgb & 255);
    if (!session.endPublish(1, true, now)) return false;
    shownRgb = rgb;
  }
  if (cfg.brightness != shownBrightness) {
    session.startPacket();
    session.ownTopic("light/brightness");
    session.packetId();
    pk.decimal(cfg.brightness);
    if (!session.endPublish(1, true, now)) return false;
    shownBrightness = cfg.brightness;
  }
  return true;
}

function publishPins(now: u32): bool {
  for (let i = 0; i < SLOTS; i++) {
    let m = pins.pinMode(i);
    let want: u8 = m == pins.MODE_OUTPUT ? discovery.SWITCH : m == pins.MODE_INPUT ? discovery.BINARY_SENSOR : 0;
    store<u8>(wanted + i, want);
    let was = load<u8>(shown + i);
    if (was != want && set.discoveryLen > 0) {
      if (was != 0 && !discovery.announce(8 + was, i, true, now)) return false;
      store<u8>(shown + i, 0);
      if (want != 0 && !discovery.announce(8 + want, i, false, now)) return false;
      store<u8>(shown + i, want);
    }
    if (want == 0) {
      store<u8>(levels + i, 255);
      continue;
    }
    let level = pins.read(i);
    if (level < 0 || level == <i32>load<u8>(levels + i)) continue;
    session.startPacket();
    pinTopic(i, "/state");
    session.packetId();
    onOff(level != 0);
    if (!session.endPublish(1, true, now)) return false;
    store<u8>(levels + i, <u8>level);
  }
  return true;
}

/** The bus as this board sees it: {"role","bus","members"}, retained (presence; term and address are in
 *  get_bus, the address in the diagnostics too). */
function publishBus(now: u32): bool {
  if (bus.role == shownRole && busMembers == shownMembers && bus.busId == shownBusId) return true;
  session.startPacket();
  session.ownTopic("bus");
  session.packetId();
  pk.text("{\"role\":\"");
  pk.text(roleName());
  pk.text("\",\"bus\":\"");
  store<u64>(scratchId, bus.busId); // the 16 hex digits get_bus shows for the same bus
  pk.bytes(hexText, putHex(hexText, scratchId, 8));
  pk.text("\",\"members\":");
  pk.decimal(busMembers);
  pk.byte(125);
  if (!session.endPublish(1, true, now)) return false;
  shownRole = bus.role;
  shownMembers = busMembers;
  shownBusId = bus.busId;
  diagDue = 0; // the role is in the diagnostics too
  return true;
}

const hexText = memory.data(16);
const ipText = memory.data(16);
function ipMember(): void {
  let ip = host_wifi_ip(IFACE_STA);
  if (ip == 0) ip = host_wifi_ip(IFACE_AP);
  pk.text(",\"ip\":\"");
  pk.bytes(ipText, putIpText(ipText, ip));
  pk.byte(34);
}

function publishDiag(now: u32): bool {
  if (!reached(now, diagDue)) return true;
  session.startPacket();
  session.ownTopic("diag");
  pk.text("{\"rssi\":");
  let rssi = host_wifi_rssi();
  if (rssi < 0) pk.byte(45);
  pk.decimal(<u32>abs(rssi));
  pk.text(",\"uptime_s\":");
  pk.decimal((now - startedAt) / 1000);
  pk.text(",\"role\":\"");
  pk.text(roleName());
  pk.byte(34);
  ipMember();
  pk.text(",\"free_memory\":");
  pk.decimal(<u32>max(host_free_heap(), 0));
  pk.byte(125);
  if (!session.endPublish(0, true, now)) return false; // superseded every mqtt_diag_ms: QoS 0
  diagDue = now + set.diagMs;
  return true;
}

/** Publishes what is due, in order, until the send buffer or the in-flight store is full. One step per
 *  turn of the loop: wasm3 on the M0+ (no tail calls) keeps a C frame for every op a function has run
 *  until it returns or its loop turns, and the first round after a connect (subscribe, online, the
 *  discovery configs, pins, light, bus, diagnostics) in one straight line took the board's stack past
 *  wasm3's limit: "core trapped in tick: call stack exhausted" (tools/emu/RADIO.md). */
function pump(now: u32): void {
  if (session.state != session.UP || session.resending()) return;
  for (let step = 0; step < PUMP_STEPS; step++) if (!pumpStep(step, now)) return;
}

const PUMP_STEPS = 9;
/** One step of pump(); false stops the round (no room, or nothing due). */
function pumpStep(step: i32, now: u32): bool {
  switch (step) {
    case 0:
      return subscribed || (subscribed = subscribe(now));
    case 1:
      if (online) return true;
      session.startPacket();
      session.ownTopic("status");
      session.packetId();
      pk.text("online");
      return (online = session.endPublish(1, true, now));
    case 2:
      if (set.discoveryLen > 0) {
        for (let k = 0; k < discovery.FIXED; k++) {
          if (fixedShown & (1 << k)) continue;
          if (!discovery.announce(k, 0, false, now)) return false;
          fixedShown |= 1 << k;
        }
      }
      return true;
    case 3:
      if (!unfinished && !reached(now, pollDue)) return false; // every mqtt_poll_ms, not on every event's tick
      pollDue = now + set.pollMs;
      unfinished = true; // until the diagnostics are out: a step without room goes on at the next chance
      return true;
    case 4:
      return publishPins(now);
    case 5:
      return publishLight(now);
    case 6:
      return publishBus(now);
    case 7:
      if (!publishDiag(now)) return false;
      unfinished = false;
      return true;
    default:
      if (sweeping && reached(now, upAt + 1000)) {
        // the retained configs came right after the SUBACK; from now on they would only echo our own
        session.startPacket();
        session.packetId();
        sweepFilter();
        sweeping = !session.endPacket(pk.UNSUBSCRIBE, now);
      }
      return true;
  }
}

export function bridgeTick(now: u32): u32 {
  if (!session.enabled()) return u32.MAX_VALUE;
  let next = session.sessionTick(now);
  pump(now);
  if (session.state != session.UP) return next;
  next = min(next, msUntil(now, pollDue)); // pins and colour are compared, not reported
  if (sweeping) next = min(next, msUntil(now, upAt + 1000));
  return min(next, msUntil(now, diagDue));
}

/** Bytes from the broker: the session reads them up to each event, handled here before the rest. */
export function bridgeData(p: usize, n: i32, now: u32): i32 {
  let used = 0;
  do used += session.data(p + used, n - used, now);
  while (sessionEvent(now));
  return used;
}

export function bridgeSent(now: u32): void {
  session.sent(now);
  sessionEvent(now); // a held message, offered again
  pump(now);
}

/** Acts on the event the session stopped at; false when there was none. */
function sessionEvent(now: u32): bool {
  let e = session.event;
  if (e == session.EVENT_UP) {
    session.eventDone();
    bridgeUp(now);
  } else if (e == session.EVENT_MESSAGE) session.delivered(bridgeMessage(now), now);
  else return false;
  return true;
}

// ---- incoming ----------------------------------------------------------------------------------------
/** Whether [p, p+n) starts with "<prefix>/<id>/"; the rest's offset, or -1. */
function ownSuffix(p: usize, n: i32): i32 {
  let a = set.prefixLen;
  let b = a + 1 + set.clientIdLen;
  if (n <= b + 1 || !bytesSame(p, set.prefix, a) || load<u8>(p + a) != SLASH) return -1;
  if (!bytesSame(p + a + 1, set.clientId, set.clientIdLen) || load<u8>(p + b) != SLASH) return -1;
  return b + 1;
}

function warn(what: Ascii): bool {
  put("mqtt: ignored ");
  putBytes(session.topicAt, session.topicLen);
  put(": ");
  putLine(what, LOG_WARN);
  return true;
}

function lightSet(p: usize, n: i32): bool {
  let rgb = colourNow();
  if (bytesEqual(p, n, "ON")) {
    if (rgb == 0) setColour(lastOn);
  } else if (bytesEqual(p, n, "OFF")) {
    if (rgb != 0) lastOn = rgb;
    setColour(0);
  } else return warn("expected ON or OFF");
  return true;
}

function pinSet(s: usize, sn: i32, p: usize, n: i32, now: u32): bool {
  let digits = sn - 8; // "pin/" N "/set"
  let pin = <i32>parseDecimal(s + 4, digits, 2);
  let i = pin < 0 ? -1 : pins.pinIndex(pin);
  if (i < 0 || !bytesEqual(s + 4 + digits, 4, "/set")) return warn("no such pin");
  if (pins.pinMode(i) != pins.MODE_OUTPUT) return warn("the pin is not set up as an output");
  let v = bytesEqual(p, n, "ON") || bytesEqual(p, n, "1") ? 1 : bytesEqual(p, n, "OFF") || bytesEqual(p, n, "0") ? 0 : -1;
  if (v < 0) return warn("expected ON or OFF");
  pins.writeWithRevert(i, v, now, <u32>set.pinTimeoutS * 1000); // the fail-safe, as write_pin's timeout
  return true;
}

function message(p: usize, n: i32): bool {
  if (!json.parseObject(p, n, 2)) return warn("a message must be {\"from\": ..., \"text\": ...}");
  let f = json.find("from");
  let t = json.find("text");
  if (f < 0 || t < 0 || json.memberType(f) != json.T_STRING || json.memberType(t) != json.T_STRING) {
    return warn("a message must be {\"from\": ..., \"text\": ...}");
  }
  put("mqtt: message from ");
  putBytes(json.memberValue(f) + 1, json.memberValueLen(f) - 2);
  put(": ");
  putBytes(json.memberValue(t) + 1, json.memberValueLen(t) - 2);
  emit(LOG_INFO);
  return true;
}

/** One PUBLISH from the broker (session.ts has its topic and payload); false to be called again once
 *  the send buffer has room for the answer. */
function bridgeMessage(now: u32): bool {
  let t = session.topicAt;
  let tn = session.topicLen;
  let p = session.payloadAt;
  let n = session.payloadLen;
  let o = ownSuffix(t, tn);
  if (o >= 0) {
    let s = t + o;
    let sn = tn - o;
    if (bytesEqual(s, sn, "cmd")) return command(p, n, session.qos, now);
    if (bytesEqual(s, sn, "msg")) return message(p, n);
    if (bytesEqual(s, sn, "light/set")) return lightSet(p, n);
    if (bytesEqual(s, sn, "light/rgb/set")) {
      let rgb = parseEither(p, n);
      if (rgb < 0) return warn("expected r,g,b");
      if (rgb != 0) lastOn = rgb;
      setColour(rgb);
      return true;
    }
    if (bytesEqual(s, sn, "light/brightness/set")) {
      let v = parseDecimal(p, n, 3);
      if (v < 0 || v > 255) return warn("expected a brightness from 0 to 255");
      setBrightness(<i32>v);
      return true;
    }
    if (sn > 8 && bytesEqual(s, 4, "pin/")) return pinSet(s, sn, p, n, now);
    if (bytesEqual(s, sn, "status") || bytesEqual(s, sn, "bus")) return true; // our own presence, echoed
    return warn("not a command topic");
  }
  let d = set.discoveryLen;
  if (d > 0 && tn > d && bytesSame(t, set.discovery, d) && load<u8>(t + d) == SLASH) {
    if (bytesEqual(t + d + 1, tn - d - 1, "status")) {
      if (bytesEqual(p, n, "online")) forgetShown(); // Home Assistant restarted: tell it everything again
      return true;
    }
    if (n == 0 || !discovery.stale(t + d + 1, tn - d - 1, wanted)) return true;
    if (session.txRoom() < tn + 16) return false;
    session.startPacket();
    pk.string(t, tn);
    session.endPublish(0, true, now); // an empty retained message removes it
    return true;
  }
  let a = set.prefixLen;
  if (set.peersMax > 0 && tn > a + 1 && bytesSame(t, set.prefix, a) && load<u8>(t + a) == SLASH) {
    let id = t + a + 1;
    let idLen = 0;
    while (idLen < tn - a - 1 && load<u8>(id + idLen) != SLASH) idLen++;
    let rest = id + idLen;
    let restLen = tn - a - 1 - idLen;
    let isBus = bytesEqual(rest, restLen, "/bus");
    if (isBus || bytesEqual(rest, restLen, "/status")) peerMessage(id, idLen, isBus, p, n);
  }
  return true;
}
