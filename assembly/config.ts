// Board configuration: "key=value" lines (blank lines and "#" comments allowed), parsed strictly at init.
// Unknown keys, repeated keys and values out of range are refused with the line number, never guessed.
// Every setting is declared in assembly/settings/spec.json; its storage, defaults, limits and setters are
// generated (assembly/settings/settings.generated.ts, re-exported here for the services). This file reads
// the lines, logs refusals and parses the custom kinds.
import { Ascii, HASH, COMMA, COLON, EQUALS, SLASH, LOWER_B, LOWER_G, LOWER_R } from "./util/ascii";
import { ERR_CONFIG, OK, LOG_ERROR } from "./abi/host.generated";
import { bytesEqual, parseDecimal, parseIp } from "./util/bytes";
import { put, putBytes, emit, putLine, putWithI32 } from "./util/log";
import { parseEither } from "./settings/values";
import {
  K_RGB, K_RGB_SERVER, K_WS_URL, K_BUS_PEERS, K_PIXELS_ORDER, K_MQTT, SETTINGS_COUNT, settingLimit, TEXT_MAX,
  BUS_PEERS_MAX, settingIndex, settingIsSecret, setSettingNumber, setSettingValue,
} from "./settings/settings.generated";
import { setBroker } from "./mqtt/settings";

export * from "./settings/settings.generated";

// the custom kinds' storage
export let rgbValue: i32 = 0; // rgb
export let rgbServerIp: u32 = 0; // rgb_server
export let rgbServerPort: i32 = 0;
export let wsUrlIp: u32 = 0; // ws_url
export let wsUrlPort: i32 = 0;
export const wsUrlPath = memory.data(TEXT_MAX);
export let wsUrlPathLen: i32 = 0;
export const wsUrlHost = memory.data(TEXT_MAX);
export let wsUrlHostLen: i32 = 0;
export const busPeers = memory.data(BUS_PEERS_MAX * 4); // bus_peers: seed addresses where broadcast is absent
export let busPeerCount: i32 = 0;
// pixels_order: where red, green and blue go in a pixel's wire bytes: GRB by default (WS2812)
export let pixelsPosR: i32 = 1;
export let pixelsPosG: i32 = 0;
export let pixelsPosB: i32 = 2;

let line: i32 = 0;
let vp: usize = 0; // current value
let vn: i32 = 0;
const seen = memory.data(SETTINGS_COUNT); // a byte per key: given on an earlier line

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

/** IPv4[:port] in [p, p+n) into hostIp, hostPort (defaultPort if absent; 0: a port is required) and
 *  hostLen (the address's length); false if it is not that. */
let hostIp: u32 = 0;
let hostPort: i32 = 0;
let hostLen: i32 = 0;
function ipPort(p: usize, n: i32, defaultPort: i64): bool {
  let i = 0;
  while (i < n && load<u8>(p + i) != COLON) i++;
  let ip = parseIp(p, i);
  let port = i < n ? parseDecimal(p + i + 1, n - i - 1, 5) : defaultPort;
  hostIp = <u32>ip;
  hostPort = <i32>port;
  hostLen = i;
  return ip > 0 && port >= 1 && port <= 65535;
}

/** ws://IPv4[:port][/path]: a board has no DNS of its own to rely on before WiFi is up. */
function wsUrl(): Ascii {
  let i = 5;
  if (vn < 6 || !bytesEqual(vp, 5, "ws://") || vn > TEXT_MAX) i = 0;
  else {
    while (i < vn && load<u8>(vp + i) != SLASH) i++;
    if (!ipPort(vp + 5, i - 5, 80)) i = 0;
  }
  if (i == 0) return "expected ws://IPv4[:port][/path]";
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
  return 0;
}

/** bus_peers: up to BUS_PEERS_MAX comma-separated IPv4 addresses to reach where broadcast is absent. */
function peers(): Ascii {
  let start = 0;
  busPeerCount = 0;
  for (let i = 0; i <= vn; i++) {
    if (i < vn && load<u8>(vp + i) != COMMA) continue;
    let ip = parseIp(vp + start, i - start);
    if (ip <= 0) return "expected comma-separated IPv4 addresses";
    if (busPeerCount == BUS_PEERS_MAX) return "too many bus_peers (at most 8)";
    store<u32>(busPeers + (busPeerCount++ << 2), <u32>ip);
    start = i + 1;
  }
  return 0;
}

/** pixels_order: r, g and b once each, as they go on the wire. */
function pixelsOrder(): Ascii {
  let seenColours = 0;
  for (let i = 0; i < vn; i++) {
    let c = load<u8>(vp + i);
    if (c == LOWER_R) pixelsPosR = i;
    else if (c == LOWER_G) pixelsPosG = i;
    else if (c == LOWER_B) pixelsPosB = i;
    seenColours |= c == LOWER_R ? 1 : c == LOWER_G ? 2 : c == LOWER_B ? 4 : 8;
  }
  return vn == 3 && seenColours == 7 ? 0 : "expected r, g and b in wire order (grb)";
}

/** The settings of kind "custom" in the spec: 0 when good, else what was expected. */
function setCustom(key: i32): Ascii {
  switch (key) {
    case K_RGB: {
      let rgb = parseEither(vp, vn);
      if (rgb < 0) return "expected r,g,b or #rrggbb";
      rgbValue = rgb;
      return 0;
    }
    case K_RGB_SERVER:
      if (!ipPort(vp, vn, 0)) return "expected IPv4:port";
      rgbServerIp = hostIp;
      rgbServerPort = hostPort;
      return 0;
    case K_WS_URL: return wsUrl();
    case K_BUS_PEERS: return peers();
    case K_PIXELS_ORDER: return pixelsOrder();
    case K_MQTT: return setBroker(vp, vn);
  }
  return setSettingValue(key, vp, vn);
}

function apply(key: i32): i32 {
  let min = settingLimit(key << 1);
  let max = settingLimit((key << 1) + 1);
  if (max == 0) {
    let why = setCustom(key);
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
  setSettingNumber(key, <i32>v);
  return OK;
}

/** Parses the whole configuration; OK or ERR_CONFIG after logging the first problem. */
export function parseConfig(p: usize, n: i32): i32 {
  memory.fill(seen, 0, SETTINGS_COUNT);
  secret = false;
  let start = 0;
  line = 0;
  for (let i = 0; i <= n; i++) {
    if (i < n && load<u8>(p + i) != 10) continue;
    line++;
    let ls = p + start;
    let ln = i - start;
    start = i + 1;
    if (ln > 0 && load<u8>(ls + ln - 1) == 13) ln--;
    if (ln == 0 || load<u8>(ls) == HASH) continue;
    let eq = -1;
    for (let j = 0; j < ln; j++) if (load<u8>(ls + j) == EQUALS) { eq = j; break; }
    vp = ls;
    vn = ln;
    if (eq < 0) {
      secret = true; // the line may be a mistyped key=...: never echo it
      return fail("expected key=value");
    }
    let key = settingIndex(ls, eq);
    vn = eq;
    if (key < 0) return fail("unknown key");
    if (load<u8>(seen + key)) return fail("key given twice");
    store<u8>(seen + key, 1);
    vp = ls + eq + 1;
    vn = ln - eq - 1;
    secret = settingIsSecret(key);
    let r = apply(key);
    secret = false;
    if (r != OK) return r;
  }
  return OK;
}
