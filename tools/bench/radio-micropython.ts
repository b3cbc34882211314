// The anchor a user would pick instead of picowire: the tutorial's colour server on MicroPython's Pico W
// firmware, under the same CYW43439 model and radio world as build/picowire.uf2 (tools/bench/radio.ts),
// in board cycles per request. MicroPython is not built here (tools/emu/RADIO.md says how to build its
// image); `MICROPYTHON_UF2=path` points at one. Its REPL is on USB CDC (rp2040js's USB device model):
// the server is pasted there in paste mode, as a user would from a terminal; it joins the network with
// the same credentials and serves the tutorial's CPython client on the TAP. MicroPython's idle loop keeps
// the CPU busy (it polls), so the figure is the board cycles from a request's arrival to its reply.
import { join } from "node:path";
import { ROOT } from "../build/firmware.ts";
import type { RadioBoard } from "../emu/radio-board.ts";
import { median, watchRequests } from "./request-latency.ts";

const MHZ = 125_000_000;
const SSID = "lab";
const PASSWORD = "bench-secret-1";

/** The tutorial's server (the seeds' code, with a fixed colour so the reply can be checked). */
const SERVER = `import network, socket, time
wlan = network.WLAN(network.STA_IF)
wlan.active(True)
wlan.connect("${SSID}", "${PASSWORD}")
while not wlan.isconnected() and wlan.status() >= 0:
    time.sleep_ms(50)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(socket.getaddrinfo("0.0.0.0", 80)[0][-1])
s.listen(5)
print("ip = " + wlan.ifconfig()[0] + " listening")
while True:
    cl, addr = s.accept()
    cl.recv(1024)
    cl.send(b"10,20,30")
    cl.close()
`;

export interface MicroPythonFigures {
  requests: number;
  /** The banner's version line (MicroPython vX.Y.Z on DATE; Raspberry Pi Pico W with RP2040). */
  version?: string;
  /** Median board cycles from a request's arrival to its reply (request-latency.ts), or why not. */
  perRequest: number | string;
  /** The share of cycles the CPU is busy while the server waits (MicroPython polls). */
  idleBusy?: number;
}

/** Boots `uf2` with the radio model on a TAP network, pastes the server, and measures `requests` requests. */
export async function microPythonPerRequest(uf2: string, requests: number): Promise<MicroPythonFigures> {
  const { RadioBoard } = await import("../emu/radio-board.ts");
  const { RadioWorld } = await import("../emu/radio-world.ts");
  const { RadioLan } = await import("../emu/radio-lan.ts");
  const { USBCDC } = await import("rp2040js");
  const world = new RadioWorld();
  const net = world.addNetwork({ ssid: SSID, password: PASSWORD });
  const lan = await RadioLan.create(net);
  let repl = "";
  let cdc: InstanceType<typeof USBCDC> | undefined;
  const type = (text: string) => {
    for (const c of Buffer.from(text)) cdc!.sendSerialByte(c);
  };
  try {
    const b: RadioBoard = await RadioBoard.create({
      image: uf2,
      air: world,
      name: "micropython",
      setup: (sim) => {
        cdc = new USBCDC(sim.rp2040.usbCtrl);
        cdc.onDeviceConnected = () => type("\r");
        cdc.onSerialData = (buf) => (repl += Buffer.from(buf).toString("latin1"));
      },
    });
    const version = () => /MicroPython [^\r\n]*/.exec(repl)?.[0];
    const fail = (why: string) => ({ requests, version: version(), perRequest: `FAILED: ${why}: ${b.stopped ?? ""} REPL: ${repl.slice(-300).replace(/\s+/g, " ")}` });
    if (!(await b.runUntil(() => repl.includes(">>> "), { maxCycles: 20 * MHZ, wallMs: 300_000 }))) return fail("no REPL prompt on USB");
    // paste mode (Ctrl-E ... Ctrl-D): the lines arrive as typed, the server runs in the foreground
    type("\x05");
    await b.runUntil(() => repl.includes("paste mode"), { maxCycles: 2 * MHZ });
    for (const line of SERVER.split("\n")) {
      type(line + "\r");
      await b.runUntil(() => false, { maxCycles: MHZ / 100 }); // let the REPL echo the line
    }
    type("\x04");
    b.realtime = true; // udhcpd and the client run on wall time
    const serving = /ip = (\d+\.\d+\.\d+\.\d+) listening/; // digits: not the echo of the pasted line
    if (!(await b.runUntil(() => serving.test(repl), { maxCycles: 60 * MHZ, wallMs: 300_000 }))) return fail("the server did not start");
    const ip = serving.exec(repl)![1];
    let done = false;
    const running = b.runUntil(() => done, { maxCycles: 300 * MHZ, wallMs: 300_000 });
    const client = join(ROOT, "test", "peers", "tutorial_client.py");
    const first = await lan.exec("python3", [client, ip, "80", "1"], 60_000);
    const i0 = { busy: b.busyCycles, at: b.cycles };
    await new Promise((r) => setTimeout(r, 2000));
    const idleRate = (b.busyCycles - i0.busy) / Math.max(1, b.cycles - i0.at);
    const watch = watchRequests(net, () => b.cycles, 80);
    const many = await lan.exec("python3", [client, ip, "80", String(requests)], 120_000);
    watch.stop();
    done = true;
    await running;
    const ok = first.stdout === "10 20 30\n" && many.stdout.split("\n").filter((l) => l === "10 20 30").length === requests && watch.cycles.length === requests;
    if (!ok) return fail(`the tutorial client: ${(first.stderr + many.stderr).trim()}`);
    return { requests, version: version(), perRequest: median(watch.cycles), idleBusy: idleRate };
  } finally {
    lan.destroy();
  }
}

// alone: npx tsx tools/bench/radio-micropython.ts firmware.uf2   (root: the TAP)
if (import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1] ?? "").href) {
  if (!process.argv[2]) throw new Error("usage: npx tsx tools/bench/radio-micropython.ts MICROPYTHON.uf2");
  console.log(await microPythonPerRequest(process.argv[2], 20));
  process.exit(0);
}
