// Configuration UF2s (`picowire config set ... --uf2`), checked byte by byte against the UF2 format as
// its specification states it (https://github.com/microsoft/uf2, README "File format"): 512-byte
// blocks; magicStart0 0x0A324655 ("UF2\n"), magicStart1 0x9E5D5157, flags, targetAddr, payloadSize,
// blockNo, numBlocks, fileSize/familyID, data[476], magicEnd 0x0AB16F30, all little-endian; flag
// 0x00002000 says the familyID field is present; the RP2040's family ID is 0xe48bff56. The checks
// below use those numbers as literal bytes, not the writer's constants.
import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeUf2, readUf2 } from "../../tools/provision/uf2.ts";
import { picoLayout, LAYOUT_HEADER } from "../../tools/provision/layout.ts";
import { decodeCopy, readRegion, SECTOR } from "../../tools/provision/sector.ts";
import { configCommand, configText } from "../../tools/cli/config.ts";
import { Flash } from "../../tools/host/flash.ts";
import { C } from "../../tools/host/abi.generated.ts";
import { FakeHost, wasmBytes } from "../helpers/core.ts";


const le = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];

/** Every field of block `i` of `file`, as the specification lays it out. */
function checkBlock(file: Uint8Array, i: number, count: number, addr: number, payload: Uint8Array) {
  const b = file.subarray(i * 512, (i + 1) * 512);
  expect([...b.subarray(0, 4)]).toEqual([0x55, 0x46, 0x32, 0x0a]); // "UF2\n"
  expect([...b.subarray(4, 8)]).toEqual([0x57, 0x51, 0x5d, 0x9e]);
  expect([...b.subarray(8, 12)]).toEqual([0x00, 0x20, 0x00, 0x00]); // familyID present, nothing else
  expect([...b.subarray(12, 16)]).toEqual(le(addr));
  expect([...b.subarray(16, 20)]).toEqual([0x00, 0x01, 0x00, 0x00]); // 256
  expect([...b.subarray(20, 24)]).toEqual(le(i));
  expect([...b.subarray(24, 28)]).toEqual(le(count));
  expect([...b.subarray(28, 32)]).toEqual([0x56, 0xff, 0x8b, 0xe4]); // RP2040 0xe48bff56
  expect(b.subarray(32, 288)).toEqual(payload);
  expect(b.subarray(288, 508).every((x) => x === 0)).toBe(true); // the rest of data[476]
  expect([...b.subarray(508, 512)]).toEqual([0x30, 0x6f, 0xb1, 0x0a]);
}

describe("UF2 writer", () => {
  it("writes the specification's blocks byte-exact: magics, flags, addresses, numbering, family, padding", () => {
    const data = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) & 255);
    const file = writeUf2(0x101dd000, data);
    expect(file.length).toBe(3 * 512);
    for (let i = 0; i < 3; i++) {
      const payload = new Uint8Array(256).fill(0xff); // the last page's tail: erased flash
      payload.set(data.subarray(i * 256, i * 256 + 256));
      checkBlock(file, i, 3, 0x101dd000 + i * 256, payload);
    }
    expect(readUf2(file)).toMatchObject({ address: 0x101dd000, familyId: 0xe48bff56 });
  });

  it("refuses unaligned addresses; the reader refuses broken files", () => {
    expect(() => writeUf2(0x10000080, new Uint8Array(10))).toThrow(/aligned/);
    const file = writeUf2(0x10000000, new Uint8Array(512));
    expect(() => readUf2(file.subarray(0, 700))).toThrow(/multiple of 512/);
    const bad = file.slice();
    bad[512 + 20] = 5; // block 1 claims number 5
    expect(() => readUf2(bad)).toThrow(/numbered 5/);
    const bad2 = file.slice();
    bad2[508] = 0;
    expect(() => readUf2(bad2)).toThrow(/magic/);
  });
});

describe("the Pico W layout", () => {
  it("REGION_CONFIG's address comes from native/host/pw_layout.h: 2 MiB flash, regions and the layout sector at its end", () => {
    const h = readFileSync(LAYOUT_HEADER, "utf8");
    const def = (n: string) => Number(h.match(new RegExp(`#define ${n} (\\d+)u`))![1]);
    const total = def("PW_LAYOUT_CONFIG_SIZE") + 2 * def("PW_LAYOUT_SLOT_SIZE") + def("PW_LAYOUT_STATE_SIZE");
    const l = picoLayout();
    expect(l.configAddress).toBe(0x10000000 + 0x200000 - total);
    expect(l.layoutSectorAddress).toBe(l.configAddress - 4096);
    expect(l.configAddress % 4096).toBe(0); // sector aligned: the bootrom erases whole sectors
    expect(l.configSize).toBe(2 * SECTOR); // two copies, one per sector
    expect(l.slotSize - 256 - wasmBytes.length).toBeGreaterThanOrEqual(12 * 1024); // issue 22: room to grow
    const older = "#define PW_LAYOUT_CONFIG_SIZE 8192u\n#define PW_LAYOUT_SLOT_SIZE 65536u\n#define PW_LAYOUT_STATE_SIZE 4096u\n#define PW_LAYOUT_OLD_SLOT_SIZE 65536u\n#define PW_LAYOUT_STAMP_MAGIC 0x324C5750u";
    expect(picoLayout(older).configAddress).toBe(0x101dd000);
  });
});

describe("picowire config set --uf2 / config show", () => {
  const dir = mkdtempSync(join(tmpdir(), "picowire-uf2-"));

  it("writes a configuration-only UF2 for both copies of the sector, checked by the core's parser", async () => {
    const keyFile = join(dir, "bus.key");
    writeFileSync(keyFile, "uf2-test-bus-key-0123456789\n");
    const out = join(dir, "board.uf2");
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void logs.push(a.join(" "));
    try {
      expect(await configCommand(["set", "ssid=Home Net", "password=wifi-secret-9", `key-file=${keyFile}`, "max_conns=7", "--uf2", out])).toBe(0);
    } finally {
      console.log = log;
    }
    const file = new Uint8Array(readFileSync(out));
    const { configAddress } = picoLayout();
    expect(file.length).toBe(32 * 512); // 8 KiB: every page of both sectors
    const text = "wifi_ssid=Home Net\nwifi_password=wifi-secret-9\nkey=uf2-test-bus-key-0123456789\nmax_conns=7\nwifi_mode=sta\n";
    const image = new Uint8Array(8192).fill(0xff);
    const copy = new Uint8Array(16 + text.length);
    // the copy as docs/CONFIG.md lays it out, built here by hand
    copy.set([0x50, 0x57, 0x43, 0x46, 1, 0, text.length & 255, text.length >> 8, 1, 0, 0, 0]);
    const { createHash } = await import("node:crypto");
    copy.set(createHash("sha256").update(copy.subarray(0, 12)).update(text).digest().subarray(0, 4), 12);
    copy.set(new TextEncoder().encode(text), 16);
    image.set(copy, 0);
    image.set(copy, 4096);
    for (let i = 0; i < 32; i++) checkBlock(file, i, 32, configAddress + i * 256, image.subarray(i * 256, i * 256 + 256));
    expect(logs.join("\n")).not.toMatch(/wifi-secret-9|uf2-test-bus-key/);
    expect(logs.join("\n")).toMatch(/wifi_password=\*{8}/);

    // what the bootrom would leave in flash boots on the core, configured
    const flash = new Flash();
    flash.bytes.set(readUf2(file).data, 0);
    const s = new FakeHost({ flash }).boot();
    expect(s.initResult).toBe(C.OK);
    expect(s.maxConns).toBe(7);
    expect(s.aps).toEqual([]);

    // config show reads it back, secrets masked
    logs.length = 0;
    console.log = (...a: unknown[]) => void logs.push(a.join(" "));
    try {
      expect(await configCommand(["show", out])).toBe(0);
    } finally {
      console.log = log;
    }
    const shown = logs.join("\n");
    expect(shown).toContain("family 0xe48bff56 (RP2040)");
    expect(shown).toContain("copy 0: format 1, sequence 1");
    expect(shown).toContain("wifi_ssid=Home Net");
    expect(shown).toContain("key=********");
    expect(shown).not.toMatch(/wifi-secret-9|uf2-test-bus-key/);
    expect(decodeCopy(readUf2(file).data.subarray(SECTOR))).toMatchObject({ text });
  });

  it("refuses what the core would refuse, before writing anything", async () => {
    await expect(configCommand(["set", "max_conns=99", "--uf2", join(dir, "x.uf2")])).rejects.toThrow(/core refuses.*max_conns|allowed: 1 to 32|expected a whole number/);
    await expect(configCommand(["set", "password=short", "--uf2", join(dir, "x.uf2")])).rejects.toThrow(/WPA2 password/);
    await expect(configCommand(["set", "ssid=x"])).rejects.toThrow(/--uf2/);
    expect(configText(["ssid=a", "wifi_mode=ap", "password=12345678"])).toBe("wifi_ssid=a\nwifi_mode=ap\nwifi_password=12345678\n");
  });

  it("config show reads a virtual board's flash file", async () => {
    const f = join(dir, "board.flash");
    const flash = new Flash(f);
    new FakeHost({ flash }).boot().control({ action: "set_config", config: "control_insecure=1\nkey=flash-file-key-0123456\n" });
    const logs: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void logs.push(a.join(" "));
    try {
      expect(await configCommand(["show", f])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(logs.join("\n")).toContain("copy 1: format 1, sequence 1");
    expect(logs.join("\n")).toContain("key=********");
    expect(logs.join("\n")).not.toContain("flash-file-key");
    expect(readRegion(new Uint8Array(readFileSync(f)).subarray(0, 8192))!.text).toContain("flash-file-key");
  });
});
