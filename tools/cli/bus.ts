// `picowire nodes HOST` (a board's view of the bus over control) and `picowire discover` (asks boards
// for the member list over the bus port, without joining).
import dgram from "node:dgram";
import { Client, type Reply } from "../client.ts";
import { readKeyFile } from "./control.ts";
import { takeFlag, takeOption } from "./args.ts";

export const BUS_USAGE = `usage: picowire nodes HOST[:PORT] [--key-file F] [--json]     the bus as HOST sees it (control port, default 12345)
       picowire discover [IP ...] [--bus-port N] [--wait-ms N] [--json]
                         asks boards (default: broadcast on the LAN) for the member list, master first`;

export interface Member {
  ip: string;
  id: string;
  role: string;
  voter: boolean;
  plain: boolean;
  rssi: number;
  uptime_s: number;
  seen_ms: number;
}

/** The whole member list, page by page ("next"), and the board's own view. */
export async function getBus(c: Client): Promise<Reply & { members: Member[] }> {
  let first: Reply | undefined;
  const members: Member[] = [];
  for (let from = 0, pages = 0; pages < 64; pages++) {
    const r = await c.command(from ? { action: "get_bus", from } : { action: "get_bus" });
    if (r.error) throw new Error(`${r.error}`);
    first ??= r;
    members.push(...(r.members as Member[]));
    if (typeof r.next !== "number") break;
    from = r.next;
  }
  return { ...first!, members };
}

export async function nodesCommand(argv: string[]): Promise<number> {
  argv = [...argv];
  const keyFile = takeOption(argv, "--key-file", BUS_USAGE);
  const json = takeFlag(argv, "--json");
  const [target, ...rest] = argv;
  if (!target || rest.length) throw new Error(BUS_USAGE);
  const [host, port = "12345"] = target.split(":");
  const c = await Client.connect(host, Number(port), { key: keyFile ? readKeyFile(keyFile) : undefined });
  try {
    const bus = await getBus(c);
    if (json) console.log(JSON.stringify(bus));
    else {
      console.log(`bus ${bus.bus} term ${bus.term}: ${host} is ${bus.role}${bus.master ? `, master ${bus.master}` : ""}`);
      for (const m of bus.members)
        console.log(`  ${m.role.padEnd(9)} ${m.ip.padEnd(15)} ${m.plain ? "plain board" : m.voter ? "voter" : "member"}  rssi ${m.rssi} dBm  up ${m.uptime_s} s  seen ${m.seen_ms} ms ago`);
    }
  } finally {
    c.close();
  }
  return 0;
}

export async function discoverCommand(argv: string[]): Promise<number> {
  argv = [...argv];
  const port = Number(takeOption(argv, "--bus-port", BUS_USAGE) ?? "5000");
  const waitMs = Number(takeOption(argv, "--wait-ms", BUS_USAGE) ?? "1500");
  const json = takeFlag(argv, "--json");
  if (!(port > 0 && port < 65536) || !(waitMs > 0 && waitMs <= 60000)) throw new Error(BUS_USAGE);
  const targets = argv.length ? argv : ["255.255.255.255"];
  const found = await discover(targets, port, waitMs);
  if (json) console.log(JSON.stringify(found));
  else if (!found.length) console.log("no board answered");
  else for (const f of found) console.log(`${f.from} answers: ${f.members.map((ip, i) => `${ip} (${i ? `WORKER${i}` : "MASTER"})`).join(", ")}`);
  return found.length ? 0 : 1;
}

/** Sends WHO to each target and collects the answers ("ip1,ip2,...", master first) for waitMs. */
export function discover(targets: string[], port: number, waitMs: number): Promise<{ from: string; members: string[] }[]> {
  const sock = dgram.createSocket("udp4");
  const found = new Map<string, string[]>();
  return new Promise((resolve, reject) => {
    sock.on("error", reject);
    sock.on("message", (msg, rinfo) => found.set(rinfo.address, msg.toString("latin1").split(",").filter(Boolean)));
    sock.bind(0, () => {
      sock.setBroadcast(true);
      for (const t of targets) sock.send("WHO", port, t);
      setTimeout(() => {
        sock.close();
        resolve([...found].map(([from, members]) => ({ from, members })));
      }, waitMs);
    });
  });
}
