// Flash and RAM of the firmware per component, from the GNU ld map (`picowire.elf.map`): every input
// section the linker kept, by the object or archive member it came from. Flash is what sits in XIP
// (code, read-only data, and the initial values of .data); RAM is what is placed at 0x2000_0000 and up
// (.data, .bss, the stacks and the heap the linker reserves).
import { readFileSync } from "node:fs";

export const COMPONENTS: [string, RegExp][] = [
  ["core (translated wasm)", /picowire_core\.c\.o|\/w2c_/],
  ["core (wasm bytes, wasm3)", /picowire_core_wasm\.c\.o/],
  ["wasm3 interpreter", /libpw_wasm3/],
  ["host + engine", /libpicowire_host\.a|libpicowire_wasm3|\/wasm3\//],
  ["Pico port (native/pico)", /(^|\/)(platform_pico|pw_lwip|pw_mdns|main|pixels_pio|pw_flash_regions|emu_main|stack\.S)\.c?\.o|stack\.S\.o/],
  ["assets (web pages)", /libpicowire_assets\.a/],
  ["CYW43 driver + firmware", /cyw43/],
  ["lwIP", /\/lib\/lwip\//],
  ["tinyusb", /\/lib\/tinyusb\//],
  ["Pico SDK", /pico-sdk\/src\/|boot_stage2/],
  ["C library (newlib, libgcc)", /libg\.a|libc\.a|libgcc\.a|libm\.a|crt\w*\.o|libnosys/],
];

export interface ComponentSize {
  name: string;
  flash: number;
  ram: number;
}

const FLASH = 0x10000000;
const RAM = 0x20000000;

/** Sums the kept input sections of a linker map by component (COMPONENTS, then "other"). */
export function mapComponents(text: string): ComponentSize[] {
  const sizes = new Map<string, ComponentSize>();
  const add = (name: string, flash: number, ram: number) => {
    const s = sizes.get(name) ?? { name, flash: 0, ram: 0 };
    s.flash += flash;
    s.ram += ram;
    sizes.set(name, s);
  };
  const start = text.indexOf("Linker script and memory map");
  const lines = (start < 0 ? text : text.slice(start)).split("\n");
  let output = ""; // the output section being listed (.text, .data, .bss, ...)
  let pendingName = ""; // an input section whose name stood alone on the line before its numbers
  for (const line of lines) {
    const out = /^(\.[\w.]+)/.exec(line);
    if (out) {
      output = out[1];
      continue;
    }
    let m = /^ (\.[^\s]+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(line);
    let name: string, addr: number, size: number, from: string;
    if (m) [name, addr, size, from] = [m[1], parseInt(m[2], 16), parseInt(m[3], 16), m[4]];
    else if ((m = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(line)) && pendingName) {
      [name, addr, size, from] = [pendingName, parseInt(m[1], 16), parseInt(m[2], 16), m[3]];
    } else {
      const alone = /^ (\.[^\s]+|COMMON)\s*$/.exec(line);
      pendingName = alone ? alone[1] : "";
      continue;
    }
    pendingName = "";
    if (size === 0 || addr === 0) continue; // discarded or empty
    const component = COMPONENTS.find(([, re]) => re.test(from))?.[0] ?? "other";
    const inRam = addr >= RAM;
    // .data lives in RAM and its initial values in flash
    const initialised = inRam && (output === ".data" || /^\.data/.test(name)) && !/\.bss|COMMON/.test(name);
    add(component, !inRam && addr >= FLASH ? size : initialised ? size : 0, inRam ? size : 0);
  }
  return [...sizes.values()].sort((a, b) => b.flash + b.ram - (a.flash + a.ram));
}

export function mapComponentsOf(path: string): ComponentSize[] {
  return mapComponents(readFileSync(path, "utf8"));
}

/** The table `npm run size` prints. */
export function componentTable(title: string, rows: ComponentSize[]): string {
  const total = rows.reduce((t, r) => ({ flash: t.flash + r.flash, ram: t.ram + r.ram }), { flash: 0, ram: 0 });
  const line = (n: string, f: number, r: number) => `  ${n.padEnd(30)} ${String(f).padStart(8)} ${String(r).padStart(8)}`;
  return [`\n${title}`, `  ${"component".padEnd(30)} ${"flash".padStart(8)} ${"RAM".padStart(8)}`,
    ...rows.map((r) => line(r.name, r.flash, r.ram)), line("total", total.flash, total.ram)].join("\n");
}
