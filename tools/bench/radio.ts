// The WiFi side of `npm run bench`: build/picowire.uf2 with the CYW43439 model (tools/emu/cyw43/) in
// rp2040js at 125 MHz, in board cycles. Air time is zero (a join completes in the events right after
// the driver's SET_SSID), SPI runs at the SDK's PIO divider in lockstep with the CPU.
//   - power-on to joined (the driver's join complete) and to "wifi joined" (DHCP lease, udhcpd on a TAP);
//   - power-on to the first tutorial reply served, and the CPU cycles per tutorial request end to end
//     (driver, lwIP, host, core): busy cycles (the CPU not in WFE) over N requests, minus the idle loop's
//     own busy rate measured just before. The DHCP and the peer need root and network namespaces.
//
//   npx tsx tools/bench/radio.ts      (npm run build first, with PICO_SDK_PATH; root for the TAP figures)
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FIRMWARE_UF2, ROOT } from "../build/firmware.ts";
import { findBootrom } from "../emu/run.ts";
import { blobsMissing } from "../emu/cyw43/blobs.ts";

const MHZ = 125_000_000;
const REQUESTS = 20;
const WS_KIB = 64;

export async function radioReport(): Promise<string> {
  const boot = findBootrom();
  const why = !existsSync(FIRMWARE_UF2) ? `${FIRMWARE_UF2} (npm run build with PICO_SDK_PATH)` : "missing" in boot ? boot.missing : blobsMissing();
  if (why) return `Pico W radio (rp2040js + CYW43439 model): SKIPPED, missing ${why}`;
  const { RadioBoard } = await import("../emu/radio-board.ts");
  const { RadioWorld } = await import("../emu/radio-world.ts");
  const { configCommand } = await import("../cli/config.ts");
  const cfg = join(mkdtempSync(join(tmpdir(), "pw-bench-radio-")), "cfg.uf2");
  const log = console.log;
  console.log = () => {};
  await configCommand(["set", "ssid=lab", "password=bench-secret-1", "rgb_source=fixed", "rgb=10,20,30", "ws_echo=1", "--uf2", cfg]);
  console.log = log;
  const sha = createHash("sha256").update(readFileSync(join(ROOT, "build", "picowire.wasm"))).digest("hex").slice(0, 16);
  const lines = [`Pico W radio (build/picowire.uf2, core sha256 ${sha}…, rp2040js + CYW43439 model, zero air time), board cycles at 125 MHz; no target in issue 21, figures only:`];
  const row = (label: string, v: string) => lines.push(`  ${label.padEnd(58)} ${v}`);

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
    const many = await lan.exec("python3", [join(ROOT, "test", "peers", "tutorial_client.py"), ip, "80", String(REQUESTS)], 120_000);
    const busy = b.busyCycles - r0.busy - idleRate * (b.cycles - r0.at);
    const w0 = { busy: b.busyCycles, at: b.cycles };
    const python = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import websockets"], { stdio: "ignore" }).status === 0);
    const ws = python ? await lan.exec(python, [join(ROOT, "test", "peers", "ws_echo_client.py"), `ws://${ip}/echo`, "1024", String(WS_KIB)], 120_000) : null;
    const wsBusy = b.busyCycles - w0.busy - idleRate * (b.cycles - w0.at);
    done = true;
    await running;
    const okFirst = first.stdout === "10 20 30\n";
    const okMany = many.stdout.split("\n").filter((l) => l === "10 20 30").length === REQUESTS;
    row("power-on to the first tutorial reply (wall-paced: + python start)", okFirst ? `${(firstReplyAt / 1e6).toFixed(1)} M cycles` : `FAILED: ${first.stderr.trim()}`);
    row(`CPU cycles per tutorial request end to end (${REQUESTS} requests)`, okMany ? `${Math.round(busy / REQUESTS)} cycles (idle loop ${(idleRate * 100).toFixed(1)}% busy, subtracted)` : `FAILED: ${many.stderr.trim()}`);
    row(`CPU cycles per KiB of WebSocket echo (${WS_KIB} x 1 KiB, in and out)`, !ws ? "SKIPPED: no CPython with the websockets package" : ws.stdout.startsWith("ok ") ? `${Math.round(wsBusy / WS_KIB)} cycles` : `FAILED: ${ws.stderr.trim()}`);
  } finally {
    lan.destroy();
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await radioReport());
  process.exit(0);
}
