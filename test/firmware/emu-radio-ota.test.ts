// An over-the-air update through the radio model: build/picowire.uf2 (wasm3: it boots cores from its
// flash slots) in rp2040js with the CYW43439 model joins a modelled network; `picowire update`, run in
// the namespace behind the network's TAP, sends it another core (the real one with a custom section:
// another SHA-256); the board checks it in flash, restarts through its watchdog (RadioBoard's reset: a
// new RP2040 on the same flash and clock, the radio powered off), boots the new core from slot A on
// trial, rejoins the network, takes its lease again, and the CLI's first command confirms it. Asserted
// from what the board serves after the restart: get_info over control, and the tutorial's reply.
// Needs what test/firmware/emu-radio.test.ts's TAP tests need (root, ip netns, busybox, python3).
import { describe, it, expect, afterEach } from "vitest";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, FIRMWARE_UF2 } from "../../tools/build/firmware.ts";
import { RadioBoard } from "../../tools/emu/radio-board.ts";
import { RadioWorld } from "../../tools/emu/radio-world.ts";
import { RadioLan } from "../../tools/emu/radio-lan.ts";
import { needs } from "../helpers/inputs.ts";
import { configUf2, keyFile, radioLanMissing, MHZ, WALL_CAP_MS } from "../helpers/radio.ts";

const KEY = "radio-ota-key-0123456789";
const PASSWORD = "ota-network-secret";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** build/picowire.wasm with a custom section naming `tag`: another SHA-256, the same behaviour. */
function variantFile(tag: string): { file: string; sha256: string } {
  const name = Buffer.from("picowire-test");
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  const bytes = Buffer.concat([readFileSync(join(ROOT, "build", "picowire.wasm")), Buffer.from([0, payload.length]), payload]);
  const file = join(mkdtempSync(join(tmpdir(), "pw-radio-ota-")), "core.wasm");
  writeFileSync(file, bytes);
  return { file, sha256: createHash("sha256").update(bytes).digest("hex") };
}

needs(radioLanMissing()).describe("an over-the-air update through the radio model", () => {
  it("picowire update over the TAP installs a new core; the board restarts into it, rejoins, and serves with it", async () => {
    const world = new RadioWorld();
    const net = world.addNetwork({ ssid: "lab", password: PASSWORD, channel: 11, rssi: -50 });
    const lan = await RadioLan.create(net);
    cleanups.push(() => lan.destroy());
    const key = keyFile(KEY);
    const cfg = await configUf2(["ssid=lab", `password=${PASSWORD}`, `key=${KEY}`, "rgb_source=fixed", "rgb=10,20,30"]);
    const board = await RadioBoard.create({ image: FIRMWARE_UF2, configUf2: cfg, air: world, echo: !!process.env.PW_EMU_ECHO });
    const tail = () => `${board.stopped ? `stopped: ${board.stopped}\n` : ""}${board.output.slice(-4000)}`;
    expect(await board.runUntil(() => board.wlan.sta.joined !== null, { maxCycles: 30 * MHZ, wallMs: WALL_CAP_MS }), tail()).toBe(true);
    board.realtime = true; // udhcpd and the CLI run on wall time
    expect(await board.runUntil("wifi joined", { maxCycles: 30 * MHZ, wallMs: WALL_CAP_MS }), tail() + lan.dhcpLog).toBe(true);
    const ip = /wifi joined, address (\d+\.\d+\.\d+\.\d+)/.exec(board.output)![1];
    const info = async () => {
      const r = await lan.picowire(["info", ip, "--key-file", key, "--json"], 120_000);
      const reply = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).find((j) => "core_sha256" in j);
      expect(reply, r.stdout + r.stderr).toBeDefined();
      return reply as Record<string, unknown>;
    };

    const v = variantFile("radio-ota");
    const firmwareCore = createHash("sha256").update(readFileSync(join(ROOT, "build", "picowire.wasm"))).digest("hex");
    let done = false;
    const running = board.runUntil(() => done, { maxCycles: 600 * MHZ, wallMs: 3 * WALL_CAP_MS });
    try {
      expect(await info()).toMatchObject({ engine: "wasm3", slot: "firmware", core_sha256: firmwareCore, slots: [{ sha256: null }, { sha256: null }] });
      // the board runs at a tenth of a real one's speed or less: checking the image (SHA-256 over flash)
      // takes it seconds of wall time, and the restart, the core's load and the rejoin minutes
      const up = await lan.picowire(["update", ip, v.file, "--key-file", key, "--reply-timeout-ms", "120000", "--boot-wait-ms", "400000"], 500_000);
      expect(up.code, up.stdout + up.stderr + tail()).toBe(0);
      expect(up.stdout).toMatch(new RegExp(`runs core ${v.sha256.slice(0, 12)} from slot A, confirmed`));
      expect(board.reboots).toBe(1);
      expect(board.output).toMatch(/pico: rebooting \(board\)/);

      // what the board serves after the restart: the new core, from slot A, after a software reset
      expect(await info()).toMatchObject({ engine: "wasm3", slot: "A", core_sha256: v.sha256, reset_reason: "software", slots: [{ sha256: v.sha256 }, { sha256: null }] });
      const tutorial = await lan.exec("python3", [join(ROOT, "test", "peers", "tutorial_client.py"), ip, "80", "1"], 60_000);
      expect(tutorial.stdout, tutorial.stderr).toBe("10 20 30\n");
    } finally {
      done = true;
      await running;
    }
    expect(board.stopped).toBeNull();
    expect(board.chip.faults).toEqual([]);
    // the second boot brought the radio up again from power-off: the firmware went down the wire twice
    expect(board.output.match(/wifi joined, address/g)?.length).toBe(2);
  }, 4 * WALL_CAP_MS);
});
