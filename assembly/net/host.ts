// The host's TCP and UDP sockets as the rest of the core calls them: net/ is the only layer that names
// the host_tcp_* and host_udp_* imports (test/core/layers.test.ts checks), so what a connection or datagram
// socket may do, and when the host must look one up again, is decided in one place. Inlined: no cost.
import {
  host_tcp_listen, host_tcp_connect, host_tcp_send, host_tcp_resume, host_tcp_close, host_tcp_abort,
  host_udp_open, host_udp_send, host_udp_close, host_udp_join,
} from "../abi/host.generated";

// @ts-ignore: decorator
@inline export function tcpListen(port: i32): i32 {
  return host_tcp_listen(port);
}

// @ts-ignore: decorator
@inline export function tcpConnect(ip: u32, port: i32): i32 {
  return host_tcp_connect(ip, port);
}

// @ts-ignore: decorator
@inline export function tcpSend(conn: i32, src: usize, len: i32): i32 {
  return host_tcp_send(conn, src, len);
}

// @ts-ignore: decorator
@inline export function tcpResume(conn: i32): void {
  host_tcp_resume(conn);
}

// @ts-ignore: decorator
@inline export function tcpClose(conn: i32): i32 {
  return host_tcp_close(conn);
}

// @ts-ignore: decorator
@inline export function tcpAbort(conn: i32): void {
  host_tcp_abort(conn);
}

// @ts-ignore: decorator
@inline export function udpOpen(port: i32, iface: i32): i32 {
  return host_udp_open(port, iface);
}

// @ts-ignore: decorator
@inline export function udpSend(sock: i32, ip: u32, port: i32, src: usize, len: i32): i32 {
  return host_udp_send(sock, ip, port, src, len);
}

// @ts-ignore: decorator
@inline export function udpClose(sock: i32): void {
  host_udp_close(sock);
}

// @ts-ignore: decorator
@inline export function udpJoin(sock: i32, group: u32, join: i32): i32 {
  return host_udp_join(sock, group, join);
}
