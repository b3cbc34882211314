// The core's event entry points: the only code a host calls. Each routes an event to the state machine
// that owns the connection or timer; nothing here knows a protocol's details.
import {
  ABI_VERSION, IO_CAPACITY, OK, ERR_BUSY, ERR_NOMEM, ERR_CONFIG, TCP_FIN, TICK_NONE, LOG_ERROR, LOG_INFO,
  LOG_WARN, STAT_HEAP_TOP, STAT_HEAP_LIMIT, STAT_CONNS_USED, STAT_CONNS_MAX, STAT_TIMERS_ARMED, STAT_REFUSED,
  STAT_REQUESTS, STAT_BAD_REQUESTS, STAT_RGB, STAT_RGB_POLLS_OK, STAT_RGB_POLLS_FAILED, STAT_BUS_ROLE,
  STAT_BUS_TERM, STAT_BUS_MASTER_IP, STAT_BUS_ID, STAT_BUS_MEMBERS, STAT_BUS_INDEX, STAT_BUS_SENT,
  STAT_BUS_RECEIVED, STAT_BUS_DROPPED, STAT_BUS_VOTERS, STAT_DHCP_LEASES, STAT_PIXELS_FRAMES,
  STAT_PIXELS_DROPPED, STAT_PIXELS_MODE,
} from "./host.generated";
import { tcpClose } from "../net/host";
import * as log from "../util/log";
import { emit, putLine, putWithI32, putWithU32 } from "../util/log";
import { parseConfig, maxConns, httpLineMax, controlLineMax } from "../config";
import {
  reserveSlots, slotBytes, find, nextExpired, nextDeadline, flush, slotsUsed, slotCount, armedCount, refused,
  KIND_HTTP, KIND_RGB_CLIENT, KIND_WS, KIND_WS_DIAL, KIND_CONTROL, release, bufferSizeFor,
} from "../net/slots";
import * as http from "../http/server";
import { assetSent } from "../http/asset";
import { badRequests } from "../http/response";
import * as server from "../rgb/server";
import * as client from "../rgb/client";
import * as wsClient from "../ws/client";
import { wsExpired, wsPeerFinished } from "../ws/frame";
import { wsData, wsDrained } from "../ws/server";
import * as control from "../control/server";
import { pinsReset, pinsTick } from "../control/pins";
import * as led from "../control/led";
import * as codec from "../rgb/codec";
import * as json from "../util/json";
import { sha256Reset, sha256Update, sha256Final, hmacStart, hmacUpdate, hmacFinal } from "../util/sha256";
import { heapTop, HEAP_LIMIT } from "../util/heap";
import * as bus from "../bus/node";
import * as radio from "../bus/radio";
import { startMessages, messagesOwns, messageDatagram, tutorialDatagram, nodesTick } from "../bus/tutorial";
import { sent as busSent, HEADER } from "../bus/wire";
import { count as busMembers, voters as busVoters } from "../bus/table";
import { dhcpOwns, dhcpDatagram, dhcpTick, dhcpLeases, reserveLeases } from "../dhcp/server";
import { startOta, otaTick } from "../ota/ota";
import { io } from "./io";
import * as store from "../store/config_sector";
import * as lights from "../lights/lights";
import * as mqtt from "../mqtt/bridge";
import * as mqttSession from "../mqtt/session";

let ready = false;

export function abi_version(): i32 {
  return ABI_VERSION;
}

export function io_buffer(): usize {
  return io;
}

export function init(configLen: i32, now: u32): i32 {
  if (ready) return ERR_BUSY;
  if (<u32>configLen > <u32>IO_CAPACITY) return ERR_CONFIG;
  let r = configLen == 0 ? store.configure(io) : parseConfig(io, configLen); // 0: the flash sector
  if (r != OK) return r;
  startOta();
  reserveLeases();
  let need = slotBytes(maxConns, bufferSizeFor(httpLineMax, controlLineMax));
  let room = <i32>(HEAP_LIMIT - heapTop());
  if (need > room) {
    putWithI32("config: max_conns connection buffers (each sized by http_line_max and control_line_max) need ", need);
    putWithI32(" bytes, the core has ", room);
    emit(LOG_ERROR);
    return ERR_NOMEM;
  }
  reserveSlots(maxConns, bufferSizeFor(httpLineMax, controlLineMax));
  ready = true;
  server.startColour();
  r = http.startHttp();
  if (r != OK) return r;
  client.startClient(now);
  wsClient.startWsClient(now);
  pinsReset();
  r = control.startControl(now);
  if (r != OK) return r;
  led.enabled = control.listening();
  radio.startRadio(now);
  r = bus.startBus(now);
  if (r != OK) return r;
  if (bus.sock >= 0) startMessages();
  r = lights.startLights();
  if (r != OK) return r;
  r = mqtt.startMqtt(now);
  if (r != OK) return r;
  putWithI32("picowire core ready: abi ", ABI_VERSION);
  putWithI32(", ", maxConns);
  putWithU32(" connection slots, ", <u32>(HEAP_LIMIT - heapTop()));
  putLine(" bytes spare", LOG_INFO);
  return OK;
}

export function tick(now: u32): i32 {
  if (!ready) return TICK_NONE;
  log.logTick(now);
  otaTick(control.commands != 0); // a core on trial confirms itself once reached
  for (let s = nextExpired(now); s != null; s = nextExpired(now)) {
    if (s.kind == KIND_HTTP) http.expired(s, now);
    else if (s.kind == KIND_WS) wsExpired(s, now);
    else if (s.kind == KIND_WS_DIAL) wsClient.expired(s, now);
    else if (s.kind == KIND_CONTROL) control.expired(s, now);
    else client.expired(s, now);
  }
  let next = min(min(client.clientTick(now), wsClient.wsClientTick(now)), nextDeadline(now));
  next = min(next, min(pinsTick(now), led.ledTick(now, control.clients(), control.listening())));
  next = min(next, min(bus.busTick(now), radio.radioTick(now)));
  nodesTick(now); // after busTick: the master's address is current (a board off the bus is no master)
  next = min(next, min(dhcpTick(now), lights.lightsTick(now)));
  next = min(next, mqtt.bridgeTick(now));
  return next == u32.MAX_VALUE ? TICK_NONE : <i32>min(next, <u32>i32.MAX_VALUE);
}

export function tcp_accepted(listener: i32, conn: i32, ip: u32, port: i32, now: u32): i32 {
  if (!ready) return ERR_NOMEM;
  log.clock = now;
  if (control.isListener(listener)) return control.accept(conn, ip, now);
  if (!http.isListener(listener)) return ERR_NOMEM;
  return http.accept(conn, ip, now);
}

export function tcp_connected(conn: i32, status: i32, now: u32): void {
  if (mqttSession.owns(conn)) return mqttSession.connected(status, now);
  let s = find(conn);
  if (s == null) return;
  if (s.kind == KIND_RGB_CLIENT) client.connected(s, status, now);
  else if (s.kind == KIND_WS_DIAL) wsClient.connected(s, status, now);
}

/** Data for a handle the core does not know is dropped and the connection closed. */
export function tcp_data(conn: i32, len: i32, now: u32): i32 {
  if (mqttSession.owns(conn)) return mqtt.bridgeData(io, clampIo(len), now);
  log.clock = now;
  let s = find(conn);
  if (s == null) {
    tcpClose(conn);
    return len;
  }
  len = clampIo(len);
  if (s.kind == KIND_WS) return wsData(s, io, len, now); // first: a frame per call is the hot path
  if (s.kind == KIND_HTTP) {
    let used = http.data(s, io, len, now);
    // a request that became a WebSocket returns where it ended: the bytes after it are its first frames
    return s.kind == KIND_WS ? used + wsData(s, io + used, len - used, now) : used;
  }
  if (s.kind == KIND_WS_DIAL) return wsClient.data(s, io, len, now);
  if (s.kind == KIND_CONTROL) return control.data(s, io, len, now);
  return client.data(s, io, len, now);
}

export function tcp_sent(conn: i32, len: i32, now: u32): void {
  if (mqttSession.owns(conn)) return mqtt.bridgeSent(now);
  let s = find(conn);
  if (s == null) return;
  if (s.kind == KIND_WS) wsDrained(s, now);
  else if (s.kind == KIND_CONTROL) control.sent(s);
  else if (s.kind == KIND_HTTP && s.assetLeft > 0) assetSent(s, now);
  else if (s.kind == KIND_HTTP) flush(s);
  // the clients' buffers hold what they received: their one request went out whole, nothing to resume
}

export function tcp_closed(conn: i32, reason: i32, now: u32): void {
  if (mqttSession.owns(conn)) return mqttSession.closed(reason, now);
  let s = find(conn);
  if (s == null) return;
  if (reason == TCP_FIN) {
    if (s.kind == KIND_HTTP) http.peerFinished(s, now);
    else if (s.kind == KIND_RGB_CLIENT) client.peerFinished(s, now);
    else if (s.kind == KIND_CONTROL) control.peerFinished(s);
    else wsPeerFinished(s, now);
    return;
  }
  // the host already freed the connection: only our slot remains
  if (s.kind == KIND_RGB_CLIENT) client.closed(s, reason, now);
  else release(s);
}

export function udp_data(sock: i32, ip: u32, port: i32, len: i32, now: u32): void {
  len = clampIo(len);
  if (dhcpOwns(sock)) dhcpDatagram(sock, ip, port, io, len, now);
  else if (sock == bus.sock) {
    let pixels = tutorialDatagram(ip, port, io, len, now) ? -1 : bus.busDatagram(ip, port, io, len, now);
    if (pixels >= 0) lights.busPixels(io + HEADER, pixels, bus.fromMaster(io), now);
  }
  else if (messagesOwns(sock)) messageDatagram(ip, io, len);
  else if (lights.lightsOwns(sock)) lights.lightsDatagram(sock, io, len, now);
}
export function dns_result(req: i32, ip: u32, status: i32, now: u32): void {
  mqttSession.resolved(req, ip, status, now);
}
export function wifi_event(kind: i32, status: i32, now: u32): void {
  if (ready) radio.wifiEvent(kind, status, io, now);
  store.scanEvent(kind, status, io);
}
export function gpio_edge(pin: i32, level: i32, now: u32): void {}

export function stat(kind: i32): i32 {
  switch (kind) {
    case STAT_HEAP_TOP: return <i32>heapTop();
    case STAT_HEAP_LIMIT: return <i32>HEAP_LIMIT;
    case STAT_CONNS_USED: return slotsUsed();
    case STAT_CONNS_MAX: return slotCount();
    case STAT_TIMERS_ARMED: return armedCount();
    case STAT_REFUSED: return <i32>refused;
    case STAT_REQUESTS: return <i32>server.requests;
    case STAT_BAD_REQUESTS: return <i32>badRequests;
    case STAT_RGB: return client.lastColour >= 0 ? client.lastColour : server.current;
    case STAT_RGB_POLLS_OK: return <i32>client.pollsOk;
    case STAT_RGB_POLLS_FAILED: return <i32>client.pollsFailed;
    case STAT_BUS_ROLE: return bus.role;
    case STAT_BUS_TERM: return <i32>bus.term;
    case STAT_BUS_MASTER_IP: return <i32>bus.masterIp;
    case STAT_BUS_ID: return <i32>bus.busId;
    case STAT_BUS_MEMBERS: return busMembers;
    case STAT_BUS_INDEX: return bus.busIndex();
    case STAT_BUS_SENT: return <i32>busSent;
    case STAT_BUS_RECEIVED: return <i32>bus.received;
    case STAT_BUS_DROPPED: return <i32>bus.dropped;
    case STAT_BUS_VOTERS: return busVoters();
    case STAT_DHCP_LEASES: return dhcpLeases();
    case STAT_PIXELS_FRAMES: return <i32>lights.frames;
    case STAT_PIXELS_DROPPED: return <i32>lights.dropped;
    case STAT_PIXELS_MODE: return lights.mode;
  }
  return -1;
}

export function rgb_parse(len: i32, format: i32): i32 {
  return codec.parse(io, clampIo(len), format);
}

export function rgb_format(rgb: i32, format: i32): i32 {
  return codec.format(rgb, format, io);
}

export function json_parse(len: i32, maxDepth: i32): i32 {
  return json.parseObject(io, clampIo(len), maxDepth) ? json.members : -1 - json.errorAt;
}

export function digest(keyLen: i32, msgLen: i32): i32 {
  if (keyLen < 0) {
    sha256Reset();
    sha256Update(io, clampIo(msgLen));
    sha256Final(io);
  } else {
    keyLen = min(keyLen, 64);
    hmacStart(io, keyLen);
    hmacUpdate(io + keyLen, min(clampIo(msgLen), <i32>IO_CAPACITY - keyLen));
    hmacFinal(io);
  }
  return 32;
}

function clampIo(n: i32): i32 {
  return min(<i32>IO_CAPACITY, max(n, 0));
}
