// The MQTT bridge's settings. Their storage, defaults and limits are generated from
// assembly/settings/spec.json (assembly/settings/settings.generated.ts) and re-exported here for the bridge;
// the broker's address is the one custom kind, parsed below for assembly/config.ts.
import { Ascii, MINUS, DOT, SLASH, DIGIT_0, COLON, AT_SIGN, LOWER_A, CASE_BIT } from "../util/ascii";
import { bytesEqual, parseDecimal, parseIp } from "../util/bytes";
import { TEXT_CAP } from "../settings/settings.generated";

export {
  TEXT_CAP, NAME_CAP, user, userLen, password, passwordLen, clientId, clientIdLen, prefix, prefixLen, discovery,
  discoveryLen, keepaliveS, inflightBytes, backoffMaxMs, diagMs, peersMax, pinTimeoutS, pollMs, timeoutMs,
} from "../settings/settings.generated";

export const brokerHost = memory.data(TEXT_CAP); // IPv4 text or a name to resolve
export let brokerHostLen: i32 = 0; // 0: no MQTT
export let brokerIp: u32 = 0; // the host as an IPv4 address, 0 when it is a name
export let brokerPort: i32 = 1883;

/** mqtt=mqtt://host[:port] where host is IPv4 or a DNS name: 0 when good, else what was expected. */
export function setBroker(p: usize, n: i32): Ascii {
  const WHAT: Ascii = "expected mqtt://host[:port]";
  if (n < 8 || !bytesEqual(p, 7, "mqtt://")) return WHAT;
  p += 7;
  n -= 7;
  let colon = n;
  for (let i = 0; i < n; i++) {
    let c = load<u8>(p + i);
    if (c == AT_SIGN || c == SLASH) return WHAT; // '@' or a path
    if (c == COLON) colon = i;
  }
  if (colon == 0 || colon > TEXT_CAP) return WHAT;
  let port: i64 = 1883;
  if (colon < n) port = parseDecimal(p + colon + 1, n - colon - 1, 5);
  if (port < 1 || port > 65535) return "the broker's port must be 1 to 65535";
  for (let i = 0; i < colon; i++) {
    let c = <u32>load<u8>(p + i);
    if (!(c - DIGIT_0 < 10 || (c | CASE_BIT) - LOWER_A < 26 || c == MINUS || c == DOT)) return WHAT;
  }
  memory.copy(brokerHost, p, colon);
  brokerHostLen = colon;
  brokerPort = <i32>port;
  let ip = parseIp(p, colon);
  brokerIp = ip > 0 ? <u32>ip : 0;
  return 0;
}
