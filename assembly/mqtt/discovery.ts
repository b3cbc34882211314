// Home Assistant MQTT discovery: retained config messages under "<discovery>/<component>/<id>/<object>/
// config" for the RGB light, the diagnostics and each configured pin; an empty retained message removes
// one. Abbreviated keys and "~" (the board's base topic) keep each payload well under 512 bytes.
import { PIN_COUNT, PIN_LED } from "../abi/host.generated";
import { Ascii, SLASH } from "../util/ascii";
import { bytesEqual, bytesSame, inList, parseDecimal } from "../util/bytes";
import { VERSION } from "../control/actions";
import * as pk from "./packet";
import * as session from "./session";
import * as set from "./settings";

export const SWITCH: u8 = 1;
export const BINARY_SENSOR: u8 = 2;
export const FIXED: i32 = 4; // the light and three diagnostic sensors
const FIXED_OBJECTS: Ascii = "rgb,rssi,uptime,role";

function component(kind: i32): Ascii {
  return kind == 0 ? "light" : kind == BINARY_SENSOR + 8 ? "binary_sensor" : kind == SWITCH + 8 ? "switch" : "sensor";
}

export function pinNumber(i: i32): i32 {
  return i == PIN_COUNT ? PIN_LED : i;
}

/** "<discovery>/<component>/<id>/<object>/config"; the object is a fixed one's name or "pin<N>". */
function configTopic(kind: i32, pin: i32): void {
  pk.beginString();
  pk.bytes(set.discovery, set.discoveryLen);
  pk.byte(47);
  pk.text(component(kind));
  pk.byte(47);
  pk.bytes(set.clientId, set.clientIdLen);
  pk.byte(47);
  objectName(kind, pin);
  pk.text("/config");
  pk.endString();
}

function objectName(kind: i32, pin: i32): void {
  if (kind >= 8) {
    pk.text("pin");
    pk.decimal(pinNumber(pin));
  } else pk.text(kind == 0 ? "rgb" : kind == 1 ? "rssi" : kind == 2 ? "uptime" : "role");
}

function quoted(p: usize, n: i32): void {
  pk.byte(34);
  pk.bytes(p, n);
  pk.byte(34);
}

/** The members every entity has, then `specific`, then the device. */
function payload(kind: i32, pin: i32, name: Ascii): void {
  pk.text("{\"~\":\"");
  session.topicBase();
  pk.text("\",\"name\":");
  if (kind == 0) pk.text("null"); // the light is the device itself
  else if (kind >= 8 && pin == PIN_COUNT) pk.text("\"LED\"");
  else if (kind >= 8) {
    pk.text("\"GP");
    pk.decimal(pin);
    pk.byte(34);
  } else pk.text(name);
  pk.text(",\"uniq_id\":\"");
  pk.bytes(set.clientId, set.clientIdLen);
  pk.byte(95);
  objectName(kind, pin);
  pk.text("\",\"avty_t\":\"~/status\",\"qos\":1,");
  if (kind == 0) {
    pk.text("\"cmd_t\":\"~/light/set\",\"stat_t\":\"~/light/state\",\"rgb_cmd_t\":\"~/light/rgb/set\",");
    pk.text("\"rgb_stat_t\":\"~/light/rgb\",\"bri_cmd_t\":\"~/light/brightness/set\",\"bri_stat_t\":\"~/light/brightness\",");
  } else if (kind >= 8) {
    pk.text("\"stat_t\":\"~/pin/");
    pk.decimal(pinNumber(pin));
    pk.text(kind == SWITCH + 8 ? "/state\",\"cmd_t\":\"~/pin/" : "/state\",");
    if (kind == SWITCH + 8) {
      pk.decimal(pinNumber(pin));
      pk.text("/set\",");
    }
  } else {
    pk.text("\"stat_t\":\"~/diag\",\"ent_cat\":\"diagnostic\",\"val_tpl\":\"{{value_json.");
    pk.text(kind == 1 ? "rssi}}\",\"unit_of_meas\":\"dBm\",\"dev_cla\":\"signal_strength\","
      : kind == 2 ? "uptime_s}}\",\"unit_of_meas\":\"s\",\"dev_cla\":\"duration\"," : "role}}\",");
  }
  pk.text("\"dev\":{\"ids\":[");
  quoted(set.clientId, set.clientIdLen);
  pk.text("],\"name\":");
  quoted(set.clientId, set.clientIdLen);
  pk.text(",\"mf\":\"picowire\",\"mdl\":\"Pico W\",\"sw\":\"");
  pk.text(VERSION);
  pk.text("\"}}");
}

/** Publishes (retained) the config of fixed entity `kind` (0..3) or, with kind 8 + SWITCH/BINARY_SENSOR,
 *  of pin index `pin`; `remove` publishes the empty message that deletes it. False when it did not fit
 *  now. */
export function announce(kind: i32, pin: i32, remove: bool, now: u32): bool {
  session.startPacket();
  configTopic(kind, pin);
  if (!remove) payload(kind, pin, kind == 1 ? "\"Signal\"" : kind == 2 ? "\"Uptime\"" : "\"Role\"");
  return session.endPublish(0, true, now);
}

/** A retained config found under our id ([p, p+n) after "<discovery>/"): whether it describes nothing
 *  the board has now (the board restarted, or a pin was set up differently), so it must go.
 *  `wanted(pin)` is the component the pin has now (0: none). */
export function stale(p: usize, n: i32, wanted: usize): bool {
  let c = 0;
  while (c < n && load<u8>(p + c) != SLASH) c++;
  let idAt = c + 1;
  if (idAt + set.clientIdLen + 1 > n || !bytesSame(p + idAt, set.clientId, set.clientIdLen)) return false;
  let objAt = idAt + set.clientIdLen + 1;
  if (load<u8>(p + objAt - 1) != SLASH || n - objAt < 8 || !bytesEqual(p + n - 7, 7, "/config")) return false;
  let objLen = n - 7 - objAt;
  if (inList(FIXED_OBJECTS, p + objAt, objLen) > 0) return false;
  if (objLen < 4 || !bytesEqual(p + objAt, 3, "pin")) return true; // not ours any more
  let pin = <i32>parseDecimal(p + objAt + 3, objLen - 3, 2);
  let i = pin == PIN_LED ? PIN_COUNT : pin;
  if (pin < 0 || i > PIN_COUNT) return true;
  let want = <i32>load<u8>(wanted + i);
  let named: Ascii = want == SWITCH ? "switch" : want == BINARY_SENSOR ? "binary_sensor" : "";
  return want == 0 || !bytesEqual(p, c, named);
}
