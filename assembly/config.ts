// Board configuration: "key=value" lines (blank lines and "#" comments allowed), parsed strictly at init.
// Unknown keys, repeated keys and values out of range are refused with the line number, never guessed.
import { Ascii, asciiLen, asciiAt } from "./util/ascii";
import { ERR_CONFIG, OK } from "./abi/host.generated";
import { bytesEqual, inList, parseDecimal, parseIp, splitFields, fieldValues } from "./util/bytes";
import { put, putBytes, putI32, emit } from "./util/log";
import { LOG_ERROR } from "./abi/host.generated";
import { parseEither } from "./rgb/codec";

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
const KEYS_IN_BASIC: i32 = 16;

/** The index of the key [p, p+n), or -1. */
function keyIndex(p: usize, n: i32): i32 {
  let k = inList(KEYS_BASIC, p, n);
  if (k > 0) return k - 1;
  k = inList(KEYS_NETWORK, p, n);
  return k > 0 ? k - 1 + KEYS_IN_BASIC : -1;
}
const KEY_INDEX = 30; // "key": its value is a secret and never appears in a log line

let line: i32 = 0;
let vp: usize = 0; // current value
let vn: i32 = 0;

let secret = false; // the value being parsed must not be logged

function fail(why: Ascii): i32 {
  put("config line ");
  putI32(line);
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

// The numeric settings by key index: min and max (max 0: not a numeric setting, see applyOther).
const LIMITS = memory.data<i32>([
  1, 32, 0, 65535, 192, 1024, 128, 16384, 100, 600000, // max_conns .. http_timeout_ms
  0, 0, 0, 0, 0, 0, 0, 0, // rgb_source, rgb, rgb_adc, rgb_server
  10, 3600000, 50, 600000, 100, 3600000, // rgb_poll_ms, rgb_timeout_ms, rgb_backoff_max_ms
  0, 0, 10, 1000000, 0, 1, 0, 255, // rgb_pins, rgb_pwm_hz, rgb_common_anode, brightness
  0, 1, 1, 0x7fffffff, 0, 3600000, 0, 3600000, 100, 600000, // ws_echo .. ws_close_ms
  0, 0, 0, 0, 0, 0, 50, 3600000, // ws_protocols, ws_origins, ws_url, ws_push_ms
  0, 65535, 128, 1024, 1, 16, 0, 1, 0, 86400000, 0, 0, // control_port .. control_idle_ms, key
]);

function apply(key: i32): i32 {
  let min = load<i32>(LIMITS + (key << 3));
  let max = load<i32>(LIMITS + (key << 3), 4);
  if (max == 0) return applyOther(key);
  let v = parseDecimal(vp, vn, 10);
  if (v < min || v > max) {
    fail("expected a whole number");
    put("  (allowed: ");
    putI32(min);
    put(" to ");
    putI32(max);
    put(")");
    emit(LOG_ERROR);
    return ERR_CONFIG;
  }
  setNumber(key, <i32>v);
  return OK;
}

function setNumber(key: i32, v: i32): void {
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
    case 28: controlInsecure = v != 0; break;
    default: controlIdleMs = v; // 29
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
    default: // KEY_INDEX
      if (vn < 16 || vn > KEY_MAX) return fail("the key must be 16 to 64 characters");
      memory.copy(busKey, vp, vn);
      busKeyLen = vn;
  }
  return OK;
}

/** Parses the whole configuration; OK or ERR_CONFIG after logging the first problem. */
export function parseConfig(p: usize, n: i32): i32 {
  let seen: u64 = 0;
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
    if (seen & (<u64>1 << key)) return fail("key given twice");
    seen |= <u64>1 << key;
    vp = ls + eq + 1;
    vn = ln - eq - 1;
    secret = key == KEY_INDEX;
    let r = apply(key);
    secret = false;
    if (r != OK) return r;
  }
  return OK;
}
