// `picowire config`: configuration for boards that run the one shared firmware, without rebuilding it.
//   config set KEY=VALUE... --uf2 FILE   a configuration-only UF2 for the configuration sector
//   config show FILE                     what a configuration UF2 (or a virtual board's flash file) holds
import { readFileSync, writeFileSync } from "node:fs";
import { readKeyFile } from "./control.ts";
import { readCore } from "./wasm.ts";
import { regionImage, readRegion, decodeCopy, maskSecrets, SECTOR } from "../provision/sector.ts";
import { writeUf2, readUf2, RP2040_FAMILY_ID } from "../provision/uf2.ts";
import { picoLayout } from "../provision/layout.ts";
import { validateConfig } from "../provision/validate.ts";
import { REGIONS } from "../host/flash.ts";
import { C } from "../host/abi.generated.ts";

export const CONFIG_USAGE = `usage: picowire config set KEY=VALUE... --uf2 FILE [--wasm FILE]
       picowire config show FILE.uf2 | FLASH-FILE
  set writes a configuration-only UF2 for the Pico W's configuration sector: drop it on the board in
  BOOTSEL mode, before or after build/picowire.uf2 (picowire flash writes both in one file). KEY=VALUE
  is any core setting (docs/SETTINGS.md) or one of these shorthands:
    ssid=NAME          wifi_ssid=NAME, and wifi_mode=sta unless wifi_mode is given
    password=SECRET    wifi_password=SECRET
    key-file=F         key=<the one line in F> (the bus key; control is authenticated with it)
  The text is checked by the core's own parser before anything is written. show prints a
  configuration back, secrets masked.`;

const ALIASES: Record<string, string> = { ssid: "wifi_ssid", password: "wifi_password" };

/** The key=value text for `config set`'s arguments. */
export function configText(args: string[]): string {
  const lines: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new Error(`'${arg.includes("password") || arg.includes("key") ? "(hidden)" : arg}' is not KEY=VALUE\n${CONFIG_USAGE}`);
    const k = arg.slice(0, eq);
    const v = arg.slice(eq + 1);
    if (k === "key-file") lines.push(`key=${readKeyFile(v)}`);
    else lines.push(`${ALIASES[k] ?? k}=${v}`);
  }
  if (lines.some((l) => l.startsWith("wifi_ssid=")) && !lines.some((l) => l.startsWith("wifi_mode="))) lines.push("wifi_mode=sta");
  return lines.join("\n") + "\n";
}

/** The configuration UF2 for text, once the core's own parser (wasm: default build/picowire.wasm) took it. */
export function configUf2(text: string, wasm?: string): Uint8Array {
  const why = validateConfig(readCore(wasm), text);
  if (why) throw new Error(`the core refuses this configuration: ${why}`);
  const layout = picoLayout();
  if (layout.configSize < 2 * SECTOR) throw new Error(`native/pico/platform_pico.h gives REGION_CONFIG ${layout.configSize} bytes; the two copies need ${2 * SECTOR}`);
  return writeUf2(layout.configAddress, regionImage(text));
}

export async function configCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "set") {
    const out = takeOption(rest, "--uf2");
    const wasm = takeOption(rest, "--wasm");
    if (!out) throw new Error(`config set needs --uf2 FILE\n${CONFIG_USAGE}`);
    const text = configText(rest);
    const uf2 = configUf2(text, wasm);
    writeFileSync(out, uf2);
    console.log(`${out}: ${uf2.length / 512} UF2 blocks for 0x${picoLayout().configAddress.toString(16)} (the configuration sector), family RP2040`);
    console.log(maskSecrets(text).trimEnd());
    return 0;
  }
  if (sub === "show" && rest.length === 1) {
    const bytes = new Uint8Array(readFileSync(rest[0]));
    let region: Uint8Array;
    if (bytes.length >= 512 && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true) === 0x0a324655) {
      const span = readUf2(bytes);
      const layout = picoLayout();
      console.log(`UF2: ${span.data.length} bytes at 0x${span.address.toString(16)}, family 0x${span.familyId.toString(16)}${span.familyId === RP2040_FAMILY_ID ? " (RP2040)" : ""}`);
      if (span.address !== layout.configAddress) console.log(`warning: the configuration sector is at 0x${layout.configAddress.toString(16)}, not 0x${span.address.toString(16)}`);
      region = span.data;
    } else region = bytes.subarray(0, REGIONS[C.REGION_CONFIG]); // a virtual board's flash file starts with REGION_CONFIG
    for (let i = 0; i < 2; i++) {
      const c = decodeCopy(region.subarray(i * SECTOR, (i + 1) * SECTOR));
      console.log(`copy ${i}: ${"error" in c ? c.error : `format ${c.version}, sequence ${c.seq}, ${new TextEncoder().encode(c.text).length} bytes`}`);
    }
    const cfg = readRegion(region);
    if (!cfg) {
      console.log("unconfigured: the board starts its setup access point");
      return 0;
    }
    console.log(`configuration (copy ${cfg.copy}${cfg.version === 0 ? ", format 0" : ""}):`);
    console.log(maskSecrets(cfg.text).trimEnd());
    return 0;
  }
  if (sub === "--help" || sub === "help") return console.log(CONFIG_USAGE), 0;
  console.error(CONFIG_USAGE);
  return 2;
}

function takeOption(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(name + "="));
  if (i < 0) return undefined;
  const [arg] = args.splice(i, 1);
  if (arg.includes("=")) return arg.slice(name.length + 1);
  const [v] = args.splice(i, 1);
  if (v === undefined) throw new Error(`${name} needs a value`);
  return v;
}
