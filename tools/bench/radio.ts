// The WiFi side of `npm run bench`: build/picowire.uf2 with the CYW43439 model (tools/emu/cyw43/) in
// rp2040js at 125 MHz, in board cycles. Air time is zero (a join completes in the events right after
// the driver's SET_SSID), SPI runs at the SDK's PIO divider in lockstep with the CPU.
//   - power-on to joined (the driver's join complete) and to "wifi joined" (DHCP lease, udhcpd on a TAP);
//   - power-on to the first tutorial reply served, and the CPU cycles per tutorial request end to end
//     (driver, lwIP, host, core): busy cycles (the CPU not in WFE) over N requests, minus the idle loop's
//     own busy rate measured just before. The DHCP and the peer need root and network namespaces;
//   - the heap left with WiFi up, as a station and as an access point: the board's own figure (get_info's
//     free_memory, asked with the picowire CLI in the namespace) beside its boot line's.
//
//   npx tsx tools/bench/radio.ts      (npm run build first, with PICO_SDK_PATH; root for the TAP figures)
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FIRMWARE_UF2, ROOT } from "../build/firmware.ts";
import { findBootrom } from "../emu/run.ts";
import { blobsMissing } from "../emu/cyw43/blobs.ts";
import { median, watchRequests } from "./request-latency.ts";

const MHZ = 125_000_000;
const REQUESTS = 20;
const WS_KIB = 64;
const KEY = "bench-radio-key-0123456789";
/** The firmware's line when the core starts: the heap left beside the radio and lwIP (both static). */
const BOOT_HEAP = /\[info\] pico: core running, stack high-water \d+ of \d+ bytes, free heap (\d+) bytes/;

type Lan = import("../emu/radio-lan.ts").RadioLan;
type Board = import("../emu/radio-board.ts").RadioBoard;

/** The running board's free heap (get_info's free_memory: the boot line's computation, at the time of
 *  asking) through the picowire CLI in the namespace, beside the boot line's figure. */
async function heapWithWifiUp(lan: Lan, board: Board, ip: string, keyFile: string): Promise<string> {
  const r = await lan.picowire(["info", ip, "--key-file", keyFile, "--json"], 60_000);
  const info = r.stdout.split("\n").map(parseJson).find((j) => typeof j?.free_memory === "number");
  if (!info) return `FAILED: ${(r.stderr || r.stdout).trim().split("\n")[0]}`;
  return `${info.free_memory} B (get_info; at boot ${BOOT_HEAP.exec(board.output)?.[1] ?? "?"} B)`;
}

function parseJson(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

export async function radioReport(): Promise<string> {
  const boot = findBootrom();
  const why = !existsSync(FIRMWARE_UF2) ? `${FIRMWARE_UF2} (npm run build with PICO_SDK_PATH)` : "missing" in boot ? boot.missing : blobsMissing();
  if (why) return `Pico W radio (rp2040js + CYW43439 model): SKIPPED, missing ${why}`;
  const { RadioBoard } = await import("../emu/radio-board.ts");
  const { RadioWorld } = await import("../emu/radio-world.ts");
  const { configText, configUf2 } = await import("../cli/config.ts");
  const dir = mkdtempSync(join(tmpdir(), "pw-bench-radio-"));
  const cfg = join(dir, "cfg.uf2");
  const apCfg = join(dir, "ap.uf2");
  const keyFile = join(dir, "bench.key");
  writeFileSync(keyFile, KEY);
  writeFileSync(cfg, configUf2(configText(["ssid=lab", "password=bench-secret-1", "rgb_source=fixed", "rgb=10,20,30", "ws_echo=1", `key=${KEY}`])));
  writeFileSync(apCfg, configUf2(configText(["wifi_mode=ap", "ssid=benchap", "password=bench-secret-1", `key=${KEY}`])));
  const sha = createHash("sha256").update(readFileSync(join(ROOT, "build", "picowire.wasm"))).digest("hex").slice(0, 16);
  const lines = [`Pico W radio (build/picowire.uf2, core sha256 ${sha}…, rp2040js + CYW43439 model, zero air time), board cycles at 125 MHz; no target in issue 21, figures only:`];
  const row = (label: string, v: string) => lines.push(`  ${label.padEnd(58)} ${v}`);
  let latency: number | undefined; // picowire's request-to-reply cycles, beside MicroPython's

  // 1. flat out, no TAP: power-on to the driver's join complete
  {
    const world = new RadioWorld();
    world.addNetwork({ ssid: "lab", password: "bench-secret-1" });
    const b = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: cfg, air: world });
    const t0 = Date.now();
    const ok = await b.runUntil(() => b.wlan.sta.joined !== null, { maxCycles: 20 * MHZ });
    const firmwareBits = b.wiring.edges;
    row("power-on to WiFi joined (WPA2, link up)", ok ? `${(b.cycles / 1e6).toFixed(1)} M cycles (${b.boardMs.toFixed(0)} ms board, ${((Date.now() - t0) / 1000).toFixed(1)} s wall)` : `FAILED: ${b.stopped ?? "not joined"}`);
    row("SPI clock edges to get there (firmware 224,190 B + CLM + NVRAM)", `${firmwareBits}`);
  }
  // 2. through a TAP: DHCP from udhcpd, then the tutorial's CPython client (root and ip netns)
  const { RadioLan } = await import("../emu/radio-lan.ts");
  const world = new RadioWorld();
  const net = world.addNetwork({ ssid: "lab", password: "bench-secret-1" });
  let lan: import("../emu/radio-lan.ts").RadioLan;
  try {
    if (process.getuid?.() !== 0) throw new Error("a TAP in a network namespace needs root");
    lan = await RadioLan.create(net);
  } catch (e) {
    row("power-on to first tutorial reply; cycles per request", `SKIPPED: ${(e as Error).message.split("\n")[0]}`);
    return lines.join("\n");
  }
  try {
    const b = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: cfg, air: world });
    b.realtime = true; // from power-on: udhcpd runs on wall time and the figure says so
    if (!(await b.runUntil("wifi joined", { maxCycles: 60 * MHZ, wallMs: 120_000 }))) {
      row("power-on to WiFi joined with a DHCP lease", `FAILED: ${b.stopped ?? "no lease"}`);
      return lines.join("\n");
    }
    row("power-on to WiFi joined with a DHCP lease (udhcpd, wall-paced)", `${(b.cycles / 1e6).toFixed(1)} M cycles`);
    const ip = /wifi joined, address (\S+)/.exec(b.output)![1];
    let done = false;
    let firstReplyAt = 0;
    const running = b.runUntil(() => done, { maxCycles: 300 * MHZ, wallMs: 300_000 });
    const first = await lan.exec("python3", [join(ROOT, "test", "peers", "tutorial_client.py"), ip, "80", "1"], 60_000);
    firstReplyAt = b.cycles;
    // the idle loop's own busy rate (the board polls the radio while it waits)
    const i0 = { busy: b.busyCycles, at: b.cycles };
    await new Promise((r) => setTimeout(r, 2000));
    const idleRate = (b.busyCycles - i0.busy) / Math.max(1, b.cycles - i0.at);
    const r0 = { busy: b.busyCycles, at: b.cycles };
    const watch = watchRequests(net, () => b.cycles, 80);
    const many = await lan.exec("python3", [join(ROOT, "test", "peers", "tutorial_client.py"), ip, "80", String(REQUESTS)], 120_000);
    watch.stop();
    const busy = b.busyCycles - r0.busy - idleRate * (b.cycles - r0.at);
    const w0 = { busy: b.busyCycles, at: b.cycles };
    const python = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import websockets"], { stdio: "ignore" }).status === 0);
    const ws = python ? await lan.exec(python, [join(ROOT, "test", "peers", "ws_echo_client.py"), `ws://${ip}/echo`, "1024", String(WS_KIB)], 120_000) : null;
    const wsBusy = b.busyCycles - w0.busy - idleRate * (b.cycles - w0.at);
    const heap = await heapWithWifiUp(lan, b, ip, keyFile); // after the traffic: connections came and went
    done = true;
    await running;
    const okFirst = first.stdout === "10 20 30\n";
    const okMany = many.stdout.split("\n").filter((l) => l === "10 20 30").length === REQUESTS;
    row("power-on to the first tutorial reply (wall-paced: + python start)", okFirst ? `${(firstReplyAt / 1e6).toFixed(1)} M cycles` : `FAILED: ${first.stderr.trim()}`);
    if (okMany) latency = median(watch.cycles);
    row(`CPU cycles per tutorial request end to end (${REQUESTS} requests)`, okMany ? `${Math.round(busy / REQUESTS)} cycles (idle loop ${(idleRate * 100).toFixed(1)}% busy, subtracted)` : `FAILED: ${many.stderr.trim()}`);
    row("board cycles from a tutorial request's arrival to its reply (median)", okMany ? `${latency}` : "FAILED");
    row(`CPU cycles per KiB of WebSocket echo (${WS_KIB} x 1 KiB, in and out)`, !ws ? "SKIPPED: no CPython with the websockets package" : ws.stdout.startsWith("ok ") ? `${Math.round(wsBusy / WS_KIB)} cycles` : `FAILED: ${ws.stderr.trim()}`);
    row("heap free with WiFi up as a station (after the requests above)", heap);
  } finally {
    lan.destroy();
  }
  // 3. as an access point: a TAP station takes a lease from the board's DHCP server, then asks
  {
    const world = new RadioWorld();
    const b = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: apCfg, air: world });
    if (!(await b.runUntil("dhcp: serving", { maxCycles: 20 * MHZ }))) {
      row("heap free with WiFi up as an access point", `FAILED: ${b.stopped ?? "no access point"}`);
      return lines.join("\n");
    }
    b.realtime = true;
    const apLan = await RadioLan.create(world.network("benchap"), { address: null });
    let done = false;
    const running = b.runUntil(() => done, { maxCycles: 300 * MHZ, wallMs: 300_000 });
    try {
      const dhcp = await apLan.exec("busybox", ["udhcpc", "-i", "tap0", "-n", "-q", "-f", "-t", "10", "-T", "3", "-s", "/bin/true"], 60_000);
      const lease = /lease of (\d+\.\d+\.\d+\.\d+) obtained/.exec(dhcp.stdout + dhcp.stderr)?.[1];
      if (lease) await apLan.exec("ip", ["addr", "add", `${lease}/24`, "dev", "tap0"]);
      row("heap free with WiFi up as an access point (one station)", lease ? await heapWithWifiUp(apLan, b, "192.168.4.1", keyFile) : `FAILED: no lease (${(dhcp.stderr || dhcp.stdout).trim()})`);
    } finally {
      done = true;
      await running;
      apLan.destroy();
    }
  }
  // 4. the anchor: the tutorial's server on MicroPython's Pico W firmware, where an image is given
  const mp = process.env.MICROPYTHON_UF2;
  if (!mp) row("MicroPython anchor (tutorial server, cycles per request)", "SKIPPED: set MICROPYTHON_UF2=path (tools/emu/RADIO.md says how to build one)");
  else {
    const { microPythonPerRequest } = await import("./radio-micropython.ts");
    const f = await microPythonPerRequest(mp, REQUESTS);
    row(`${f.version ?? "MicroPython"}`, "");
    row("  board cycles from a tutorial request's arrival to its reply (median)", typeof f.perRequest === "number" ? `${f.perRequest} (picowire: ${latency ?? "?"}); idle loop ${((f.idleBusy ?? 0) * 100).toFixed(0)}% busy` : f.perRequest);
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await radioReport());
  process.exit(0);
}
