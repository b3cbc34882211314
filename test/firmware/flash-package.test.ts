// The package as a maker gets it: `npm pack`, installed from its tarball into an empty folder, then
// `npx picowire flash` onto a real FAT filesystem labelled RPI-RP2 with INFO_UF2.TXT (mkfs.vfat from
// dosfstools; mounted read-write through FUSE by fusefat, since these machines' kernels have no vfat), and
// the UF2 it wrote booted in rp2040js: the board comes up configured from its sector. The radio is not
// modelled: the WiFi join is seen being attempted, not completed. Needs the firmware images built from
// this core (npm run build with the Pico SDK and WASM3_PATH), the RP2040 bootrom, dosfstools and fusefat:
// skipped loudly without them, failed under CI=true.
import { it, expect, afterAll } from "vitest";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "../../tools/build/firmware.ts";
import { packProblems } from "../../tools/build/pack.ts";
import { findBootrom, runImage } from "../../tools/emu/run.ts";
import { readUf2Blocks } from "../../tools/provision/uf2.ts";
import { readRegion } from "../../tools/provision/sector.ts";
import { picoLayout } from "../../tools/provision/layout.ts";
import { sha256, DEFAULT_IMAGE } from "../../tools/provision/firmware-images.ts";
import { findBootselDrives } from "../../tools/provision/bootsel.ts";
import { BIN } from "../helpers/cli.ts";
import { needs } from "../helpers/inputs.ts";

const INFO = "UF2 Bootloader v3.0\r\nModel: Raspberry Pi RP2\r\nBoard-ID: RPI-RP2\r\n";
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const tools = ["mkfs.vfat (apt-get install dosfstools)", "fusefat (apt-get install fusefat)", "fusermount (apt-get install fuse, which fusefat brings)"]
  .filter((t) => !has(t.split(" ")[0]));
const bootrom = findBootrom();
const mounts: string[] = [];
// picowire flash checks the package's firmware before it looks for a board, so every suite here needs it
const firmware = packProblems().map((p) => `${p} (npm run build with PICO_SDK_PATH and WASM3_PATH)`);
afterAll(() => mounts.forEach((m) => spawnSync("fusermount", ["-u", m])));

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, ...opts });
}
const output = (r: SpawnSyncReturns<string>) => `${r.stdout ?? ""}${r.stderr ?? ""}`;

/** A FAT image of kib KiB labelled RPI-RP2, mounted read-write, with the bootrom's INFO_UF2.TXT. */
function bootselDrive(kib: number): { image: string; mount: string } {
  const dir = mkdtempSync(join(tmpdir(), "pw-rpi-rp2-"));
  const image = join(dir, "rpi-rp2.img");
  const mount = join(dir, "RPI-RP2");
  mkdirSync(mount);
  const mk = sh("mkfs.vfat", ["-n", "RPI-RP2", "-C", image, String(kib)]);
  expect(mk.status, output(mk)).toBe(0);
  mountImage(image, mount, "rw+");
  writeFileSync(join(mount, "INFO_UF2.TXT"), INFO);
  return { image, mount };
}
function mountImage(image: string, mount: string, mode: "rw+" | "ro"): void {
  const r = sh("fusefat", ["-o", mode, image, mount]);
  expect(r.status, output(r)).toBe(0);
  mounts.push(mount);
}
function unmount(mount: string): void {
  const r = sh("fusermount", ["-u", mount]);
  expect(r.status, output(r)).toBe(0);
  mounts.splice(mounts.indexOf(mount), 1);
}

// First, with no board anywhere: the PATH holds node alone, so no picotool either.
const boardPresent = findBootselDrives();
needs([...firmware, ...(boardPresent.length ? [`no RPI-RP2 drive mounted (${boardPresent.join(", ")} is one: this test would write to it)`] : [])]).describe("picowire flash with no board in BOOTSEL mode", () => {
  it("says how to enter BOOTSEL mode and exits 1", () => {
    const r = sh(process.execPath, [BIN, "flash", "--wifi", "lab", "--password", "wifi-secret-1"], { env: { ...process.env, PATH: dirname(process.execPath) } });
    expect(r.status, output(r)).toBe(1);
    expect(output(r)).toMatch(/No Pico in BOOTSEL mode was found\. To enter it: unplug the board, hold its BOOTSEL button/);
    expect(output(r)).toMatch(/--drive DIR/);
  }, 60_000);
});

const picotool = process.env.picotool_DIR ? join(process.env.picotool_DIR, "picotool") : "";
needs([...firmware, ...(existsSync(picotool) ? [] : ["picotool_DIR with a picotool binary (the one the firmware build uses)"])]).describe("picowire flash beside a picotool without USB support", () => {
  it("does not take it for a way to load, and says so", () => {
    const r = sh(process.execPath, [BIN, "flash"], { env: { ...process.env, PATH: `${dirname(process.execPath)}:${dirname(picotool)}` } });
    expect(r.status, output(r)).toBe(1);
    expect(output(r)).toMatch(/No Pico in BOOTSEL mode was found[\s\S]*picotool on PATH was built without USB support/);
  }, 60_000);
});

const missing = [
  ...firmware,
  ...("missing" in bootrom ? [bootrom.missing] : []),
  ...tools,
  ...(existsSync("/dev/fuse") ? [] : ["/dev/fuse (FUSE, for fusefat)"]),
];

needs(missing).describe("the npm package: packed, installed with Node alone, flashed onto an RPI-RP2 FAT drive, booted in rp2040js", () => {
  const work = mkdtempSync(join(tmpdir(), "pw-package-"));
  const tgz = join(work, "picowire-0.1.0.tgz");
  const app = join(work, "app");
  const npx = (args: string[]) => sh("npx", ["--offline", "picowire", ...args], { cwd: app });

  it("npm pack carries both firmware images, their manifest and the compiled CLI, and leaves no dist/ behind", () => {
    // packed from a copy of the checkout, so the CLI tests running beside this one never see its dist/
    const src = join(work, "src");
    const packaged = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { files: string[] }).files;
    for (const p of ["package.json", "README.md", "tsconfig.cli.json", ...packaged.filter((f) => f !== "dist")])
      cpSync(join(ROOT, p), join(src, p), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(src, "node_modules"));
    const r = sh("npm", ["pack", "--pack-destination", work], { cwd: src });
    expect(r.status, output(r)).toBe(0);
    expect(existsSync(join(src, "dist"))).toBe(false);
    const files = sh("tar", ["tzf", tgz]).stdout.split("\n");
    for (const f of ["build/picowire.uf2", "build/picowire-wasm2c.uf2", "build/firmware.json", "build/picowire.wasm", "dist/cli/main.js", "dist/cli/flash.js"])
      expect(files).toContain(`package/${f}`);
    const manifest = JSON.parse(sh("tar", ["xzOf", tgz, "package/build/firmware.json"]).stdout);
    expect(manifest.core.sha256).toBe(sha256(readFileSync(join(ROOT, "build", "picowire.wasm"))));
    console.log(`npm pack: ${tgz} is ${statSync(tgz).size} bytes`);
  }, 180_000);

  it("installs from the tarball into an empty folder offline, with no dependency (no tsx)", () => {
    mkdirSync(app);
    const r = sh("npm", ["install", "--offline", "--no-audit", "--no-fund", tgz], { cwd: app });
    expect(r.status, output(r)).toBe(0);
    expect(readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith("."))).toEqual(["picowire"]);
    const help = npx(["--help"]);
    expect(help.status, output(help)).toBe(0);
    expect(help.stdout).toMatch(/flash \[options\]\s+firmware and configuration onto a Pico W/);
  }, 120_000);

  it("refuses a drive too small to be a Pico's before writing", () => {
    const small = bootselDrive(512);
    const r = npx(["flash", "--wifi", "lab", "--password", "wifi-secret-1", "--drive", small.mount]);
    expect(r.status, output(r)).toBe(1);
    expect(output(r)).toMatch(/bytes free, the UF2 is \d+: not a Pico's drive/);
    expect(readdirSync(small.mount).filter((n) => n !== "RPI-RP2")).toEqual(["INFO_UF2.TXT"]); // fusefat lists the label as a file
    unmount(small.mount);
  }, 60_000);

  it("npx picowire flash writes firmware and configuration as one UF2 that boots configured in rp2040js", async () => {
    const drive = bootselDrive(8192);
    const keyFile = join(work, "bus.key");
    writeFileSync(keyFile, "a bus key of some length\n");
    // found without --drive: the FAT mount point in /proc/mounts with INFO_UF2.TXT naming RPI-RP2
    const found = npx(["flash", "--wifi", "lab", "--password", "wifi-secret-1", "--set", "max_conns=4"]);
    expect(found.status, output(found)).toBe(0);
    expect(found.stdout).toContain(join(drive.mount, "picowire.uf2"));
    // then named, as the user does; this one replaces the file
    const r = npx(["flash", "--wifi", "lab", "--password", "wifi-secret-1", "--key-file", keyFile, "--set", "max_conns=3", "--drive", drive.mount]);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toMatch(/picowire\.uf2: \d+ UF2 blocks: the wasm3 firmware \(build\/picowire\.uf2, core sha256 [0-9a-f]{16}\.\.\.\) and the configuration/);
    expect(r.stdout).toMatch(/It joins "lab" as picowire-XXXX\.local/);
    expect(r.stdout).toMatch(/Dashboard: http:\/\/picowire-XXXX\.local\//);
    expect(r.stdout).toMatch(/picowire info picowire-XXXX\.local --key-file/);
    expect(output(r)).not.toMatch(/wifi-secret-1|a bus key of some length/);

    // what is in the filesystem image, not the mount's cache: unmount, mount read-only, read it back
    unmount(drive.mount);
    mountImage(drive.image, drive.mount, "ro");
    const written = new Uint8Array(readFileSync(join(drive.mount, "picowire.uf2")));
    const copy = join(work, "written.uf2");
    writeFileSync(copy, written);
    unmount(drive.mount);

    const blocks = readUf2Blocks(written); // one file: numbered 0..n-1 of n
    const fw = readUf2Blocks(new Uint8Array(readFileSync(join(ROOT, DEFAULT_IMAGE))));
    expect(blocks.length).toBe(fw.length + 32);
    expect(Buffer.concat(blocks.slice(0, fw.length).map((b) => b.data))).toEqual(Buffer.concat(fw.map((b) => b.data)));
    expect(blocks[fw.length].address).toBe(picoLayout().configAddress);
    expect(readRegion(Buffer.concat(blocks.slice(fw.length).map((b) => b.data)))?.text).toMatch(/^max_conns=3$/m);

    const boot = await runImage(copy, {
      until: "\u0000never",
      simulatedMs: 16_000, // board time, as test/firmware/provisioning-firmware.test.ts
      timeoutMs: 300_000,
      setup: (sim) => sim.rp2040.gpio[22].setInputValue(true), // the pull-up rp2040js does not model: button not held
    });
    const coreSha = sha256(readFileSync(join(ROOT, "build", "picowire.wasm")));
    expect(boot.output).toMatch(new RegExp(`engine wasm3, core \\d+ bytes sha256 ${coreSha}`));
    expect(boot.output).toMatch(/pico: configuration from the flash sector/);
    expect(boot.output).toMatch(/picowire core ready: abi \d+, 3 connection slots/);
    expect(boot.output).toMatch(/control: listening on port 12345 \(HMAC-SHA256 authenticated\)/); // the bus key from --key-file
    expect(boot.output).toMatch(/wifi: cannot join|wifi: joined/); // wifi_mode=sta: it tries to join "lab" (no radio model yet)
    expect(boot.output).not.toMatch(/unconfigured|setup mode|starting the access point|factory reset/);
    expect(boot.output).not.toMatch(/wifi-secret-1|a bus key of some length/);
    rmSync(work, { recursive: true, force: true });
  }, 240_000);
});
