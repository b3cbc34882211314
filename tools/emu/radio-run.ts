// Runs build/picowire.uf2 in rp2040js with the CYW43439 model and prints its console, for trying things
// by hand (tools/emu/RADIO.md):
//
//   npx tsx tools/emu/radio-run.ts [IMAGE] [--config CFG.uf2] [--network SSID[:PASSWORD[:CHANNEL[:RSSI]]]]...
//        [--tap] [--until TEXT] [--board-ms N]
//
// --network puts a network on the air (repeatable; no password: open). --tap (root) joins the first one to a
// TAP in a fresh network namespace with udhcpd (192.168.77.1/24); the namespace's name is printed, so
// `ip netns exec NAME ...` reaches the board. The board runs by board time, capped at wall time. Exits 0
// when --until appears, 1 on a model fault or when --board-ms passes first.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { FIRMWARE_UF2 } from "../build/firmware.ts";
import { RadioBoard } from "./radio-board.ts";
import { RadioWorld, type NetworkSpec } from "./radio-world.ts";

export function parseNetwork(spec: string): NetworkSpec {
  const [ssid, password, channel, rssi] = spec.split(":");
  const n = (v: string | undefined, what: string, lo: number, hi: number) => {
    if (v === undefined || v === "") return undefined;
    const x = Number(v);
    if (!Number.isInteger(x) || x < lo || x > hi) throw new Error(`--network ${spec}: ${what} ${v} is not a whole number in ${lo}..${hi}`);
    return x;
  };
  return { ssid, password: password || null, channel: n(channel, "channel", 1, 13), rssi: n(rssi, "RSSI", -100, 0) };
}

async function main(argv: string[]): Promise<number> {
  let image = FIRMWARE_UF2;
  let configUf2: string | undefined;
  let until: string | undefined;
  let boardMs = Infinity;
  let tap = false;
  const world = new RadioWorld();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? (() => { throw new Error(`${a} needs a value`); })();
    if (a === "--config") configUf2 = resolve(value());
    else if (a === "--network") world.addNetwork(parseNetwork(value()));
    else if (a === "--tap") tap = true;
    else if (a === "--until") until = value();
    else if (a === "--board-ms") boardMs = Number(value());
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else image = resolve(a);
  }
  if (!existsSync(image)) throw new Error(`${image} does not exist (npm run build with PICO_SDK_PATH builds it)`);
  if (!(boardMs > 0)) throw new Error("--board-ms must be a positive number of milliseconds");
  let lan: import("./radio-lan.ts").RadioLan | null = null;
  if (tap) {
    const first = [...world.networks.values()][0];
    if (!first) throw new Error("--tap needs a --network to join the TAP to");
    lan = await (await import("./radio-lan.ts")).RadioLan.create(first);
    console.error(`radio-run: network "${first.air.ssid}" is on a TAP in namespace ${lan.ns} (192.168.77.1/24, udhcpd)`);
  }
  try {
    const board = await RadioBoard.create({ image, configUf2, air: world, echo: true });
    board.realtime = true;
    const ok = await board.runUntil(until ?? (() => false), { maxCycles: Number.isFinite(boardMs) ? boardMs * 125_000 : Number.MAX_SAFE_INTEGER, wallMs: Number.MAX_SAFE_INTEGER });
    console.error(`radio-run: ${ok ? "found the text" : board.stopped ? `stopped: ${board.stopped}` : "board time is up"} after ${board.boardMs.toFixed(0)} ms of board time`);
    return ok ? 0 : 1;
  } finally {
    lan?.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(`radio-run: ${(e as Error).message}`);
      process.exit(2);
    },
  );
}
