// `npm start` (picowire demo): a virtual bus of boards on loopback. 127.0.0.1, started first, founds
// the bus and is the master that serves the colours (on a real set-up, typically the access point; loopback
// has no radio, so no access point runs here); 127.0.0.2, 127.0.0.3, ... join it as workers and follow
// its colour. Every board serves its dashboard (http://127.0.0.x:PORT/) and control, all with one
// fresh bus key; loopback has no broadcast, so each board is told the others' addresses (bus_peers).
import { parseArgs } from "node:util";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import { Board } from "../host/board.ts";
import { C } from "../host/abi.generated.ts";
import { ipToString } from "../host/core.ts";
import { readCore } from "./wasm.ts";
import { consoleLogger, runUntilSignal } from "./node.ts";
import { dashboardAssets } from "../build/dashboard.ts";
import type { LogLevel } from "../host/board.ts";

export const DEMO_USAGE = `usage: picowire demo [--boards N] [--http-port P] [--control-port P] [--bus-port P] [--poll-ms MS] [--mqtt URL] [--log-level L]
  a virtual bus of N boards (2-8, default 3) on 127.0.0.1 .. 127.0.0.N, each with its dashboard on
  http://127.0.0.x:P/ (default 8080) and control on --control-port (12345); bus datagrams on --bus-port
  (5000); workers poll the master's colour every --poll-ms (200). While it runs, type "stop 1" (Enter) to
  stop board 1 and watch the others elect a new master, "start 1" to bring it back. --mqtt mqtt://host[:port]
  connects every board to that broker (Home Assistant discovery included; docs/MQTT.md). Ctrl-C stops.`;

const ROLE_NAMES: Record<number, string> = {
  [C.BUS_ROLE_OFF]: "OFF", [C.BUS_ROLE_SEEKING]: "SEEKING", [C.BUS_ROLE_MASTER]: "MASTER",
  [C.BUS_ROLE_WORKER]: "WORKER", [C.BUS_ROLE_CANDIDATE]: "CANDIDATE",
};

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, not '${v}'`);
  return n;
}

/** A board's place on the bus as one line, e.g. "WORKER1, master 127.0.0.1, term 2" ("" without a bus). */
export function busLine(b: Board): string {
  const role = b.core.stat(C.STAT_BUS_ROLE);
  if (role < 0 || role === C.BUS_ROLE_OFF) return "";
  const index = b.core.stat(C.STAT_BUS_INDEX);
  const master = b.core.stat(C.STAT_BUS_MASTER_IP) >>> 0;
  const name = (ROLE_NAMES[role] ?? `role ${role}`) + (role === C.BUS_ROLE_WORKER && index > 0 ? index : "");
  return `${name}${master && role !== C.BUS_ROLE_MASTER ? `, master ${ipToString(master)}` : ""}, term ${b.core.stat(C.STAT_BUS_TERM)}`;
}

export async function runDemo(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      boards: { type: "string", default: "3" },
      "http-port": { type: "string", default: "8080" },
      "control-port": { type: "string", default: "12345" },
      "bus-port": { type: "string", default: "5000" },
      "poll-ms": { type: "string", default: "200" },
      "log-level": { type: "string", default: "info" },
      mqtt: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return console.log(DEMO_USAGE);
  const count = int("boards", values.boards!, 2, 8);
  const port = int("http-port", values["http-port"]!, 1, 65535);
  const cport = int("control-port", values["control-port"]!, 1, 65535);
  const bport = int("bus-port", values["bus-port"]!, 1, 65535);
  const poll = int("poll-ms", values["poll-ms"]!, 10, 3600000);
  const level = values["log-level"] as LogLevel;
  if (!["error", "warn", "info", "debug"].includes(level)) throw new Error(`--log-level must be error, warn, info or debug`);
  // a fresh bus key per run: the dashboards ask for it, so control is authenticated even in the demo
  const key = randomBytes(12).toString("hex");
  const wasm = new WebAssembly.Module(readCore());
  const hosts = Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
  const assets = dashboardAssets(); // the dashboard on GET / once `npm run build` has made build/index.html.gz
  const boards: Board[] = [];
  let watch: NodeJS.Timeout | undefined;
  const make = (host: string) => new Board({
    wasm, host, name: host, // named by address, not "master"/"worker": roles change when a master goes away
    config: [
      `http_port=${port}`, "ws_echo=1", `control_port=${cport}`, `key=${key}`, `rgb_poll_ms=${poll}`, "rgb_pins=13,14,15",
      "bus=1", `bus_port=${bport}`, `bus_peers=${hosts.join(",")}`,
      ...(values.mqtt ? [`mqtt=${values.mqtt}`] : []),
    ].join("\n"),
    log: consoleLogger(host, level),
    assets,
  });
  try {
    for (const [i, host] of hosts.entries()) {
      const board = make(host);
      await board.start();
      boards.push(board);
      // the first board founds the bus before the others start, so it is the master (when the core
      // has the bus: STAT_BUS_ROLE is -1 in a core without it)
      if (i === 0 && board.core.stat(C.STAT_BUS_ROLE) > 0) {
        for (const end = Date.now() + 5000; board.core.stat(C.STAT_BUS_ROLE) !== C.BUS_ROLE_MASTER && Date.now() < end; ) {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  } catch (e) {
    await Promise.all(boards.map((b) => b.stop()));
    throw e;
  }
  console.log(`a virtual bus of ${count} boards on loopback; bus key for this run: ${key}`);
  for (const [i, host] of hosts.entries()) {
    console.log(`  ${(i === 0 ? "master" : `worker ${i}`).padEnd(8)} dashboard: http://${host}:${port}/  control: ${host}:${cport}`);
  }
  if (!Object.keys(assets).length) console.log("dashboard: not built (npm run build writes build/index.html.gz)");
  console.log(`control: picowire run 127.0.0.1:${cport} --key-file <a file holding the key> -c action=get_bus`);
  console.log(`type "stop 1" (Enter) to stop board 1 and watch a new master take over, "start 1" to restart it; Ctrl-C stops`);
  // say when a board's place on the bus changes (joins, elections, a new master)
  const last = boards.map(() => "");
  const down = new Set<number>(); // boards stopped with "stop N"
  const report = () => boards.forEach((b, i) => {
    const line = down.has(i) ? "stopped" : busLine(b);
    if (line !== last[i]) console.log(`[bus] ${b.host}: ${line || "no bus"}`);
    last[i] = line;
  });
  if (boards[0].core.stat(C.STAT_BUS_ROLE) >= 0) {
    report();
    watch = setInterval(report, 250);
  } else console.log("[bus] this core has no bus yet: each board stands alone");
  // "stop N" / "start N" on stdin (not a raw terminal: Ctrl-C stays the shell's SIGINT)
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on("line", async (text) => {
    const m = /^\s*(stop|start)\s+(\d+)\s*$/.exec(text);
    const i = m ? Number(m[2]) - 1 : -1;
    if (!m || i < 0 || i >= count) return console.log(`expected "stop N" or "start N" with N from 1 to ${count}`);
    if (m[1] === "stop" && !down.has(i)) {
      down.add(i);
      await boards[i].stop();
      console.log(`[demo] board ${i + 1} (${hosts[i]}) stopped`);
    } else if (m[1] === "start" && down.has(i)) {
      try {
        const board = make(hosts[i]);
        await board.start();
        boards[i] = board;
        down.delete(i);
        console.log(`[demo] board ${i + 1} (${hosts[i]}) started again`);
      } catch (e) {
        console.error(`[demo] board ${i + 1} (${hosts[i]}) did not start: ${(e as Error).message}`);
      }
    }
  });
  try {
    await runUntilSignal(boards);
  } finally {
    clearInterval(watch);
    rl.close();
  }
}
