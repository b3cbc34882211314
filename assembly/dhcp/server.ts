// The access point's DHCP server (RFC 2131, options RFC 2132): the Pico SDK has none for AP mode.
// Sans-IO: one UDP socket on port 67 of the AP interface, a fixed lease table (reserved at init, so
// nothing is allocated when the AP comes up), time only through `now`. Address i of the pool is slot i of the
// table; a slot remembers its client's MAC after the lease ends, so a returning client gets its old
// address back. Replies are written over the request in the io buffer.
import { alloc } from "../util/heap";
import { IFACE_AP, OK, ERR_CONFIG, LOG_INFO, LOG_WARN, LOG_ERROR } from "../abi/host.generated";
import { udpOpen, udpSend, udpClose } from "../net/host";
import { dhcpFirst, dhcpCount, dhcpLeaseS } from "../config";
import { reached, msUntil } from "../util/time";
import { bytesSame } from "../util/bytes";
import { put, emit, putLine, putRule, putWithI32, putWithIp } from "../util/log";

/** The access point's own address (the Pico W's AP and the tutorial use it): router and DNS for clients. */
export const AP_IP: u32 = 0xc0a80401; // 192.168.4.1
// the lease table, slot i = address dhcp_first + i: the client's MAC, a state, when the state ends;
// dhcp_count slots reserved at init (every board: a worker keeps the leases the bus replicates)
let macs: usize = 0;
let states: usize = 0;
let ends: usize = 0; // ms, compared wrap-safely

export function reserveLeases(): void {
  let n = <usize>dhcpCount;
  macs = alloc(n * 11);
  states = macs + n * 6;
  ends = states + n; // u32s, read and written with unaligned-safe wasm loads
  memory.fill(macs, 0, n * 11);
}
const FREE: u8 = 0;
const HELD: u8 = 1; // offered and awaiting its REQUEST, or declined (MAC ff:ff:ff:ff:ff:ff)
const BOUND: u8 = 2;
// DHCP options (RFC 2132) the server reads
const OPT_PAD: u8 = 0;
const OPT_REQUESTED_IP: u8 = 50;
const OPT_MESSAGE_TYPE: u8 = 53;
const OPT_SERVER_ID: u8 = 54;
const OPT_END: u8 = 255;
const NOBODY = memory.data<u8>([255, 255, 255, 255, 255, 255]);
const OFFER_MS: u32 = 30000;
const DISCOVER = 1, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7, INFORM = 8;
const SERVER_TYPES = 0x19a; // bit t set for the types a client sends: 1, 3, 4, 7, 8
const REPLY_LEN = 300; // the BOOTP minimum some clients insist on; our options always fit in it
const opts = memory.data(8); // options 50 (requested address) and 54 (server identifier), as sent

let sock: i32 = -1;
let server: u32 = 0;
let clock: u32 = 0; // the last now seen, for dhcpLeaseAt
/** Datagrams dropped as malformed or not meant for a server (bad header, cookie, options or type). */
export let dhcpDropped: u32 = 0;

// @ts-ignore: decorator
@inline function mac(i: i32): usize {
  return macs + i * 6;
}

// @ts-ignore: decorator
@inline function state(i: i32): u8 {
  return load<u8>(states + i);
}

/** Opens UDP 67 on the AP interface and serves the pool from dhcp_first; apIp 0 means AP_IP.
 *  ERR_CONFIG when the pool is not inside the AP's /24 (or holds the AP's own address). */
export function startDhcp(apIp: u32, now: u32): i32 {
  clock = now;
  server = apIp ? apIp : AP_IP;
  let r = ERR_CONFIG;
  // the pool lies in the AP's /24, from .1 to .254, without the AP's own address
  if (!((dhcpFirst ^ server) >> 8) & ((dhcpFirst & 255) - 1 < <u32>(255 - dhcpCount)) & (server - dhcpFirst >= <u32>dhcpCount)) {
    r = sock >= 0 ? sock : udpOpen(67, IFACE_AP);
    if (r >= 0) {
      sock = r;
      putWithIp("dhcp: serving ", dhcpFirst);
      emit(LOG_INFO);
      return OK;
    }
  }
  putWithI32("dhcp: not started, error ", r);
  emit(LOG_ERROR);
  return r;
}

/** Closes the socket; leases stay, so clients keep their addresses when the AP returns. */
export function stopDhcp(): void {
  if (sock >= 0) udpClose(sock);
  sock = -1;
}

export function dhcpOwns(s: i32): bool {
  return sock >= 0 && s == sock;
}

/** The slot holding this MAC, or -1. */
function slotOf(m: usize): i32 {
  for (let i = 0; i < dhcpCount; i++) if (bytesSame(mac(i), m, 6)) return i;
  return -1;
}

function take(i: i32, m: usize, st: u8, ms: u32, now: u32): void {
  memory.copy(mac(i), m, 6);
  store<u8>(states + i, st);
  store<u32>(ends + (i << 2), now + ms);
}

/** One request at p (the io buffer); the reply, if any, is written over it and sent. */
export function dhcpDatagram(s: i32, ip: u32, port: i32, p: usize, len: i32, now: u32): void {
  clock = now;
  let type: u32 = 0;
  let m = p + 28; // chaddr
  store<u64>(opts, 0);
  // BOOTREQUEST, Ethernet, hlen 6 (hops ignored), the magic cookie, a unicast MAC; len <= IO_CAPACITY
  let ok = (len >= 241) & ((load<u32>(p) & 0xffffff) == 0x060101) & (load<u32>(p + 236) == 0x63538263) & !(load<u8>(m) & 1);
  for (let i = 240; ok; ) {
    if (i >= len) ok = false; // no end option
    else {
      let c = load<u8>(p + i);
      if (c == OPT_END) break;
      if (c == OPT_PAD) {
        i++;
        continue;
      }
      let v = p + i + 2;
      let l = <i32>load<u8>(p + i + 1);
      i += 2 + l;
      if (i > len) ok = false;
      else if (c == OPT_MESSAGE_TYPE) type = l == 1 ? load<u8>(v) : 0;
      else if ((c | 4) == OPT_SERVER_ID) { // OPT_REQUESTED_IP (50) or OPT_SERVER_ID (54)
        ok = l == 4;
        store<u32>(opts + (c & 4), load<u32>(v));
      }
    }
  }
  if (!ok | (type > 8) | !((SERVER_TYPES >> <i32>type) & 1)) {
    dhcpDropped++;
    put("dhcp: dropped a datagram");
    putRule(ok ? "message type" : "format"); // not one a server answers, or not BOOTP/DHCP as RFC 2131 says
    emit(LOG_INFO);
    return;
  }
  let want = bswap<u32>(load<u32>(opts)) - dhcpFirst; // the requested address's slot
  let sid = bswap<u32>(load<u32>(opts + 4));
  let ci = bswap<u32>(load<u32>(p + 12));
  let k = slotOf(m);
  let yi: u32 = 0;
  let reply = ACK;
  if (type == DISCOVER) {
    // the client's own slot, else the lowest never-used address, else the last whose lease ended
    if (k < 0) {
      for (let i = dhcpCount - 1; i >= 0; i--) {
        if ((state(i) == FREE) & ((k < 0) | ((load<u32>(mac(i)) | load<u16>(mac(i) + 4)) == 0))) k = i;
      }
    }
    if (k < 0) {
      putLine("dhcp: pool full", LOG_WARN);
      return;
    }
    if (state(k) != BOUND) take(k, m, HELD, OFFER_MS, now);
    yi = dhcpFirst + k;
    reply = 2; // OFFER
  } else if (type == REQUEST) {
    if (sid && sid != server) return; // it chose another server's offer (ours lapses in OFFER_MS)
    let w = <i32>(load<u32>(opts) ? want : ci - dhcpFirst);
    // its own slot, or a free one for a client we do not know (e.g. leased by an access point before us)
    if (<u32>w < <u32>dhcpCount && (k == w || (k < 0 && state(w) == FREE))) {
      take(w, m, BOUND, dhcpLeaseS * 1000, now);
      yi = dhcpFirst + w;
      putWithIp("dhcp: leased ", yi);
      emit(LOG_INFO);
    } else reply = NAK; // another client's, outside the pool or the subnet, or not what we offered
  } else if (type != INFORM) {
    // DECLINE (someone else uses the address: hold it a lease time) and RELEASE name the client's own
    if ((k >= 0) & (<u32>k == (type == DECLINE ? want : ci - dhcpFirst))) {
      if (type == DECLINE) take(k, NOBODY, HELD, dhcpLeaseS * 1000, now);
      else store<u8>(states + k, FREE);
    }
    return;
  } // INFORM: an address configured by hand gets the options, no lease (yiaddr stays 0)
  // the reply: op 2, hops 0, secs 0; xid, flags, giaddr and chaddr as the client sent them
  let bcast = (reply == NAK) | !ci | ((load<u8>(p + 10) & 0x80) != 0);
  store<u32>(p, 0x060102); // op 2, htype 1, hlen 6, hops 0
  store<u16>(p + 8, 0);
  if (reply != ACK) store<u32>(p + 12, 0); // ciaddr: only an ACK repeats it
  store<u32>(p + 16, bswap<u32>(yi));
  store<u32>(p + 20, 0);
  memory.fill(p + 44, 0, REPLY_LEN - 44); // sname, file, options
  store<u32>(p + 236, 0x63538263);
  store<u32>(p + 240, 0x0135 | (reply << 16)); // 53, 1, type
  let o = option(p + 243, 54, server);
  if (reply != NAK) {
    if (type != INFORM) o = option(o, 51, dhcpLeaseS);
    o = option(option(option(o, 1, 0xffffff00), 3, server), 6, server);
  }
  store<u8>(o, 255);
  udpSend(sock, bcast ? u32.MAX_VALUE : ci, 68, p, REPLY_LEN);
}

function option(o: usize, code: u32, v: u32): usize {
  store<u16>(o, <u16>(code | 0x400));
  store<u32>(o + 2, bswap<u32>(v));
  return o + 6;
}

/** Ends leases and offers whose time is up; milliseconds until the next one ends, or u32.MAX_VALUE. */
export function dhcpTick(now: u32): u32 {
  clock = now;
  let next = u32.MAX_VALUE;
  for (let i = 0; i < dhcpCount; i++) {
    if (state(i) == FREE) continue;
    let at = load<u32>(ends + (i << 2));
    if (reached(now, at)) store<u8>(states + i, FREE);
    else next = min(next, at - now); // > 0: not reached
  }
  return next;
}

/** Addresses currently leased (STAT_DHCP_LEASES). */
export function dhcpLeases(): i32 {
  let n = 0;
  for (let i = 0; i < dhcpCount; i++) if (state(i) == BOUND) n++;
  return n;
}

/** Slots to walk with dhcpLeaseAt (the pool size). */
export function dhcpLeaseCount(): i32 {
  return dhcpCount;
}

/** Lease i for replication: mac[6], ip[4], seconds left[4] (both big-endian); 14, or 0 if not leased. */
export function dhcpLeaseAt(i: i32, dst: usize): i32 {
  if (<u32>i >= <u32>dhcpCount || state(i) != BOUND) return 0;
  memory.copy(dst, mac(i), 6);
  store<u32>(dst + 6, bswap<u32>(dhcpFirst + i));
  store<u32>(dst + 10, bswap<u32>(msUntil(clock, load<u32>(ends + (i << 2))) / 1000));
  return 14;
}

/** Takes over a lease another access point granted (a dhcpLeaseAt record at src); ignored outside
 *  the pool; the time left is capped at dhcp_lease_s. */
export function dhcpAdoptLease(src: usize, now: u32): void {
  let w = bswap<u32>(load<u32>(src + 6)) - dhcpFirst;
  let left = min(bswap<u32>(load<u32>(src + 10)), dhcpLeaseS);
  if (w >= <u32>dhcpCount || !left) return;
  let k = slotOf(src);
  if (k >= 0) take(k, NOBODY, FREE, 0, now); // one slot per client
  take(<i32>w, src, BOUND, left * 1000, now);
}
