// LED-strip light data (docs/lights.md): WLED's UDP realtime formats on 21324 (WARLS, DRGB, DRGBW,
// DNRGB), DDP on 4048 and E1.31/sACN on 5568 parse into one pixel buffer reserved at init; brightness,
// gamma and colour order make the wire bytes, one pixels_show per frame. The bus master forwards what
// it receives to the workers (bus/wire.ts T_PIXELS), each of which shows its own segment.
import {
  host_pixels_show, OK, ERR_NOMEM, ERR_CONFIG, LOG_ERROR, LOG_INFO, LOG_WARN, IFACE_STA, IFACE_AP,
  BUS_ROLE_MASTER,
} from "../abi/host.generated";
import { udpOpen, udpJoin } from "../net/host";
import * as cfg from "../config";
import { GAMMA } from "../rgb/gamma.generated";
import { current } from "../rgb/server";
import { lastColour } from "../rgb/client";
import { alloc, heapTop, HEAP_LIMIT } from "../util/heap";
import { putWithI32, putLine, emit } from "../util/log";
import { reached, msUntil } from "../util/time";
import * as reply from "../util/reply";
import * as json from "../util/json";
import * as bus from "../bus/node";
import { begin, T_PIXELS, HEADER, TAG, DATAGRAM_MAX } from "../bus/wire";

// settings (assembly/settings/spec.json, parsed by config.ts)
import {
  pixelsPin, pixelsCount, pixelsOffset, e131Universe, e131Start, lightsListeners as listeners, pixelsPosR as posR,
  pixelsPosG as posG, pixelsPosB as posB, LIGHTS_WLED as L_WLED, LIGHTS_DDP as L_DDP, LIGHTS_E131 as L_E131, PIXELS_MAX,
} from "../config";

// state
let raw: usize = 0; // pixelsCount * 3 bytes r, g, b as received (get_pixels)
let out: usize = 0; // pixelsCount * 3 wire bytes after gamma, brightness and order
const lut = memory.data(256); // gamma then brightness
let sockW: i32 = -1;
let sockD: i32 = -1;
let sockE: i32 = -1;
export let frames: u32 = 0;
export let dropped: u32 = 0;
export let mode: i32 = 0; // 0 normal (the board's colour), else the source of the last frame: M_*
const M_WLED = 1;
const M_DDP = 2;
const M_E131 = 3;
const M_BUS = 4;
let until: u32 = 0;
let forever = false;
let shownColour: i32 = -1;
let ddpPushSeen = false;
let busSeq: u32 = 0; // the master's next, a worker's latest
let busSeqSeen = false;
const e131Seq = memory.data(8); // the latest sequence number per universe (k = universe - e131_universe)
let e131Have: u32 = 0; // bit k: e131Seq[k] holds a number
const HOLD_DEFAULT_MS: u32 = 2500; // DDP, E1.31: WLED's realtime timeout
const FOREVER: u32 = u32.MAX_VALUE;
const E131_PER_UNIVERSE: i32 = 170;

let openFailed = false;
function open(port: i32): i32 {
  let s = udpOpen(port, cfg.wifiMode == cfg.WIFI_AP ? IFACE_AP : IFACE_STA);
  if (s < 0) {
    putWithI32("lights: cannot open UDP port ", port);
    emit(LOG_ERROR);
    openFailed = true;
  }
  return s;
}

export function startLights(): i32 {
  if (pixelsCount == 0) return OK;
  let half = ((pixelsCount + 3) & ~3) * 3; // whole rounds of show()'s four pixels
  let need = half * 2;
  if (need > <i32>(HEAP_LIMIT - heapTop()) - 64) {
    putWithI32("lights: no memory left for pixels_count: bytes needed ", need);
    emit(LOG_ERROR);
    return ERR_NOMEM;
  }
  raw = alloc(<usize>need);
  out = raw + <usize>half;
  memory.fill(raw, 0, <usize>need);
  setBrightness(cfg.brightness);
  if (listeners & L_WLED) sockW = open(21324);
  if (listeners & L_DDP) sockD = open(4048);
  if (listeners & L_E131) {
    sockE = open(5568);
    // senders multicast each universe to 239.255.<hi>.<lo> (E1.31 9.3.1): join those this board shows,
    // or all it may forward to a bus; a restart with other settings starts from a closed socket
    for (let k = 0, n = cfg.busOn ? 8 : lastUniverse() + 1; k < n && sockE >= 0; k++) {
      let r = udpJoin(sockE, 0xefff0000 | <u32>(e131Universe + k), 1);
      if (r < 0) {
        putWithI32("lights: cannot join the multicast group of universe ", e131Universe + k);
        putWithI32(" (error ", r);
        putLine("); unicast still works", LOG_WARN);
        break;
      }
    }
  }
  return openFailed ? ERR_CONFIG : OK;
}

/** The brightness (0..255) for the RGB pins and the strip's next frame. */
export function setBrightness(v: i32): void {
  cfg.brightness = v;
  for (let i = 0; i < 256; i++) store<u8>(lut + i, (<i32>load<u8>(GAMMA + i) * v) / 255);
}

export function lightsOwns(sock: i32): bool {
  return sock >= 0 && (sock == sockW || sock == sockD || sock == sockE);
}

/** Gamma, brightness and colour order over the whole frame, then one pixels_show. Four pixels a round
 *  (the buffers are sized for whole rounds), one pointer per colour, and every offset, the table's
 *  included, an immediate: three loads and stores a channel and no address arithmetic, which is what
 *  an interpreter (wasm3 on the board) pays for by the operation (docs/BOARD-PERFORMANCE.md). */
export function show(): void {
  let s = raw;
  let end = raw + <usize>(pixelsCount * 3);
  let r = out + <usize>posR;
  let g = out + <usize>posG;
  let b = out + <usize>posB;
  for (; s < end; s += 12, r += 12, g += 12, b += 12) {
    store<u8>(r, load<u8>(load<u8>(s), lut));
    store<u8>(g, load<u8>(load<u8>(s, 1), lut));
    store<u8>(b, load<u8>(load<u8>(s, 2), lut));
    store<u8>(r, load<u8>(load<u8>(s, 3), lut), 3);
    store<u8>(g, load<u8>(load<u8>(s, 4), lut), 3);
    store<u8>(b, load<u8>(load<u8>(s, 5), lut), 3);
    store<u8>(r, load<u8>(load<u8>(s, 6), lut), 6);
    store<u8>(g, load<u8>(load<u8>(s, 7), lut), 6);
    store<u8>(b, load<u8>(load<u8>(s, 8), lut), 6);
    store<u8>(r, load<u8>(load<u8>(s, 9), lut), 9);
    store<u8>(g, load<u8>(load<u8>(s, 10), lut), 9);
    store<u8>(b, load<u8>(load<u8>(s, 11), lut), 9);
  }
  host_pixels_show(pixelsPin, out, pixelsCount * 3);
  frames++;
}

/** Pixels [first, first+n) of a frame (frame numbering: pixels_offset is this board's first) from src,
 *  `stride` bytes each (r, g, b first); what lies outside this board's segment is left out. */
function put(first: i32, src: usize, n: i32, stride: i32): void {
  let a = max(first - pixelsOffset, 0);
  let b = min(first + n - pixelsOffset, pixelsCount);
  src += <usize>((a + pixelsOffset - first) * stride);
  if (stride == 3) { // DDP, E1.31, DRGB, the bus: one bulk copy, not an interpreted loop
    if (b > a) memory.copy(raw + a * 3, src, <usize>((b - a) * 3));
    return;
  }
  for (let j = a; j < b; j++, src += stride) {
    let d = raw + j * 3;
    store<u16>(d, load<u16>(src));
    store<u8>(d, load<u8>(src, 2), 2);
  }
}

function hold(ms: u32, m: i32, now: u32): void {
  mode = m;
  forever = ms == FOREVER;
  until = now + ms;
}

function bad(): void {
  dropped++;
}

function be16(p: usize): i32 {
  return <i32>bswap<u16>(load<u16>(p));
}

/** A pixel run the master also forwards to the bus; shows when `last` (the bus's workers: when
 *  `last` or `part`, which ends the part of a frame one datagram brings). */
function frame(first: i32, src: usize, n: i32, stride: i32, last: bool, part: bool, ms: u32, m: i32, now: u32): void {
  n = min(max(n, 0), 65535 - first); // pixel numbers stay within u16 (the bus's PIXELS datagram)
  put(first, src, n, stride);
  hold(ms, m, now);
  if (last) show();
  if (bus.role == BUS_ROLE_MASTER) forward(first, src, n, stride, last || part, ms);
}

export function lightsDatagram(sock: i32, p: usize, n: i32, now: u32): void {
  if (pixelsCount == 0) return bad();
  if (sock == sockW) wled(p, n, now);
  else if (sock == sockD) ddp(p, n, now);
  else e131(p, n, now);
}

// WLED UDP realtime: [protocol, timeout s (0: back to normal now, 255: stay), ...]; per protocol 1-4
// (WARLS, DRGB, DRGBW, DNRGB) its header bytes, bytes per pixel and most pixels in one datagram
const WLED_FORMATS = memory.data<u16>([2, 4, 255, 2, 3, 490, 2, 4, 367, 4, 3, 489]);

function wled(p: usize, n: i32, now: u32): void {
  let proto = n >= 2 ? <i32>load<u8>(p) - 1 : -1;
  if (<u32>proto > 3) return bad(); // too short, WLED's notifier (0) or another protocol
  let f = WLED_FORMATS + proto * 6;
  let h = <i32>load<u16>(f);
  let stride = <i32>load<u16>(f, 2);
  let count = (n - h) / stride;
  if (n < h || (n - h) % stride || count > <i32>load<u16>(f, 4)) return bad();
  let t = <u32>load<u8>(p, 1);
  if (t == 0) return normal();
  let ms = t == 255 ? FOREVER : t * 1000;
  if (proto == 0) { // WARLS: index, r, g, b (only on this board: not forwarded)
    for (let i = 2; i < n; i += 4) put(<i32>load<u8>(p + i), p + i + 1, 1, 3);
    hold(ms, M_WLED, now);
    show();
  } else frame(proto == 3 ? be16(p + 2) : 0, p + h, count, stride, true, false, ms, M_WLED, now); // DRGBW: white is not shown
}

// DDP (3waylabs): flags VVxTSRQP, sequence, data type, destination, offset u32 BE, length u16 BE
function ddp(p: usize, n: i32, now: u32): void {
  if (n < 10) return bad();
  let flags = <i32>load<u8>(p);
  let type = <i32>load<u8>(p, 2);
  let dest = <i32>load<u8>(p, 3);
  let h = flags & 0x10 ? 14 : 10; // a timecode follows the header
  let offset = bswap<u32>(load<u32>(p + 4));
  let len = be16(p + 8);
  // version 1; no query or reply; RGB 8-bit (or undefined, which senders use for RGB); display 1 or all
  if ((flags & 0xc6) != 0x40 || (type != 0 && type != 0x0b) || (dest != 1 && dest != 255)) return bad();
  // pixel numbers stay within u16 (the bus's PIXELS datagram)
  if (n != h + len || len % 3 || len > 1440 || offset % 3 || offset > 196605 || offset + len > 196605) return bad();
  let push = (flags & 1) != 0;
  if (push) ddpPushSeen = true;
  frame(<i32>offset / 3, p + h, len / 3, 3, push || !ddpPushSeen, false, HOLD_DEFAULT_MS, M_DDP, now);
}

// E1.31 (ANSI E1.31-2018) data packet: root layer, framing layer, DMP layer, every field checked.
// The fixed bytes as (offset, value) pairs: preamble 0x0010, post-amble 0, "ASC-E1.17\0\0\0", root
// vector 4 (data), framing vector 2 (data packet), DMP vector 2, address and data type 0xa1, first
// address 0, increment 1, DMX start code 0.
const E131_FIXED = memory.data<u8>([
  0, 0, 1, 0x10, 2, 0, 3, 0, 4, 65, 5, 83, 6, 67, 7, 45, 8, 69, 9, 49, 10, 46, 11, 49, 12, 55, 13, 0, 14, 0, 15, 0,
  18, 0, 19, 0, 20, 0, 21, 4, 40, 0, 41, 0, 42, 0, 43, 2, 117, 2, 118, 0xa1, 119, 0, 120, 0, 121, 0, 122, 1, 125, 0,
]);
const E131_PDU = memory.data<u8>([16, 38, 115]); // flags 0x7 and length to the end, per layer

/** The last universe (from e131_universe, 0-based) the strip spans: universe k > 0 carries 170 pixels
 *  from channel 1, after those of universe 0 from e131_start. */
function lastUniverse(): i32 {
  let firstCount = (513 - e131Start) / 3;
  return pixelsCount <= firstCount ? 0 : 1 + (pixelsCount - firstCount - 1) / E131_PER_UNIVERSE;
}

function e131(p: usize, n: i32, now: u32): void {
  if (n < 126 || n > 638 || be16(p + 123) != n - 125 || load<u8>(p + 108) > 200) return bad(); // count, priority
  for (let i = 0; i < 62; i += 2) if (load<u8>(p + load<u8>(E131_FIXED + i)) != load<u8>(E131_FIXED + i, 1)) return bad();
  for (let i = 0; i < 3; i++) {
    let o = <i32>load<u8>(E131_PDU + i);
    if (be16(p + o) != (0x7000 | (n - o))) return bad();
  }
  let options = <i32>load<u8>(p + 112);
  let k = be16(p + 113) - e131Universe;
  let firstCount = (513 - e131Start) / 3;
  let lastK = lastUniverse();
  // preview data is not for us; universes past this board's strip still go to the bus's workers
  if (options & 0x80 || <u32>k > 7) return bad();
  let seq = <u32>load<u8>(p + 111);
  let d = (seq - <u32>load<u8>(e131Seq + k)) & 255; // as a signed byte: in (-20, 0] is out of order (E1.31 6.7.2)
  if (e131Have & (1 << k) && (d == 0 || d > 236)) return bad();
  store<u8>(e131Seq + k, seq);
  e131Have |= 1 << k;
  if (options & 0x40) return normal(); // stream terminated
  let slots = n - 126;
  if (k == 0) frame(0, p + 125 + e131Start, (slots - e131Start + 1) / 3, 3, k == lastK, true, HOLD_DEFAULT_MS, M_E131, now);
  else frame(firstCount + (k - 1) * E131_PER_UNIVERSE, p + 126, slots / 3, 3, k == lastK, true, HOLD_DEFAULT_MS, M_E131, now);
}

// bus fan-out: seq u32, hold ms u32 (0xFFFFFFFF: stay), first u16, n u16, flags u8 (1: show), n * r,g,b
const B_HEAD: i32 = 13;
const B_MAX: i32 = (DATAGRAM_MAX - HEADER - TAG - B_HEAD) / 3;

function forward(first: i32, src: usize, n: i32, stride: i32, last: bool, ms: u32): void {
  busSeq++;
  for (let done = 0; done == 0 || done < n; ) {
    let m = min(n - done, B_MAX);
    let b = begin(T_PIXELS, bus.busId, bus.term, bus.myId);
    store<u32>(b, busSeq);
    store<u32>(b, ms, 4);
    store<u16>(b, <u16>(first + done), 8);
    store<u16>(b, <u16>m, 10);
    store<u8>(b, last && done + m == n ? 1 : 0, 12);
    for (let i = 0; i < m; i++) memory.copy(b + B_HEAD + i * 3, src + (done + i) * stride, 3);
    bus.toAll(B_HEAD + m * 3, false);
    done += m;
    if (m == 0) break;
  }
}

/** A T_PIXELS body from the bus; fromMaster: its sender is the master this board follows. */
export function busPixels(b: usize, body: i32, fromMaster: bool, now: u32): void {
  let seq = load<u32>(b);
  let n = body >= B_HEAD ? <i32>load<u16>(b, 10) : -1;
  if (!fromMaster || pixelsCount == 0 || body != B_HEAD + n * 3 || (busSeqSeen && <i32>(seq - busSeq) < 0)) return bad();
  busSeq = seq;
  busSeqSeen = true;
  put(<i32>load<u16>(b, 8), b + B_HEAD, n, 3);
  hold(load<u32>(b, 4), M_BUS, now);
  if (load<u8>(b, 12) & 1) show();
}

function colour(): i32 {
  return lastColour >= 0 ? lastColour : current;
}

/** Back to normal mode: the strip shows the board's colour (at the next tick). */
function normal(): void {
  mode = 0;
  shownColour = -1;
}

export function lightsTick(now: u32): u32 {
  if (pixelsCount == 0) return u32.MAX_VALUE;
  if (mode != 0) {
    if (forever) return u32.MAX_VALUE;
    if (!reached(now, until)) return msUntil(now, until);
    normal();
  }
  let c = colour();
  if (c != shownColour) {
    shownColour = c;
    for (let i = 0; i < pixelsCount; i++) {
      let d = raw + i * 3;
      store<u8>(d, c >> 16);
      store<u8>(d, c >> 8, 1);
      store<u8>(d, c, 2);
    }
    show();
  }
  return u32.MAX_VALUE; // a new colour comes with an event, which is followed by a tick
}

/** get_pixels {"from": i}: the current frame as received (before gamma and brightness), "rrggbb" per
 *  pixel from pixel i, as many as fit the reply; "next" when more remain. */
export function getPixels(): bool {
  let f = json.find("from");
  let first = f < 0 ? 0 : <i32>json.intValue(f, 0, PIXELS_MAX);
  if (first < 0) first = 0;
  reply.keyNum("count", pixelsCount);
  reply.keyNum("mode", mode);
  let n = min(pixelsCount - first, (reply.room() - 40) / 6);
  if (n < 0) n = 0;
  reply.key("pixels");
  reply.hexBytes(raw + first * 3, n * 3);
  if (first + n < pixelsCount) reply.keyNum("next", first + n);
  return true;
}
