// Board cycles from a request's arrival to its reply's departure, read off a radio-world network's switch:
// the first TCP segment with data to `port` marks the arrival (the board's clock when the frame reaches
// its radio), the first segment with data back from `port` on that connection the departure. Between the
// two the board alone works (driver, lwIP, the server), whatever its idle loop does, so the figure
// compares firmwares whose idle loops differ (MicroPython polls; picowire sleeps in WFE).
import type { Network } from "../emu/radio-world.ts";

export interface RequestWatch {
  /** One entry per answered request, in board cycles. */
  readonly cycles: number[];
  stop(): void;
}

export function watchRequests(net: Network, clock: () => number, port: number): RequestWatch {
  const pending = new Map<string, number>();
  const cycles: number[] = [];
  const send = net.send.bind(net);
  net.send = (from, frame) => {
    const seg = tcpData(frame);
    if (seg && seg.dataBytes > 0) {
      if (seg.dstPort === port && !pending.has(seg.client)) pending.set(seg.client, clock());
      else if (seg.srcPort === port && pending.has(seg.server)) {
        cycles.push(clock() - pending.get(seg.server)!);
        pending.set(seg.server, Infinity); // answered: later segments of this connection do not count
      }
    }
    send(from, frame);
  };
  return { cycles, stop: () => (net.send = send) };
}

/** An IPv4 TCP segment's ports and data length; `client`/`server`: the connection seen from each end. */
function tcpData(f: Uint8Array): { srcPort: number; dstPort: number; dataBytes: number; client: string; server: string } | null {
  if (f.length < 54 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 6) return null;
  const ihl = (f[14] & 15) * 4;
  const total = (f[16] << 8) | f[17];
  const t = 14 + ihl;
  if (f.length < t + 20) return null;
  const srcPort = (f[t] << 8) | f[t + 1];
  const dstPort = (f[t + 2] << 8) | f[t + 3];
  const src = `${f.subarray(26, 30).join(".")}:${srcPort}`;
  const dst = `${f.subarray(30, 34).join(".")}:${dstPort}`;
  return { srcPort, dstPort, dataBytes: total - ihl - (f[t + 12] >> 4) * 4, client: `${src}>${dst}`, server: `${dst}>${src}` };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}
