// The network a virtual board sees. The board talks to one of these; real sockets (net-node.ts) and
// the deterministic simulator implement it. Handles are small positive integers chosen by the backend.

export interface NetEvents {
  accepted(listener: number, conn: number, ip: number, port: number): void;
  connected(conn: number, status: number): void;
  data(conn: number, bytes: Uint8Array): void;
  sent(conn: number, len: number): void;
  /** TCP_FIN when the peer finished sending; a negative ERR_ when the connection is gone. */
  closed(conn: number, reason: number): void;
  datagram(sock: number, ip: number, port: number, bytes: Uint8Array): void;
  resolved(req: number, ip: number, status: number): void;
}

export interface NetBackend {
  listen(port: number): number;
  connect(ip: number, port: number): number;
  /** Returns how many bytes were accepted into the send queue. */
  send(conn: number, bytes: Uint8Array): number;
  /** Stop or restart reading from the peer (receive-window flow control). */
  pause(conn: number, paused: boolean): void;
  close(conn: number): number;
  abort(conn: number): void;
  udpOpen(port: number, iface: number): number;
  udpSend(sock: number, ip: number, port: number, bytes: Uint8Array): number;
  udpClose(sock: number): void;
  /** Join or leave an IPv4 multicast group on the socket's interface (absent: ERR_UNSUPPORTED). */
  udpJoin?(sock: number, group: number, join: boolean): number;
  resolve(name: string): number;
  /** Resolves once every listener is bound; rejects with a clear reason (e.g. port in use). */
  ready(): Promise<void>;
  shutdown(): Promise<void>;
}
