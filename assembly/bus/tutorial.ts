// The tutorial's plain boards on the bus: a datagram starting with HELLO on the bus port gets the
// members' addresses, master first ("ip1,ip2,..."), and the board joins the membership; the master
// sends "NODES: ip1, ip2, ..." to each plain member every few seconds; text on the message port
// (5001) from any peer is shown in the log. It sits on top of the bus (node.ts), which knows nothing of it.
import { COMMA, SPACE } from "../util/ascii";
import { IFACE_STA, IFACE_AP, LOG_INFO, BUS_ROLE_MASTER } from "../abi/host.generated";
import { udpOpen, udpSend } from "../net/host";
import * as cfg from "../config";
import * as t from "./table";
import { tx, DATAGRAM_MAX } from "./wire";
import { sock, role, masterIp, admit, sendJoin, ownIp, indexOfIp } from "./node";
import { putAscii, putIpText } from "../util/bytes";
import { put, putBytes, emit, putWithIp } from "../util/log";

let msgSock: i32 = -1;

export function startMessages(): void {
  msgSock = udpOpen(cfg.busMsgPort, cfg.wifiMode == cfg.WIFI_AP ? IFACE_AP : IFACE_STA);
}

export function messagesOwns(s: i32): bool {
  return s == msgSock && s >= 0;
}

/** Appends ip to the list at tx + at (n: its end so far), after a comma (and a space when `sep`). */
function addAddress(at: i32, n: i32, sep: u32, ip: u32): i32 {
  if (n + 17 > DATAGRAM_MAX) return n;
  if (n > at) {
    store<u8>(tx + n++, COMMA);
    if (sep) store<u8>(tx + n++, SPACE);
  }
  return n + putIpText(tx + n, ip);
}

/** Comma-separated member addresses at tx + at (sep ", " for NODES), this board alone before a bus
 *  exists; plus `extra` last when it is not a member yet. The new length. */
function addresses(at: i32, sep: u32, extra: u32): i32 {
  let n = at;
  if (t.count == 0) n = addAddress(at, n, sep, ownIp());
  for (let i = 0; i < t.count; i++) n = addAddress(at, n, sep, load<u32>(t.entry(i) + t.E_IP));
  if (extra != 0 && indexOfIp(extra) < 0) n = addAddress(at, n, sep, extra);
  return n;
}

const NODES_EVERY_MS: u32 = 3000; // the tutorial's access point sends its list every few seconds
let nodesAt: u32 = 0;

/** A datagram on the bus port that is the tutorial's HELLO or WHO: answered here (true), else false. */
export function tutorialDatagram(ip: u32, port: i32, p: usize, n: i32, now: u32): bool {
  if (n >= 5 && load<u32>(p) == 0x4c4c4548 && load<u8>(p, 4) == 0x4f) answerHello(ip, port, true, now); // "HELLO"
  else if (n == 3 && load<u16>(p) == 0x4857 && load<u8>(p, 2) == 0x4f) answerHello(ip, port, false, now); // "WHO": list only
  else return false;
  return true;
}

/** The master sends the member list to the plain members every NODES_EVERY_MS (after its heartbeat). */
export function nodesTick(now: u32): void {
  if (role != BUS_ROLE_MASTER || now - nodesAt < NODES_EVERY_MS) return;
  nodesAt = now;
  sendNodes();
}

/** HELLO registers the asker as a plain member; WHO (picowire discover) only asks for the list. */
function answerHello(ip: u32, port: i32, join: bool, now: u32): void {
  let id = t.PLAIN_ID | <u64>ip;
  if (join && role == BUS_ROLE_MASTER) admit(id, ip, port, now);
  else if (join && masterIp != 0) sendJoin(masterIp, id, ip, port);
  udpSend(sock, ip, port, tx, addresses(0, 0, join ? ip : 0));
}

function sendNodes(): void {
  let n = addresses(putAscii(tx, "NODES: "), 1, 0);
  for (let i = 0; i < t.count; i++) {
    let e = t.entry(i);
    if (t.flagsAt(i) & t.F_PLAIN) udpSend(sock, load<u32>(e + t.E_IP), load<u32>(e + t.E_UPTIME), tx, n);
  }
}

export function messageDatagram(ip: u32, p: usize, n: i32): void {
  putWithIp("bus: message from ", ip);
  put(": ");
  putBytes(p, min(n, 120));
  emit(LOG_INFO);
}
