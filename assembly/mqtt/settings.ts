// The MQTT bridge's settings (config.ts hands them over from key MQTT_BASE up, as it does the lights'):
// the broker's address, credentials, names and every limit, refused with a reason when out of range.
import { Ascii } from "../util/ascii";
import { bytesEqual, parseDecimal, parseIp } from "../util/bytes";

export const TEXT_CAP: i32 = 64;
export const NAME_CAP: i32 = 32;
export const brokerHost = memory.data(TEXT_CAP); // IPv4 text or a name to resolve
export let brokerHostLen: i32 = 0; // 0: no MQTT
export let brokerIp: u32 = 0; // the host as an IPv4 address, 0 when it is a name
export let brokerPort: i32 = 1883;
export const user = memory.data(TEXT_CAP);
export let userLen: i32 = 0;
export const password = memory.data(TEXT_CAP);
export let passwordLen: i32 = -1; // -1: none (an empty password is still a password)
export const clientId = memory.data(NAME_CAP); // also the board's topic level; empty: from the board ID
export let clientIdLen: i32 = 0;
export const prefix = memory.data(NAME_CAP);
export let prefixLen: i32 = 0; // 0 until init sets "picowire"
export const discovery = memory.data(NAME_CAP);
export let discoveryLen: i32 = -1; // -1 until init sets "homeassistant"; 0: "off"
export let keepaliveS: i32 = 60;
export let inflightBytes: i32 = 384;
export let backoffMaxMs: u32 = 30000;
export let diagMs: u32 = 60000;
export let peersMax: i32 = 4;
export let pinTimeoutS: i32 = 600;
export let pollMs: u32 = 200;
export let timeoutMs: u32 = 10000;

// min, max per key (max 0: a text setting); keys in config.ts's KEYS_MQTT order
export const MQTT_LIMITS = memory.data<i32>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // mqtt, mqtt_user, mqtt_password, mqtt_id, mqtt_prefix, mqtt_discovery
  5, 3600, 64, 4096, 1000, 3600000, // mqtt_keepalive_s, mqtt_inflight_bytes, mqtt_backoff_max_ms
  1000, 86400000, 0, 32, 1, 86400, 20, 60000, 1000, 600000, // mqtt_diag_ms, mqtt_peers, mqtt_pin_timeout_s, mqtt_poll_ms, mqtt_timeout_ms
]);
export const MQTT_PASSWORD_KEY: i32 = 2;

export function setMqttNumber(k: i32, v: i32): void {
  if (k == 6) keepaliveS = v;
  else if (k == 7) inflightBytes = v;
  else if (k == 8) backoffMaxMs = v;
  else if (k == 9) diagMs = v;
  else if (k == 10) peersMax = v;
  else if (k == 11) pinTimeoutS = v;
  else if (k == 12) pollMs = v;
  else timeoutMs = v;
}

/** A topic level or client id: letters, digits, '-' and '_' only, so it is safe in any topic and in
 *  Home Assistant's object ids. */
function isName(p: usize, n: i32): bool {
  if (n < 1 || n > NAME_CAP) return false;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u8>(p + i);
    let ok = c - 48 < 10 || (c | 32) - 97 < 26 || c == 45 || c == 95;
    if (!ok) return false;
  }
  return true;
}

/** mqtt://host[:port] where host is IPv4 or a DNS name. */
function brokerUrl(p: usize, n: i32): Ascii {
  const WHAT: Ascii = "expected mqtt://host[:port]";
  if (n < 8 || !bytesEqual(p, 7, "mqtt://")) return WHAT;
  p += 7;
  n -= 7;
  let colon = n;
  for (let i = 0; i < n; i++) {
    let c = load<u8>(p + i);
    if (c == 64 || c == 47) return WHAT; // '@' or a path
    if (c == 58) colon = i;
  }
  if (colon == 0 || colon > TEXT_CAP) return WHAT;
  let port: i64 = 1883;
  if (colon < n) port = parseDecimal(p + colon + 1, n - colon - 1, 5);
  if (port < 1 || port > 65535) return "the broker's port must be 1 to 65535";
  for (let i = 0; i < colon; i++) {
    let c = <u32>load<u8>(p + i);
    if (!(c - 48 < 10 || (c | 32) - 97 < 26 || c == 45 || c == 46)) return WHAT;
  }
  memory.copy(brokerHost, p, colon);
  brokerHostLen = colon;
  brokerPort = <i32>port;
  let ip = parseIp(p, colon);
  brokerIp = ip > 0 ? <u32>ip : 0;
  return 0;
}

/** A text setting from [p, p+n): 0 when good, else what was expected. */
export function setMqttText(k: i32, p: usize, n: i32): Ascii {
  if (k == 0) return brokerUrl(p, n);
  if (k == 1 || k == MQTT_PASSWORD_KEY) {
    if (n > TEXT_CAP) return "at most 64 bytes";
    memory.copy(k == 1 ? user : password, p, n);
    if (k == 1) userLen = n;
    else passwordLen = n;
    return 0;
  }
  if (k == 5 && bytesEqual(p, n, "off")) {
    discoveryLen = 0;
    return 0;
  }
  if (!isName(p, n)) return "1 to 32 letters, digits, '-' or '_'";
  let dst = k == 3 ? clientId : k == 4 ? prefix : discovery;
  memory.copy(dst, p, n);
  if (k == 3) clientIdLen = n;
  else if (k == 4) prefixLen = n;
  else discoveryLen = n;
  return 0;
}
