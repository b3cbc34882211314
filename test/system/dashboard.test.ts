// The dashboard (web/dashboard.html), served by a virtual board as its `index.html.gz` asset and driven
// in a real browser: Debian's Chromium (/usr/bin/chromium) through playwright-core, which never
// downloads a browser. The board is reached as board.picowire.test (Chromium's host resolver maps it to
// 127.0.0.1 and refuses every other name), so the page has a real, non-secure http:// origin: no
// crypto.subtle, as on a LAN. Its own SHA-256/HMAC is checked against published vectors here (in Node,
// and again in Chromium). Every wait has a deadline. Screenshots go to test-artifacts/; the desktop one
// is copied to docs/dashboard.png when that file is missing or PICOWIRE_DOCS_SCREENSHOT=1.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import dgram from "node:dgram";
import { createHash, createHmac } from "node:crypto";
import { join } from "node:path";
import { ROOT } from "../../tools/abi/generate.ts";
import { DASHBOARD_ASSET, DASHBOARD_BUDGET, DASHBOARD_SOURCE, buildDashboard, dashboardGzip } from "../../tools/build/dashboard.ts";
import { Client } from "../../tools/client.ts";
import { startBoard, stopBoards, freePort, waitFor, nodeOnly, TEST_HOST, type TestBoard } from "../helpers/boards.ts";
import { needs } from "../helpers/inputs.ts";
import { picowire } from "../helpers/cli.ts";
import { chromiumMissing, launchChromium, playwright, CHROMIUM } from "../helpers/chromium.ts";
import { Broker, MOSQUITTO } from "../../tools/mqtt/broker.ts";
import { C } from "../../tools/host/abi.generated.ts";

const BOARD_HOST = "board.picowire.test";
const ARTIFACTS = join(ROOT, "test-artifacts");
const KEY = "correct horse battery staple";
const html = readFileSync(DASHBOARD_SOURCE, "utf8");
// the page's own functions (globals of its script), as page.evaluate below calls them
declare function sha256(b: Uint8Array): Uint8Array;
declare function hmacSha256(key: string | Uint8Array, msg: string | Uint8Array): string;
declare function toHex(b: Uint8Array): string;

// ---- the page's own SHA-256 / HMAC, evaluated in Node from the page's source ----
const cryptoSource = html.slice(html.indexOf("// ---- sha256-begin"), html.indexOf("// ---- sha256-end"));
const pageCrypto = new Function(`${cryptoSource}; return { sha256, hmacSha256, toHex };`)() as {
  sha256(b: Uint8Array): Uint8Array;
  hmacSha256(key: string | Uint8Array, msg: string | Uint8Array): string;
  toHex(b: Uint8Array): string;
};

const SHA_VECTORS: [string, string][] = [
  ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  ["abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
];
const hexBytes = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
// RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (keys and data as hex, full-length outputs)
const HMAC_VECTORS: [string, string, string][] = [
  ["0b".repeat(20), Buffer.from("Hi There").toString("hex"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
  [Buffer.from("Jefe").toString("hex"), Buffer.from("what do ya want for nothing?").toString("hex"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
  ["aa".repeat(20), "dd".repeat(50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
  ["0102030405060708090a0b0c0d0e0f10111213141516171819", "cd".repeat(50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
  ["aa".repeat(131), Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First").toString("hex"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
  ["aa".repeat(131), Buffer.from("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.").toString("hex"), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"],
];

describe("the dashboard page (no browser)", () => {
  it(`fits its budget: ${DASHBOARD_BUDGET} bytes gzip`, () => {
    const gz = dashboardGzip();
    console.log(`web/dashboard.html: ${Buffer.byteLength(html)} bytes, ${gz.length} bytes gzip level 9`);
    expect(gz.length).toBeLessThanOrEqual(DASHBOARD_BUDGET);
  });

  it("is self-contained: no external script, style, font, image or connection", () => {
    expect(html).not.toMatch(/\b(src|href|action)\s*=\s*["']?(?!data:)[^"'\s>]*[:/]|@import|url\(|fetch\(|XMLHttpRequest|\bimport\(/i);
    expect(html.match(/new WebSocket\([^)]*\)/g)).toEqual(["new WebSocket(URL_)"]);
    expect(html).toMatch(/location\.host/); // it connects back to the board that served it
  });

  it.each(SHA_VECTORS)("SHA-256 %j (FIPS 180-4)", (msg, hex) => {
    expect(pageCrypto.toHex(pageCrypto.sha256(new TextEncoder().encode(msg)))).toBe(hex);
  });

  it("SHA-256 of a million 'a' and every length around the block boundaries match Node's crypto", () => {
    expect(pageCrypto.toHex(pageCrypto.sha256(new Uint8Array(1_000_000).fill(97)))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    for (let n = 0; n <= 200; n++) {
      const msg = Uint8Array.from({ length: n }, (_, i) => (i * 13 + n) & 255);
      expect(pageCrypto.toHex(pageCrypto.sha256(msg))).toBe(createHash("sha256").update(msg).digest("hex"));
    }
  });

  it("HMAC-SHA256 matches RFC 4231 and Node's crypto (text keys as UTF-8, as the board and tools/client.ts use them)", () => {
    for (const [k, d, mac] of HMAC_VECTORS) expect(pageCrypto.hmacSha256(hexBytes(k), hexBytes(d))).toBe(mac);
    for (const [key, msg] of [[KEY, "picowire-auth:00112233445566778899aabbccddeeff"], ["k".repeat(64), "x".repeat(300)], ["k".repeat(65), ""], ["ünïcödé key ✓ 🎉 long", "日本語 ✓"]]) {
      expect(pageCrypto.hmacSha256(key, msg)).toBe(createHmac("sha256", key).update(msg).digest("hex"));
    }
  });
});

// ---- the CLI's virtual boards serve the built page (build/index.html.gz, made by npm run build) ----
nodeOnly("the CLI starts Node-host boards").describe("picowire node / picowire demo serve the built dashboard", () => {
  /** GET / as raw bytes (node:http does not undo the gzip, unlike fetch). */
  function getPage(port: number): Promise<{ status: number; encoding?: string; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 5000 }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d) => parts.push(d));
        res.on("end", () => resolve({ status: res.statusCode!, encoding: res.headers["content-encoding"], body: Buffer.concat(parts) }));
      });
      req.on("timeout", () => req.destroy(new Error(`GET / on port ${port}: no answer within 5 s`)));
      req.on("error", reject);
    });
  }

  it("picowire node and npm start (demo) load build/index.html.gz; the demo prints the dashboard's URL", async () => {
    if (!existsSync(DASHBOARD_ASSET)) buildDashboard(); // npm test has built it already
    const built = readFileSync(DASHBOARD_ASSET);
    const port = await freePort();
    const cport = await freePort();
    const node = picowire(["node", "--role", "rgb-server", "--host", "127.0.0.1", "--http-port", String(port), "--control-port", String(cport), "--insecure"]);
    await node.waitFor(/running \(Ctrl-C stops\)/);
    const r = await getPage(port);
    expect(r.status).toBe(200);
    expect(r.encoding).toBe("gzip");
    expect(r.body.equals(built)).toBe(true);
    const dport = await freePort();
    const demo = picowire(["demo", "--http-port", String(dport), "--control-port", String(await freePort()), "--bus-port", String(await freePort())]);
    await demo.waitFor(new RegExp(`dashboard: http://127\\.0\\.0\\.1:${dport}/`));
    expect((await getPage(dport)).status).toBe(200);
    node.child.kill("SIGINT");
    demo.child.kill("SIGINT");
    expect(await node.exit).toBe(0);
    expect(await demo.exit).toBe(0);
  }, 40_000);
});

/** In Chromium, on the Node host (the page asset and board.hw are the Node host's; it runs in plain npm test). */
const chromiumDescribe = TEST_HOST !== "node" ? nodeOnly("the page asset and board.hw are the Node host's").describe : needs(chromiumMissing()).describe;

chromiumDescribe("the dashboard in Chromium, served by a virtual board", () => {
  const gz = dashboardGzip();
  let browser: import("playwright-core").Browser;
  const pageErrors: string[] = [];
  let keyed: { board: TestBoard; port: number; cport: number; config: string };
  let open: { board: TestBoard; port: number; cport: number };
  let keyedPage: import("playwright-core").Page;

  async function board(extra: string) {
    const port = await freePort();
    const cport = await freePort();
    const config = `http_port=${port}\ncontrol_port=${cport}\n${extra}`;
    const b = await startBoard(config, { host: "127.0.0.1", assets: { "index.html.gz": gz } });
    return { board: b, port, cport, config };
  }

  async function newPage(port: number, width = 1100, height = 900) {
    const page = await browser.newPage({ viewport: { width, height } });
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && !/WebSocket connection/.test(m.text()) && pageErrors.push(`console: ${m.text()}`));
    const res = await page.goto(`http://${BOARD_HOST}:${port}/`, { timeout: 10_000 });
    return { page, res };
  }

  const state = (page: import("playwright-core").Page) => page.locator("#state").textContent({ timeout: 5000 });
  const waitState = (page: import("playwright-core").Page, re: RegExp, ms = 8000) =>
    page.waitForFunction((src) => new RegExp(src).test(document.getElementById("state")!.textContent!), re.source, { timeout: ms });

  async function unlock(page: import("playwright-core").Page) {
    await page.locator("#keybox").waitFor({ state: "visible", timeout: 5000 });
    await page.fill("#key", KEY);
    await page.click("#keyform button");
    await waitState(page, /authenticated/);
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    keyed = await board(`key=${KEY}`);
    open = await board("control_insecure=1");
    browser = await launchChromium([BOARD_HOST]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopBoards();
  }, 30_000);

  needs(MOSQUITTO ? null : "mosquitto is not installed (apt-get install mosquitto)").it("shows the board's MQTT link and the boards met through the broker", async () => {
    const broker = new Broker();
    await broker.start();
    try {
      const mq = await board(`control_insecure=1\nmqtt=${broker.url}\nmqtt_id=dash-a`);
      await startBoard(`http_port=0\ncontrol_port=0\nmqtt=${broker.url}\nmqtt_id=dash-b`, { host: "127.0.0.2" });
      const { page } = await newPage(mq.port);
      await page.waitForFunction(() => /^connected to 127\.0\.0\.1:\d+ as dash-a · 1 other board online$/.test(document.getElementById("i-mqtt")!.textContent!), null, { timeout: 10_000 });
      await broker.stop();
      await page.waitForFunction(() => /^reconnecting to /.test(document.getElementById("i-mqtt")!.textContent!), null, { timeout: 10_000 });
      await page.close();
      // a board without MQTT says so
      const { page: other } = await newPage(open.port);
      await other.waitForFunction(() => document.getElementById("i-mqtt")!.textContent === "off", null, { timeout: 10_000 });
      await other.close();
    } finally {
      await broker.dispose();
    }
  });

  it("loads from the board through its name, gzip-encoded, in a non-secure context, and asks for the key", async () => {
    const { page, res } = await newPage(keyed.port);
    keyedPage = page;
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-encoding"]).toBe("gzip");
    const ctx = await page.evaluate(() => ({ secure: window.isSecureContext, origin: location.origin, subtle: !!(globalThis.crypto && crypto.subtle) }));
    expect(ctx).toEqual({ secure: false, origin: `http://${BOARD_HOST}:${keyed.port}`, subtle: false });
    await page.locator("#keybox").waitFor({ state: "visible", timeout: 5000 });
    expect(await state(page)).toMatch(/needs the key/);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-key.png"), timeout: 10_000 });
  });

  it("computes SHA-256 and HMAC-SHA256 in Chromium exactly as published", async () => {
    const r = await keyedPage.evaluate(([sha, mac]) => ({
      sha: (sha as [string, string][]).map(([m]) => toHex(sha256(new TextEncoder().encode(m)))),
      mac: (mac as [string, string, string][]).map(([k, d]) => {
        const bytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
        return hmacSha256(bytes(k), bytes(d));
      }),
    }), [SHA_VECTORS, HMAC_VECTORS] as const);
    expect(r.sha).toEqual(SHA_VECTORS.map(([, h]) => h));
    expect(r.mac).toEqual(HMAC_VECTORS.map(([, , h]) => h));
  });

  it("refuses a wrong key in plain words, then works with the right one typed in", async () => {
    const page = keyedPage;
    await page.fill("#key", "not the key at all, sorry");
    await page.click("#keyform button");
    await page.waitForFunction(() => /refused that key/.test(document.getElementById("keymsg")!.textContent!), null, { timeout: 10_000 });
    await unlock(page);
    expect(await page.evaluate(() => sessionStorage.getItem("picowire-key"))).toBe(KEY);
    await page.waitForFunction(() => document.getElementById("i-ip")!.textContent === "127.0.0.1", null, { timeout: 5000 });
    // a board without bus=1: a bus of one (before the bus: its own address; with it: role OFF)
    await page.waitForFunction(() => document.querySelectorAll("#members li").length > 0 && /This board: \S/.test(document.getElementById("busrole")!.textContent!), null, { timeout: 5000 });
    expect(await page.locator("#i-uptime").textContent()).toMatch(/\d+ s$/);
    expect(await page.locator("#i-mem").textContent()).toMatch(/KiB$/);
    expect(await page.locator("#i-role").textContent()).not.toBe("-");
    const me = page.locator("#members li.me");
    if (await me.count()) expect(await me.getAttribute("data-ip")).toBe("127.0.0.1");
    // the board's own log lines (get_log), with what it said at start
    await page.waitForFunction(() => /I http: listening on port/.test(document.getElementById("blog")!.textContent!), null, { timeout: 5000 });
    expect(keyed.board.lines.some((l) => l.text.includes(KEY))).toBe(false);
  });

  it("follows the board's colour (set with the TypeScript Client) and keeps a history strip", async () => {
    const page = keyedPage;
    const c = await Client.connect("127.0.0.1", keyed.cport, { key: KEY });
    try {
      for (const rgb of ["#12ab34", "#ff8000", "#0040ff"]) {
        expect((await c.command({ action: "set_rgb", rgb })).error).toBeUndefined();
        await page.waitForFunction((want) => document.getElementById("swatch")!.dataset.rgb === want, rgb, { timeout: 5000 });
        const bg = await page.locator("#swatch").evaluate((el) => getComputedStyle(el).backgroundColor);
        const n = parseInt(rgb.slice(1), 16);
        expect(bg).toBe(`rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`);
      }
    } finally {
      c.close();
    }
    const strip = await page.locator("#hist i").evaluateAll((els) => els.map((e) => (e as HTMLElement).title));
    expect(strip.slice(-3)).toEqual(["#12ab34", "#ff8000", "#0040ff"]);
  });

  it("writes a pin with a 1 s fail-safe timeout that the board sees and reverts, and explains refusals", async () => {
    const page = keyedPage;
    const pins = keyed.board.hw.pins;
    await page.fill("#pin", "2");
    await page.selectOption("#mode", "output");
    await page.selectOption("#initial", "0");
    await page.click("#setup");
    await page.waitForFunction(() => /GP2 is now an output/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });
    expect(pins.get(2)?.level).toBe(0);
    await page.selectOption("#wval", "1");
    await page.fill("#wtime", "1");
    await page.click("#write");
    await waitFor(() => pins.get(2)?.level === 1, "GP2 high after the page's write", 3000);
    const high = Date.now();
    await waitFor(() => pins.get(2)?.level === 0, "GP2 back to 0 after its 1 s timeout", 3000);
    const heldMs = Date.now() - high;
    expect(heldMs).toBeGreaterThan(700);
    expect(heldMs).toBeLessThan(2000);
    await page.waitForFunction(() => /timeout of GP2 ran out: it is back at 0/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });

    await page.fill("#pin", "23"); // the radio's pin on a Pico W: the board refuses it, the page says why
    await page.click("#setup");
    await page.waitForFunction(() => /refused setup_pin: pin 23 is wired to the WiFi chip/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });
    expect(await page.locator("#pinmsg").getAttribute("class")).toMatch(/err/);
    await page.fill("#pin", "40"); // checked in the page before anything is sent
    await page.click("#read");
    expect(await page.locator("#pinmsg").textContent()).toMatch(/GPIO number from 0 to 28, or LED/);

    await page.fill("#pin", "3");
    await page.click("#setup");
    await page.waitForFunction(() => /GP3 is now an output/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });
    await page.locator("#duty").fill("25");
    await page.fill("#freq", "2000");
    await page.click("#pwm");
    await page.waitForFunction(() => /25% duty, 2000 Hz/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });
    expect(pins.get(3)?.pwm).toMatchObject({ duty: Math.round(0.25 * 65535) });
    await page.fill("#pin", "2");
    await page.click("#read");
    await page.waitForFunction(() => /GP2 reads 0 \(low\)/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });
    // the log tail shows what went out (signed) and what came back
    const logText = await page.locator("#log").textContent();
    expect(logText).toMatch(/→ \{"action":"write_pin","pin":2,"value":1,"timeout":1,"seq":\d+,"mac":"[0-9a-f]{12}…"\}/);
    expect(logText).toMatch(/← \{"action":"write_pin"/);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true, timeout: 10_000 });
    const docs = join(ROOT, "docs", "dashboard.png");
    if (!existsSync(docs) || process.env.PICOWIRE_DOCS_SCREENSHOT === "1") copyFileSync(join(ARTIFACTS, "dashboard.png"), docs);
  }, 30_000);

  it("works with a board that has no key (control_insecure=1): no key asked, set_rgb from the page", async () => {
    const { page } = await newPage(open.port);
    await waitState(page, /no key \(insecure\)/);
    expect(await page.locator("#keybox").isVisible()).toBe(false);
    await page.locator("#pick").fill("#a0b1c2");
    await page.click("#setrgb");
    await page.waitForFunction(() => document.getElementById("swatch")!.dataset.rgb === "#a0b1c2", null, { timeout: 5000 });
    const c = await Client.connect("127.0.0.1", open.cport);
    try {
      expect((await c.command({ action: "get_info" })).rgb).toBe("#a0b1c2");
    } finally {
      c.close();
    }
    await page.close();
  });

  it("shows a board's LED strip as the board received it (a DDP frame sent over UDP)", async () => {
    const lit = await board("control_insecure=1\nlights=ddp\npixels_count=8\nbrightness=40");
    const colours = ["ff0000", "00ff00", "0000ff", "ffffff", "123456", "abcdef", "ff8000", "000000"];
    const { ddp } = await import("../../tools/lights/send.ts");
    const frame = ddp(Uint8Array.from(colours.flatMap((c) => [0, 2, 4].map((i) => parseInt(c.slice(i, i + 2), 16)))));
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r, j) => sock.send(frame, 4048, "127.0.0.1", (e) => (e ? j(e) : r())));
    sock.close();
    const { page } = await newPage(lit.port);
    await page.waitForFunction((n) => document.querySelectorAll("#strip i").length === n, colours.length, { timeout: 10_000 });
    const shown = await page.locator("#strip i").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.rgb));
    expect(shown).toEqual(colours); // as received: gamma and brightness are the strip's business
    expect(await page.locator("#striptext").textContent()).toMatch(/^8 pixels · realtime \(DDP\)$/);
    await page.close();
    await lit.board.stop();
  });

  it("says clearly when the board is gone and reconnects by itself when it returns on the same port", async () => {
    const page = keyedPage;
    let failed = 0; // reconnection attempts refused while the board is away
    const attempt = (ws: import("playwright-core").WebSocket) => ws.on("close", () => failed++);
    page.on("websocket", attempt);
    await keyed.board.stop();
    await page.locator("#banner").waitFor({ state: "visible", timeout: 5000 });
    expect(await state(page)).toBe("disconnected");
    expect(await page.locator("#bannertext").textContent()).toMatch(/Disconnected from the board .*Reconnecting/);
    expect(await page.locator("#write").isDisabled()).toBe(true); // nothing can be sent: the buttons say so
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-disconnected.png"), timeout: 10_000 });
    await waitFor(() => failed >= 2, "two failed reconnection attempts while it is away", 10_000);
    page.off("websocket", attempt);
    keyed.board = await startBoard(keyed.config, { host: "127.0.0.1", assets: { "index.html.gz": gz } });
    await waitState(page, /authenticated/, 15_000); // the key remembered in sessionStorage: not asked again
    expect(await page.locator("#banner").isVisible()).toBe(false);
    expect(await page.locator("#keybox").isVisible()).toBe(false);
    const c = await Client.connect("127.0.0.1", keyed.cport, { key: KEY });
    try {
      await c.command({ action: "set_rgb", rgb: "#336699" });
    } finally {
      c.close();
    }
    await page.waitForFunction(() => document.getElementById("swatch")!.dataset.rgb === "#336699", null, { timeout: 5000 });
  }, 30_000);

  it("fits a 375 px phone screen without horizontal scrolling", async () => {
    const { page } = await newPage(keyed.port, 375, 812);
    await unlock(page); // a new tab: sessionStorage is per tab, so the key is asked again
    await page.waitForFunction(() => !!document.getElementById("swatch")!.dataset.rgb, null, { timeout: 5000 });
    const fit = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const over = [...document.querySelectorAll("body *")]
        .filter((e) => (e as HTMLElement).offsetParent !== null || e.tagName === "SECTION")
        .map((e) => ({ tag: e.tagName + (e.id ? "#" + e.id : ""), right: Math.round(e.getBoundingClientRect().right) }))
        .filter((e) => e.right > vw);
      return { vw, scrollWidth: document.documentElement.scrollWidth, over };
    });
    expect(fit.vw).toBe(375);
    expect(fit.over).toEqual([]);
    expect(fit.scrollWidth).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-375.png"), fullPage: true, timeout: 10_000 });
    await page.close();
  });

  it("raised no script error in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});

// ---- the log tail: get_log reads the core's ring of its latest error/warn/info lines ----
nodeOnly("reads the Node host's core exports").describe("get_log: the board's log tail (the page's Board log)", () => {
  afterAll(() => stopBoards());

  it("pages through the ring with since/next, keeps the newest lines when it wraps, never shows the key", async () => {
    const cport = await freePort();
    // log_repeat_ms=0: every line goes to the ring, however alike (the limit: test/protocol/connection-policy.test.ts)
    const board = await startBoard(`http_port=0\ncontrol_port=${cport}\nkey=${KEY}\nlog_repeat_ms=0`, { host: "127.0.0.1" });
    const c = await Client.connect("127.0.0.1", cport, { key: KEY });
    try {
      const all = async (since: number) => {
        const got: string[] = [];
        for (let i = 0; i < 100; i++) {
          const r = await c.command({ action: "get_log", since });
          expect(r.error).toBeUndefined();
          const lines = r.lines as string[];
          if (!lines.length) return { got, next: r.next as number };
          got.push(...lines);
          since = r.next as number;
        }
        throw new Error("get_log never caught up");
      };
      const first = await all(0);
      expect(first.got.some((l) => /^I control: listening on port \d+ \(HMAC-SHA256 authenticated\)$/.test(l))).toBe(true);
      expect(first.got.join("\n")).not.toContain(KEY);
      // every line the board logged at info or above is there, in order, with its level letter
      const logged = () => board.lines.filter((l) => l.level !== "debug").map((l) => `${l.level[0].toUpperCase()} ${l.text}`);
      expect(first.got).toEqual(logged());
      // nothing new: an empty page, same next
      expect(await c.command({ action: "get_log", since: first.next })).toMatchObject({ lines: [], next: first.next });
      // many more lines than the ring holds (each control connection logs one): the newest are kept
      for (let i = 0; i < 40; i++) (await Client.connect("127.0.0.1", cport, { key: KEY })).close();
      await waitFor(() => logged().length >= first.got.length + 40, "40 more log lines", 5000);
      const after = await all(first.next);
      expect(after.got.length).toBeGreaterThan(10);
      expect(after.got.length).toBeLessThan(40);
      expect(after.got).toEqual(logged().slice(-after.got.length));
      // a seq from another life of the board (far ahead, or long gone) starts at the oldest line kept
      const reset = await c.command({ action: "get_log", since: 4_000_000_000 });
      expect(after.got).toContain((reset.lines as string[])[0]);
    } finally {
      c.close();
    }
  }, 30_000);
});

// ---- a virtual bus of three boards, each page in Chromium ----
chromiumDescribe("the dashboard on a virtual bus of three boards, in Chromium", () => {
  const gz = dashboardGzip();
  const HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];
  const NAMES = ["board1.picowire.test", "board2.picowire.test", "board3.picowire.test"]; // mapped to those
  let browser: import("playwright-core").Browser;
  let boards: TestBoard[] = [];
  let port = 0, cport = 0;
  const pageErrors: string[] = [];
  type Page = import("playwright-core").Page;
  let worker: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    port = await freePort();
    cport = await freePort();
    const bport = await freePort();
    const config = [
      `http_port=${port}`, `control_port=${cport}`, `key=${KEY}`, "bus=1", `bus_port=${bport}`, `bus_peers=${HOSTS.join(",")}`,
      "bus_heartbeat_ms=100", "bus_election_ms=400", "bus_dead_ms=1000", "rgb_poll_ms=300",
    ].join("\n");
    // the first board founds the bus, as `npm start` does: it is the master the others join
    boards.push(await startBoard(config, { host: HOSTS[0], assets: { "index.html.gz": gz } }));
    await waitFor(() => boards[0].core.stat(C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER, "127.0.0.1 to be master", 5000);
    for (const h of HOSTS.slice(1)) boards.push(await startBoard(config, { host: h, assets: { "index.html.gz": gz } }));
    await waitFor(() => boards.every((b) => b.core.stat(C.STAT_BUS_MEMBERS) === 3 && b.core.stat(C.STAT_BUS_MASTER_IP) >>> 0 === 0x7f000001), "all three boards on one bus under 127.0.0.1", 15_000);
    // each board by its own name; 127.x itself would be a secure context to Chromium
    const rules = [...NAMES.map((n, i) => `MAP ${n} ${HOSTS[i]}`), "MAP * ~NOTFOUND"].join(", ");
    browser = await playwright!.chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-proxy-server", `--host-resolver-rules=${rules}`],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stopBoards();
  }, 30_000);

  async function openBoard(i: number, width = 1100, height = 1000): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && !/WebSocket connection/.test(m.text()) && pageErrors.push(`console: ${m.text()}`));
    const res = await page.goto(`http://${NAMES[i]}:${port}/`, { timeout: 10_000 });
    expect(res?.status()).toBe(200);
    await page.locator("#keybox").waitFor({ state: "visible", timeout: 5000 });
    await page.fill("#key", KEY);
    await page.click("#keyform button");
    await page.waitForFunction(() => /authenticated/.test(document.getElementById("state")!.textContent!), null, { timeout: 8000 });
    return page;
  }

  /** The member list as the page shows it: [role, ip, this board?] per row. */
  const shown = (page: Page) => page.locator("#members li").evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.role, (e as HTMLElement).dataset.ip, e.classList.contains("me")]));

  it("loads from a worker board in a non-secure context and lists the bus as the board reports it", async () => {
    worker = await openBoard(1);
    expect(await worker.evaluate(() => ({ secure: window.isSecureContext, subtle: !!(globalThis.crypto && crypto.subtle) }))).toEqual({ secure: false, subtle: false });
    await worker.waitForFunction(() => document.querySelectorAll("#members li[data-role]").length === 3, null, { timeout: 5000 });
    const c = await Client.connect(HOSTS[1], cport, { key: KEY });
    let bus;
    try {
      bus = await c.command({ action: "get_bus" });
    } finally {
      c.close();
    }
    expect(bus).toMatchObject({ role: "WORKER", master: "127.0.0.1" });
    expect(bus.bus).toMatch(/^[0-9a-f]{16}$/);
    const members = bus.members as { ip: string; role: string }[];
    expect(members.map((m) => m.ip).sort()).toEqual(HOSTS);
    expect(members[0]).toMatchObject({ ip: "127.0.0.1", role: "MASTER" });
    expect(await shown(worker)).toEqual(members.map((m) => [m.role, m.ip, m.ip === HOSTS[1]]));
    expect(await worker.locator("#busrole").textContent()).toMatch(/This board: worker \d.* master 127\.0\.0\.1/);
    const row = await worker.locator('#members li[data-role="MASTER"]').textContent();
    expect(row).toMatch(/-?\d+ dBm.*up \d.*ok/);
  });

  it("shows the served colours on the master's page; the workers follow them", async () => {
    const master = await openBoard(0);
    const c = await Client.connect(HOSTS[0], cport, { key: KEY });
    try {
      for (const rgb of ["#12ab34", "#ff8000"]) {
        expect((await c.command({ action: "set_rgb", rgb })).error).toBeUndefined();
        await master.waitForFunction((want) => document.getElementById("swatch")!.dataset.rgb === want, rgb, { timeout: 5000 });
        // the worker follows the master: its LED shows the colour within a few polls
        const n = parseInt(rgb.slice(1), 16);
        await waitFor(() => boards[1].core.stat(C.STAT_RGB) === n, `127.0.0.2 showing ${rgb}`, 5000);
      }
    } finally {
      c.close();
    }
    expect(await master.locator("#members li.me").getAttribute("data-role")).toBe("MASTER");
    await master.waitForFunction(() => /joined as WORKER2/.test(document.getElementById("blog")!.textContent!), null, { timeout: 5000 });
    await master.screenshot({ path: join(ARTIFACTS, "dashboard-bus.png"), fullPage: true, timeout: 10_000 });
    const docs = join(ROOT, "docs", "dashboard-bus.png");
    if (!existsSync(docs) || process.env.PICOWIRE_DOCS_SCREENSHOT === "1") copyFileSync(join(ARTIFACTS, "dashboard-bus.png"), docs);
    await master.close();
  });

  it("tails the board's log", async () => {
    await worker.waitForFunction(() => /I http: listening on port[\s\S]*bus:/.test(document.getElementById("blog")!.textContent!), null, { timeout: 5000 });
    expect(await worker.locator("#blog").textContent()).not.toContain(KEY);
  });

  it("writes a worker's pin from the page: the board sees it and reverts it after the timeout", async () => {
    const pins = boards[1].hw.pins;
    await worker.fill("#pin", "4");
    await worker.selectOption("#mode", "output");
    await worker.selectOption("#initial", "0");
    await worker.click("#setup");
    await worker.waitForFunction(() => /GP4 is now an output/.test(document.getElementById("pinmsg")!.textContent!), null, { timeout: 5000 });
    await worker.selectOption("#wval", "1");
    await worker.fill("#wtime", "1");
    await worker.click("#write");
    await waitFor(() => pins.get(4)?.level === 1, "GP4 high on 127.0.0.2 after the page's write", 3000);
    await waitFor(() => pins.get(4)?.level === 0, "GP4 back to 0 after its 1 s timeout", 3000);
    expect(boards[0].hw.pins.get(4)?.level ?? 0).toBe(0); // the other boards' pins are untouched
    await worker.screenshot({ path: join(ARTIFACTS, "dashboard-bus-worker.png"), fullPage: true, timeout: 10_000 });
  }, 20_000);

  it("stopping the master: the worker's page shows who took over, and when", async () => {
    const phone = await openBoard(2, 375, 900);
    await boards[0].stop();
    const t0 = Date.now();
    await worker.locator("#takeover").waitFor({ state: "visible", timeout: 15_000 });
    const took = await worker.locator("#takeover").textContent();
    expect(took).toMatch(/^127\.0\.0\.[23] took over as master from 127\.0\.0\.1 at \d\d:\d\d:\d\d \(term \d+\)$/);
    const next = took!.split(" ")[0];
    await worker.waitForFunction((ip) => document.querySelector('#members li[data-role="MASTER"]')?.getAttribute("data-ip") === ip, next, { timeout: 5000 });
    await phone.waitForFunction((ip) => document.querySelector('#members li[data-role="MASTER"]')?.getAttribute("data-ip") === ip, next, { timeout: 5000 });
    console.log(`new master ${next} shown ${Date.now() - t0} ms after the old one stopped`);
    // once the new master has dropped the silent board, both pages list the two that are left
    for (const p of [worker, phone]) {
      await p.waitForFunction(() => [...document.querySelectorAll("#members li[data-role]")].map((e) => e.getAttribute("data-ip")).sort().join() === "127.0.0.2,127.0.0.3", null, { timeout: 10_000 });
    }
    const c = await Client.connect(next, cport, { key: KEY });
    try {
      expect(await c.command({ action: "get_bus" })).toMatchObject({ role: "MASTER", master: next });
    } finally {
      c.close();
    }
    await worker.screenshot({ path: join(ARTIFACTS, "dashboard-bus-takeover.png"), fullPage: true, timeout: 10_000 });
    await phone.screenshot({ path: join(ARTIFACTS, "dashboard-bus-375.png"), fullPage: true, timeout: 10_000 });
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await phone.close();
  }, 40_000);

  it("raised no script error in the pages", () => {
    expect(pageErrors).toEqual([]);
  });
});
