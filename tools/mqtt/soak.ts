// A long MQTT run outside the default suite: `npx tsx tools/mqtt/soak.ts [ROUNDS] [BOARDS] [SEED]` keeps
// BOARDS virtual boards (in this process, loopback) on a real mosquitto and, each round, does one thing
// that breaks the link: restarts the broker, restarts a board, or both; a QoS 1 colour command is
// published for a random board while it cannot receive it. After each round every board must be online
// again and show the colour it was last sent, and no core may have allocated after init. Needs
// mosquitto and `npm run build`. Exit status 1 on the first failure.
import { readFileSync } from "node:fs";
import { Board } from "../host/board.ts";
import { C } from "../host/abi.generated.ts";
import { Broker, Watcher } from "./broker.ts";

const rounds = Number(process.argv[2] ?? 30);
const count = Number(process.argv[3] ?? 4);
let seed = Number(process.argv[4] ?? 1) >>> 0;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) >>> 0; // a fixed sequence: a failing run can be repeated
  return (seed >>> 8) % n;
};
const ROUND_MS = 20_000;

const wasm = new WebAssembly.Module(readFileSync("build/picowire.wasm"));
const broker = new Broker();
await broker.start();
const id = (i: number) => `soak-${i}`;
const make = (i: number) =>
  new Board({
    wasm, host: `127.0.0.${i + 1}`, name: id(i),
    config: [`mqtt=${broker.url}`, `mqtt_id=${id(i)}`, "mqtt_backoff_max_ms=2000", "mqtt_keepalive_s=5", "http_port=0", "control_port=0", "rgb_source=fixed"].join("\n"),
    log: () => {},
  });
const boards = Array.from({ length: count }, (_, i) => make(i));
for (const b of boards) await b.start();
const heap = boards.map((b) => b.core.stat(C.STAT_HEAP_TOP));
const wanted = boards.map(() => 0);
// a board proves it is connected and subscribed by answering a ping sent to its cmd topic
let watcher = await Watcher.connect(broker.url, ["picowire/+/reply"]);
const answered = (round: number) => boards.every((_, i) => watcher.messages.some((m) => m.topic === `picowire/${id(i)}/reply` && m.text.includes(`"round":${round}`)));
async function ping(round: number): Promise<void> {
  for (let i = 0; i < count; i++) await watcher.client.publishAsync(`picowire/${id(i)}/cmd`, `{"action":"ping","round":${round}}`, { qos: 1 });
}

async function until(cond: () => boolean, what: string): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ROUND_MS) throw new Error(`${what} not within ${ROUND_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

let worst = 0;
let failed = "";
try {
  await ping(0);
  await until(() => answered(0), "every board answering at the start");
  for (let round = 1; round <= rounds; round++) {
    const kind = random(3); // 0 broker restart, 1 a board restarts, 2 both
    const target = random(count);
    const colour = 1 + random(0xfffffe);
    if (kind !== 1) await broker.stop();
    if (kind !== 0) await boards[target].stop();
    if (kind !== 1) await broker.start();
    // published while the target cannot take it: its persistent session keeps it (QoS 1)
    const sender = await Watcher.connect(broker.url, []);
    await sender.client.publishAsync(`picowire/${id(target)}/light/rgb/set`, `${colour >> 16},${(colour >> 8) & 255},${colour & 255}`, { qos: 1 });
    await sender.close();
    wanted[target] = colour;
    if (kind !== 0) {
      boards[target] = make(target);
      await boards[target].start();
      heap[target] = boards[target].core.stat(C.STAT_HEAP_TOP);
    }
    if (kind !== 1) {
      await watcher.close().catch(() => {});
      watcher = await Watcher.connect(broker.url, ["picowire/+/reply"]);
    }
    const start = Date.now();
    await ping(round);
    await until(() => answered(round) && boards.every((b, i) => b.core.stat(C.STAT_RGB) === wanted[i]), `round ${round}: every board answering, with its last colour`);
    const ms = Date.now() - start; // from the pings on: the board's restart and the broker's are done
    worst = Math.max(worst, ms);
    boards.forEach((b, i) => {
      if (b.core.stat(C.STAT_HEAP_TOP) !== heap[i]) throw new Error(`round ${round}: ${id(i)} allocated after init`);
      b.core.checkCanary();
    });
    console.log(`round ${round}: ${["broker restart", `${id(target)} restart`, `broker and ${id(target)} restart`][kind]}, recovered in ${ms} ms`);
  }
} catch (e) {
  failed = (e as Error).message;
} finally {
  await watcher.close().catch(() => {});
  for (const b of boards) await b.stop().catch(() => {});
  await broker.dispose();
}
console.log(failed ? `FAILED: ${failed}` : `${rounds} rounds, ${count} boards: every command delivered, slowest recovery ${worst} ms`);
process.exit(failed ? 1 : 0);
