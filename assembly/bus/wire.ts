// picowire's own bus datagrams (docs/PROTOCOL.md): a 24-byte header, a body, and with a bus key a
// 16-byte HMAC-SHA256 tag over everything before it. Little-endian, as wasm stores.
import { udpSend } from "../net/host";
import * as cfg from "../config";
import { hmacStart, hmacUpdate, hmacFinal } from "../util/sha256";
import { bytesSame } from "../util/bytes";

export const HEADER: i32 = 24;
export const TAG: i32 = 16;
export const PROTOCOL_VERSION: u8 = 1;
export const T_JOIN: u8 = 1; // body: ip u32 (0: the sender's address), plain u8
export const T_HEARTBEAT: u8 = 2; // body: version u32, version term u32, members u16
export const T_ACK: u8 = 3; // body: version u32, version term u32, uptime s u32, rssi i8
export const T_LIST: u8 = 4; // body: version u32, version term u32, total u16, first u16, n u8, n * ROW
export const T_VOTE_REQUEST: u8 = 5; // body: version u32, version term u32
export const T_VOTE: u8 = 6; // body: granted u8
export const T_LEASES: u8 = 7; // body: n u8, n * 14 (the access point's DHCP leases: mac, ip, seconds left)
export const T_PIXELS: u8 = 8; // body: seq u32, hold ms u32, first u16, n u16, flags u8, n * rgb (assembly/lights)
export const ROW: i32 = 18; // a member in a list: id u64, ip u32, flags u8, rssi i8, uptime u32
export const DATAGRAM_MAX: i32 = 1472; // one Ethernet frame

// header fields
export const H_TYPE: usize = 3;
export const H_BUS: usize = 4;
export const H_TERM: usize = 12;
export const H_FROM: usize = 16;

export const tx = memory.data(DATAGRAM_MAX);
const tag = memory.data(32);
export let sent: u32 = 0;

/** Starts a datagram in tx; the body goes at tx + HEADER. */
export function begin(type: u8, bus: u64, term: u32, from: u64): usize {
  store<u16>(tx, 0x5750); // "PW"
  store<u8>(tx, PROTOCOL_VERSION, 2);
  store<u8>(tx, type, H_TYPE);
  store<u64>(tx + H_BUS, bus);
  store<u32>(tx + H_TERM, term);
  store<u64>(tx + H_FROM, from);
  return tx + HEADER;
}

function mac(p: usize, n: i32): void {
  hmacStart(cfg.busKey, cfg.busKeyLen);
  hmacUpdate(p, n);
  hmacFinal(tag);
}

/** Sends tx with bodyLen body bytes (tagged when a bus key is set) to ip:port. */
export function transmit(sock: i32, ip: u32, port: i32, bodyLen: i32): void {
  let n = HEADER + bodyLen;
  if (cfg.busKeyLen > 0) {
    mac(tx, n);
    memory.copy(tx + n, tag, TAG);
    n += TAG;
  }
  udpSend(sock, ip, port, tx, n);
  sent++;
}

/** The body length of a received datagram [p, p+n), or -1 when it is not a valid bus datagram of
 *  ours (magic, version, tag with our key). */
export function bodyLength(p: usize, n: i32): i32 {
  let body = n - HEADER - (cfg.busKeyLen > 0 ? TAG : 0);
  if (body < 0 || load<u16>(p) != 0x5750 || load<u8>(p, 2) != PROTOCOL_VERSION) return -1;
  if (cfg.busKeyLen > 0) {
    mac(p, HEADER + body);
    if (!bytesSame(tag, p + HEADER + body, TAG)) return -1;
  }
  return body;
}
