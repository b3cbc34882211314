// WiFi topology (wifi_mode): `sta` joins a network (a home router: never becomes the access point),
// `ap` runs the bus's own access point, `auto` scans for the bus's SSID, joins it when it is there and
// otherwise brings up the access point after a randomised backoff. When the access point of an `auto`
// bus disappears, the members take it over in the order of the member list they share: the first
// survivor starts it at once, the next after a step, and so on, so exactly one does unless it is gone too.
// Two access points that come up at once (an `auto` board cannot hear the other before it starts its
// own) find each other in the scan an access point makes every few seconds: the one with the higher
// BSSID hands over, stops its access point and joins the other, so both sides agree without talking.
import {
  host_wifi_join, host_wifi_start_ap, host_wifi_stop_ap, host_wifi_scan, host_wifi_ip, host_wifi_mac, host_random_fill,
  OK, LOG_INFO, LOG_WARN, IFACE_AP,
  WIFI_EV_STA_UP, WIFI_EV_STA_DOWN, WIFI_EV_AP_UP, WIFI_EV_AP_DOWN, WIFI_EV_SCAN_RESULT, WIFI_EV_SCAN_DONE,
} from "../abi/host.generated";
import * as cfg from "../config";
import * as t from "./table";
import { myId, apIsOurs, setApIsOurs } from "./node";
import { Ascii } from "../util/ascii";
import { startDhcp, stopDhcp, AP_IP } from "../dhcp/server";
import { bytesSame } from "../util/bytes";
import { reached, msUntil } from "../util/time";
import { put, emit, putLine, putWithI32 } from "../util/log";
import { backoff } from "../util/retry";

const CHANNEL: i32 = 6;
const TAKEOVER_STEP_MS: u32 = 2000; // between successive candidates for the access point
const AP_CHECK_MS: u32 = 5000; // an auto access point looks for another one with its SSID this often
const IDLE: u8 = 0;
const WAITING: u8 = 1; // until `at`, then scan (or join, in sta mode)
const SCANNING: u8 = 2;
const JOINING: u8 = 3;
const JOINED: u8 = 4;
const AP_STARTING: u8 = 5;
const AP_RUNNING: u8 = 6;

let state: u8 = IDLE;
let at: u32 = 0;
let seen = false; // the last scan found the bus's SSID
let scansEmpty: u32 = 0; // scans in a row that did not
let failures: u32 = 0;
let handOver = false; // this scan found our SSID beaconed with a lower BSSID than ours
const rnd = memory.data(4);
const ownMac = memory.data(6);

export function startRadio(now: u32): void {
  if (cfg.wifiMode == cfg.WIFI_OFF) return;
  if (cfg.wifiMode == cfg.WIFI_AP) return startAp();
  // an auto board waits a random while first, so boards powered up together do not all start an AP
  wait(now, cfg.wifiMode == cfg.WIFI_AUTO ? random(2 * cfg.busElectionMs) : 0);
}

function random(range: u32): u32 {
  host_random_fill(rnd, 4);
  return load<u32>(rnd) % max(range, 1);
}

function wait(now: u32, ms: u32): void {
  state = WAITING;
  at = now + ms;
}

function startAp(): void {
  state = AP_STARTING;
  putLine("wifi: starting the access point", LOG_INFO);
  let r = host_wifi_start_ap(cfg.wifiSsid, cfg.wifiSsidLen, cfg.wifiPassword, cfg.wifiPasswordLen, CHANNEL);
  if (r != OK) failed("cannot start the access point", r);
}

function failed(why: Ascii, code: i32): void {
  put("wifi: ");
  put(why);
  putWithI32(", error ", code);
  emit(LOG_WARN);
  state = IDLE;
}

/** This board's turn to take over the access point: its place in the member list, the old access
 *  point (at AP_IP) left out. Not a member: after everyone else. */
function takeoverRank(): u32 {
  let rank: u32 = 0;
  for (let i = 0; i < t.count; i++) {
    let e = t.entry(i);
    if (load<u32>(e + t.E_IP) == AP_IP || t.flagsAt(i) & t.F_PLAIN) continue;
    if (t.idAt(i) == myId) return rank;
    rank++;
  }
  return rank;
}

export function wifiEvent(kind: i32, status: i32, io: usize, now: u32): void {
  if (kind == WIFI_EV_AP_UP) {
    state = AP_RUNNING;
    setApIsOurs(true);
    at = now + 500 + random(1000); // a twin started at the same moment shows up at once: look soon
    startDhcp(host_wifi_ip(IFACE_AP), now);
  } else if (kind == WIFI_EV_AP_DOWN) {
    setApIsOurs(false);
    stopDhcp();
  } else if (cfg.wifiMode == cfg.WIFI_OFF) {
    // the host manages the radio: only its access point's DHCP server (above) is ours
  } else if (kind == WIFI_EV_SCAN_RESULT) {
    // rssi i8, channel u8, auth u8, ssid_len u8, ssid, bssid
    let n = cfg.wifiSsidLen;
    if (status < 4 + n || <i32>load<u8>(io, 3) != n || !bytesSame(io + 4, cfg.wifiSsid, n)) return;
    seen = true;
    if (state == AP_RUNNING && status >= 10 + n && lower(io + 4 + n)) handOver = true;
  } else if (kind == WIFI_EV_SCAN_DONE && state == AP_RUNNING) {
    if (!handOver) return;
    putLine("wifi: another access point has our SSID and a lower BSSID: handing over and joining it", LOG_INFO);
    host_wifi_stop_ap();
    setApIsOurs(false);
    stopDhcp();
    join();
  } else if (kind == WIFI_EV_SCAN_DONE && state == SCANNING) {
    if (seen) return join();
    scansEmpty++;
    // auto: nobody runs the bus's network; after a second empty scan (or our turn) we start it
    if (scansEmpty >= 2) startAp();
    else wait(now, random(cfg.busElectionMs) + takeoverRank() * TAKEOVER_STEP_MS);
  } else if (kind == WIFI_EV_STA_UP) {
    state = JOINED;
    failures = 0;
    scansEmpty = 0;
  } else if (kind == WIFI_EV_STA_DOWN && cfg.wifiMode != cfg.WIFI_AP && !apIsOurs) {
    failures++;
    putWithI32("wifi: network lost or join failed, error ", status);
    emit(LOG_WARN);
    // a home network comes back by itself; the bus's own network is taken over in member order
    if (cfg.wifiMode == cfg.WIFI_STA) wait(now, backoff(500, failures, 10000));
    else {
      // everyone looks at once (the successor's access point may already be up); an empty scan
      // then waits for the board's turn (SCAN_DONE above)
      scansEmpty = 0;
      wait(now, 300 + random(500));
    }
  }
}

function join(): void {
  state = JOINING;
  let r = host_wifi_join(cfg.wifiSsid, cfg.wifiSsidLen, cfg.wifiPassword, cfg.wifiPasswordLen);
  if (r != OK) failed("cannot join", r);
}

/** Whether the BSSID at p sorts before our access point's (the radio's MAC). */
function lower(p: usize): bool {
  if (host_wifi_mac(IFACE_AP, ownMac) != 6) return false;
  for (let i = 0; i < 6; i++) {
    let a = load<u8>(p + i);
    let b = load<u8>(ownMac + i);
    if (a != b) return a < b;
  }
  return false;
}

export function radioTick(now: u32): u32 {
  if (state == AP_RUNNING && cfg.wifiMode == cfg.WIFI_AUTO) {
    if (!reached(now, at)) return msUntil(now, at);
    at = now + AP_CHECK_MS + random(AP_CHECK_MS);
    handOver = false;
    host_wifi_scan();
    return AP_CHECK_MS;
  }
  if (state != WAITING) return u32.MAX_VALUE;
  if (!reached(now, at)) return msUntil(now, at);
  if (cfg.wifiMode == cfg.WIFI_STA) join();
  else {
    state = SCANNING;
    seen = false;
    let r = host_wifi_scan();
    if (r != OK) failed("cannot scan", r);
  }
  return u32.MAX_VALUE;
}
