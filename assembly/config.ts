// Board configuration: "key=value" lines (blank lines and "#" comments allowed), parsed strictly at init.
// Unknown keys, repeated keys and values out of range are refused with the line number, never guessed.
import { Ascii, asciiLen, asciiAt } from "./util/ascii";
import { ERR_CONFIG, OK } from "./abi/host.generated";
import { bytesEqual, inList, parseDecimal, parseIp, splitFields, fieldValues } from "./util/bytes";
import { put, putBytes, emit, putLine, putWithI32, setLogRepeatMs } from "./util/log";
import { setMaxConnsPerIp } from "./net/slots";
import { LOG_ERROR } from "./abi/host.generated";
import { parseEither } from "./rgb/codec";
import { LIGHTS_LIMITS, setLightsNumber, setLightsText } from "./lights/lights";
import { MQTT_LIMITS, MQTT_PASSWORD_KEY, setMqttNumber, setMqttText } from "./mqtt/settings";

export const SOURCE_RANDOM: i32 = 0;
export const SOURCE_ADC: i32 = 1;
export const SOURCE_FIXED: i32 = 2;

export let maxConns: i32 = 8;
export let httpPort: i32 = 80;
export let httpLineMax: i32 = 256;
export let httpHeadMax: i32 = 2048;
export let httpTimeoutMs: u32 = 5000;
export let rgbSource: i32 = SOURCE_RANDOM;
export let rgbValue: i32 = 0;
export let rgbAdc0: i32 = 0;
export let rgbAdc1: i32 = 1;
export let rgbAdc2: i32 = 2;
export let rgbServerIp: u32 = 0;
export let rgbServerPort: i32 = 0;
export let rgbPollMs: u32 = 200;
export let rgbTimeoutMs: u32 = 2000;
export let rgbBackoffMaxMs: u32 = 5000;
export let rgbPinR: i32 = -1;
export let rgbPinG: i32 = -1;
export let rgbPinB: i32 = -1;
export let rgbPwmHz: i32 = 1000;
export let rgbCommonAnode: bool = false;
export let brightness: i32 = 255;
export let wsEcho: bool = false;
export let wsMaxMessage: u32 = 1 << 20;
export let wsPingMs: u32 = 30000;
export let wsIdleMs: u32 = 75000;
export let wsCloseMs: u32 = 3000;
export let wsUrlIp: u32 = 0;
export let wsUrlPort: i32 = 0;
export let wsPushMs: u32 = 1000;
export let controlPort: i32 = 12345;
export let controlLineMax: i32 = 256;
export let controlDepth: i32 = 4;
export let controlInsecure: bool = false;
export let controlIdleMs: u32 = 300000;
// the connection policy (docs/SECURITY.md)
export let controlAuthMs: u32 = 5000;
// max_conns_per_ip and log_repeat_ms live where they act: net/slots.ts and util/log.ts
// the bus (assembly/bus), WiFi topology and the access point's DHCP server (assembly/dhcp)
export let busOn: bool = false;
export let busPort: i32 = 5000; // the tutorial's discovery port; picowire's own messages share it
export let busMsgPort: i32 = 5001; // the tutorial's peer text messages
export const BUS_PEERS_MAX: i32 = 8;
export const busPeers = memory.data(BUS_PEERS_MAX * 4); // seed addresses where broadcast is absent
export let busPeerCount: i32 = 0;
export let busMaxMembers: i32 = 16;
export let busVoters: i32 = 5;
export let busHeartbeatMs: u32 = 200;
export let busElectionMs: u32 = 1000;
export let busDeadMs: u32 = 3000;
export let busUnsafeVotes: bool = false; // the deliberately broken election the simulator must catch
export const WIFI_OFF: i32 = 0; // the host manages the radio (as before the bus)
export const WIFI_STA: i32 = 1;
export const WIFI_AP: i32 = 2;
export const WIFI_AUTO: i32 = 3;
export let wifiMode: i32 = WIFI_OFF;
export const SSID_MAX: i32 = 32;
export const wifiSsid = memory.data(SSID_MAX);
export let wifiSsidLen: i32 = 0;
export const PASSWORD_MAX: i32 = 63;
export const wifiPassword = memory.data(PASSWORD_MAX);
export let wifiPasswordLen: i32 = 0;
export let dhcpFirst: u32 = 0xc0a80410; // 192.168.4.16
export let dhcpCount: i32 = 8;
export let dhcpLeaseS: u32 = 7200;
export const KEY_MAX: i32 = 64;
export const busKey = memory.data(KEY_MAX);
export let busKeyLen: i32 = 0;

/** Text settings keep a copy here: the io buffer they arrive in is reused by the next event. */
export const TEXT_MAX: i32 = 96;
export const wsProtocols = memory.data(TEXT_MAX);
export let wsProtocolsLen: i32 = 0;
export const wsOrigins = memory.data(TEXT_MAX);
export let wsOriginsLen: i32 = 0;
export const wsUrlPath = memory.data(TEXT_MAX);
export let wsUrlPathLen: i32 = 0;
export const wsUrlHost = memory.data(TEXT_MAX);
export let wsUrlHostLen: i32 = 0;

// The keys by index, in two comma-separated lists (a text literal holds at most 255 characters).
const KEYS_BASIC: Ascii = "max_conns,http_port,http_line_max,http_head_max,http_timeout_ms,rgb_source,rgb,rgb_adc,rgb_server,rgb_poll_ms,rgb_timeout_ms,rgb_backoff_max_ms,rgb_pins,rgb_pwm_hz,rgb_common_anode,brightness";
const KEYS_NETWORK: Ascii = "ws_echo,ws_max_message,ws_ping_ms,ws_idle_ms,ws_close_ms,ws_protocols,ws_origins,ws_url,ws_push_ms,control_port,control_line_max,control_depth,control_insecure,control_idle_ms,key";
const KEYS_BUS: Ascii = "bus,bus_port,bus_msg_port,bus_peers,bus_max_members,bus_voters,bus_heartbeat_ms,bus_election_ms,bus_dead_ms,bus_unsafe_votes,wifi_mode,wifi_ssid,wifi_password,dhcp_first,dhcp_count,dhcp_lease_s";
// LED strips (assembly/lights): key indexes from LIGHTS_BASE up, so keys added above never move them
const KEYS_LIGHTS: Ascii = "pixels_pin,pixels_count,pixels_offset,e131_universe,e131_start,pixels_order,lights";
const LIGHTS_BASE: i32 = 56;
// MQTT (assembly/mqtt): from MQTT_BASE up, the same way
const KEYS_MQTT: Ascii = "mqtt,mqtt_user,mqtt_password,mqtt_id,mqtt_prefix,mqtt_discovery,mqtt_keepalive_s,mqtt_inflight_bytes,mqtt_backoff_max_ms,mqtt_diag_ms,mqtt_peers,mqtt_pin_timeout_s,mqtt_poll_ms,mqtt_timeout_ms";
const MQTT_BASE: i32 = 64;
// the connection policy and the log's rate limit: from POLICY_BASE up, after the bus's keys
const KEYS_POLICY: Ascii = "control_auth_ms,max_conns_per_ip,log_repeat_ms";
const POLICY_BASE: i32 = 47;
const KEYS_IN_BASIC: i32 = 16;
const KEYS_BEFORE_BUS: i32 = 31;

/** The index of the key [p, p+n), or -1. */
function keyIndex(p: usize, n: i32): i32 {
  let k = inList(KEYS_BASIC, p, n);
  if (k > 0) return k - 1;
  k = inList(KEYS_NETWORK, p, n);
  if (k > 0) return k - 1 + KEYS_IN_BASIC;
  k = inList(KEYS_LIGHTS, p, n);
  if (k > 0) return k - 1 + LIGHTS_BASE;
  k = inList(KEYS_MQTT, p, n);
  if (k > 0) return k - 1 + MQTT_BASE;
  k = inList(KEYS_POLICY, p, n);
  if (k > 0) return k - 1 + POLICY_BASE;
  k = inList(KEYS_BUS, p, n);
  return k > 0 ? k - 1 + KEYS_BEFORE_BUS : -1;
}
const KEY_INDEX = 30; // "key" and "wifi_password": secrets, never in a log line
const PASSWORD_INDEX = 43;
const MQTT_PASSWORD_INDEX = MQTT_BASE + MQTT_PASSWORD_KEY;

let line: i32 = 0;
let vp: usize = 0; // current value
let vn: i32 = 0;

let secret = false; // the value being parsed must not be logged

function fail(why: Ascii): i32 {
  putWithI32("config line ", line);
  put(": ");
  put(why);
  if (!secret) {
    put(" ('");
    putBytes(vp, vn);
    put("')");
  }
  emit(LOG_ERROR);
  return ERR_CONFIG;
}

/** Splits the value at commas into exactly three integers within [0, max] (at fieldValues); false
 *  after logging. */
function triple(max: i64): bool {
  if (splitFields(vp, vn, 44, 3, 10, max)) return true;
  fail("expected three comma-separated numbers in range");
  return false;
}

/** Copies the value into static storage; its length, or -1 after logging. */
function text(dst: usize): i32 {
  if (vn > TEXT_MAX) {
    fail("value too long");
    return -1;
  }
  memory.copy(dst, vp, vn);
  return vn;
}

/** IPv4[:port] in [p, p+n) into hostIp, hostPort (defaultPort if absent; 0: a port is required) and
 *  hostLen (the address's length); false if it is not that. */
let hostIp: u32 = 0;
let hostPort: i32 = 0;
let hostLen: i32 = 0;
function ipPort(p: usize, n: i32, defaultPort: i64): bool {
  let i = 0;
  while (i < n && load<u8>(p + i) != 58) i++;
  let ip = parseIp(p, i);
  let port = i < n ? parseDecimal(p + i + 1, n - i - 1, 5) : defaultPort;
  hostIp = <u32>ip;
  hostPort = <i32>port;
  hostLen = i;
  return ip > 0 && port >= 1 && port <= 65535;
}

/** ws://IPv4[:port][/path]: a board has no DNS of its own to rely on before WiFi is up. */
function wsUrl(): i32 {
  let i = 5;
  if (vn < 6 || !bytesEqual(vp, 5, "ws://") || vn > TEXT_MAX) i = 0;
  else {
    while (i < vn && load<u8>(vp + i) != 47) i++;
    if (!ipPort(vp + 5, i - 5, 80)) i = 0;
  }
  if (i == 0) return fail("expected ws://IPv4[:port][/path]");
  wsUrlIp = hostIp;
  wsUrlPort = hostPort;
  memory.copy(wsUrlHost, vp + 5, hostLen);
  wsUrlHostLen = hostLen;
  if (i == vn) {
    store<u8>(wsUrlPath, 47);
    wsUrlPathLen = 1;
  } else {
    memory.copy(wsUrlPath, vp + i, vn - i);
    wsUrlPathLen = vn - i;
  }
  return OK;
}

/** bus_peers: up to BUS_PEERS_MAX comma-separated IPv4 addresses to reach where broadcast is absent. */
function peers(): i32 {
  let start = 0;
  busPeerCount = 0;
  for (let i = 0; i <= vn; i++) {
    if (i < vn && load<u8>(vp + i) != 44) continue;
    let ip = parseIp(vp + start, i - start);
    if (ip <= 0) return fail("expected comma-separated IPv4 addresses");
    if (busPeerCount == BUS_PEERS_MAX) return fail("too many bus_peers (at most 8)");
    store<u32>(busPeers + (busPeerCount++ << 2), <u32>ip);
    start = i + 1;
  }
  return OK;
}

// The numeric settings by key index: min and max (max 0: not a numeric setting, see applyOther).
const LIMITS = memory.data<i32>([
  1, 32, 0, 65535, 192, 1024, 128, 16384, 100, 600000, // max_conns .. http_timeout_ms
  0, 0, 0, 0, 0, 0, 0, 0, // rgb_source, rgb, rgb_adc, rgb_server
  10, 3600000, 50, 600000, 100, 3600000, // rgb_poll_ms, rgb_timeout_ms, rgb_backoff_max_ms
  0, 0, 10, 1000000, 0, 1, 0, 255, // rgb_pins, rgb_pwm_hz, rgb_common_anode, brightness
  0, 1, 1, 0x7fffffff, 0, 3600000, 0, 3600000, 100, 600000, // ws_echo .. ws_close_ms
  0, 0, 0, 0, 0, 0, 50, 3600000, // ws_protocols, ws_origins, ws_url, ws_push_ms
  0, 65535, 128, 1024, 1, 16, 0, 1, 0, 86400000, 0, 0, // control_port .. control_idle_ms, key
  0, 1, 1, 65535, 1, 65535, 0, 0, 2, 128, 1, 9, // bus, bus_port, bus_msg_port, bus_peers, bus_max_members, bus_voters
  20, 60000, 100, 600000, 200, 3600000, 0, 1, // bus_heartbeat_ms, bus_election_ms, bus_dead_ms, bus_unsafe_votes
  0, 0, 0, 0, 0, 0, 0, 0, 1, 64, 60, 604800, // wifi_mode, wifi_ssid, wifi_password, dhcp_first, dhcp_count, dhcp_lease_s
  100, 600000, 0, 32, 0, 3600000, // control_auth_ms, max_conns_per_ip (0: half of max_conns), log_repeat_ms (0: off)
]);

function apply(key: i32): i32 {
  let limits = key >= MQTT_BASE ? MQTT_LIMITS - (MQTT_BASE << 3) : key >= LIGHTS_BASE ? LIGHTS_LIMITS - (LIGHTS_BASE << 3) : LIMITS;
  let min = load<i32>(limits + (key << 3));
  let max = load<i32>(limits + (key << 3), 4);
  if (max == 0) {
    if (key < LIGHTS_BASE) return applyOther(key);
    let why = key >= MQTT_BASE ? setMqttText(key - MQTT_BASE, vp, vn) : setLightsText(key - LIGHTS_BASE, vp, vn);
    return why != 0 ? fail(why) : OK;
  }
  let v = parseDecimal(vp, vn, 10);
  if (v < min || v > max) {
    fail("expected a whole number");
    putWithI32("  (allowed: ", min);
    putWithI32(" to ", max);
    putLine(")", LOG_ERROR);
    return ERR_CONFIG;
  }
  setNumber(key, <i32>v);
  return OK;
}

function setNumber(key: i32, v: i32): void {
  if (key >= MQTT_BASE) return setMqttNumber(key - MQTT_BASE, v);
  if (key >= LIGHTS_BASE) return setLightsNumber(key - LIGHTS_BASE, v);
  if (key > 28) return setBusNumber(key, v); // two switches: one would nest too deep for wasm3
  switch (key) {
    case 0: maxConns = v; break;
    case 1: httpPort = v; break;
    case 2: httpLineMax = v; break;
    case 3: httpHeadMax = v; break;
    case 4: httpTimeoutMs = v; break;
    case 9: rgbPollMs = v; break;
    case 10: rgbTimeoutMs = v; break;
    case 11: rgbBackoffMaxMs = v; break;
    case 13: rgbPwmHz = v; break;
    case 14: rgbCommonAnode = v != 0; break;
    case 15: brightness = v; break;
    case 16: wsEcho = v != 0; break;
    case 17: wsMaxMessage = v; break;
    case 18: wsPingMs = v; break;
    case 19: wsIdleMs = v; break;
    case 20: wsCloseMs = v; break;
    case 24: wsPushMs = v; break;
    case 25: controlPort = v; break;
    case 26: controlLineMax = v; break;
    case 27: controlDepth = v; break;
    default: controlInsecure = v != 0; // 28
  }
}

function setBusNumber(key: i32, v: i32): void {
  switch (key) {
    case 29: controlIdleMs = v; break;
    case 31: busOn = v != 0; break;
    case 32: busPort = v; break;
    case 33: busMsgPort = v; break;
    case 35: busMaxMembers = v; break;
    case 36: busVoters = v; break;
    case 37: busHeartbeatMs = v; break;
    case 38: busElectionMs = v; break;
    case 39: busDeadMs = v; break;
    case 40: busUnsafeVotes = v != 0; break;
    case 45: dhcpCount = v; break;
    case 46: dhcpLeaseS = v; break;
    case 47: controlAuthMs = v; break;
    case 48: setMaxConnsPerIp(v); break;
    default: setLogRepeatMs(v); // 49
  }
}

function applyOther(key: i32): i32 {
  switch (key) {
    case 5:
      if (bytesEqual(vp, vn, "random")) rgbSource = SOURCE_RANDOM;
      else if (bytesEqual(vp, vn, "adc")) rgbSource = SOURCE_ADC;
      else if (bytesEqual(vp, vn, "fixed")) rgbSource = SOURCE_FIXED;
      else return fail("expected random, adc or fixed");
      break;
    case 6: {
      let rgb = parseEither(vp, vn);
      if (rgb < 0) return fail("expected r,g,b or #rrggbb");
      rgbValue = rgb;
      break;
    }
    case 7:
      if (!triple(3)) return ERR_CONFIG;
      rgbAdc0 = load<i32>(fieldValues);
      rgbAdc1 = load<i32>(fieldValues + 4);
      rgbAdc2 = load<i32>(fieldValues + 8);
      break;
    case 8:
      if (!ipPort(vp, vn, 0)) return fail("expected IPv4:port");
      rgbServerIp = hostIp;
      rgbServerPort = hostPort;
      break;
    case 12:
      if (!triple(28)) return ERR_CONFIG;
      rgbPinR = load<i32>(fieldValues);
      rgbPinG = load<i32>(fieldValues + 4);
      rgbPinB = load<i32>(fieldValues + 8);
      break;
    case 21: if ((wsProtocolsLen = text(wsProtocols)) < 0) return ERR_CONFIG; break;
    case 22: if ((wsOriginsLen = text(wsOrigins)) < 0) return ERR_CONFIG; break;
    case 23: return wsUrl();
    case 34: return peers();
    case 41: {
      let m = inList("off,sta,ap,auto", vp, vn);
      if (m <= 0) return fail("expected off, sta, ap or auto");
      wifiMode = m - 1;
      break;
    }
    case 42:
      if (vn < 1 || vn > SSID_MAX) return fail("an SSID is 1 to 32 bytes");
      memory.copy(wifiSsid, vp, vn);
      wifiSsidLen = vn;
      break;
    case PASSWORD_INDEX:
      if (vn < 8 || vn > PASSWORD_MAX) return fail("a WPA2 password is 8 to 63 characters");
      memory.copy(wifiPassword, vp, vn);
      wifiPasswordLen = vn;
      break;
    case 44: {
      let ip = parseIp(vp, vn);
      if (ip <= 0) return fail("expected an IPv4 address");
      dhcpFirst = <u32>ip;
      break;
    }
    default: // KEY_INDEX
      if (vn < 16 || vn > KEY_MAX) return fail("the key must be 16 to 64 characters");
      memory.copy(busKey, vp, vn);
      busKeyLen = vn;
  }
  return OK;
}

/** Parses the whole configuration; OK or ERR_CONFIG after logging the first problem. */
export function parseConfig(p: usize, n: i32): i32 {
  let seen: u64 = 0; // keys 0..63
  let seenMqtt: u64 = 0; // MQTT_BASE up
  let start = 0;
  line = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && load<u8>(p + i) != 10) continue;
    line++;
    let ls = p + start;
    let ln = i - start;
    start = i + 1;
    if (ln > 0 && load<u8>(ls + ln - 1) == 13) ln--;
    if (ln == 0 || load<u8>(ls) == 35) continue;
    let eq = -1;
    for (let j = 0; j < ln; j++) if (load<u8>(ls + j) == 61) { eq = j; break; }
    vp = ls;
    vn = ln;
    if (eq < 0) {
      secret = true; // the line may be a mistyped key=...: never echo it
      return fail("expected key=value");
    }
    let key = keyIndex(ls, eq);
    vn = eq;
    if (key < 0) return fail("unknown key");
    let bit = <u64>1 << (key & 63);
    if ((key >= MQTT_BASE ? seenMqtt : seen) & bit) return fail("key given twice");
    if (key >= MQTT_BASE) seenMqtt |= bit;
    else seen |= bit;
    vp = ls + eq + 1;
    vn = ln - eq - 1;
    secret = key == KEY_INDEX || key == PASSWORD_INDEX || key == MQTT_PASSWORD_INDEX;
    let r = apply(key);
    secret = false;
    if (r != OK) return r;
  }
  return OK;
}
