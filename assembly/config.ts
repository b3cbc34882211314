// Board configuration: "key=value" lines (blank lines and "#" comments allowed), parsed strictly at init.
// Unknown keys, repeated keys and values out of range are refused with the line number, never guessed.
import { Ascii, asciiLen, asciiAt } from "./util/ascii";
import { ERR_CONFIG, OK } from "./abi/host.generated";
import { bytesEqual, parseDecimal, parseIp } from "./util/bytes";
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

const KEYS: StaticArray<Ascii> = [
  "max_conns", "http_port", "http_line_max", "http_head_max", "http_timeout_ms",
  "rgb_source", "rgb", "rgb_adc", "rgb_server", "rgb_poll_ms", "rgb_timeout_ms", "rgb_backoff_max_ms",
  "rgb_pins", "rgb_pwm_hz", "rgb_common_anode", "brightness",
  "ws_echo", "ws_max_message", "ws_ping_ms", "ws_idle_ms", "ws_close_ms", "ws_protocols", "ws_origins", "ws_url", "ws_push_ms",
  "control_port", "control_line_max", "control_depth", "control_insecure", "control_idle_ms", "key",
];
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

/** The value as an integer within [min, max], or -1 after logging why. */
function int(min: i64, max: i64): i64 {
  let v = parseDecimal(vp, vn, 10);
  if (v < min || v > max) {
    fail("expected a whole number");
    put("  (allowed: ");
    putI32(<i32>min);
    put(" to ");
    putI32(<i32>max);
    put(")");
    emit(LOG_ERROR);
    return -1;
  }
  return v;
}

/** Splits the value at commas into exactly three integers within [min, max]; false after logging. */
let t0: i32 = 0;
let t1: i32 = 0;
let t2: i32 = 0;
function triple(min: i64, max: i64): bool {
  let vals: i64 = 0;
  let start = 0;
  let count = 0;
  for (let i = 0; i <= vn; i++) {
    if (i == vn || load<u8>(vp + i) == 44) {
      let v = parseDecimal(vp + start, i - start, 10);
      if (v < min || v > max || count == 3) {
        fail("expected three comma-separated numbers in range");
        return false;
      }
      if (count == 0) t0 = <i32>v;
      else if (count == 1) t1 = <i32>v;
      else t2 = <i32>v;
      count++;
      start = i + 1;
    }
  }
  if (count != 3) {
    fail("expected three comma-separated numbers in range");
    return false;
  }
  return true;
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

/** ws://IPv4[:port][/path]: a board has no DNS of its own to rely on before WiFi is up. */
function wsUrl(): i32 {
  if (vn < 6 || !bytesEqual(vp, 5, "ws://") || vn > TEXT_MAX) return fail("expected ws://IPv4[:port][/path]");
  let hostStart = 5;
  let i = hostStart;
  while (i < vn && load<u8>(vp + i) != 58 && load<u8>(vp + i) != 47) i++;
  let hostEnd = i;
  let ip = parseIp(vp + hostStart, hostEnd - hostStart);
  let port: i64 = 80;
  if (i < vn && load<u8>(vp + i) == 58) {
    let ps = ++i;
    while (i < vn && load<u8>(vp + i) != 47) i++;
    port = parseDecimal(vp + ps, i - ps, 5);
  }
  if (ip <= 0 || port < 1 || port > 65535) return fail("expected ws://IPv4[:port][/path]");
  wsUrlIp = <u32>ip;
  wsUrlPort = <i32>port;
  memory.copy(wsUrlHost, vp + hostStart, hostEnd - hostStart);
  wsUrlHostLen = hostEnd - hostStart;
  if (i == vn) {
    store<u8>(wsUrlPath, 47);
    wsUrlPathLen = 1;
  } else {
    memory.copy(wsUrlPath, vp + i, vn - i);
    wsUrlPathLen = vn - i;
  }
  return OK;
}

// Two switches of half the keys each: one switch over every key nests one block per case, deeper than
// the board's wasm3 allows (d_m3ValCtrlDepth = 32).
function apply(key: i32): i32 {
  return key < 16 ? applyBasic(key) : applyNetwork(key);
}

function applyBasic(key: i32): i32 {
  let v: i64 = 0;
  switch (key) {
    case 0: if ((v = int(1, 32)) < 0) return ERR_CONFIG; maxConns = <i32>v; break;
    case 1: if ((v = int(0, 65535)) < 0) return ERR_CONFIG; httpPort = <i32>v; break;
    case 2: if ((v = int(192, 1024)) < 0) return ERR_CONFIG; httpLineMax = <i32>v; break;
    case 3: if ((v = int(128, 16384)) < 0) return ERR_CONFIG; httpHeadMax = <i32>v; break;
    case 4: if ((v = int(100, 600000)) < 0) return ERR_CONFIG; httpTimeoutMs = <u32>v; break;
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
    case 7: if (!triple(0, 3)) return ERR_CONFIG; rgbAdc0 = t0; rgbAdc1 = t1; rgbAdc2 = t2; break;
    case 8: {
      let colon = -1;
      for (let i = 0; i < vn; i++) if (load<u8>(vp + i) == 58) colon = i;
      let ip = colon > 0 ? parseIp(vp, colon) : -1;
      let port = colon > 0 ? parseDecimal(vp + colon + 1, vn - colon - 1, 5) : -1;
      if (ip <= 0 || port < 1 || port > 65535) return fail("expected IPv4:port");
      rgbServerIp = <u32>ip;
      rgbServerPort = <i32>port;
      break;
    }
    case 9: if ((v = int(10, 3600000)) < 0) return ERR_CONFIG; rgbPollMs = <u32>v; break;
    case 10: if ((v = int(50, 600000)) < 0) return ERR_CONFIG; rgbTimeoutMs = <u32>v; break;
    case 11: if ((v = int(100, 3600000)) < 0) return ERR_CONFIG; rgbBackoffMaxMs = <u32>v; break;
    case 12: if (!triple(0, 28)) return ERR_CONFIG; rgbPinR = t0; rgbPinG = t1; rgbPinB = t2; break;
    case 13: if ((v = int(10, 1000000)) < 0) return ERR_CONFIG; rgbPwmHz = <i32>v; break;
    case 14: if ((v = int(0, 1)) < 0) return ERR_CONFIG; rgbCommonAnode = v == 1; break;
    case 15: if ((v = int(0, 255)) < 0) return ERR_CONFIG; brightness = <i32>v; break;
  }
  return OK;
}

function applyNetwork(key: i32): i32 {
  let v: i64 = 0;
  switch (key) {
    case 16: if ((v = int(0, 1)) < 0) return ERR_CONFIG; wsEcho = v == 1; break;
    case 17: if ((v = int(1, 0x7fffffff)) < 0) return ERR_CONFIG; wsMaxMessage = <u32>v; break;
    case 18: if ((v = int(0, 3600000)) < 0) return ERR_CONFIG; wsPingMs = <u32>v; break;
    case 19: if ((v = int(0, 3600000)) < 0) return ERR_CONFIG; wsIdleMs = <u32>v; break;
    case 20: if ((v = int(100, 600000)) < 0) return ERR_CONFIG; wsCloseMs = <u32>v; break;
    case 21: if ((wsProtocolsLen = text(wsProtocols)) < 0) return ERR_CONFIG; break;
    case 22: if ((wsOriginsLen = text(wsOrigins)) < 0) return ERR_CONFIG; break;
    case 23: return wsUrl();
    case 24: if ((v = int(50, 3600000)) < 0) return ERR_CONFIG; wsPushMs = <u32>v; break;
    case 25: if ((v = int(0, 65535)) < 0) return ERR_CONFIG; controlPort = <i32>v; break;
    case 26: if ((v = int(128, 1024)) < 0) return ERR_CONFIG; controlLineMax = <i32>v; break;
    case 27: if ((v = int(1, 16)) < 0) return ERR_CONFIG; controlDepth = <i32>v; break;
    case 28: if ((v = int(0, 1)) < 0) return ERR_CONFIG; controlInsecure = v == 1; break;
    case 29: if ((v = int(0, 86400000)) < 0) return ERR_CONFIG; controlIdleMs = <u32>v; break;
    case KEY_INDEX:
      if (vn < 16 || vn > KEY_MAX) return fail("the key must be 16 to 64 characters");
      memory.copy(busKey, vp, vn);
      busKeyLen = vn;
      break;
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
    let key = -1;
    for (let k = 0; k < KEYS.length; k++) if (bytesEqual(ls, eq, KEYS[k])) key = k;
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
