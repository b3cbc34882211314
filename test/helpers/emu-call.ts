// Reads the core's stat() of build/picowire.uf2 running in rp2040js, without a status channel in the
// image: the emulated CPU calls the engine's own stat export (host.engine.v->stat, native/host/pw_engine.h)
// between two of its instructions, with interrupts masked and the clock stopped, then every register is
// put back. Only when the firmware is not inside a core call (pw_host.in_core false): the engine is not
// re-entrant. Where `host` lies comes from the firmware's ELF (the build directory beside the UF2),
// the struct offsets from the ARM compiler itself (offsetof on native/host/pw_host.h).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CortexM0Core } from "rp2040js";
import { FIRMWARE_UF2, PICO_BUILD, PICO_WASM3_BUILD, ROOT } from "../../tools/build/firmware.ts";

export interface FirmwareLayout {
  host: number;
  engineOffset: number;
  inCoreOffset: number;
  statSlot: number;
  /** The image's ELF. */
  elf: string;
}

let cached: FirmwareLayout | string | undefined;

/** Where pw_host lies in the running image, or why that cannot be known here. */
export function firmwareLayout(): FirmwareLayout | string {
  if (cached === undefined) cached = probe();
  return cached;
}

function probe(): FirmwareLayout | string {
  const uf2 = readFileSync(FIRMWARE_UF2);
  const dir = [PICO_WASM3_BUILD, PICO_BUILD].map((d) => join(d, "native", "pico")).find((d) => existsSync(join(d, "picowire.uf2")) && readFileSync(join(d, "picowire.uf2")).equals(uf2));
  if (!dir) return `no build directory holds the ELF of ${FIRMWARE_UF2} (npm run build)`;
  const src = join(mkdtempSync(join(tmpdir(), "pw-emu-offsets-")), "offsets.c");
  writeFileSync(
    src,
    '#include <stddef.h>\n#include "pw_host.h"\nconst unsigned pw_offsets[] = { offsetof(pw_host, engine), offsetof(pw_host, in_core), offsetof(pw_engine_vtbl, stat), sizeof(pw_host) };\n',
  );
  // the image's own PW_* sizes (connection slots, queues) from the build's flags for main.c's target
  const flags = join(dir, "CMakeFiles", "picowire.dir", "flags.make");
  const defines = existsSync(flags) ? (readFileSync(flags, "utf8").match(/-DPW_[A-Za-z0-9_]+(=\S*)?/g) ?? []) : [];
  const cc = spawnSync("arm-none-eabi-gcc", ["-mcpu=cortex-m0plus", "-mthumb", ...defines, "-I", join(ROOT, "native", "host"), "-S", "-o", "-", src], { encoding: "utf8" });
  if (cc.status !== 0) return `arm-none-eabi-gcc could not compute pw_host's offsets: ${cc.stderr || cc.error}`;
  const words = [...cc.stdout.matchAll(/\.word\s+(\d+)/g)].map((m) => Number(m[1]));
  if (words.length !== 4) return `arm-none-eabi-gcc: unexpected output for pw_host's offsets:\n${cc.stdout}`;
  const [engineOffset, inCoreOffset, statSlot, size] = words;
  const nm = spawnSync("arm-none-eabi-nm", ["-S", "--defined-only", join(dir, "picowire.elf")], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (nm.status !== 0) return `arm-none-eabi-nm ${dir}/picowire.elf: ${nm.stderr || nm.error}`;
  const hosts = nm.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 4 && f[3] === "host" && /^[bBdD]$/.test(f[2]) && parseInt(f[1], 16) === size);
  if (hosts.length !== 1) return `${dir}/picowire.elf: ${hosts.length} symbols 'host' of ${size} bytes (pw_host), expected one`;
  return { host: parseInt(hosts[0][0], 16), engineOffset, inCoreOffset, statSlot, elf: join(dir, "picowire.elf") };
}

/** Thumb code never runs here (the bootrom's vector table): a return to it ends the call. */
const RETURN_TO = 0x40;
const MAX_INSTRUCTIONS = 2_000_000;

/** Whether an out-of-band call is safe now: no core call in progress, thread mode. */
export function callable(core: CortexM0Core, l: FirmwareLayout): boolean {
  return core.IPSR === 0 && core.readUint8(l.host + l.inCoreOffset) === 0;
}

/** stat(kind) of the running core through its engine; the CPU's state is restored afterwards. */
export function callStat(core: CortexM0Core, l: FirmwareLayout, kind: number): number {
  const engine = l.host + l.engineOffset;
  const vtbl = core.readUint32(engine);
  if (core.readUint32(engine + 4) !== l.host) throw new Error(`emulated board: pw_host.engine.host at 0x${(engine + 4).toString(16)} does not point back at host: the ELF is not this image's`);
  const fn = core.readUint32(vtbl + l.statSlot);
  const c = core as unknown as Record<string, unknown>;
  const saved = {
    regs: core.registers.slice(),
    flags: [core.N, core.Z, core.C, core.V],
    PM: core.PM,
    waiting: core.waiting,
    cycles: core.cycles,
    eventRegistered: core.eventRegistered,
  };
  try {
    core.waiting = false;
    core.PM = true; // interrupts stay pending until the firmware runs again
    const sp = (core.SP - 64) & ~7;
    core.SP = sp;
    core.registers[0] = engine;
    core.registers[1] = sp; // int32_t *result
    core.registers[2] = kind;
    core.LR = RETURN_TO | 1;
    core.PC = fn & ~1;
    let n = 0;
    while (core.PC !== RETURN_TO) {
      if (++n > MAX_INSTRUCTIONS) throw new Error(`emulated board: stat(${kind}) did not return within ${MAX_INSTRUCTIONS} instructions (PC 0x${core.PC.toString(16)})`);
      core.executeInstruction();
    }
    const status = core.registers[0];
    if (status !== 0) throw new Error(`emulated board: stat(${kind}) returned engine status ${status} (trap)`);
    return core.readUint32(sp) | 0;
  } finally {
    core.registers.set(saved.regs);
    [c.N, c.Z, c.C, c.V] = saved.flags;
    core.PM = saved.PM;
    core.waiting = saved.waiting;
    core.cycles = saved.cycles;
    core.eventRegistered = saved.eventRegistered;
  }
}
