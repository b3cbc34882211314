// Picking a free TCP port on a loopback address, for virtual boards, brokers and tests.
import net from "node:net";

/** A port nothing listens on at `host` right now (the kernel's choice). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
