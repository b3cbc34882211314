// Over-the-air update (docs/OTA.md) on virtual boards over loopback: the update end to end, resuming
// after a dropped connection, every refusal, rollback when the new core does not confirm itself or does
// not start, the CLI, and a power cut at every erase and program step of an update.
import { describe, it, expect, afterEach } from "vitest";
import net from "node:net";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { ABI_VERSION, C } from "../../tools/host/abi.generated.ts";
import { Client, type Reply } from "../../tools/client.ts";
import { Board } from "../../tools/host/board.ts";
import { Flash, REGIONS } from "../../tools/host/flash.ts";
import { picoLayout } from "../../tools/provision/layout.ts";
import { readSlot, writeSlot, slotState, chooseBoot, programWord, H_CONFIRMED, HEADER_BYTES, SLOTS } from "../../tools/host/slots.ts";
import { updateBoard, readImage, otaBegin, progressPrinter, type Image } from "../../tools/cli/update.ts";
import { startBoard, stopBoards, freePort, waitFor, nodeOnly, type TestBoard } from "../helpers/boards.ts";
import { wasmBytes, coreSha256, coreModule, WASM_PATH } from "../helpers/core.ts";
import { picowire } from "../helpers/cli.ts";

const KEY = "ota-test-key-0123456789";
const { describe: nodeDescribe } = nodeOnly("boots cores from the Node host's flash model");
afterEach(stopBoards);

/** The real core with a custom section naming `tag`: another SHA-256, the same behaviour. */
function variant(tag: string): Image {
  const name = Buffer.from("picowire-test");
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  const bytes = new Uint8Array(Buffer.concat([wasmBytes, Buffer.from([0, payload.length]), payload]));
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), abi: ABI_VERSION };
}

function imageOf(bytes: Uint8Array, abi = ABI_VERSION): Image {
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), abi };
}

const quiet = { key: KEY, log: () => {}, progress: () => {} };

async function board(opts: { flash?: Flash; extra?: string; trialMs?: number; host?: string } = {}): Promise<{ b: TestBoard; port: number }> {
  const host = opts.host ?? "127.0.0.1";
  const port = await freePort(host);
  const b = await startBoard(`http_port=0\ncontrol_port=${port}\n${opts.extra ?? `key=${KEY}`}`, {
    host,
    flash: opts.flash,
    otaTrialMs: opts.trialMs,
  });
  return { b, port };
}

const connect = (port: number, key: string | undefined) => Client.connect("127.0.0.1", port, { key });

/** ota_begin, all chunks, ota_end, as the CLI does, but without waiting for the board to come back. */
async function push(c: Client, image: Image, sha256 = image.sha256): Promise<Reply> {
  const r = await c.command(otaBegin({ ...image, sha256 }));
  if (r.error) return r;
  for (let o = r.have as number; o < image.bytes.length; o += r.chunk as number) {
    const data = Buffer.from(image.bytes.subarray(o, o + (r.chunk as number))).toString("base64");
    const cr = await c.command({ action: "ota_chunk", offset: o, data });
    if (cr.error) return cr;
  }
  return c.command({ action: "ota_end" });
}

nodeDescribe("over-the-air update", () => {
  it("installs a new core in the spare slot, restarts into it, and the core confirms itself", async () => {
    const { b, port } = await board();
    const v1 = variant("v1");
    const before = await connect(port, KEY);
    const info0 = await before.command({ action: "get_info" });
    before.close();
    expect(info0).toMatchObject({ core_sha256: coreSha256, engine: "v8", slot: "firmware", slots: [{ sha256: null }, { sha256: null }] });

    const r1 = await updateBoard("127.0.0.1", port, v1, quiet);
    expect(r1).toMatchObject({ slot: "A", resumedAt: [] });
    expect(b.slot).toBe(C.REGION_SLOT_A);
    expect(b.trial).toBe(false);
    expect(b.lines.map((l) => l.text).join("\n")).toMatch(/booting the new core .* on trial[\s\S]*slot A confirmed itself/);

    // a second update goes to slot B, the first stays as it was (and is not written while it runs)
    const v2 = variant("v2");
    expect(await updateBoard("127.0.0.1", port, v2, quiet)).toMatchObject({ slot: "B" });
    const c = await connect(port, KEY);
    const info = await c.command({ action: "get_info" });
    expect(info).toMatchObject({ core_sha256: v2.sha256, slot: "B", slots: [{ sha256: v1.sha256 }, { sha256: v2.sha256 }] });
    expect(await c.command({ action: "ota_status" })).toMatchObject({ receiving: false, trial: false, have: 0 }); // a new core: nothing pending
    c.close();
    expect(SLOTS.map((s) => slotState(readSlot(b.flash, s), b.slot))).toEqual(["confirmed", "confirmed"]);

    // the third overwrites A, the older one; the same image again is left alone
    const v3 = variant("v3");
    expect(await updateBoard("127.0.0.1", port, v3, quiet)).toMatchObject({ slot: "A" });
    expect(await updateBoard("127.0.0.1", port, v3, quiet)).toMatchObject({ slot: "A", skipped: true });
    expect(b.coreSha256).toBe(v3.sha256);
  });

  it("keeps its flash in --flash-file across a process restart (the same file, a new Board)", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "picowire-ota-")), "flash.bin");
    const { b, port } = await board({ flash: new Flash(file) });
    const v1 = variant("persist");
    await updateBoard("127.0.0.1", port, v1, quiet);
    await b.stop();
    const again = await board({ flash: new Flash(file) });
    expect(again.b.slot).toBe(C.REGION_SLOT_A);
    expect(again.b.coreSha256).toBe(v1.sha256);
  });

  it("resumes after a dropped connection where the board got to", async () => {
    const { b, port } = await board();
    // a proxy that cuts the first connection after 8 KB from the client; later ones pass
    let cut = false;
    const proxy = net.createServer((down) => {
      const up = net.connect(port, "127.0.0.1");
      let n = 0;
      down.on("data", (d) => {
        n += d.length;
        if (!cut && n > 8192) {
          cut = true;
          down.destroy();
          up.destroy();
          return;
        }
        up.write(d);
      });
      up.on("data", (d) => down.write(d));
      const end = () => (down.destroy(), up.destroy());
      down.on("error", end).on("close", end);
      up.on("error", end).on("close", end);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    const pport = (proxy.address() as net.AddressInfo).port;
    const lines: string[] = [];
    try {
      const v = variant("resume");
      const r = await updateBoard("127.0.0.1", pport, v, { ...quiet, log: (l) => lines.push(l) });
      expect(cut).toBe(true);
      expect(r.resumedAt.length).toBe(1);
      expect(r.resumedAt[0]).toBeGreaterThan(1000);
      expect(lines.join("\n")).toMatch(/connection lost .*resuming at \d+ bytes/);
      expect(b.coreSha256).toBe(v.sha256);
    } finally {
      proxy.close();
    }
  });

  it("refuses bad images with a clear error and leaves the running core untouched", async () => {
    const { b, port } = await board();
    const c = await connect(port, KEY);
    const v = variant("refused");
    const b64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");
    const begin = (fields: Record<string, unknown>) => c.command({ ...otaBegin(v), ...fields });
    expect((await c.command({ action: "ota_chunk", offset: 0, data: "AAAA" })).error).toMatch(/send ota_begin first/);
    expect((await c.command({ action: "ota_end" })).error).toMatch(/send ota_begin first/);
    // the image's SHA-256 and length are authenticated by the command's MAC: a changed one is refused
    const signed = c.line(otaBegin(v));
    c.send(signed.replace(`"length":${v.bytes.length}`, `"length":${v.bytes.length - 1}`) + "\n");
    expect((await c.next()).error).toMatch(/bad mac/);
    expect((await begin({ abi: ABI_VERSION + 1 })).error).toMatch(/other ABI: needs new firmware/);
    const huge = imageOf(new Uint8Array(REGIONS[C.REGION_SLOT_A] - HEADER_BYTES + 1));
    expect((await push(c, huge)).error).toMatch(/image too large/);
    expect((await begin({ sha256: "xyz" })).error).toMatch(/needs length, sha256 \(base64\), abi/);
    expect((await begin({ sha256: b64("00".repeat(31)) })).error).toMatch(/needs length, sha256/);
    // truncated: the end comes early
    expect(await begin({})).toMatchObject({ have: 0 });
    expect(await c.command({ action: "ota_chunk", offset: 0, data: Buffer.from(v.bytes.subarray(0, 60)).toString("base64") })).toMatchObject({ have: 60 });
    const small = imageOf(new Uint8Array(10));
    expect(await c.command(otaBegin(small))).toMatchObject({ have: 0 });
    expect((await c.command({ action: "ota_chunk", offset: 0, data: Buffer.alloc(60).toString("base64") })).error).toMatch(/within the length/);
    expect(await begin({})).toMatchObject({ have: 0 });
    expect((await c.command({ action: "ota_chunk", offset: 0, data: "!!!!" })).error).toMatch(/base64/);
    expect(await c.command({ action: "ota_status" })).toMatchObject({ receiving: false });
    expect(await begin({})).toMatchObject({ have: 0 });
    expect(await c.command({ action: "ota_chunk", offset: 0, data: Buffer.from(v.bytes.subarray(0, 60)).toString("base64") })).toMatchObject({ have: 60 });
    // a chunk not at "have" changes nothing (a resend), one past the end is refused
    expect(await c.command({ action: "ota_chunk", offset: 0, data: "AAAA" })).toMatchObject({ have: 60 });
    expect((await c.command({ action: "ota_end" })).error).toMatch(/truncated: 60 of \d+/);
    expect((await c.command({ action: "ota_chunk", offset: 60, data: Buffer.alloc(v.bytes.length).toString("base64").slice(0, 100) })).have).toBe(135);
    // bytes that are not the image the sha256 names: refused after the last chunk, over what is in flash
    const liar = imageOf(v.bytes);
    const wrong = new Uint8Array(v.bytes);
    wrong[100] ^= 1;
    const r = await push(c, imageOf(wrong), liar.sha256);
    expect(r.error).toMatch(/sha256 mismatch/);
    const info = await c.command({ action: "get_info" });
    expect(info).toMatchObject({ core_sha256: coreSha256, slot: "firmware" });
    expect(info.slots).toEqual([{ sha256: null }, { sha256: null }]);
    c.close();
    expect(b.slot).toBe(0);
    expect(b.lines.some((l) => /reset requested/.test(l.text))).toBe(false);
  });

  it("a core larger than the board's slots: refused, and the CLI says to flash the new firmware once", async () => {
    const { b, port } = await board();
    const room = REGIONS[C.REGION_SLOT_A] - HEADER_BYTES;
    const name = Buffer.from("picowire-test");
    const pad = Buffer.concat([Buffer.from([name.length]), name, Buffer.alloc(room - wasmBytes.length, 0x5a)]);
    const len = [(pad.length & 0x7f) | 0x80, (pad.length >> 7) & 0x7f | 0x80, pad.length >> 14];
    const big = imageOf(new Uint8Array(Buffer.concat([wasmBytes, Buffer.from([0, ...len]), pad])));
    expect(big.bytes.length).toBeGreaterThan(room);
    await expect(updateBoard("127.0.0.1", port, big, quiet)).rejects.toThrow(
      /ota_begin: image too large: the board's OTA slots are smaller than this core .*flash build\/picowire.uf2 over USB once \(its configuration is kept\)/,
    );
    expect(b.slot).toBe(0);
  });

  it("a flash file of the layout before (64 KiB slots) is migrated: configuration, slots and state kept", async () => {
    const layout = picoLayout();
    const file = join(mkdtempSync(join(tmpdir(), "picowire-ota-")), "old-flash.bin");
    const v1 = variant("old-layout");
    const now = new Flash();
    writeSlot(now, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true);
    const slotA = now.read(C.REGION_SLOT_A, 0, layout.oldSlotSize) as Uint8Array;
    const old = new Uint8Array(layout.oldBytes).fill(0xff);
    const config = new Uint8Array(layout.configSize).map((_, i) => (i * 13) & 0xff);
    const state = new Uint8Array(layout.stateSize).map((_, i) => (i * 7 + 1) & 0xff);
    old.set(config, 0);
    old.set(slotA, layout.configSize);
    old.set(state, layout.oldBytes - layout.stateSize);
    writeFileSync(file, old);
    const f = new Flash(file);
    expect(readFileSync(file).length).toBe(layout.regionsBytes);
    expect(f.read(C.REGION_CONFIG, 0, layout.configSize)).toEqual(config);
    expect(f.read(C.REGION_STATE, 0, layout.stateSize)).toEqual(state);
    // the old slot's bytes moved whole into the new slot A (today's core is larger than an old slot, so
    // what an old board holds there is an older core: the bytes, not a boot of them, are what is kept)
    expect(f.read(C.REGION_SLOT_A, 0, layout.oldSlotSize)).toEqual(slotA);
    const { b } = await board({ flash: f, extra: `key=${KEY}` });
    expect(b.coreSha256).toMatch(/^[0-9a-f]{64}$/); // the migrated board starts
    // any other size is refused, saying what to do; the file is left as it was
    const odd = join(mkdtempSync(join(tmpdir(), "picowire-ota-")), "odd.bin");
    writeFileSync(odd, new Uint8Array(1000));
    expect(() => new Flash(odd)).toThrow(/1000 bytes, expected a \d+-byte flash image \(or a 143360-byte one of the layout before, which is migrated\); it is neither: give another --flash-file, or move this one away/);
    expect(readFileSync(odd).length).toBe(1000);
  });

  it("refuses OTA without a bus key, and on a board whose core lives in its firmware", async () => {
    const open = await board({ extra: "control_insecure=1" });
    const c = await connect(open.port, undefined);
    const v = variant("nokey");
    expect((await c.command(otaBegin(v))).error).toMatch(/OTA needs a bus key/);
    c.close();
    // a host without core slots (a wasm2c board): the board says so and the CLI tells what to do
    class NoSlots extends Flash {
      size(region: number): number {
        return region === C.REGION_SLOT_A || region === C.REGION_SLOT_B ? C.ERR_UNSUPPORTED : super.size(region);
      }
    }
    const { port } = await board({ flash: new NoSlots(), host: "127.0.0.2" });
    await expect(updateBoard("127.0.0.2", port, v, quiet)).rejects.toThrow(/no core slots: needs new firmware \(flash build\/picowire.uf2 over USB\)/);
    // and one whose host says so in get_info's "engine": the CLI stops before sending anything
    const port3 = await freePort("127.0.0.3");
    await startBoard(`http_port=0\ncontrol_port=${port3}\nkey=${KEY}`, { host: "127.0.0.3", assets: { "core.engine": new TextEncoder().encode("wasm2c") } });
    await expect(updateBoard("127.0.0.3", port3, v, quiet)).rejects.toThrow(/runs its core compiled into the firmware \(wasm2c\): a new core needs new firmware/);
  });

  it("rolls back on the next boot when the new core does not confirm itself (watchdog)", async () => {
    const { b, port } = await board({ trialMs: 600 });
    const v = variant("silent");
    const c = await connect(port, KEY);
    expect(await push(c, v)).not.toHaveProperty("error");
    c.close();
    // nobody talks to the new core and it is on no bus: the watchdog restarts the board, which rolls back
    await waitFor(() => b.slot === C.REGION_SLOT_A && b.trial, "the trial boot");
    await waitFor(() => b.slot === 0 && b.lines.some((l) => /rolled back/.test(l.text)), "the rollback", 5000);
    expect(b.lines.map((l) => l.text).join("\n")).toMatch(/did not confirm itself within 600 ms: watchdog restart/);
    expect(b.resetReason).toBe(C.RESET_WATCHDOG);
    const d = await connect(port, KEY);
    const info = await d.command({ action: "get_info" });
    expect(info).toMatchObject({ core_sha256: coreSha256, slot: "firmware", reset_reason: "watchdog" });
    expect((info.slots as Reply[])[0]).toMatchObject({ sha256: v.sha256 }); // kept, but never booted again
    d.close();
    expect(slotState(readSlot(b.flash, C.REGION_SLOT_A), b.slot)).toBe("rolled_back");
  });

  it("a core on trial that rejoins its bus confirms itself without any command", async () => {
    const port = await freePort("127.0.64.2");
    const bus = `bus=1\nbus_port=5874\nbus_peers=127.0.64.1,127.0.64.2\nbus_heartbeat_ms=50\nbus_election_ms=300\nhttp_port=0\ncontrol_port=${port}\nkey=${KEY}`;
    const master = await startBoard(bus, { host: "127.0.64.1", name: "m" });
    await waitFor(() => master.core.stat(C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER, "a master", 10000);
    const worker = await startBoard(bus, { host: "127.0.64.2", name: "w", otaTrialMs: 5000 });
    await waitFor(() => worker.core.stat(C.STAT_BUS_MEMBERS) === 2, "a bus of two", 10000);
    const v = variant("bus-confirm");
    const c = await Client.connect("127.0.64.2", port, { key: KEY });
    expect(await push(c, v)).not.toHaveProperty("error");
    c.close();
    await waitFor(() => worker.slot === C.REGION_SLOT_A, "the trial boot");
    await waitFor(() => !worker.trial, "the confirmation", 4000);
    expect(worker.lines.map((l) => l.text).join("\n")).toMatch(/slot A confirmed itself/);
    expect(worker.coreSha256).toBe(v.sha256);
    expect(slotState(readSlot(worker.flash, C.REGION_SLOT_A), worker.slot)).toBe("confirmed");
  });

  it("rolls back on the next boot when the new core traps before confirming itself", async () => {
    const { b, port } = await board();
    const v = variant("trapping");
    const c = await connect(port, KEY);
    expect(await push(c, v)).not.toHaveProperty("error");
    c.close();
    await waitFor(() => b.slot === C.REGION_SLOT_A && b.trial, "the trial boot");
    b.post(() => {
      throw new WebAssembly.RuntimeError("unreachable"); // as a trap inside the core surfaces in the host
    });
    await waitFor(() => b.slot === 0 && b.lines.some((l) => /rolled back/.test(l.text)), "the rollback");
    expect(b.resetReason).toBe(C.RESET_TRAP);
    expect(b.coreSha256).toBe(coreSha256);
  });

  it("falls back at once when the new core does not start, and the CLI says it was rolled back", async () => {
    const v1 = variant("good");
    const flash = new Flash();
    writeSlot(flash, C.REGION_SLOT_A, v1.bytes, 1, ABI_VERSION, true);
    const { b, port } = await board({ flash });
    expect(b.coreSha256).toBe(v1.sha256);
    const junk = imageOf(new Uint8Array(5000).fill(7)); // not a WebAssembly module, but signed and whole
    await expect(updateBoard("127.0.0.1", port, junk, quiet)).rejects.toThrow(/came back with core .* from slot A, not the new one: it was rolled back/);
    expect(b.lines.map((l) => l.text).join("\n")).toMatch(/core in slot B does not start \(not a valid WebAssembly module/);
    expect(b.slot).toBe(C.REGION_SLOT_A);
  });

  it("picowire update: progress lines without a TTY, --all over the bus one board at a time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "picowire-ota-cli-"));
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, KEY + "\n");
    const v = variant("cli");
    const file = join(dir, "core.wasm");
    writeFileSync(file, v.bytes);
    expect(readImage(file)).toMatchObject({ sha256: v.sha256, abi: ABI_VERSION });
    const port = await freePort("127.0.61.1");
    const bus = `bus=1\nbus_port=5871\nbus_peers=127.0.61.1,127.0.61.2\nbus_heartbeat_ms=50\nbus_election_ms=300\nhttp_port=0\ncontrol_port=${port}\nkey=${KEY}`;
    const a = await startBoard(bus, { host: "127.0.61.1", name: "a" });
    const b = await startBoard(bus, { host: "127.0.61.2", name: "b" });
    await waitFor(() => a.core.stat(C.STAT_BUS_MEMBERS) === 2 && b.core.stat(C.STAT_BUS_MEMBERS) === 2, "a bus of two", 10000);
    const p = picowire(["update", `127.0.61.1:${port}`, file, "--key-file", keyFile, "--all"]);
    expect(await p.exit).toBe(0);
    expect(p.out()).toMatch(/bus of 2/);
    expect(p.out()).toMatch(/127\.0\.61\.\d: 25% \(/);
    expect(p.out()).toMatch(/runs core [0-9a-f]{12} from slot A, confirmed[\s\S]*runs core [0-9a-f]{12} from slot A, confirmed/);
    expect([a.coreSha256, b.coreSha256]).toEqual([v.sha256, v.sha256]);
    // an image that is not a core is refused before anything is sent
    writeFileSync(file, "not wasm");
    const q = picowire(["update", `127.0.61.1:${port}`, file, "--key-file", keyFile]);
    expect(await q.exit).toBe(1);
    expect(q.out()).toMatch(/is not a picowire core/);
    const r = picowire(["update", `127.0.61.1:${port}`, file, "--key-file", keyFile, "--boot-wait-ms", "500"]);
    expect(await r.exit).toBe(1);
    expect(r.out()).toMatch(/--boot-wait-ms must be 1000 to 600000/);
    const t = picowire(["update", `127.0.61.1:${port}`, file, "--key-file", keyFile, "--reply-timeout-ms", "x"]);
    expect(await t.exit).toBe(1);
    expect(t.out()).toMatch(/--reply-timeout-ms must be 1000 to 600000/);
  });
});

describe("the boot rules (tools/host/slots.ts)", () => {
  const A = C.REGION_SLOT_A;
  const B = C.REGION_SLOT_B;
  const img = (n: number) => new Uint8Array(1000 + n).fill(n);
  it("boots the newest confirmed slot, a newer pending one on trial, and rolls back a tried one", () => {
    const f = new Flash();
    expect(chooseBoot(f)).toMatchObject({ slot: 0, trial: false }); // blank flash: the firmware's core
    writeSlot(f, A, img(1), 1, ABI_VERSION, true);
    writeSlot(f, B, img(2), 2, ABI_VERSION, true);
    expect(chooseBoot(f)).toMatchObject({ slot: B, trial: false });
    writeSlot(f, A, img(3), 3, ABI_VERSION); // pending
    const trial = chooseBoot(f);
    expect(trial).toMatchObject({ slot: A, trial: true });
    expect(readSlot(f, A).tried).toBe(true); // marked before it runs
    expect(chooseBoot(f)).toMatchObject({ slot: B, trial: false, notes: [expect.stringMatching(/slot A: .* never confirmed itself: rolled back/)] });
    programWord(f, A, H_CONFIRMED);
    expect(chooseBoot(f)).toMatchObject({ slot: A, trial: false });
  });

  it("passes over a pending slot older than the confirmed one, another ABI, and a damaged image", () => {
    const f = new Flash();
    writeSlot(f, B, img(2), 5, ABI_VERSION, true);
    writeSlot(f, A, img(1), 4, ABI_VERSION); // pending but older: never booted
    expect(chooseBoot(f)).toMatchObject({ slot: B });
    expect(readSlot(f, A).tried).toBe(false);
    writeSlot(f, A, img(1), 6, ABI_VERSION + 1); // another ABI
    expect(chooseBoot(f).slot).toBe(B);
    writeSlot(f, A, img(1), 6, ABI_VERSION, true);
    expect(chooseBoot(f).slot).toBe(A);
    const page = new Uint8Array(C.FLASH_PAGE).fill(0xff);
    page[10] = 0; // one bit flipped in the image: its SHA-256 no longer matches the header
    f.program(A, HEADER_BYTES, page);
    expect(chooseBoot(f)).toMatchObject({ slot: B, notes: [expect.stringMatching(/slot A: the image does not match its header/)] });
    expect(chooseBoot(f, new Set([B])).slot).toBe(0); // B failed to start too: the firmware's core
  });
});

describe("the CLI's progress", () => {
  it("draws a bar on a terminal and plain lines otherwise", () => {
    const out = (isTTY: boolean) => {
      let text = "";
      return { isTTY, write: (t: string) => ((text += t), true), text: () => text };
    };
    const tty = out(true);
    const bar = progressPrinter("board", tty as unknown as NodeJS.WriteStream);
    for (let n = 0; n <= 1000; n += 100) bar(n, 1000);
    expect(tty.text()).toMatch(/\rboard \[#{15}\.{15}\]  50% 0\.5\/1\.0 KB/);
    expect(tty.text()).toMatch(/\rboard \[#{30}\] 100% 1\.0\/1\.0 KB [\d.]+ KB\/s\n$/);
    expect(tty.text()).toMatch(/\n$/);
    const plain = out(false);
    const lines = progressPrinter("board", plain as unknown as NodeJS.WriteStream);
    for (let n = 0; n <= 1000; n += 50) lines(n, 1000);
    expect(plain.text().split("\n").filter(Boolean)).toEqual(["board: 0% (0 of 1000 bytes)", "board: 25% (250 of 1000 bytes)", "board: 50% (500 of 1000 bytes)", "board: 75% (750 of 1000 bytes)", "board: 100% (1000 of 1000 bytes)"]);
  });
});

nodeDescribe("picowire update --all", () => {
  it("stops at the first board that fails and names the ones it did not update", async () => {
    const dir = mkdtempSync(join(tmpdir(), "picowire-ota-all-"));
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, KEY + "\n");
    const v = variant("all-stop");
    const file = join(dir, "core.wasm");
    writeFileSync(file, v.bytes);
    const port = await freePort("127.0.63.1");
    const bus = `bus=1\nbus_port=5873\nbus_peers=127.0.63.1,127.0.63.2\nbus_heartbeat_ms=50\nbus_election_ms=300\nhttp_port=0\ncontrol_port=${port}\nkey=${KEY}`;
    const master = await startBoard(bus, { host: "127.0.63.1", name: "m" });
    await waitFor(() => master.core.stat(C.STAT_BUS_ROLE) === C.BUS_ROLE_MASTER, "a master", 10000);
    // the worker runs its core compiled into its firmware: it is asked first and refuses
    const worker = await startBoard(bus, { host: "127.0.63.2", name: "w", assets: { "core.engine": new TextEncoder().encode("wasm2c") } });
    await waitFor(() => master.core.stat(C.STAT_BUS_MEMBERS) === 2 && worker.core.stat(C.STAT_BUS_ROLE) === C.BUS_ROLE_WORKER, "a bus of two", 10000);
    const p = picowire(["update", `127.0.63.1:${port}`, file, "--key-file", keyFile, "--all"]);
    expect(await p.exit).toBe(1);
    expect(p.out()).toMatch(/127\.0\.63\.2: update failed: .*wasm2c.*needs new firmware/);
    expect(p.out()).toMatch(/stopped: 127\.0\.63\.1 not updated/);
    expect(master.coreSha256).toBe(coreSha256);
  });
});

nodeDescribe("picowire node --flash-file", () => {
  it("a virtual board process keeps an installed core across its own restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "picowire-ota-node-"));
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, KEY + "\n");
    const flashFile = join(dir, "flash.bin");
    const port = await freePort("127.0.62.1");
    const args = ["node", "--role", "rgb-server", "--host", "127.0.62.1", "--http-port", "0", "--control-port", String(port), "--key-file", keyFile, "--flash-file", flashFile];
    const first = picowire(args);
    await first.waitFor(/running/);
    const v = variant("node-process");
    expect(await updateBoard("127.0.62.1", port, v, quiet)).toMatchObject({ slot: "A" });
    await first.waitFor(/slot A confirmed itself/);
    first.child.kill("SIGTERM");
    await first.exit;
    const second = picowire(args);
    await second.waitFor(/running/);
    const c = await Client.connect("127.0.62.1", port, { key: KEY });
    const info = await c.command({ action: "get_info" });
    c.close();
    expect(info).toMatchObject({ core_sha256: v.sha256, slot: "A", slots: [{ sha256: v.sha256 }, { sha256: null }] });
    second.child.kill("SIGTERM");
    await second.exit;
  });
});

nodeDescribe("power loss during an update", () => {
  it("boots a valid core and keeps its configuration whatever erase or program step the power is cut at", async () => {
    // A board runs v1 from slot B (confirmed, generation 2); slot A holds an older confirmed core v0 that
    // the update overwrites; the configuration region holds the settings. One real
    // update to v2 over loopback is recorded step by step: the core's erases and programs, the restart,
    // the host's "tried" mark, the new core's confirmation. Then, for every step k, the flash as it was
    // before the update replays the steps up to k, the power fails in step k (a page partly programmed,
    // a sector partly erased), and the board is powered up twice: it must boot v1 or v2 each time, the
    // second boot must not run an unconfirmed core again, and the configuration must be byte-identical.
    const v0 = variant("sweep-v0");
    const v1 = variant("sweep-v1");
    const v2 = variant("sweep-v2");
    const flash = new Flash();
    writeSlot(flash, C.REGION_SLOT_A, v0.bytes, 1, ABI_VERSION, true);
    writeSlot(flash, C.REGION_SLOT_B, v1.bytes, 2, ABI_VERSION, true);
    const text = new TextEncoder().encode(`key=${KEY}\nwifi_ssid=lab\n`);
    const page = new Uint8Array(C.FLASH_PAGE).fill(0xff);
    page.set(text);
    flash.program(C.REGION_CONFIG, 0, page);
    flash.program(C.REGION_CONFIG, C.FLASH_SECTOR, page); // both copies, whatever the format (docs/CONFIG.md)
    const configSize = flash.size(C.REGION_CONFIG);
    const config = flash.read(C.REGION_CONFIG, 0, configSize);
    const { b, port } = await board({ flash });
    expect(b.coreSha256).toBe(v1.sha256);
    expect(b.slot).toBe(C.REGION_SLOT_B);
    const before = flash.bytes.slice();
    flash.journal = [];
    expect(await updateBoard("127.0.0.1", port, v2, quiet)).toMatchObject({ slot: "A" });
    const journal = flash.journal;
    flash.journal = null;
    await b.stop();
    expect(b.coreSha256).toBe(v2.sha256);
    const erases = journal.filter((o) => o.kind === "erase").length;
    expect(erases).toBeGreaterThanOrEqual(Math.ceil((v2.bytes.length + 256) / C.FLASH_SECTOR));
    expect(journal.length).toBeGreaterThan(v2.bytes.length / 256);

    const quietBoard = (f: Flash) =>
      new Board({ wasm: coreModule, coreSha256, flash: f, config: "http_port=0\ncontrol_port=0", log: () => {} });
    const outcomes = { v1: 0, v2: 0 };
    for (let k = 0; k < journal.length; k++) {
      const f = Flash.from(before);
      f.cutAt = k;
      f.replay(journal);
      expect(f.dead).toBe(true);
      f.powerOn();
      const first = quietBoard(f);
      await first.start();
      await first.stop();
      const ran = first.coreSha256;
      expect([v1.sha256, v2.sha256], `cut at step ${k} (${journal[k].kind} region ${journal[k].region} @${journal[k].offset})`).toContain(ran);
      // powered up again without anyone confirming the core: an unconfirmed one is not run twice
      const second = quietBoard(f);
      await second.start();
      await second.stop();
      expect(second.coreSha256, `second boot after a cut at step ${k}`).toBe(first.trial ? v1.sha256 : ran);
      expect(f.read(C.REGION_CONFIG, 0, configSize)).toEqual(config);
      outcomes[ran === v1.sha256 ? "v1" : "v2"]++;
    }
    // both outcomes happen: before the header is complete the old core runs, after it the new one
    expect(outcomes.v1).toBeGreaterThan(0);
    expect(outcomes.v2).toBeGreaterThan(0);
    console.log(`power-cut sweep: ${journal.length} steps (${erases} erases), boots v1 after ${outcomes.v1} cuts, v2 after ${outcomes.v2}`);
  }, 120000);
});
