// The C host's boot rules (native/host/pw_boot.c) against the Node host's (tools/host/slots.ts chooseBoot):
// one table of flash images, each booted twice by both (the second boot sees what the first wrote, as a
// board powered up again without anyone confirming), compared decision by decision: the slot, trial or
// not, the image's SHA-256, every note, and the flash afterwards byte for byte. Also runs pw_boot_test's
// own unit tests (SHA-256 vectors, the scenarios of test/system/ota.test.ts). Needs cmake and a C compiler (the
// binary comes from tools/native/build-posix.sh, which also needs wasm2c); skipped loudly without them.
// The second table: the flash after a power cut at every erase and program step of a real update.
import { describe, it, expect, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ABI_VERSION, C } from "../../tools/host/abi.generated.ts";
import { Flash, REGIONS } from "../../tools/host/flash.ts";
import { chooseBoot, programWord, slotHeader, writeSlot, H_CHECK, H_CONFIRMED, H_LENGTH, H_TRIED, HEADER_BYTES } from "../../tools/host/slots.ts";
import { Board } from "../../tools/host/board.ts";
import { updateBoard, type Image } from "../../tools/cli/update.ts";
import { waitFor, freePort } from "../helpers/boards.ts";
import { wasmBytes, coreModule, coreSha256 } from "../helpers/core.ts";
import { ROOT } from "../../tools/abi/generate.ts";
import { needs, nativeHostMissing } from "../helpers/inputs.ts";

const missing = nativeHostMissing();

const A = C.REGION_SLOT_A;
const B = C.REGION_SLOT_B;
const V = ABI_VERSION;
const img = (n: number, len = 1000 + n) => new Uint8Array(len).fill(n);

/** Programs bits of one page of a slot to 0 (a flipped bit, a cut program): `bytes` at `at`. */
function clear(f: Flash, slot: number, at: number, bytes: number[]): void {
  const page = new Uint8Array(C.FLASH_PAGE).fill(0xff);
  page.set(bytes, at % C.FLASH_PAGE);
  f.program(slot, at - (at % C.FLASH_PAGE), page);
}

/** A slot whose header says `length` (its check made to match), over an image of image.length bytes. */
function lyingLength(f: Flash, slot: number, image: Uint8Array, length: number, confirmed: boolean): void {
  writeSlot(f, slot, image, 1, V, false);
  f.erase(slot, 0, C.FLASH_SECTOR); // the header's sector, with the image's first 3840 bytes (all fit the page after)
  for (let o = 0; o < Math.min(image.length, C.FLASH_SECTOR - HEADER_BYTES); o += C.FLASH_PAGE) {
    const page = new Uint8Array(C.FLASH_PAGE).fill(0xff);
    page.set(image.subarray(o, o + C.FLASH_PAGE));
    f.program(slot, HEADER_BYTES + o, page);
  }
  const h = slotHeader(image, 1, V);
  new DataView(h.buffer).setUint32(H_LENGTH, length, true);
  h.set(createHash("sha256").update(h.subarray(0, H_CHECK)).digest(), H_CHECK);
  f.program(slot, 0, h);
  if (confirmed) [H_TRIED, H_CONFIRMED].forEach((w) => programWord(f, slot, w));
}

interface Case {
  name: string;
  setup: (f: Flash) => void;
  skip?: number[];
}

const CASES: Case[] = [
  { name: "blank flash", setup: () => {} },
  { name: "A confirmed", setup: (f) => writeSlot(f, A, img(1), 1, V, true) },
  { name: "A and B confirmed, B newer", setup: (f) => (writeSlot(f, A, img(1), 1, V, true), writeSlot(f, B, img(2), 2, V, true)) },
  { name: "A and B confirmed, A newer", setup: (f) => (writeSlot(f, A, img(1), 7, V, true), writeSlot(f, B, img(2), 2, V, true)) },
  { name: "A and B confirmed, the same generation", setup: (f) => (writeSlot(f, A, img(1), 2, V, true), writeSlot(f, B, img(2), 2, V, true)) },
  { name: "B confirmed, A pending and newer", setup: (f) => (writeSlot(f, B, img(2), 2, V, true), writeSlot(f, A, img(3), 3, V)) },
  { name: "B confirmed, A pending but older", setup: (f) => (writeSlot(f, B, img(2), 5, V, true), writeSlot(f, A, img(1), 4, V)) },
  { name: "B confirmed, A pending with the same generation", setup: (f) => (writeSlot(f, B, img(2), 5, V, true), writeSlot(f, A, img(1), 5, V)) },
  { name: "A pending alone", setup: (f) => writeSlot(f, A, img(1), 1, V) },
  { name: "both pending, B newer", setup: (f) => (writeSlot(f, A, img(1), 1, V), writeSlot(f, B, img(2), 2, V)) },
  { name: "A tried and never confirmed, B confirmed", setup: (f) => (writeSlot(f, B, img(2), 2, V, true), writeSlot(f, A, img(3), 3, V), programWord(f, A, H_TRIED)) },
  { name: "A tried and never confirmed, alone", setup: (f) => (writeSlot(f, A, img(3), 3, V), programWord(f, A, H_TRIED)) },
  { name: "A confirmed but its tried word never programmed", setup: (f) => (writeSlot(f, A, img(1), 1, V), programWord(f, A, H_CONFIRMED)) },
  { name: "a tried program cut short: one bit of the word", setup: (f) => (writeSlot(f, A, img(1), 1, V), clear(f, A, H_TRIED + 3, [0x7f])) },
  { name: "a confirmed program cut short: one bit", setup: (f) => (writeSlot(f, A, img(1), 1, V), programWord(f, A, H_TRIED), clear(f, A, H_CONFIRMED, [0xfe])) },
  { name: "A pending for another ABI, B confirmed", setup: (f) => (writeSlot(f, B, img(2), 5, V, true), writeSlot(f, A, img(1), 6, V + 1)) },
  { name: "A confirmed for another ABI", setup: (f) => writeSlot(f, A, img(1), 1, V + 1, true) },
  { name: "A confirmed, one bit of its image flipped; B confirmed", setup: (f) => (writeSlot(f, A, img(1), 6, V, true), writeSlot(f, B, img(2), 5, V, true), clear(f, A, HEADER_BYTES + 10, [0xfe])) },
  { name: "A pending, one bit of its image flipped; B confirmed", setup: (f) => (writeSlot(f, B, img(2), 5, V, true), writeSlot(f, A, img(1), 6, V), clear(f, A, HEADER_BYTES + 999, [0xef])) },
  { name: "A's header fails its check (one bit of the SHA-256 field)", setup: (f) => (writeSlot(f, A, img(1), 1, V, true), clear(f, A, 20, [0xfb])) },
  { name: "A's magic damaged", setup: (f) => (writeSlot(f, A, img(1), 1, V, true), clear(f, A, 0, [0x50 & 0xfe])) },
  { name: "a header whose length runs past the slot", setup: (f) => lyingLength(f, A, img(1), REGIONS[C.REGION_SLOT_A] - HEADER_BYTES + 1, true) },
  { name: "a header whose length is zero", setup: (f) => lyingLength(f, A, img(1), 0, true) },
  { name: "a pending header whose length is zero", setup: (f) => lyingLength(f, A, img(1), 0, false) },
  { name: "an image that fills the slot", setup: (f) => writeSlot(f, B, img(9, REGIONS[C.REGION_SLOT_A] - HEADER_BYTES), 1, V, true) },
  { name: "B confirmed, B skipped (it did not start)", setup: (f) => writeSlot(f, B, img(2), 2, V, true), skip: [B] },
  { name: "A pending skipped, B confirmed", setup: (f) => (writeSlot(f, B, img(2), 2, V, true), writeSlot(f, A, img(3), 3, V)), skip: [A] },
  { name: "both confirmed, the newer skipped", setup: (f) => (writeSlot(f, A, img(1), 1, V, true), writeSlot(f, B, img(2), 2, V, true)), skip: [B] },
  { name: "both skipped", setup: (f) => (writeSlot(f, A, img(1), 1, V, true), writeSlot(f, B, img(2), 2, V)), skip: [A, B] },
];

/** The real core with a custom section naming `tag` (as test/system/ota.test.ts). */
function variant(tag: string): Image {
  const name = Buffer.from("picowire-test");
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  const bytes = new Uint8Array(Buffer.concat([wasmBytes, Buffer.from([0, payload.length]), payload]));
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), abi: ABI_VERSION };
}

/** Boots `node` (the Node rules) and the same bytes through the C rules, twice; both must decide alike
 *  and leave the same flash. Returns both decisions. */
function compareBoots(bin: string, node: Flash, file: string, what: string, skip: number[] = []): { slot: number; trial: boolean }[] {
  writeFileSync(file, node.bytes);
  const decisions: { slot: number; trial: boolean }[] = [];
  for (const round of [1, 2]) {
    const want = chooseBoot(node, new Set(skip));
    const mask = skip.reduce((m, s) => m | (1 << s), 0);
    const r = spawnSync(bin, ["--choose", file, String(mask)], { encoding: "utf8", timeout: 10_000 });
    expect(r.status, `${what}: ${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout), `${what}, boot ${round}`).toEqual({ slot: want.slot, trial: want.trial, sha256: want.sha256 ?? "", notes: want.notes });
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(node.bytes)), `${what}, boot ${round}: the flash afterwards`).toBe(true);
    decisions.push({ slot: want.slot, trial: want.trial });
  }
  return decisions;
}

needs(missing).describe("the C host's boot rules (native/host/pw_boot.c)", () => {
  let bin = "";
  beforeAll(() => {
    const r = spawnSync("bash", [join(ROOT, "tools/native/build-posix.sh")], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`tools/native/build-posix.sh failed (${r.status}):\n${r.stderr}`);
    bin = join(dirname(r.stdout.trim().split("\n").pop()!), "pw_boot_test");
  }, 320_000);

  it("passes its own unit tests (SHA-256 vectors, the scenarios of test/system/ota.test.ts)", () => {
    const r = spawnSync(bin, { encoding: "utf8", timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("all boot tests passed");
  });

  it(`decides as the Node host's chooseBoot on every flash image of a table of ${CASES.length}, booted twice`, () => {
    const dir = mkdtempSync(join(tmpdir(), "picowire-boot-"));
    const seen = new Set<string>();
    for (const [i, c] of CASES.entries()) {
      const node = new Flash();
      c.setup(node);
      for (const d of compareBoots(bin, node, join(dir, `case-${i}.bin`), c.name, c.skip)) seen.add(`${d.slot}/${d.trial}`);
    }
    // the table reaches every outcome: the firmware's core, each slot, each on trial
    expect([...seen].sort()).toEqual(["0/false", `${A}/false`, `${A}/true`, `${B}/false`, `${B}/true`]);
  }, 60_000);

  it("decides as the Node host after a power cut at every erase and program step of a real update", async () => {
    // test/system/ota.test.ts's sweep, seen by both hosts' rules: a Node board runs v1 from slot B (slot A holds
    // an older v0); one real update to v2 over loopback is recorded step by step (the core's erases and
    // programs, the host's "tried" mark, the new core's confirmation); for every step k the flash as it
    // was before replays the steps up to k with the power cut in step k.
    const [v0, v1, v2] = ["cut-v0", "cut-v1", "cut-v2"].map(variant);
    const flash = new Flash();
    writeSlot(flash, A, v0.bytes, 1, V, true);
    writeSlot(flash, B, v1.bytes, 2, V, true);
    const key = "native-boot-key-0123456789";
    const port = await freePort();
    const board = new Board({ wasm: coreModule, coreSha256, flash, config: `http_port=0\ncontrol_port=${port}\nkey=${key}`, log: () => {} });
    await board.start();
    const before = flash.bytes.slice();
    flash.journal = [];
    try {
      await updateBoard("127.0.0.1", port, v2, { key, log: () => {}, progress: () => {} });
      // the new core confirms itself on its next tick after the CLI's get_info: the journal needs that step
      await waitFor(() => !board.trial, "the new core's confirmation", 5000);
    } finally {
      await board.stop();
    }
    const journal = flash.journal;
    flash.journal = null;
    expect(board.coreSha256).toBe(v2.sha256);
    const dir = mkdtempSync(join(tmpdir(), "picowire-boot-cut-"));
    const outcomes = new Map<string, number>();
    // k == journal.length: no cut at all (whether a cut inside the last step, the confirmation, still
    // leaves its word programmed depends on how much of the page that cut keeps)
    for (let k = 0; k <= journal.length; k++) {
      const f = Flash.from(before);
      f.cutAt = k < journal.length ? k : -1;
      f.replay(journal);
      f.powerOn();
      const what = k < journal.length ? `cut at step ${k} (${journal[k].kind} region ${journal[k].region} @${journal[k].offset})` : "no cut";
      const [d] = compareBoots(bin, f, join(dir, "cut.bin"), what);
      const key2 = d.slot === B ? "v1" : d.trial ? "v2 on trial" : "v2";
      outcomes.set(key2, (outcomes.get(key2) ?? 0) + 1);
    }
    // the cuts reach every outcome: the old core, the new one on trial, the new one confirmed
    expect([...outcomes.keys()].sort()).toEqual(["v1", "v2", "v2 on trial"]);
    console.log(`C boot rules after a power cut: ${journal.length} steps, ${JSON.stringify(Object.fromEntries(outcomes))}`);
  }, 120_000);
});
