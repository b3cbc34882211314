// NetBackend on real node:net / node:dgram sockets bound to one loopback address per virtual board.
import net from "node:net";
import dgram from "node:dgram";
import dns from "node:dns";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { C } from "./abi.generated.ts";
import { ipFromString, ipToString } from "./core.ts";
import type { NetBackend, NetEvents } from "./net.ts";

/** Bytes a connection may have queued but not yet written out, like lwIP's TCP_SND_BUF. */
export const SEND_BUFFER = 8192;

interface Conn {
  socket: net.Socket;
  queued: number;
  closedByCore: boolean;
}

function errorCode(err: NodeJS.ErrnoException): number {
  switch (err.code) {
    case "ECONNREFUSED": return C.ERR_REFUSED;
    case "ETIMEDOUT": return C.ERR_TIMEOUT;
    case "ECONNRESET": case "EPIPE": return C.ERR_RESET;
    default: return C.ERR_IO;
  }
}

export class NodeNet implements NetBackend {
  private nextHandle = 1;
  private readonly conns = new Map<number, Conn>();
  private readonly servers = new Map<number, net.Server>();
  private readonly udp = new Map<number, dgram.Socket>();
  private readonly groups = new Map<string, dgram.Socket | null>(); // "sock:group" -> the socket receiving it (null: sock itself)
  private readonly pending: Promise<void>[] = [];

  /** `broadcast`: UDP sockets bind 0.0.0.0 with SO_BROADCAST, so datagrams sent to 255.255.255.255
   *  arrive as on a board's radio (only inside a network namespace: see inOwnNetns). */
  constructor(readonly address: string, private readonly events: NetEvents, private readonly broadcast = false) {}

  private handle(): number {
    const h = this.nextHandle;
    this.nextHandle = this.nextHandle >= 0x7fffffff ? 1 : this.nextHandle + 1;
    return h;
  }

  private adopt(socket: net.Socket): number {
    const h = this.handle();
    const c: Conn = { socket, queued: 0, closedByCore: false };
    this.conns.set(h, c);
    socket.setNoDelay(true);
    socket.on("data", (d) => this.events.data(h, d));
    socket.on("end", () => {
      if (!c.closedByCore) this.events.closed(h, C.TCP_FIN);
    });
    socket.on("error", () => {}); // reported through "close" below
    socket.on("close", (hadError) => {
      this.conns.delete(h);
      if (!c.closedByCore) this.events.closed(h, hadError || !socket.readableEnded ? C.ERR_RESET : C.ERR_CLOSED);
    });
    return h;
  }

  listen(port: number): number {
    const h = this.handle();
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
    server.on("connection", (socket) => {
      const conn = this.adopt(socket);
      this.events.accepted(h, conn, ipFromString(socket.remoteAddress?.replace(/^::ffff:/, "") ?? "0.0.0.0"), socket.remotePort ?? 0);
    });
    this.pending.push(
      new Promise((resolve, reject) => {
        server.once("error", (e: NodeJS.ErrnoException) =>
          reject(new Error(`cannot listen on ${this.address}:${port}: ${e.code === "EADDRINUSE" ? "port in use" : e.message}`)),
        );
        server.listen({ port, host: this.address, backlog: 128 }, () => resolve());
      }),
    );
    this.servers.set(h, server);
    return h;
  }

  connect(ip: number, port: number): number {
    const socket = net.connect({ host: ipToString(ip), port, localAddress: this.address, allowHalfOpen: true });
    const h = this.adopt(socket);
    const c = this.conns.get(h)!;
    let settled = false;
    socket.once("connect", () => {
      settled = true;
      this.events.connected(h, C.OK);
    });
    socket.once("error", (e) => {
      if (settled) return;
      settled = true;
      c.closedByCore = true; // a failed connect is reported once, as tcp_connected
      this.events.connected(h, errorCode(e));
    });
    return h;
  }

  send(conn: number, bytes: Uint8Array): number {
    const c = this.conns.get(conn);
    if (!c || c.closedByCore || c.socket.writableEnded) return C.ERR_CLOSED;
    const n = Math.min(bytes.length, SEND_BUFFER - c.queued);
    if (n <= 0) return 0;
    c.queued += n;
    c.socket.write(Buffer.from(bytes.subarray(0, n)), () => {
      c.queued -= n;
      if (!c.closedByCore) this.events.sent(conn, n);
    });
    return n;
  }

  pause(conn: number, paused: boolean): void {
    const c = this.conns.get(conn);
    if (!c) return;
    if (paused) c.socket.pause();
    else c.socket.resume();
  }

  close(conn: number): number {
    const c = this.conns.get(conn);
    if (!c) return C.ERR_NOTFOUND;
    c.closedByCore = true;
    c.socket.end();
    c.socket.resume(); // drain whatever the peer still sends so the close completes
    setTimeout(() => c.socket.destroy(), 2000).unref(); // a peer that never closes its side
    return C.OK;
  }

  abort(conn: number): void {
    const c = this.conns.get(conn);
    if (!c) return;
    c.closedByCore = true;
    c.socket.resetAndDestroy();
  }

  udpOpen(port: number, iface: number): number {
    const h = this.handle();
    const sock = dgram.createSocket({ type: "udp4", reuseAddr: true });
    sock.on("message", (msg, rinfo) => this.events.datagram(h, ipFromString(rinfo.address), rinfo.port, msg));
    sock.on("error", () => sock.close());
    this.pending.push(
      new Promise((resolve) =>
        sock.bind(port, this.broadcast ? "0.0.0.0" : this.address, () => {
          sock.setBroadcast(true); // the core may broadcast from its first datagram on
          resolve();
        }),
      ),
    );
    this.udp.set(h, sock);
    return h;
  }

  udpSend(sock: number, ip: number, port: number, bytes: Uint8Array): number {
    const s = this.udp.get(sock);
    if (!s) return C.ERR_NOTFOUND;
    // a datagram the network refuses (no route for a broadcast on loopback, ...) is lost, as on the air;
    // with a callback Node reports it there instead of failing the socket
    s.send(Buffer.from(bytes), port, ipToString(ip), () => {});
    return C.OK;
  }

  udpClose(sock: number): void {
    this.udp.get(sock)?.close();
    this.udp.delete(sock);
    for (const [key, g] of this.groups) if (key.startsWith(`${sock}:`)) (g?.close(), this.groups.delete(key)); // its groups too
  }

  /** Joins on the socket itself where it is bound to 0.0.0.0 (broadcast mode). One bound to the board's
   *  unicast address never sees multicast: a second one, bound to the group and the same port and a
   *  member on the board's interface, receives it for the same handle. */
  udpJoin(sock: number, group: number, join: boolean): number {
    const s = this.udp.get(sock);
    if (!s) return C.ERR_NOTFOUND;
    const key = `${sock}:${group}`;
    const addr = ipToString(group);
    if (!join || this.groups.has(key)) {
      const g = this.groups.get(key);
      if (!join && this.groups.delete(key)) g ? g.close() : s.dropMembership(addr, this.address);
      return C.OK;
    }
    const g = this.broadcast ? null : dgram.createSocket({ type: "udp4", reuseAddr: true });
    this.groups.set(key, g);
    g?.on("message", (msg, rinfo) => this.events.datagram(sock, ipFromString(rinfo.address), rinfo.port, msg));
    g?.on("error", () => g.close());
    this.pending.push(
      new Promise((resolve) => {
        g?.once("error", () => resolve());
        const member = () => {
          try {
            (g ?? s).addMembership(addr, this.address);
          } catch {
            g?.close(); // no multicast on this interface: unicast still arrives on the socket itself
          }
          resolve();
        };
        // the socket it serves may still be binding (its port comes from that bind)
        const bind = () => (g ? g.bind(s.address().port, addr, member) : member());
        try {
          s.address();
          bind();
        } catch {
          s.once("listening", bind);
        }
      }),
    );
    return C.OK;
  }

  resolve(name: string): number {
    const req = this.handle();
    dns.lookup(name, { family: 4 }, (err, address) => {
      if (err) this.events.resolved(req, 0, C.ERR_NOTFOUND);
      else this.events.resolved(req, ipFromString(address), C.OK);
    });
    return req;
  }

  async ready(): Promise<void> {
    await Promise.all(this.pending);
  }

  async shutdown(): Promise<void> {
    for (const c of this.conns.values()) {
      c.closedByCore = true;
      c.socket.destroy();
    }
    this.conns.clear();
    for (const s of [...this.udp.values(), ...this.groups.values()]) s?.close();
    this.udp.clear();
    this.groups.clear();
    await Promise.all([...this.servers.values()].map((s) => new Promise((r) => s.close(() => r(null)))));
    this.servers.clear();
    this.pending.length = 0;
  }
}

/** Whether this process runs in a network namespace other than the root one (pid 1's), so addresses
 *  and broadcasts there are a private test network, never the machine's real one. Where /proc/1 is
 *  hidden even from root (hardened VMs), a namespace made by `ip netns add` (bind-mounted under
 *  /run/netns) counts. False when it cannot tell. */
export function inOwnNetns(): boolean {
  try {
    const self = statSync("/proc/self/ns/net");
    const same = (s: { ino: number; dev: number }) => s.ino === self.ino && s.dev === self.dev;
    try {
      return !same(statSync("/proc/1/ns/net"));
    } catch {
      return readdirSync("/run/netns").some((n) => same(statSync(join("/run/netns", n))));
    }
  } catch {
    return false;
  }
}
