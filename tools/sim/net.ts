// The simulated network: UDP between virtual boards on the same segment (see air.ts), with seeded
// loss, duplication, reordering, latency jitter and partitions. TCP is not simulated: listeners succeed
// and never see a connection, connects fail cleanly with ERR_REFUSED. Everything runs on the event queue.
import { C } from "../host/abi.generated.ts";
import type { NetBackend, NetEvents } from "../host/net.ts";
import type { Range } from "../host/wifi.ts";
import type { EventQueue, Prng } from "./clock.ts";
import type { Attachment, SimAir } from "./air.ts";

export interface LinkModel {
  /** probability a datagram is lost (per receiver) */
  loss: number;
  /** probability a delivered datagram arrives twice */
  dup: number;
  /** probability a datagram is held back (extra delay up to 3x the maximum latency): reordering */
  reorder: number;
  /** one-way latency of a unicast datagram, uniform */
  latencyMs: Range;
  /** extra delay of a broadcast: access points hold broadcasts for power-saving stations until the
   *  next DTIM beacon (beacon interval 102.4 ms, DTIM period 1 assumed) */
  broadcastExtraMs: Range;
}

export const DEFAULT_LINK: LinkModel = { loss: 0, dup: 0, reorder: 0, latencyMs: [1, 8], broadcastExtraMs: [0, 102] };

export interface NetStats {
  sent: number;
  broadcasts: number;
  delivered: number;
  lost: number;
  duplicated: number;
  partitioned: number;
  unreachable: number;
  bytes: number;
}

const BROADCAST = 0xffffffff;

export class SimNetwork {
  readonly stats: NetStats = { sent: 0, broadcasts: 0, delivered: 0, lost: 0, duplicated: 0, partitioned: 0, unreachable: 0, bytes: 0 };
  private readonly endpoints = new Map<number, SimNet>();
  /** partition group per slot; boards in different groups cannot reach each other */
  private groups: Map<number, number> | null = null;
  /** per-slot datagrams sent (count, for messages per board) */
  readonly sentBy = new Map<number, number>();

  constructor(
    private readonly q: EventQueue,
    private readonly air: SimAir,
    private readonly rng: Prng,
    readonly model: LinkModel,
    /** every delivery, for the run's trace hash */
    private readonly trace: (t: number, from: number, to: number, port: number, bytes: Uint8Array) => void = () => {},
  ) {}

  attach(slot: number, events: NetEvents): SimNet {
    const ep = new SimNet(this, slot, events, this.q);
    this.endpoints.set(slot, ep);
    return ep;
  }

  detach(ep: SimNet): void {
    if (this.endpoints.get(ep.slot) === ep) this.endpoints.delete(ep.slot);
  }

  /** Split the boards into groups (slots not listed form one more group); null heals. */
  partition(groups: number[][] | null): void {
    if (!groups) return void (this.groups = null);
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((slot) => this.groups!.set(slot, i + 1)));
  }

  canReach(a: number, b: number): boolean {
    return !this.groups || (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  private draw(r: Range): number {
    return r[0] + Math.floor(this.rng.next() * (r[1] - r[0] + 1));
  }

  send(from: SimNet, sockIface: number, srcPort: number, ip: number, port: number, bytes: Uint8Array): number {
    const atts = this.air.attachments(from.slot);
    if (!atts.length) return C.ERR_IO; // no interface up: lwIP has no route
    const att = atts.find((a) => a.iface === sockIface) ?? atts[0];
    this.stats.sent++;
    this.sentBy.set(from.slot, (this.sentBy.get(from.slot) ?? 0) + 1);
    this.stats.bytes += bytes.length;
    const directed = (att.ip | 0xff) >>> 0; // the /24's broadcast address
    const broadcast = ip === BROADCAST || ip === directed;
    if (broadcast) this.stats.broadcasts++;
    const copy = bytes.slice();
    let found = false;
    for (const ep of this.endpoints.values()) {
      if (ep === from || ep.down) continue;
      const to = this.air.attachments(ep.slot).find((a) => a.segment === att.segment);
      if (!to || (!broadcast && to.ip !== ip)) continue;
      found = true;
      if (!this.canReach(from.slot, ep.slot)) {
        this.stats.partitioned++;
        continue;
      }
      if (this.rng.chance(this.model.loss)) {
        this.stats.lost++;
        continue;
      }
      const copies = this.rng.chance(this.model.dup) ? 2 : 1;
      if (copies === 2) this.stats.duplicated++;
      for (let i = 0; i < copies; i++) {
        let delay = this.draw(this.model.latencyMs);
        if (broadcast) delay += this.draw(this.model.broadcastExtraMs);
        if (this.rng.chance(this.model.reorder)) delay += this.draw([1, 3 * this.model.latencyMs[1]]);
        this.q.after(delay, () => this.deliver(ep, att, port, srcPort, copy, from.slot), ep.slot);
      }
    }
    if (!found && !broadcast) this.stats.unreachable++;
    return C.OK;
  }

  private deliver(ep: SimNet, from: Attachment, port: number, srcPort: number, bytes: Uint8Array, fromSlot: number): void {
    if (ep.down || this.endpoints.get(ep.slot) !== ep) return;
    // the receiver may have left the segment meanwhile; a partition that started meanwhile also applies
    if (!this.air.attachments(ep.slot).some((a) => a.segment === from.segment)) return;
    if (!this.canReach(fromSlot, ep.slot)) return void this.stats.partitioned++;
    const sock = ep.socketOn(port);
    if (sock === undefined) return;
    this.stats.delivered++;
    this.trace(this.q.now, fromSlot, ep.slot, port, bytes);
    ep.events.datagram(sock, from.ip, srcPort, bytes);
  }
}

/** One board's view of the simulated network (a NetBackend). */
export class SimNet implements NetBackend {
  down = false;
  private next = 1;
  private readonly udp = new Map<number, { port: number; iface: number }>();
  private readonly tcp = new Set<number>();

  constructor(
    private readonly net: SimNetwork,
    readonly slot: number,
    readonly events: NetEvents,
    private readonly q: EventQueue,
  ) {}

  private handle(): number {
    return this.next++;
  }

  socketOn(port: number): number | undefined {
    for (const [h, s] of this.udp) if (s.port === port) return h;
    return undefined;
  }

  listen(_port: number): number {
    const h = this.handle();
    this.tcp.add(h);
    return h;
  }

  connect(_ip: number, _port: number): number {
    const h = this.handle();
    this.q.after(1, () => !this.down && this.events.connected(h, C.ERR_REFUSED), this.slot);
    return h;
  }

  send(_conn: number, _bytes: Uint8Array): number {
    return C.ERR_CLOSED;
  }

  pause(): void {}

  close(conn: number): number {
    return this.tcp.delete(conn) ? C.OK : C.ERR_NOTFOUND;
  }

  abort(conn: number): void {
    this.tcp.delete(conn);
  }

  udpOpen(port: number, iface: number): number {
    if (this.down) return C.ERR_IO;
    if (port && this.socketOn(port) !== undefined) return C.ERR_BUSY;
    const h = this.handle();
    this.udp.set(h, { port: port || 49152 + (h % 16384), iface });
    return h;
  }

  udpSend(sock: number, ip: number, port: number, bytes: Uint8Array): number {
    const s = this.udp.get(sock);
    if (!s || this.down) return C.ERR_NOTFOUND;
    return this.net.send(this, s.iface, s.port, ip >>> 0, port, bytes);
  }

  udpClose(sock: number): void {
    this.udp.delete(sock);
  }

  resolve(_name: string): number {
    const h = this.handle();
    this.q.after(1, () => !this.down && this.events.resolved(h, 0, C.ERR_NOTFOUND), this.slot);
    return h;
  }

  async ready(): Promise<void> {}

  /** Synchronous in effect: after this call nothing is delivered to this endpoint. */
  async shutdown(): Promise<void> {
    this.udp.clear();
    this.tcp.clear();
  }

  /** The board crashed or powered off: the endpoint is gone for good. */
  kill(): void {
    this.down = true;
    this.udp.clear();
    this.tcp.clear();
    this.net.detach(this);
  }
}
