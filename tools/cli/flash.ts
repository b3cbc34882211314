// `picowire flash`: the package's firmware and a board's configuration onto a Pico W in BOOTSEL mode, as
// one UF2 file (docs/FLASHING.md). Everything is checked — the options, the configuration by the core's
// own parser, the firmware image against build/firmware.json, the drive — before a byte is written.
import { parseArgs } from "node:util";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { configText, configUf2 } from "./config.ts";
import { checkImage, DEFAULT_IMAGE, WASM2C_IMAGE } from "../provision/firmware-images.ts";
import { firmwareProblem, flashImage } from "../provision/flash-image.ts";
import { ENTER_BOOTSEL, findBootselDrives, notBootselDrive } from "../provision/bootsel.ts";
import { maskSecrets } from "../provision/sector.ts";

export const FLASH_USAGE = `usage: picowire flash [--wifi SSID --password SECRET] [--role ROLE] [--key-file F] [--set KEY=VALUE]...
                      [--drive DIR | --out FILE] [--engine wasm3|wasm2c | --uf2 FIRMWARE]
  writes the firmware and this board's configuration to a Pico W in BOOTSEL mode (hold BOOTSEL while
  plugging it in), as one UF2 file: the board restarts after the first file it receives.
  --drive DIR      the board's RPI-RP2 drive (default: looked for where the system mounts it)
  --wifi SSID      the network the board joins
  --password S     its WPA2 password (8-63 characters)
  --role R         rgb-server (serves its colour over HTTP), rgb-client (polls --server IP:PORT), or
                   bus (joins the wireless bus; give --key-file)
  --key-file F     the bus key (one line of 16-64 characters): control is authenticated with it
  --set KEY=VALUE  any core setting, as picowire config set (repeatable)
  --engine E       wasm3 (default: takes new cores over the air) or wasm2c (its core compiled in)
  --uf2 FILE       flash another RP2040 firmware image instead of the package's
  --out FILE       write the UF2 to FILE instead of a board
  Without configuration options the board keeps the configuration in its flash (a new board starts
  its setup access point).`;

const ROLES: Record<string, (server?: string) => string[]> = {
  "rgb-server": () => [],
  "rgb-client": (server) => {
    if (!server) throw new Error(`--role rgb-client needs --server IP:PORT\n${FLASH_USAGE}`);
    return [`rgb_server=${server}`];
  },
  bus: () => ["bus=1"],
};

/** The config set arguments (KEY=VALUE, shorthands) that flash's options stand for. */
export function flashConfigArgs(v: { wifi?: string; password?: string; role?: string; server?: string; "key-file"?: string; set?: string[] }): string[] {
  const args: string[] = [];
  if (v.password !== undefined && v.wifi === undefined) throw new Error("--password is the password of --wifi SSID: give both");
  if (v.wifi !== undefined) args.push(`ssid=${v.wifi}`);
  if (v.password !== undefined) args.push(`password=${v.password}`);
  if (v.role !== undefined) {
    const role = ROLES[v.role];
    if (!role) throw new Error(`--role must be one of ${Object.keys(ROLES).join(", ")}, not '${v.role}'`);
    args.push(...role(v.server));
  } else if (v.server) throw new Error("--server is for --role rgb-client");
  if (v["key-file"]) args.push(`key-file=${v["key-file"]}`);
  return [...args, ...(v.set ?? [])];
}

/** The firmware to write: the package's image for engine (checked against build/firmware.json) or a
 *  file of the user's (checked as an RP2040 image only). */
function firmware(engine: string, uf2?: string): { bytes: Uint8Array; what: string } {
  if (uf2) {
    const bytes = new Uint8Array(readFileSync(uf2));
    const why = firmwareProblem(bytes, uf2);
    if (why) throw new Error(why);
    return { bytes, what: `${uf2} (its core is not checked)` };
  }
  if (engine !== "wasm3" && engine !== "wasm2c") throw new Error(`--engine must be wasm3 or wasm2c, not '${engine}'`);
  const file = engine === "wasm2c" ? WASM2C_IMAGE : DEFAULT_IMAGE;
  const r = checkImage(file);
  if ("problem" in r) throw new Error(`this package's firmware cannot be used: ${r.problem}`);
  if (r.entry.engine !== engine) throw new Error(`${file} is the ${r.entry.engine} image, not ${engine}`);
  const why = firmwareProblem(r.bytes, file);
  if (why) throw new Error(why);
  return { bytes: r.bytes, what: `the ${engine} firmware (${file}, core sha256 ${r.entry.core_sha256.slice(0, 16)}...)` };
}

/** Whether a picotool on PATH can load over USB: "usb"; "no-usb" for one built without libusb (it has no
 *  load command, as the one native/README.md builds for the SDK); "none". */
function picotoolOnPath(): "usb" | "no-usb" | "none" {
  const r = spawnSync("picotool", ["help"], { encoding: "utf8", timeout: 10_000 });
  if (r.error || r.status !== 0) return "none";
  return /^\s+load\b/m.test(r.stdout) ? "usb" : "no-usb";
}

/** Where to write: the named drive, or the one BOOTSEL drive mounted; null when picotool should load it. */
function targetDrive(drive?: string): string | null {
  if (drive) {
    const why = notBootselDrive(drive);
    if (why) throw new Error(`${why}\n(--drive names the RPI-RP2 drive of a Pico W in BOOTSEL mode)`);
    return drive;
  }
  const found = findBootselDrives();
  if (found.length > 1) throw new Error(`${found.length} boards in BOOTSEL mode (${found.join(", ")}): name one with --drive`);
  if (found.length === 1) return found[0];
  const picotool = picotoolOnPath();
  if (picotool === "usb") return null;
  throw new Error(ENTER_BOOTSEL + (picotool === "no-usb" ? "\n(The picotool on PATH was built without USB support: it has no load command.)" : ""));
}

/** What the board does next, as far as the configuration tells. */
function nextSteps(text: string | null): string {
  const get = (k: string) => text?.match(new RegExp(`^${k}=(.*)$`, "m"))?.[1];
  const port = get("http_port") ?? "80";
  const url = (host: string) => `http://${host}${port === "80" ? "" : `:${port}`}/`;
  const ssid = get("wifi_ssid");
  const lines = ["The board writes it to its flash and restarts; the drive goes away."];
  if (!text) lines.push("No configuration given: the board keeps the one in its flash; a new board opens its setup network",
    "picowire-XXXX (XXXX from its unique ID): join it and open http://192.168.4.1/.");
  else if (ssid && get("wifi_mode") !== "ap") {
    lines.push(`It joins "${ssid}" as picowire-XXXX.local (XXXX: the last two bytes of its unique ID, in hex; its USB`,
      `serial console prints the name: "pico: mDNS: picowire-....local").`);
    if (port !== "0") lines.push(`Dashboard: ${url("picowire-XXXX.local")}`);
    lines.push(get("bus") === "1"
      ? `Find it: picowire discover   (lists the bus's boards with their addresses)`
      : `Find it: ping picowire-XXXX.local, or your router's list of clients; picowire discover finds boards with bus=1.`);
    lines.push(`Ask it: picowire info picowire-XXXX.local${get("key") ? " --key-file YOUR-KEY-FILE" : ""}`);
  } else if (!ssid) lines.push("No --wifi: the board joins no network (wifi_mode off); its WiFi is configured with --wifi SSID --password S.");
  lines.push("Back to setup mode any time: hold GP22 low (a button to GND) while the board starts.");
  return lines.join("\n");
}

export async function flashCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help")) return console.log(FLASH_USAGE), 0;
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      drive: { type: "string" }, out: { type: "string" }, wifi: { type: "string" }, password: { type: "string" },
      role: { type: "string" }, server: { type: "string" }, "key-file": { type: "string" },
      set: { type: "string", multiple: true }, engine: { type: "string", default: "wasm3" }, uf2: { type: "string" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length) throw new Error(`unexpected '${positionals[0]}'\n${FLASH_USAGE}`);
  if (values.drive && values.out) throw new Error("--drive and --out exclude each other");
  const args = flashConfigArgs(values);
  const text = args.length ? configText(args) : null;
  const config = text ? configUf2(text) : null;
  const fw = firmware(values.engine!, values.uf2);
  const image = flashImage(fw.bytes, config);
  const what = `${image.length / 512} UF2 blocks: ${fw.what}${text ? " and the configuration" : ""}`;
  if (values.out) {
    writeFileSync(values.out, image);
    console.log(`${values.out}: ${what}`);
  } else {
    const drive = targetDrive(values.drive);
    if (drive === null) {
      // the file holds the WiFi password and the bus key: a private directory, removed after the load
      const dir = mkdtempSync(join(tmpdir(), "picowire-flash-"));
      const file = join(dir, "picowire.uf2");
      try {
        writeFileSync(file, image, { mode: 0o600 });
        console.log(`no RPI-RP2 drive mounted; loading with picotool: ${what}`);
        const r = spawnSync("picotool", ["load", "-x", file], { stdio: "inherit", timeout: 120_000 });
        if (r.status !== 0) throw new Error(`picotool load failed (status ${r.status})\n${ENTER_BOOTSEL}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    } else {
      const fs = statfsSync(drive);
      if (fs.bavail * fs.bsize < image.length)
        throw new Error(`${drive} has ${fs.bavail * fs.bsize} bytes free, the UF2 is ${image.length}: not a Pico's drive (its RPI-RP2 drive shows 128 MB)`);
      const target = join(drive, "picowire.uf2");
      // a board's drive keeps no file, but a FAT image (a test, a second run) may: replaced, not truncated
      // (fusefat cannot truncate)
      rmSync(target, { force: true });
      writeFileSync(target, image);
      console.log(`${target}: ${what}`);
    }
  }
  if (text) console.log(`configuration:\n  ${maskSecrets(text).trimEnd().split("\n").join("\n  ")}`);
  if (!values.out) console.log(nextSteps(text));
  return 0;
}
