// Provisioning (issue 12, docs/CONFIG.md, docs/provisioning.md): the configuration sector the core reads
// itself at init(0) — corruption, version migration, a power cut at every flash step while saving —
// set_config and factory_reset over control, the factory-reset button, secrets kept out of every log
// line and reply, and the setup page an unconfigured board serves, driven in Chromium.
import { describe, it, expect, afterAll, afterEach } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { C } from "../../tools/host/abi.generated.ts";
import { Flash } from "../../tools/host/flash.ts";
import { Client } from "../../tools/client.ts";
import { encodeCopy, decodeCopy, readRegion, regionImage, SECTOR, CONFIG_REGION_BYTES } from "../../tools/provision/sector.ts";
import { setupAssets } from "../../tools/build/setup.ts";
import { RESET_PIN } from "../../tools/provision/layout.ts";
import { FakeHost } from "../helpers/core.ts";
import { nodeConfig } from "../../tools/cli/node.ts";
import { startBoard, stopBoards, waitFor, freePort, nodeOnly } from "../helpers/boards.ts";
import { chromiumMissing, playwright, CHROMIUM } from "../helpers/chromium.ts";
import { needs } from "../helpers/inputs.ts";

const A = "control_insecure=1\ncontrol_line_max=1024\nmax_conns=3\n";
const B_LONG = "control_insecure=1\ncontrol_line_max=1024\nmax_conns=5\n# a comment long enough to make the copy span several flash pages: " + "x".repeat(420) + "\n";
const SETUP_CONNS = 4; // setup mode's max_conns

function region(f: Flash): Uint8Array {
  return f.read(C.REGION_CONFIG, 0, CONFIG_REGION_BYTES) as Uint8Array;
}

function flashWith(image: Uint8Array): Flash {
  const f = new Flash();
  f.bytes.set(image, 0); // REGION_CONFIG is the model's first region
  return f;
}

function copies(a: Uint8Array | null, b: Uint8Array | null): Uint8Array {
  const img = new Uint8Array(CONFIG_REGION_BYTES).fill(0xff);
  if (a) img.set(a, 0);
  if (b) img.set(b, SECTOR);
  return img;
}

const boot = (f: Flash, resetPin = 1) => new FakeHost({ flash: f, resetPin }).boot();

describe("the configuration sector (core, no sockets)", () => {
  it("an erased sector is 'unconfigured': setup mode with an open picowire-XXXX access point, never a failed start", () => {
    const s = boot(new Flash());
    expect(s.initResult).toBe(C.OK);
    expect(s.logs.join("\n")).toMatch(/unconfigured: setup mode/);
    expect(s.aps).toEqual([{ ssid: "picowire-abcd", password: "" }]); // board ID ...ab cd
    expect(s.control({ action: "ping" }).pong).toBe(true); // control open without a key, for the setup page
  });

  it("reads what the TypeScript reference writes, and writes what it reads (set_config)", () => {
    expect(boot(flashWith(regionImage(A))).maxConns).toBe(3);
    const B = B_LONG.slice(0, 300) + "\n"; // two pages, and within setup mode's 512-byte command line
    const f = new Flash();
    const s = boot(f);
    const r = s.control({ action: "set_config", config: B });
    expect(r.restart).toBe(true);
    expect(s.resets).toEqual([C.RESET_KIND_BOARD]);
    const c1 = decodeCopy(region(f).subarray(SECTOR)); // the first save goes to copy 1
    expect(c1).toEqual({ text: B, seq: 1, version: 1 });
    expect(boot(f).maxConns).toBe(5);
    // the next save goes over the older copy (copy 0) with the next sequence number
    boot(f).control({ action: "set_config", config: A });
    expect(decodeCopy(region(f).subarray(0, SECTOR))).toEqual({ text: A, seq: 2, version: 1 });
    expect(decodeCopy(region(f).subarray(SECTOR))).toEqual({ text: B, seq: 1, version: 1 });
    expect(boot(f).maxConns).toBe(3);
    expect(readRegion(region(f))).toMatchObject({ text: A, copy: 0 });
  });

  it("the newest valid copy wins; sequence numbers compare across the 32-bit wrap", () => {
    expect(boot(flashWith(copies(encodeCopy(A, 7), encodeCopy(B_LONG, 8)))).maxConns).toBe(5);
    expect(boot(flashWith(copies(encodeCopy(A, 9), encodeCopy(B_LONG, 8)))).maxConns).toBe(3);
    expect(boot(flashWith(copies(encodeCopy(A, 0xffffffff), encodeCopy(B_LONG, 0)))).maxConns).toBe(5);
    expect(boot(flashWith(copies(encodeCopy(A, 4), encodeCopy(B_LONG, 4)))).maxConns).toBe(3); // tie: copy 0
  });

  it("any corrupted byte of a copy makes it invalid: the other copy, else setup mode (no trap)", () => {
    const a = encodeCopy(A, 1);
    const b = encodeCopy(B_LONG.slice(0, 60), 2);
    expect(boot(flashWith(copies(a, b))).maxConns).toBe(5);
    for (let i = 0; i < b.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = b.slice();
        bad[i] ^= bit;
        const s = boot(flashWith(copies(a, bad)));
        expect(s.initResult, `byte ${i}`).toBe(C.OK);
        expect(s.maxConns, `copy 1 byte ${i} ^ ${bit}`).toBe(3);
        const bad0 = a.slice();
        bad0[i % a.length] ^= bit;
        const t = boot(flashWith(copies(bad0, bad)));
        expect(t.initResult).toBe(C.OK);
        expect(t.maxConns).toBe(SETUP_CONNS);
        expect(t.aps.length).toBe(1);
      }
    }
    // garbage: random sectors, a header claiming a huge length, a truncated copy
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
    for (let k = 0; k < 50; k++) {
      const img = Uint8Array.from({ length: CONFIG_REGION_BYTES }, rnd);
      const s = boot(flashWith(img));
      expect(s.initResult).toBe(C.OK);
      expect(s.maxConns).toBe(SETUP_CONNS);
    }
    const huge = encodeCopy(A, 3);
    new DataView(huge.buffer).setUint16(6, 0xffff, true);
    expect(boot(flashWith(copies(huge, null))).maxConns).toBe(SETUP_CONNS);
    expect(boot(flashWith(copies(encodeCopy(B_LONG, 3).subarray(0, 300), null))).maxConns).toBe(SETUP_CONNS);
  });

  it("a copy whose text the core refuses (e.g. written by a newer core) gives setup mode, not a dead board", () => {
    const s = boot(flashWith(copies(encodeCopy("max_conns=3\nfuture_key=1\n", 1), null)));
    expect(s.initResult).toBe(C.OK);
    expect(s.logs.join("\n")).toMatch(/unknown key/);
    expect(s.aps).toEqual([{ ssid: "picowire-abcd", password: "" }]);
  });

  it("version migration: format 0 (bare text) is taken and saved as format 1; unknown newer formats are skipped", () => {
    const f = flashWith(new TextEncoder().encode("max_conns=6\nhttp_port=8080\n"));
    const s = boot(f);
    expect(s.maxConns).toBe(6);
    // the old text stays in copy 0 (until the next save); copy 1 holds it in format 1
    expect(decodeCopy(region(f).subarray(SECTOR))).toEqual({ text: "max_conns=6\nhttp_port=8080\n", seq: 1, version: 1 });
    const again = boot(f);
    expect(again.maxConns).toBe(6);
    expect(decodeCopy(region(f).subarray(SECTOR))).toMatchObject({ seq: 1 }); // not migrated again
    // format 0 text the core refuses is not taken (nor migrated): setup mode
    const junk = boot(flashWith(new TextEncoder().encode("this is not a configuration")));
    expect(junk.maxConns).toBe(SETUP_CONNS);
    // a format-2 copy (a newer core) is skipped for the format-1 copy beside it, even if newer
    expect(boot(flashWith(copies(encodeCopy(B_LONG, 9, 2), encodeCopy(A, 1)))).maxConns).toBe(3);
    expect(boot(flashWith(copies(encodeCopy(B_LONG, 9, 2), null))).maxConns).toBe(SETUP_CONNS);
  });

  it("a power cut at every erase/program step of a save, clean or torn mid-operation, never loses the last good copy", () => {
    // (its own cut model, on any Flash: the power fails at step `cutStep`, that step clean or torn)
    class CutFlash extends Flash {
      cutStep = Infinity;
      torn = false;
      steps = 0;
      override program(region: number, offset: number, data: Uint8Array): number {
        const n = this.steps++;
        if (n < this.cutStep) return super.program(region, offset, data);
        if (n === this.cutStep && this.torn) super.program(region, offset, Uint8Array.from(data, (b, i) => (i < 128 ? b : 0xff)));
        return C.OK; // the core is gone; nothing more reaches the flash
      }
      override erase(region: number, offset: number, len: number): number {
        const n = this.steps++;
        if (n < this.cutStep) return super.erase(region, offset, len);
        if (n === this.cutStep && this.torn) this.bytes.fill(0xff, offset, offset + len / 2); // REGION_CONFIG starts at 0
        return C.OK;
      }
    }
    const start = new Flash();
    boot(start).control({ action: "set_config", config: A });
    let checked = 0;
    // two successive saves: the first goes over copy 0, the second over copy 1
    for (const [old, next, oldConns] of [[A, B_LONG, 3], [B_LONG, A, 5]] as const) {
      const before = start.bytes.slice();
      const probe = new CutFlash();
      probe.bytes.set(before);
      boot(probe).control({ action: "set_config", config: next });
      const total = probe.steps;
      expect(total).toBe(1 + Math.ceil((16 + next.length) / 256)); // an erase, then the pages
      for (let k = 0; k <= total; k++) {
        for (const torn of [false, true]) {
          const f = new CutFlash();
          f.bytes.set(before);
          const s = boot(f);
          f.cutStep = k;
          f.torn = torn;
          s.control({ action: "set_config", config: next });
          const after = boot(flashWith(f.bytes.subarray(0, CONFIG_REGION_BYTES)));
          expect(after.initResult).toBe(C.OK);
          const got = after.maxConns;
          if (k === total && !torn) expect(got, `no cut`).toBe(next === A ? 3 : 5);
          else expect([oldConns, next === A ? 3 : 5], `cut at step ${k}${torn ? " (torn)" : ""} after ${old.length}`).toContain(got);
          if (k < total - 1) expect(got, `cut at step ${k}: the new copy is incomplete`).toBe(oldConns);
          checked++;
        }
      }
      boot(start).control({ action: "set_config", config: next });
    }
    expect(checked).toBeGreaterThan(8);
  });

  it("set_config validates before saving: a refused text names the line, saves nothing and restarts the core", () => {
    const f = flashWith(regionImage(A));
    const before = region(f).slice();
    const s = boot(f);
    const r = s.control({ action: "set_config", config: "max_conns=4\nmax_connz=5\n" });
    expect(r.error).toMatch(/not saved: config line 2: unknown key/);
    expect(region(f)).toEqual(before);
    expect(s.resets).toEqual([C.RESET_KIND_CORE]); // the bad text may have changed live settings: back to the saved ones
    expect(s.control({ action: "set_config" }).error).toMatch(/needs "config"/);
    expect(s.control({ action: "set_config", config: 5 }).error).toMatch(/needs "config"/);
    expect(s.control('{"action":"set_config","config":"max_conns=\\u00e9"}').error).toMatch(/needs "config"/); // \u escapes: send UTF-8
  });

  it("secrets never reach a log line or a reply: set_config echoes its text masked; refusals hide the value", () => {
    const f = new Flash();
    const s = boot(f);
    const key = "k3y-0123456789abcdefXYZ";
    const pw = "pa55word-secret";
    const r = s.control({ action: "set_config", config: `wifi_mode=sta\nwifi_ssid=home\nwifi_password=${pw}\nkey=${key}\n` });
    expect(r.restart).toBe(true);
    expect(r.config).toMatch(/^\*+$/);
    // (the board restarts after a save; the refusals below run on fresh unconfigured boards)
    const bad = boot(new Flash()).control({ action: "set_config", config: `wifi_password=${pw}\nkey=short-key-7\n` });
    expect(bad.error).toMatch(/config line 2: the key must be 16 to 64 characters$/);
    const bad2 = boot(new Flash()).control({ action: "set_config", config: `wifi_password=shrt7pw\n` });
    expect(bad2.error).toMatch(/WPA2 password is 8 to 63/);
    const after = boot(flashWith(regionImage(`control_insecure=1\nwifi_password=${pw}\n`)));
    const info = after.control({ action: "get_info" });
    const log = after.control({ action: "get_log" });
    const sent = (h: FakeHost) => [...h.sent.keys()].map((conn) => h.sentText(conn));
    const everything = [...s.logs, ...sent(s), ...after.logs, ...sent(after), JSON.stringify([r, bad, bad2, info, log])].join("\n");
    for (const secret of [key, pw, "short-key-7", "shrt7pw"]) expect(everything).not.toContain(secret);
    // what was saved is the real text
    expect(readRegion(region(f))!.text).toContain(`key=${key}`);
  });

  it("factory_reset erases both copies and restarts into setup mode", () => {
    const f = flashWith(copies(encodeCopy("control_insecure=1\nmax_conns=3\n", 1), encodeCopy("control_insecure=1\nmax_conns=5\n", 2)));
    const s = boot(f);
    expect(s.maxConns).toBe(5);
    const r = s.control({ action: "factory_reset" });
    expect(r.restart).toBe(true);
    expect(s.resets).toEqual([C.RESET_KIND_BOARD]);
    expect(region(f).every((b) => b === 0xff)).toBe(true);
    expect(boot(f).maxConns).toBe(SETUP_CONNS);
  });

  it(`the factory-reset button: GP${RESET_PIN} held low at boot erases the configuration`, () => {
    const f = flashWith(regionImage(A));
    const s = boot(f, 0);
    expect(s.logs.join("\n")).toMatch(/GP22 low at boot: factory reset/);
    expect(s.maxConns).toBe(SETUP_CONNS);
    expect(region(f).every((b) => b === 0xff)).toBe(true);
    // released: nothing happens to a configured board
    const g = flashWith(regionImage(A));
    expect(boot(g, 1).maxConns).toBe(3);
    expect(readRegion(region(g))!.text).toBe(A);
  });

  it("a host that passes configuration text keeps the old behaviour: the sector is not read", () => {
    const f = flashWith(regionImage(A));
    const s = new FakeHost({ flash: f }).boot("max_conns=6\n");
    expect(s.maxConns).toBe(6);
    expect(s.aps).toEqual([]);
  });

  it("scan_wifi lists the networks of the last scan for the setup page", () => {
    const s = boot(new Flash());
    const first = s.control({ action: "scan_wifi" });
    expect(first).toMatchObject({ networks: [], done: true });
    // the host reports two networks, then the end of the scan
    for (const name of ["home-net", 'quote"d']) {
      const ssid = new TextEncoder().encode(name);
      s.core.writeIo(Uint8Array.from([0xc0, 6, 1, ssid.length, ...ssid]));
      s.core.exports.wifi_event(C.WIFI_EV_SCAN_RESULT, 4 + ssid.length, 3000);
    }
    expect(s.control({ action: "scan_wifi" })).toMatchObject({ networks: ["home-net", 'quote"d'], done: false });
    s.core.exports.wifi_event(C.WIFI_EV_SCAN_DONE, 2, 3100);
    expect(s.control({ action: "scan_wifi" })).toMatchObject({ networks: ["home-net", 'quote"d'], done: true });
  });
});

// ---- the Node host: virtual boards with a flash file ---------------------------------------------

const node = nodeOnly("virtual boards with a flash model, the simulated WiFi and GPIO");

node.describe("virtual boards configured from flash (Node host)", () => {
  afterEach(() => stopBoards());
  const dir = mkdtempSync(join(tmpdir(), "picowire-prov-"));
  let n = 0;
  const host = () => `127.0.12.${10 + n++}`;

  async function setupBoard(flashFile?: string) {
    const h = host();
    const board = await startBoard("", { host: h, name: `prov-${h}`, flashFile, assets: setupAssets() });
    return { board, h };
  }

  it("an unconfigured board opens picowire-XXXX from its unique ID and serves the setup page", async () => {
    const { board, h } = await setupBoard();
    await waitFor(() => board.wifi.status(C.IFACE_AP) === C.WIFI_UP, "the setup access point");
    const id = createHash("sha256").update(`picowire:prov-${h}`).digest();
    const ssid = `picowire-${id.subarray(6, 8).toString("hex")}`;
    expect(board.lines.map((l) => l.text).join("\n")).toMatch(/unconfigured: setup mode/);
    expect((board.wifi as unknown as { ap: { ssid: string } }).ap.ssid).toBe(ssid);
    const res = await fetch(`http://${h}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(await res.text()).toContain("picowire setup");
  });

  it("set_config round trip: saved to the flash file, the board restarts configured and authenticated", async () => {
    const file = join(dir, "a.flash");
    const { board, h } = await setupBoard(file);
    const key = "provisioning-key-0123";
    const httpPort = await freePort(h);
    let c = await Client.connect(h, 12345);
    const r = await c.command({ action: "set_config", config: `key=${key}\nhttp_port=${httpPort}\nmax_conns=6\n` });
    c.close();
    expect(r.restart).toBe(true);
    await waitFor(() => board.lines.some((l) => /reset requested/.test(l.text)), "the restart");
    await waitFor(() => board.core.stat(C.STAT_CONNS_MAX) === 6, "the board restarted with the new configuration");
    const onDisk = readRegion(new Uint8Array(readFileSync(file)).subarray(0, CONFIG_REGION_BYTES));
    expect(onDisk!.text).toContain(`key=${key}`);
    await waitFor(() => board.lines.some((l) => /HMAC-SHA256 authenticated/.test(l.text)), "authenticated control");
    c = await Client.connect(h, 12345, { key });
    expect((await c.command({ action: "ping" })).pong).toBe(true);
    // the reply to get_info and every log line stay free of the key
    const info = await c.command({ action: "get_info" });
    expect(JSON.stringify(info)).not.toContain(key);
    expect(board.lines.map((l) => l.text).join("\n")).not.toContain(key);
    // factory reset over (authenticated) control: erased, back to setup mode
    expect((await c.command({ action: "factory_reset" })).restart).toBe(true);
    c.close();
    await waitFor(() => board.lines.filter((l) => /unconfigured: setup mode/.test(l.text)).length === 2, "setup mode again", 8000);
    expect(new Uint8Array(readFileSync(file)).subarray(0, CONFIG_REGION_BYTES).every((b) => b === 0xff)).toBe(true);
  });

  it("picowire node --flash-file without --role leaves the configuration to the sector", () => {
    const spec = nodeConfig(["--flash-file", "b.flash", "--host", "127.0.12.5", "--hold-reset"]);
    expect(spec).toMatchObject({ config: [], flashFile: "b.flash", host: "127.0.12.5", holdReset: true });
    expect(() => nodeConfig(["--flash-file", "b.flash", "--http-port", "8080"])).toThrow(/--http-port configures the board/);
    expect(() => nodeConfig(["--flash-file", "b.flash", "--set", "max_conns=2"])).toThrow(/--set configures/);
    expect(nodeConfig(["--flash-file", "b.flash", "--role", "rgb-server"]).config).toContain("http_port=8080");
  });

  it(`factory reset without a computer: GP${RESET_PIN} held at boot on a virtual board`, async () => {
    const flash = flashWith(regionImage(`http_port=0\ncontrol_insecure=1\nmax_conns=5\n`));
    const h = host();
    const pre = await startBoard("", { host: h, flash, name: "btn" });
    expect(pre.core.stat(C.STAT_CONNS_MAX)).toBe(5);
    await stopBoards();
    const again = new (await import("../../tools/host/board.ts")).Board({ wasm: (await import("../helpers/core.ts")).coreModule, host: h, flash, name: "btn", log: () => {} });
    again.hw.held.set(RESET_PIN, 0);
    await again.start();
    again.hw.held.delete(RESET_PIN);
    expect(again.core.stat(C.STAT_CONNS_MAX)).toBe(SETUP_CONNS);
    expect(region(flash).every((b) => b === 0xff)).toBe(true);
    await again.stop();
  });
});

// ---- the setup page in Chromium -----------------------------------------------------------------

const missing = chromiumMissing();

node.describe("the setup page in Chromium", () => {
  afterAll(() => stopBoards());
  needs(missing).it("lists scanned networks and saves a configuration with set_config; the board restarts configured", async () => {
    const h = "127.0.12.99";
    const flash = new Flash();
    const board = await startBoard("", {
      host: h,
      flash,
      name: "setup-page",
      assets: setupAssets(),
      networks: [
        { ssid: "picowire-lab", password: "picowire-lab", rssi: -48, channel: 6 },
        { ssid: "Home & Garden", password: "garden-pass-1", rssi: -70, channel: 11 },
      ],
    });
    const browser = await playwright!.chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--no-proxy-server",
        `--host-resolver-rules=MAP setup.picowire ${h}, MAP * ~NOTFOUND`],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 375, height: 700 } });
      await page.goto("http://setup.picowire/", { timeout: 10_000 });
      await expect.poll(() => page.locator("#nets option").evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value)), { timeout: 10_000 })
        .toEqual(["picowire-lab", "Home & Garden"]);
      await page.fill("#ssid", "Home & Garden");
      await page.fill("#pw", "garden-pass-1");
      await page.fill("#key", "setup-page-key-012345");
      await page.fill("#more", "max_conns=7");
      await page.click("#save");
      await expect.poll(() => page.textContent("#msg"), { timeout: 5000 }).toMatch(/Saved/);
      await waitFor(() => board.core.stat(C.STAT_CONNS_MAX) === 7, "the restart with the saved configuration", 8000);
      const saved = readRegion(region(flash))!.text;
      expect(saved).toBe("wifi_mode=sta\nwifi_ssid=Home & Garden\nwifi_password=garden-pass-1\nkey=setup-page-key-012345\nmax_conns=7\n");
      await waitFor(() => board.wifi.status(C.IFACE_STA) === C.WIFI_UP, "joined the chosen network", 5000);
      for (const l of board.lines) expect(l.text).not.toMatch(/garden-pass-1|setup-page-key/);
    } finally {
      await browser.close();
    }
  }, 40_000);
});
