// The fixed pool of TCP connection slots, reserved at init. Each slot owns one buffer that holds the
// line being parsed and later the reply being sent, and one deadline.
import { alloc } from "../util/heap";
import { tcpSend, tcpClose, tcpAbort } from "./host";
import { reached, msUntil } from "../util/time";
import { put, emit, putWithIp } from "../util/log";
import { LOG_INFO, LOG_WARN } from "../abi/host.generated";

/** max_conns_per_ip (config.ts sets it: the policy's setting lives with the slots it limits, so this layer
 *  imports no configuration); 0: half of max_conns, at least 1, settled by reserveSlots. */
let maxConnsPerIp: i32 = 0;
export function setMaxConnsPerIp(v: i32): void {
  maxConnsPerIp = v;
}

export const KIND_FREE: u8 = 0;
export const KIND_HTTP: u8 = 1; // accepted on the HTTP port
export const KIND_RGB_CLIENT: u8 = 2; // our poll of another board
export const KIND_WS: u8 = 3; // a WebSocket, either side (s.wsClient)
export const KIND_WS_DIAL: u8 = 4; // our outgoing WebSocket, before its handshake completes
export const KIND_CONTROL: u8 = 5; // a control connection (JSON lines)
export const KIND_LENT: u8 = 6; // the buffer is lent to the MQTT session for good (no connection of its own)

@unmanaged
export class Slot {
  handle: i32;
  kind: u8;
  phase: u8; // owned by the protocol using the slot
  armed: bool; // deadline is live
  closing: bool; // close once the reply is out
  sawLength: bool; // HTTP: a Content-Length header was seen
  sawHost: bool; // HTTP: a Host header was seen
  http11: bool; // HTTP: the request said HTTP/1.1
  method: u8;
  route: u8;
  status: u16;
  deadline: u32;
  since: u32; // accepted at (an /echo WebSocket: its last data), for eviction and the auth deadline
  remoteIp: u32;
  len: i32; // bytes in buf (parsing) or reply length (sending)
  sent: i32; // reply bytes the host has accepted
  txOffset: i32; // where in buf the bytes being sent start (STAGE in WebSocket mode)
  headBytes: i32;
  bodyLeft: i32;
  buf: usize;
  // HTTP upgrade to WebSocket: what the request's headers said
  wsUpgrade: bool; // Upgrade: websocket
  wsConnUpgrade: bool; // Connection: ... upgrade ...
  wsVersion: u8; // 0 absent, 1 "13", 2 anything else
  wsKeyOk: bool; // a valid 16-byte key; its accept digest is at aux()
  wsOriginBad: bool; // server: an Origin outside ws_origins; client: a header we did not offer
  wsProtocol: u8; // 1-based index into ws_protocols of the chosen subprotocol, 0 none
  // WebSocket frames (ws/frame.ts)
  wsClient: bool; // we are the client: frames from the peer must be unmasked, ours masked
  wsState: u8;
  wsHeadLen: u8; // header bytes collected at aux()
  wsOpcode: u8; // of the frame being read
  wsFin: bool;
  wsMessage: u8; // opcode of the message in progress (0: none)
  wsCloseSent: bool;
  wsCloseRecv: bool;
  wsPingOut: bool; // a keep-alive ping awaits its pong
  wsBlocked: bool; // we consumed less than offered: tcp_resume once the send queue drains
  wsHold: bool; // the staged echo header waits until its first payload bytes proved valid
  wsEndpoint: u8; // what the messages are for (ws/frame.ts ENDPOINT_*)
  wsCtlLen: u8; // control payload bytes collected at buf
  wsPayloadLeft: u64;
  wsMessageLen: u64;
  wsMask: u32;
  wsMaskPos: u32;
  wsUtf8: u32;
  wsHeard: u32; // any bytes from the peer: when a keep-alive ping is due
  wsLastTx: u32;
  wsOutLeft: u64; // payload bytes still owed on the frame we are sending
  // control (control/server.ts); the session nonce is at aux()
  ctlAuthed: bool;
  ctlDiscard: bool; // skipping the rest of an over-long line
  ctlSeq: u32; // the last accepted command sequence number
  ctlChallenge: bool; // a /control WebSocket still owes its challenge (the 101 was not out yet)
  wsMessageDone: bool; // ws/frame.ts: a whole /control message waits at CONTROL_AT for the dispatcher
  // a read-only asset being streamed (http/asset.ts)
  assetId: i32;
  assetAt: i32;
  assetLeft: i32;
}

/** Every slot's buffer, by use (bytes from s.buf):
 *  - HTTP: the line being read [0, http_line_max), then the reply written over it.
 *  - WebSocket: a control frame's payload [0, 125], outgoing bytes staged at [STAGE, STAGE+STAGE_SIZE).
 *  - control (TCP or /control): the command at [CONTROL_AT, + control_line_max), its reply written
 *    over it (up to REPLY_ROOM more), with CONTROL_HEADER bytes in front for a WebSocket frame header;
 *    so a ping's payload or a staged pong never overwrites a half-collected command.
 *  - aux, the last AUX_SIZE bytes: the handshake's accept value or a frame header being read in
 *    [0, 16), the control session's nonce in [16, 32). */
export const STAGE: i32 = 128;
export const STAGE_SIZE: i32 = 136; // a close or pong frame: 2 + 4 (mask) + 125, rounded up
export const CONTROL_HEADER: i32 = 4;
export const CONTROL_AT: i32 = STAGE + STAGE_SIZE + CONTROL_HEADER;
export const AUX_SIZE: i32 = 32;

/** Bytes of the buffer before aux: what a reply or a streamed chunk may use. */
export function bufferRoom(): i32 {
  return bufSize - AUX_SIZE;
}

export function aux(s: Slot): usize {
  return s.buf + <usize>(bufSize - AUX_SIZE);
}

/** Bytes a control reply may add to the command it repeats (get_bus fills it with members). */
export const REPLY_ROOM: i32 = 640;

export function bufferSizeFor(lineMax: i32, controlLineMax: i32): i32 {
  return max(max(lineMax, STAGE + STAGE_SIZE), CONTROL_AT + controlLineMax + REPLY_ROOM) + AUX_SIZE;
}

let pool: usize = 0;
let count: i32 = 0;
let bufSize: i32 = 0;
let used: i32 = 0;
let share: i32 = 0; // slots one address may hold (max_conns_per_ip)
export let refused: u32 = 0;

export function slotBytes(slots: i32, buffer: i32): i32 {
  return slots * (<i32>offsetof<Slot>() + buffer + 32); // 32: allocator block overheads, rounded up
}

export function reserveSlots(slots: i32, buffer: i32): void {
  count = slots;
  share = maxConnsPerIp > 0 ? maxConnsPerIp : max(1, slots >> 1);
  bufSize = buffer;
  pool = alloc(<usize>slots * offsetof<Slot>());
  memory.fill(pool, 0, <usize>slots * offsetof<Slot>());
  for (let i = 0; i < slots; i++) slotAt(i).buf = alloc(<usize>buffer);
}

// inlined: wasm3 pays ~300 cycles a call, and every loop over the slots (find, after each event) calls it
@inline export function slotAt(i: i32): Slot {
  return changetype<Slot>(pool + <usize>i * offsetof<Slot>());
}

export function slotCount(): i32 {
  return count;
}

export function slotBufferSize(): i32 {
  return bufSize;
}

export function slotsUsed(): i32 {
  return used;
}

export function armedCount(): i32 {
  let n = 0;
  for (let i = 0; i < count; i++) if (slotAt(i).armed) n++;
  return n;
}

/** A free slot bound to `handle`, or null when the pool is exhausted. */
export function claim(kind: u8, handle: i32): Slot | null {
  for (let i = 0; i < count; i++) {
    let s = slotAt(i);
    if (s.kind == KIND_FREE) return bind(s, kind, handle);
  }
  refused++;
  return null;
}

function bind(s: Slot, kind: u8, handle: i32): Slot {
  let buf = s.buf;
  memory.fill(changetype<usize>(s), 0, offsetof<Slot>());
  s.buf = buf;
  s.kind = kind;
  s.handle = handle;
  used++;
  return s;
}

/** A slot for a peer that connected to us (docs/SECURITY.md): at most max_conns_per_ip per address; when
 *  that address is at its share, or every slot is taken, the oldest slot that has proved nothing (no
 *  authentication, no complete request, an /echo WebSocket by its last data) gives way: its own when
 *  at its share, anyone's otherwise. Null when none may: the connection is refused, the log says which rule. */
export function accepted(kind: u8, handle: i32, ip: u32, now: u32): Slot | null {
  let free: Slot | null = null;
  let own: Slot | null = null;
  let any: Slot | null = null;
  let mine = 0;
  let ownAge: u32 = 0;
  let anyAge: u32 = 0;
  for (let i = 0; i < count; i++) {
    let s = slotAt(i);
    if (s.kind == KIND_FREE) free = s;
    // ours (outgoing connections, the MQTT buffer) and replies going out are not peers' to take
    if (!(s.kind == KIND_HTTP || s.kind == KIND_CONTROL || (s.kind == KIND_WS && !s.wsClient))) continue;
    let age = now - s.since;
    let unproven = !s.ctlAuthed && !s.closing && s.assetLeft == 0;
    if (s.remoteIp == ip) {
      mine++;
      if (unproven && age >= ownAge) {
        own = s;
        ownAge = age;
      }
    }
    if (unproven && age >= anyAge) {
      any = s;
      anyAge = age;
    }
  }
  let victim = mine >= share ? own : free ? null : any;
  if (victim != null) {
    putWithIp("slots: dropping idle connection from ", victim.remoteIp);
    putWithIp(" for ", ip);
    emit(LOG_INFO);
    tcpAbort(victim.handle);
    release(victim);
    free = victim;
  } else if (mine >= share) free = null;
  if (free == null) {
    refused++;
    putWithIp("slots: refusing ", ip);
    put(mine >= share ? ": max_conns_per_ip" : ": all slots busy");
    emit(LOG_WARN);
    return null;
  }
  let s = bind(free, kind, handle);
  s.remoteIp = ip;
  s.since = now;
  return s;
}

export function find(handle: i32): Slot | null {
  for (let i = 0; i < count; i++) {
    let s = slotAt(i);
    if (s.kind != KIND_FREE && s.handle == handle) return s;
  }
  return null;
}

export function release(s: Slot): void {
  if (s.kind == KIND_FREE) return;
  s.kind = KIND_FREE;
  s.armed = false;
  used--;
}

export function arm(s: Slot, now: u32, ms: u32): void {
  s.deadline = now + ms;
  s.armed = true;
}

/** Sends what the host will take of the reply; closes once it is all out. False if the slot is gone. */
export function flush(s: Slot): bool {
  while (s.sent < s.len) {
    let n = tcpSend(s.handle, s.buf + <usize>(s.txOffset + s.sent), s.len - s.sent);
    if (n < 0) {
      tcpAbort(s.handle);
      release(s);
      return false;
    }
    if (n == 0) return true; // window full: tcp_sent resumes
    s.sent += n;
  }
  if (s.closing) {
    tcpClose(s.handle);
    release(s);
    return false;
  }
  return true;
}

/** Queues `len` bytes already in s.buf as the reply, then closes; a peer that will not take the
 *  reply within `timeoutMs` is aborted, so slow readers cannot hold slots. */
export function replyAndClose(s: Slot, len: i32, now: u32, timeoutMs: u32): void {
  s.len = len;
  s.sent = 0;
  s.closing = true;
  arm(s, now, timeoutMs);
  flush(s);
}

export function abortNow(s: Slot): void {
  tcpAbort(s.handle);
  release(s);
}

export function closeNow(s: Slot): void {
  tcpClose(s.handle);
  release(s);
}

/** Slots whose deadline passed, one per call (the caller handles it, which may free it). */
export function nextExpired(now: u32): Slot | null {
  for (let i = 0; i < count; i++) {
    let s = slotAt(i);
    if (s.kind != KIND_FREE && s.armed && reached(now, s.deadline)) {
      s.armed = false;
      return s;
    }
  }
  return null;
}

/** Milliseconds to the earliest armed deadline, or u32.MAX_VALUE. */
export function nextDeadline(now: u32): u32 {
  let best = u32.MAX_VALUE;
  for (let i = 0; i < count; i++) {
    let s = slotAt(i);
    if (s.kind != KIND_FREE && s.armed) best = min(best, msUntil(now, s.deadline));
  }
  return best;
}
