// SDPCM framing between the host and the WLAN firmware (as cyw43_ll.c builds and parses it): a 12-byte
// header (size, ~size, sequence, channel, next length, header length, flow control, credit), then on the
// control channel a 16-byte CDC ioctl header, on the data and event channels a 4-byte BDC header and an
// Ethernet frame. All little-endian except the event message, which the firmware sends big-endian.

export const SDPCM_HEADER_LEN = 12;
export const CDC_HEADER_LEN = 16;
export const BDC_HEADER_LEN = 4;
export const CHANNEL_CONTROL = 0;
export const CHANNEL_EVENT = 1;
export const CHANNEL_DATA = 2;
/** Header length of event frames: the driver's comment puts the event at spid_buf[46] (12 + 6 + 4 + 24). */
export const EVENT_HEADER_LEN = 18;
export const DATA_HEADER_LEN = 14;
export const ETHERTYPE_BRCM = 0x886c;
export const EVENT_MSG_LEN = 48;

export interface SdpcmFrame {
  size: number;
  sequence: number;
  channel: number;
  headerLength: number;
  flowControl: number;
  credit: number;
  /** Everything after the SDPCM header's header_length bytes, up to size. */
  body: Uint8Array;
}

export function parseSdpcm(buf: Uint8Array, fault: (m: string) => never): SdpcmFrame {
  if (buf.length < SDPCM_HEADER_LEN) fault(`SDPCM: frame of ${buf.length} bytes is shorter than its header`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = v.getUint16(0, true);
  const com = v.getUint16(2, true);
  if ((size ^ com) !== 0xffff) fault(`SDPCM: size 0x${size.toString(16)} and its complement 0x${com.toString(16)} disagree`);
  if (size < SDPCM_HEADER_LEN || size > buf.length) fault(`SDPCM: size ${size} outside the ${buf.length}-byte transfer`);
  const headerLength = buf[7];
  if (headerLength < SDPCM_HEADER_LEN || headerLength > size) fault(`SDPCM: header length ${headerLength} in a ${size}-byte frame`);
  return { size, sequence: buf[4], channel: buf[5] & 0x0f, headerLength, flowControl: buf[8], credit: buf[9], body: buf.subarray(headerLength, size) };
}

export function buildSdpcm(channel: number, headerLength: number, body: Uint8Array, sequence: number, credit: number): Uint8Array {
  const size = headerLength + body.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint16(0, size, true);
  v.setUint16(2, ~size & 0xffff, true);
  out[4] = sequence & 0xff;
  out[5] = channel;
  out[7] = headerLength;
  out[9] = credit & 0xff;
  out.set(body, headerLength);
  return out;
}

export interface CdcHeader {
  cmd: number;
  outLen: number;
  flags: number;
  status: number;
}

export function parseCdc(body: Uint8Array, fault: (m: string) => never): { hdr: CdcHeader; payload: Uint8Array } {
  if (body.length < CDC_HEADER_LEN) fault(`SDPCM control: ${body.length} bytes, shorter than the CDC header`);
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const hdr = { cmd: v.getUint32(0, true), outLen: v.getUint32(4, true) & 0xffff, flags: v.getUint32(8, true), status: v.getInt32(12, true) };
  return { hdr, payload: body.subarray(CDC_HEADER_LEN) };
}

export function buildCdc(hdr: CdcHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CDC_HEADER_LEN + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, hdr.cmd, true);
  v.setUint32(4, hdr.outLen, true);
  v.setUint32(8, hdr.flags >>> 0, true);
  v.setInt32(12, hdr.status, true);
  out.set(payload, CDC_HEADER_LEN);
  return out;
}

/** BDC header + payload (flags 0x20 = BDC version 2, as both sides use). */
export function buildBdc(itf: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(BDC_HEADER_LEN + payload.length);
  out[0] = 0x20;
  out[2] = itf;
  out.set(payload, BDC_HEADER_LEN);
  return out;
}

export function parseBdc(body: Uint8Array, fault: (m: string) => never): { itf: number; payload: Uint8Array } {
  if (body.length <= BDC_HEADER_LEN) fault(`SDPCM data: ${body.length} bytes, no room for a BDC header and a frame`);
  return { itf: body[2], payload: body.subarray(BDC_HEADER_LEN + body[3] * 4) };
}

export interface WlcEvent {
  type: number;
  status: number;
  reason: number;
  flags?: number;
  itf: number;
  addr?: Uint8Array;
  data?: Uint8Array;
}

/** An async event as the firmware sends it: an Ethernet frame of type 0x886c with Broadcom's OUI. */
export function buildEventFrame(ev: WlcEvent, dst: Uint8Array, src: Uint8Array): Uint8Array {
  const data = ev.data ?? new Uint8Array(0);
  const out = new Uint8Array(14 + 10 + EVENT_MSG_LEN + data.length);
  const v = new DataView(out.buffer);
  out.set(dst, 0);
  out.set(src, 6);
  v.setUint16(12, ETHERTYPE_BRCM);
  v.setUint16(14, 0x8001); // bcmeth subtype
  v.setUint16(16, 10 + EVENT_MSG_LEN + data.length - 4);
  out[18] = 0; // version
  out.set([0x00, 0x10, 0x18], 19); // Broadcom OUI
  v.setUint16(22, 1); // usr subtype: event
  const e = 24;
  v.setUint16(e + 0, 2); // event message version
  v.setUint16(e + 2, ev.flags ?? 0);
  v.setUint32(e + 4, ev.type);
  v.setUint32(e + 8, ev.status >>> 0);
  v.setUint32(e + 12, ev.reason >>> 0);
  v.setUint32(e + 16, 0); // auth type
  v.setUint32(e + 20, data.length);
  if (ev.addr) out.set(ev.addr, e + 24);
  out.set(new TextEncoder().encode(`wlan${ev.itf}`), e + 30); // ifname[16]
  out[e + 46] = ev.itf;
  out[e + 47] = ev.itf; // bsscfg index
  out.set(data, e + EVENT_MSG_LEN);
  return out;
}

export function parseEventFrame(frame: Uint8Array): WlcEvent | null {
  if (frame.length < 24 + EVENT_MSG_LEN) return null;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint16(12) !== ETHERTYPE_BRCM || frame[19] !== 0 || frame[20] !== 0x10 || frame[21] !== 0x18) return null;
  const e = 24;
  const len = v.getUint32(e + 20);
  return {
    flags: v.getUint16(e + 2),
    type: v.getUint32(e + 4),
    status: v.getUint32(e + 8),
    reason: v.getUint32(e + 12),
    itf: frame[e + 46],
    addr: frame.slice(e + 24, e + 30),
    data: frame.slice(e + EVENT_MSG_LEN, e + EVENT_MSG_LEN + len),
  };
}
