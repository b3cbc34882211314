// The control actions (piconetcontrol's, plus picowire's): each reads its fields from the parsed
// command and appends its results to the reply, or explains in plain words what is wrong.
import { Ascii, asciiLen, asciiAt } from "../util/ascii";
import {
  host_adc_read, host_free_heap, host_reset_reason, host_wifi_ip, host_wifi_rssi, host_sleep, host_reset,
  host_asset_find, host_asset_read, ABI_VERSION, PIN_COUNT, PIN_LED, PULL_NONE, PULL_UP, PULL_DOWN,
  IFACE_STA, IFACE_AP, SLEEP_LIGHT, SLEEP_DEEP, RESET_KIND_BOARD, RESET_POWER_ON, RESET_WATCHDOG, RESET_SOFTWARE,
} from "../abi/host.generated";
import * as json from "../util/json";
import * as reply from "../util/reply";
import * as pins from "./pins";
import * as led from "./led";
import * as cfg from "../config";
import { setColour, current } from "../rgb/server";
import { lastColour } from "../rgb/client";
import { parseEither, formatHex } from "../rgb/codec";
import { heapTop, HEAP_LIMIT } from "../util/heap";
import { bytesEqual, inList, putAscii } from "../util/bytes";
import * as log from "../util/log";
import { describeBus, roleName } from "./bus";
import { otaAction, describe as describeOta } from "../ota/ota";
import { getPixels } from "../lights/lights";
import * as store from "../store/config_sector";
import { mqttAction } from "../mqtt/actions";

export const VERSION: Ascii = "0.1.0";
const MAX_TIMEOUT_MS: i64 = 86400000; // a day: longer would not be a fail-safe
const scratch = memory.data(80);

/** Whether member i is the string `lit` (no escapes). */
function strIs(i: i32, lit: Ascii): bool {
  return i >= 0 && json.memberType(i) == json.T_STRING && bytesEqual(json.memberValue(i) + 1, json.memberValueLen(i) - 2, lit);
}


/** The pin named by the "pin" field as a table index, or -1 after explaining why not. */
function pinField(): i32 {
  let f = json.find("pin");
  if (strIs(f, "LED")) return pins.pinIndex(PIN_LED);
  let pin = json.intValue(f, -1000, 1000);
  if (pin == i64.MIN_VALUE) {
    reply.missing("pin", "a GPIO number (0-28) or \"LED\"");
    return -1;
  }
  let i = pins.pinIndex(<i32>pin);
  if (i < 0) {
    reply.errorStart("pin ");
    reply.errorNum(pin);
    reply.errorMore(pins.isRadioPin(<i32>pin) ? " is wired to the WiFi chip on a Pico W and cannot be used" : " does not exist (GPIO 0-28, or \"LED\")");
  }
  return i;
}

/** The action's result: {"value": v}. */
function valueResult(v: i64): bool {
  reply.keyNum("value", v);
  return true;
}

function hostFailed(code: i32): bool {
  return hostFailedAt(reply.actionAt, reply.actionLen, code);
}

function hostFailedAt(what: usize, whatLen: i32, code: i32): bool {
  reply.errorStart("");
  reply.errorBytes(what, whatLen);
  reply.errorMore(" failed (host error ");
  reply.errorNum(code);
  reply.errorMore(")");
  return false;
}

function setupPin(): bool {
  let i = pinField();
  if (i < 0) return false;
  let mf = json.find("mode");
  let output = strIs(mf, "output");
  if (strIs(mf, "none")) {
    let r = pins.release(i);
    return r < 0 ? hostFailed(r) : true;
  }
  if (!output && !strIs(mf, "input")) return reply.missing("mode", "\"input\", \"output\" or \"none\"");
  let pf = json.find("pull");
  let pull = PULL_NONE;
  if (pf >= 0) {
    if (strIs(pf, "up")) pull = PULL_UP;
    else if (strIs(pf, "down")) pull = PULL_DOWN;
    else if (!strIs(pf, "none") && json.memberType(pf) != json.T_NULL) return reply.missing("pull", "\"up\", \"down\" or \"none\"");
  }
  let value = 0;
  if (output) {
    let v = json.intValue(json.find("value"), 0, 1);
    if (v == i64.MIN_VALUE) return reply.missing("value", "the initial value of an output, 0 or 1");
    value = <i32>v;
  }
  let r = pins.setup(i, output, pull, value);
  if (r < 0) return hostFailed(r);
  if (i == PIN_COUNT) led.enabled = false; // a client took the LED over from the status pattern
  let level = pins.read(i);
  if (level < 0) {
    let what: Ascii = "reading the pin after setup";
    return hostFailedAt(what + 1, asciiLen(what), level);
  }
  return valueResult(level);
}

function writePin(now: u32): bool {
  let i = pinField();
  if (i < 0) return false;
  let v = json.intValue(json.find("value"), 0, 1);
  if (v == i64.MIN_VALUE) return reply.missing("value", "0 or 1");
  let ms = json.millisValue(json.find("timeout"), MAX_TIMEOUT_MS);
  if (ms <= 0) return reply.missing("timeout", "a fail-safe timeout in seconds (above 0, at most 86400)");
  if (pins.pinMode(i) != pins.MODE_OUTPUT && i != PIN_COUNT) {
    reply.errorStart("pin is not set up as an output: send setup_pin with mode \"output\" first");
    return false;
  }
  let r = pins.writeWithRevert(i, <i32>v, now, <u32>ms);
  if (r < 0) return hostFailed(r);
  if (i == PIN_COUNT) led.enabled = false; // a client drives the LED now, not the status pattern
  return valueResult(v);
}

function readPin(): bool {
  let i = pinField();
  if (i < 0) return false;
  if (pins.pinMode(i) == pins.MODE_UNSET && i != PIN_COUNT) {
    reply.errorStart("pin is not set up: send setup_pin first");
    return false;
  }
  let v = pins.read(i);
  if (v < 0) return hostFailed(v);
  return valueResult(v);
}

function setPwm(): bool {
  let i = pinField();
  if (i < 0) return false;
  if (i == PIN_COUNT) {
    reply.errorStart("the LED sits on the WiFi chip and has no PWM");
    return false;
  }
  let duty = json.intValue(json.find("duty"), 0, 65535);
  if (duty == i64.MIN_VALUE) return reply.missing("duty", "a duty from 0 to 65535");
  let ff = json.find("freq");
  let freq: i64 = ff < 0 ? 1000 : json.intValue(ff, 10, 1000000);
  if (freq == i64.MIN_VALUE) return reply.missing("freq", "a frequency from 10 to 1000000 Hz");
  let r = pins.pwm(i, <i32>freq, <i32>duty);
  if (r < 0) return hostFailed(r);
  return true;
}

function readAdc(): bool {
  let ch = json.intValue(json.find("channel"), 0, 4);
  if (ch == i64.MIN_VALUE) return reply.missing("channel", "an ADC channel 0-3, or 4 for the temperature sensor");
  let v = host_adc_read(<i32>ch);
  if (v < 0) return hostFailed(v);
  return valueResult(v);
}

function setRgb(): bool {
  let f = json.find("rgb");
  let rgb = f >= 0 && json.memberType(f) == json.T_STRING ? parseEither(json.memberValue(f) + 1, json.memberValueLen(f) - 2) : -1;
  if (rgb < 0) return reply.missing("rgb", "a colour as \"r,g,b\" or \"#rrggbb\"");
  setColour(rgb);
  reply.key("rgb");
  reply.strBytes(scratch, formatHex(rgb, scratch));
  return true;
}

function resetReason(): Ascii {
  let r = host_reset_reason();
  return r == RESET_POWER_ON ? "power_on" : r == RESET_WATCHDOG ? "watchdog" : r == RESET_SOFTWARE ? "software" : "trap";
}

function info(now: u32, bootAt: u32): bool {
  reply.keyNum("free_memory", host_free_heap());
  reply.keyNum("core_memory", <i64>heapTop());
  reply.keyNum("core_memory_cap", <i64>HEAP_LIMIT);
  reply.keyNum("uptime_ms", <i64>(now - bootAt));
  reply.key("ip");
  let ip = host_wifi_ip(IFACE_STA);
  reply.ip(ip != 0 ? ip : host_wifi_ip(IFACE_AP));
  reply.keyNum("rssi", host_wifi_rssi());
  reply.key("core_sha256");
  let a = host_asset_find(scratch, putName(scratch, "core.sha256"));
  let n = a < 0 ? 0 : host_asset_read(a, 0, scratch, 64);
  if (n > 0) reply.strBytes(scratch, n);
  else reply.str("unknown");
  reply.keyNum("abi_version", ABI_VERSION);
  reply.key("version");
  reply.str(VERSION);
  reply.key("reset_reason");
  reply.str(resetReason());
  reply.key("role");
  reply.str(roleName());
  reply.key("rgb");
  // a worker following the master shows the master's colour
  reply.strBytes(scratch, formatHex(lastColour >= 0 ? lastColour : current, scratch));
  describeOta();
  return true;
}

function putName(dst: usize, name: Ascii): i32 {
  return putAscii(dst, name);
}

function sleepAction(): bool {
  let mf = json.find("mode");
  let deep = strIs(mf, "deep");
  if (!deep && !strIs(mf, "light")) return reply.missing("mode", "\"light\" or \"deep\"");
  let ms = json.intValue(json.find("ms"), 1, MAX_TIMEOUT_MS);
  if (ms == i64.MIN_VALUE) return reply.missing("ms", "a duration in milliseconds");
  let r = host_sleep(deep ? SLEEP_DEEP : SLEEP_LIGHT, <i32>ms);
  if (r < 0) return hostFailed(r);
  return true;
}

const ACTIONS: Ascii = "ping,get_version,list_actions,setup_pin,write_pin,read_pin,set_pwm,read_adc,set_rgb,get_info,get_resource_info,get_bus,sleep,reset,get_log,get_pixels,set_config,factory_reset,scan_wifi,ota_begin,ota_chunk,ota_end,ota_status,get_mqtt,mqtt_send";

function listActions(): bool {
  reply.key("actions");
  reply.strList(ACTIONS);
  return true;
}

function bus(now: u32, bootAt: u32): bool {
  let from = json.find("from");
  let first = from < 0 ? 0 : json.intValue(from, 0, 255);
  if (first == i64.MIN_VALUE) return reply.missing("from", "a member index from 0 (the reply's \"next\")");
  describeBus(<i32>first, now, bootAt);
  return true;
}

/** get_log {"since": seq}: the board's latest log lines from seq on, as many as surely fit the reply
 *  (a first line too long for it is cut short), and "next", the seq to ask for next time. Lines gone
 *  from the ring are skipped. */
function getLog(): bool {
  let f = json.find("since");
  let p = log.tailFrom(f < 0 ? 0 : <u32>json.intValue(f, 0, 0xffffffff));
  let q = p;
  reply.key("lines");
  reply.lit("[");
  while (p != log.logEnd) {
    let n = log.lineAt(p);
    let fit = (reply.room() - 32) >> 1; // escaped, a byte can take two; "next" comes after
    if (n > fit && p != q) break;
    if (p != q) reply.lit(",");
    reply.strBytes(log.lineBuf, min(n, fit));
    p += <u32>n + 1;
  }
  reply.lit("]");
  reply.keyNum("next", <i64>p);
  return true;
}

/** Runs the command's action, appending results; false with an error reason set. */
export function run(now: u32, bootAt: u32): bool {
  let a = json.find("action");
  if (a < 0 || json.memberType(a) != json.T_STRING) {
    reply.errorStart("missing field 'action' (list_actions names them)");
    return false;
  }
  reply.keyNum("time_received", <i64>(now - bootAt));
  reply.setAction(json.memberValue(a) + 1, json.memberValueLen(a) - 2);
  let k = inList(ACTIONS, reply.actionAt, reply.actionLen);
  switch (k) {
    case 1:
      reply.key("pong");
      reply.lit("true");
      return true;
    case 2:
      reply.key("version");
      reply.str(VERSION);
      reply.keyNum("abi_version", ABI_VERSION);
      return true;
    case 3: return listActions();
    case 4: return setupPin();
    case 5: return writePin(now);
    case 6: return readPin();
    case 7: return setPwm();
    case 8: return readAdc();
    case 9: return setRgb();
    case 10:
    case 11: return info(now, bootAt);
    case 12: return bus(now, bootAt);
    case 13: return sleepAction();
    case 14:
      host_reset(RESET_KIND_BOARD); // after this event: the reply goes out first
      return true;
    case 15: return getLog();
    case 16: return getPixels();
    case 17: return store.setConfig();
    case 18: return store.factoryReset();
    case 19: return store.scanWifi();
  }
  if (k > 23) return mqttAction(k - 24, now);
  if (k > 19) return otaAction(k - 20);
  reply.errorStart("unknown action (list_actions names them)");
  return false;
}
