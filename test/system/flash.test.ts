// `picowire flash` without a firmware build: the UF2 it assembles, where it looks for a board, and every
// refusal — each checked to leave the drive untouched. The package end to end (npm pack, install, a FAT
// image, the emulator): test/firmware/flash-package.test.ts.
import { describe, it, expect } from "vitest";
import { cpSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { flashCommand } from "../../tools/cli/flash.ts";
import { writeUf2, readUf2, readUf2Blocks, joinUf2, RP2040_FAMILY_ID } from "../../tools/provision/uf2.ts";
import { candidateDrives, notBootselDrive, type Platform } from "../../tools/provision/bootsel.ts";
import { picoLayout, XIP_BASE } from "../../tools/provision/layout.ts";
import { readRegion } from "../../tools/provision/sector.ts";
import { sha256, writeManifest, DEFAULT_IMAGE, WASM2C_IMAGE } from "../../tools/provision/firmware-images.ts";
import { packProblems } from "../../tools/build/pack.ts";
import { ROOT } from "../../tools/build/firmware.ts";

const RP2350_ARM_FAMILY_ID = 0xe48bff59; // the UF2 specification's family list
const INFO_RP2040 = "UF2 Bootloader v3.0\r\nModel: Raspberry Pi RP2\r\nBoard-ID: RPI-RP2\r\n";
const INFO_RP2350 = "UF2 Bootloader v1.0\r\nModel: Raspberry Pi RP2350\r\nBoard-ID: RP2350\r\n";

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
function drive(info: string | null): string {
  const dir = tmp("pw-drive-");
  if (info !== null) writeFileSync(join(dir, "INFO_UF2.TXT"), info);
  return dir;
}
function firmwareFile(data = randomBytes(3000), address = XIP_BASE, family = RP2040_FAMILY_ID): string {
  const f = join(tmp("pw-fw-"), "fw.uf2");
  writeFileSync(f, writeUf2(address, data, family));
  return f;
}
/** Runs flash with console output collected. */
async function flash(args: string[]): Promise<string> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  try {
    expect(await flashCommand(args)).toBe(0);
  } finally {
    console.log = log;
  }
  return out.join("\n");
}

describe("one UF2 of several (joinUf2)", () => {
  it("renumbers every block 0..n-1 of n and keeps addresses, family and payloads", () => {
    const a = writeUf2(XIP_BASE, randomBytes(700));
    const b = writeUf2(picoLayout().configAddress, randomBytes(512));
    const joined = joinUf2([a, b]);
    expect(joined.length).toBe(a.length + b.length);
    const blocks = readUf2Blocks(joined); // checks numbering n of total
    expect(blocks.map((x) => x.address)).toEqual([...readUf2Blocks(a), ...readUf2Blocks(b)].map((x) => x.address));
    expect(Buffer.from(blocks[3].data)).toEqual(Buffer.from(readUf2Blocks(b)[0].data));
    const v = new DataView(joined.buffer);
    for (let i = 0; i < blocks.length; i++) expect([v.getUint32(i * 512 + 20, true), v.getUint32(i * 512 + 24, true)]).toEqual([i, 5]);
    expect(() => readUf2(joined)).toThrow(/not contiguous/); // two spans: the one-span reader refuses it
    expect(() => readUf2Blocks(a.subarray(0, 1000))).toThrow(/multiple of 512/);
  });
});

describe("finding a BOOTSEL drive", () => {
  const listing = (tree: Record<string, string[]>): Platform["list"] => (dir) => tree[dir] ?? [];
  it("looks where Linux desktops, macOS and Windows mount it, and at every FAT mount point", () => {
    const linux = candidateDrives({
      os: "linux", user: "ann",
      list: listing({ "/media/ann": ["RPI-RP2", "USBSTICK"], "/run/media/ann": ["RPI-RP21"], "/mnt": ["data"] }),
      mounts: "/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /srv/my\\040pico vfat rw 0 0\nfusefat /tmp/x fuse.fusefat rw 0 0\nserver:/x /net nfs rw 0 0\n",
    });
    expect(linux).toEqual(["/media/ann/RPI-RP2", "/run/media/ann/RPI-RP21", "/srv/my pico", "/tmp/x"]);
    expect(candidateDrives({ os: "darwin", list: listing({ "/Volumes": ["Macintosh HD", "RPI-RP2", "RPI-RP2 1"] }) })).toEqual([
      "/Volumes/RPI-RP2", "/Volumes/RPI-RP2 1"]);
    const win = candidateDrives({ os: "win32", list: listing({}) });
    expect(win[0]).toBe("D:\\");
    expect(win.at(-1)).toBe("Z:\\");
  });

  it("takes a drive only with INFO_UF2.TXT naming the RP2040's Board-ID", () => {
    expect(notBootselDrive(drive(INFO_RP2040))).toBeNull();
    expect(notBootselDrive(drive(null))).toMatch(/has no INFO_UF2.TXT: not a board in BOOTSEL mode/);
    expect(notBootselDrive(drive(INFO_RP2350))).toMatch(/the drive of a RP2350 board; picowire's firmware is for the Pico W \(RP2040/);
    expect(notBootselDrive(drive("UF2 Bootloader\n"))).toMatch(/names no Board-ID/);
    expect(notBootselDrive(join(tmpdir(), "no-such-pw-drive"))).toMatch(/does not exist/);
  });
});

describe("picowire flash (with a firmware file of its own, --uf2)", () => {
  it("writes one UF2: the firmware's blocks, then the configuration sector, numbered as one file", async () => {
    const d = drive(INFO_RP2040);
    const fw = firmwareFile();
    const keyFile = join(tmp("pw-key-"), "bus.key");
    writeFileSync(keyFile, "a bus key of some length\n");
    const out = await flash(["--uf2", fw, "--drive", d, "--wifi", "Home Net", "--password", "wifi-secret-1", "--role", "bus", "--key-file", keyFile, "--set", "max_conns=3"]);
    const written = new Uint8Array(readFileSync(join(d, "picowire.uf2")));
    const blocks = readUf2Blocks(written);
    const fwBlocks = readUf2Blocks(new Uint8Array(readFileSync(fw)));
    expect(blocks.length).toBe(fwBlocks.length + 32); // + the 8 KiB configuration region
    expect(blocks.slice(0, fwBlocks.length).map((b) => b.address)).toEqual(fwBlocks.map((b) => b.address));
    const cfgBlocks = blocks.slice(fwBlocks.length);
    expect(cfgBlocks[0].address).toBe(picoLayout().configAddress);
    const region = Buffer.concat(cfgBlocks.map((b) => b.data));
    expect(readRegion(region)?.text.split("\n").sort()).toEqual(
      ["bus=1", "key=a bus key of some length", "max_conns=3", "wifi_mode=sta", "wifi_password=wifi-secret-1", "wifi_ssid=Home Net", ""].sort());
    expect(out).not.toContain("wifi-secret-1");
    expect(out).not.toContain("a bus key of some length");
    expect(out).toMatch(/It joins "Home Net" as picowire-XXXX\.local/);
    expect(out).toMatch(/Dashboard: http:\/\/picowire-XXXX\.local\//);
    expect(out).toMatch(/picowire discover/);
  });

  it("without configuration options writes the firmware alone and says the board keeps its configuration", async () => {
    const d = drive(INFO_RP2040);
    const out = await flash(["--uf2", firmwareFile(randomBytes(600)), "--drive", d]);
    expect(readUf2Blocks(new Uint8Array(readFileSync(join(d, "picowire.uf2")))).length).toBe(3);
    expect(out).toMatch(/keeps the one in its flash/);
  });

  it("--out writes the same UF2 to a file", async () => {
    const f = join(tmp("pw-out-"), "board.uf2");
    await flash(["--uf2", firmwareFile(randomBytes(256)), "--out", f, "--set", "max_conns=2"]);
    expect(readUf2Blocks(new Uint8Array(readFileSync(f))).length).toBe(1 + 32);
  });

  const fw = () => firmwareFile();
  it.each([
    ["an unknown key", () => ["--uf2", fw(), "--set", "colour=red"], /the core refuses this configuration: .*unknown key \('colour'\)/],
    ["a value out of range", () => ["--uf2", fw(), "--set", "max_conns=0"], /the core refuses this configuration: .*max_conns|allowed: 1 to 32/],
    ["a WiFi password too short", () => ["--uf2", fw(), "--wifi", "lab", "--password", "short"], /the core refuses this configuration/],
    ["a --set that is not KEY=VALUE", () => ["--uf2", fw(), "--set", "max_conns"], /is not KEY=VALUE/],
    ["--password without --wifi", () => ["--uf2", fw(), "--password", "wifi-secret-1"], /give both/],
    ["an unknown role", () => ["--uf2", fw(), "--role", "toaster"], /--role must be one of rgb-server, rgb-client, bus/],
    ["an rgb-client without --server", () => ["--uf2", fw(), "--role", "rgb-client"], /needs --server IP:PORT/],
    ["a bus key too short", () => {
      const k = join(tmp("pw-key-"), "k");
      writeFileSync(k, "short\n");
      return ["--uf2", fw(), "--key-file", k];
    }, /the key must be one line of 16 to 64 characters/],
    ["an unknown option", () => ["--uf2", fw(), "--wifii", "lab"], /Unknown option '--wifii'/],
    ["a UF2 for another board family (RP2350)", () => ["--uf2", firmwareFile(randomBytes(512), XIP_BASE, RP2350_ARM_FAMILY_ID)],
      /a UF2 for another board family \(0xe48bff59; the Pico W's RP2040 is 0xe48bff56\)/],
    ["a firmware reaching into the configuration sector", () => ["--uf2", firmwareFile(randomBytes(512), picoLayout().configAddress - 256)],
      /outside the firmware's flash/],
    ["a firmware reaching into the layout sector", () => ["--uf2", firmwareFile(randomBytes(512), picoLayout().layoutSectorAddress - 256)],
      /outside the firmware's flash \(0x10000000 up to the layout sector at 0x101d4000, below the configuration\)/],
    ["a file that is not a UF2", () => {
      const f = join(tmp("pw-fw-"), "fw.bin");
      writeFileSync(f, randomBytes(1000));
      return ["--uf2", f];
    }, /not a UF2 file the RP2040 takes: .*multiple of 512/],
    ["--engine other than wasm3 or wasm2c", () => ["--engine", "v8"], /--engine must be wasm3 or wasm2c/],
  ])("refuses %s before writing anything", async (_what, args, message) => {
    const d = drive(INFO_RP2040);
    await expect(flashCommand([...args(), "--drive", d])).rejects.toThrow(message);
    expect(readdirSync(d)).toEqual(["INFO_UF2.TXT"]);
  });

  it.each([
    ["a folder without INFO_UF2.TXT", () => drive(null), /has no INFO_UF2.TXT: not a board in BOOTSEL mode/],
    ["an RP2350's drive", () => drive(INFO_RP2350), /the drive of a RP2350 board/],
  ])("refuses %s as --drive", async (_what, make, message) => {
    const d = make();
    const before = readdirSync(d);
    await expect(flashCommand(["--uf2", firmwareFile(), "--wifi", "lab", "--password", "wifi-secret-1", "--drive", d])).rejects.toThrow(message);
    expect(readdirSync(d)).toEqual(before);
  });

  it("refuses --drive with --out", async () => {
    const d = drive(INFO_RP2040);
    mkdirSync(join(d, "sub"));
    await expect(flashCommand(["--uf2", firmwareFile(), "--drive", d, "--out", join(d, "sub", "x.uf2")])).rejects.toThrow(/exclude each other/);
    expect(readdirSync(join(d, "sub"))).toEqual([]);
  });
});

describe("npm pack refuses a package without firmware images of its own core", () => {
  /** A copy of the package's sources (tools, bin, package.json) with the given build/ files, whose
   *  prepack is the real tools/build/pack.ts. */
  function pkg(): string {
    const root = tmp("pw-pkg-");
    for (const p of ["package.json", "tsconfig.cli.json", "tools", "bin"]) cpSync(join(ROOT, p), join(root, p), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
    mkdirSync(join(root, "build"));
    writeFileSync(join(root, "build", "picowire.wasm"), randomBytes(1000));
    return root;
  }
  /** Images that carry the core's SHA-256 text, as the firmware does, and their manifest. */
  function images(root: string, defaultEngine: "wasm3" | "wasm2c" = "wasm3"): void {
    const core = sha256(readFileSync(join(root, "build", "picowire.wasm")));
    for (const f of [DEFAULT_IMAGE, WASM2C_IMAGE])
      writeFileSync(join(root, f), writeUf2(XIP_BASE, Buffer.concat([randomBytes(300), Buffer.from(core), randomBytes(300)])));
    writeManifest(core, { [DEFAULT_IMAGE]: defaultEngine, [WASM2C_IMAGE]: "wasm2c" }, root);
  }
  function npmPack(root: string): { status: number | null; out: string; packed: string[] } {
    const dest = tmp("pw-tgz-");
    const r = spawnSync("npm", ["pack", "--pack-destination", dest], { cwd: root, encoding: "utf8", timeout: 120_000 });
    return { status: r.status, out: `${r.stdout}${r.stderr}`, packed: readdirSync(dest) };
  }

  it("bin/picowire.js without dist/ or tsx (a package packed with --ignore-scripts) says so", () => {
    const root = tmp("pw-bare-");
    cpSync(join(ROOT, "bin"), join(root, "bin"), { recursive: true });
    const r = spawnSync(process.execPath, [join(root, "bin", "picowire.js"), "--help"], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/neither its compiled CLI \(dist\/, made by npm pack\) nor tsx/);
  });

  it("without the images", () => {
    const r = npmPack(pkg());
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/npm pack: REFUSED[\s\S]*build\/picowire\.uf2 is missing[\s\S]*build\/picowire-wasm2c\.uf2 is missing/);
    expect(r.packed).toEqual([]);
  }, 60_000);

  it("with images built from another core than its build/picowire.wasm", () => {
    const root = pkg();
    images(root);
    expect(packProblems(root)).toEqual([]);
    writeFileSync(join(root, "build", "picowire.wasm"), randomBytes(1000)); // a rebuilt core, old firmware
    const r = npmPack(root);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/build\/picowire\.uf2 was built from core [0-9a-f]{64}, but build\/picowire\.wasm is [0-9a-f]{64}/);
    expect(r.packed).toEqual([]);
  }, 60_000);

  it.each([
    ["the wasm2c image as the default", (root: string) => images(root, "wasm2c"), /build\/picowire\.uf2 is the wasm2c image; a package's default is wasm3/],
    ["an image changed after the manifest", (root: string) => {
      images(root);
      writeFileSync(join(root, WASM2C_IMAGE), writeUf2(XIP_BASE, randomBytes(700)));
    }, /build\/picowire-wasm2c\.uf2 has changed since build\/firmware\.json was written/],
    ["an image without the core's SHA-256 in it", (root: string) => {
      const core = sha256(readFileSync(join(root, "build", "picowire.wasm")));
      for (const f of [DEFAULT_IMAGE, WASM2C_IMAGE]) writeFileSync(join(root, f), writeUf2(XIP_BASE, randomBytes(700)));
      writeManifest(core, { [DEFAULT_IMAGE]: "wasm3", [WASM2C_IMAGE]: "wasm2c" }, root);
    }, /does not carry the SHA-256 of build\/picowire\.wasm/],
    ["an image for another board family", (root: string) => {
      const core = sha256(readFileSync(join(root, "build", "picowire.wasm")));
      for (const f of [DEFAULT_IMAGE, WASM2C_IMAGE]) writeFileSync(join(root, f), writeUf2(XIP_BASE, Buffer.from(core), RP2350_ARM_FAMILY_ID));
      writeManifest(core, { [DEFAULT_IMAGE]: "wasm3", [WASM2C_IMAGE]: "wasm2c" }, root);
    }, /a block for family 0xe48bff59, not the RP2040's/],
  ])("with %s", (_what, make, message) => {
    const root = tmp("pw-pkg-");
    mkdirSync(join(root, "build"));
    writeFileSync(join(root, "build", "picowire.wasm"), randomBytes(1000));
    make(root);
    expect(packProblems(root).join("\n")).toMatch(message);
  });
});
