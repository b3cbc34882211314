// How deep the firmware's big stack (native/pico/pw_pico_stack.h) goes while the core runs, and how much
// of it each host import takes below wasm3's frames, read off the emulated CPU's stack pointer after every
// instruction. wasm3 on the M0+ keeps a C frame for every op a function has run until it returns or its
// loop turns (no tail calls on Thumb-1), and traps ("call stack exhausted") past d_m3MaxNativeStack below
// where the host entered it (native/pico/CMakeLists.txt): these figures say how close a path comes.
// Used by test/helpers/emu-board.ts with PICOWIRE_EMU_STACK=1 (tools/emu/RADIO.md); slows the board.
import { spawnSync } from "node:child_process";
import type { RP2040 } from "rp2040js";

export interface StackFigures {
  /** Bytes of the big stack in use at the deepest point inside a core call (imports included). */
  deepestInCore: number;
  /** Bytes in use at the deepest point outside core calls (the host, lwIP, the driver, interrupts). */
  deepestOutside: number;
  /** Per import: the most stack it took below its entry, and how deep the stack was at that entry. */
  imports: Map<string, { use: number; at: number }>;
}

/** Symbols the watch needs from the image's ELF. */
function symbols(elf: string): { stackBottom: number; stackBytes: number; imports: Map<number, string> } {
  const nm = spawnSync("arm-none-eabi-nm", ["-S", "--defined-only", elf], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (nm.status !== 0) throw new Error(`arm-none-eabi-nm ${elf}: ${nm.stderr || nm.error}`);
  const stack = /^([0-9a-f]+) ([0-9a-f]+) [bB] pw_pico_stack$/m.exec(nm.stdout);
  if (!stack) throw new Error(`${elf}: no pw_pico_stack`);
  const imports = new Map<number, string>();
  for (const m of nm.stdout.matchAll(/^([0-9a-f]+) [0-9a-f]+ t w3_import_(\w+)$/gm)) imports.set(parseInt(m[1], 16), m[2]);
  return { stackBottom: parseInt(stack[1], 16), stackBytes: parseInt(stack[2], 16), imports };
}

/** Wraps the CPU's executeInstruction; `inCore()` says whether the host is inside a core call. */
export function watchStack(mcu: RP2040, elf: string, inCore: () => boolean): StackFigures {
  const { stackBottom, stackBytes, imports } = symbols(elf);
  const top = stackBottom + stackBytes;
  const figures: StackFigures = { deepestInCore: 0, deepestOutside: 0, imports: new Map() };
  const core = mcu.core;
  const step = core.executeInstruction.bind(core);
  let open: { name: string; sp: number; min: number } | null = null;
  core.executeInstruction = () => {
    if (open === null) {
      const name = imports.get(core.PC);
      if (name !== undefined) open = { name, sp: core.SP, min: core.SP };
    }
    const cycles = step();
    const sp = core.SP;
    if (sp < stackBottom || sp > top) return cycles; // the bootrom's or the SDK's own stack
    const used = top - sp;
    if (inCore()) figures.deepestInCore = Math.max(figures.deepestInCore, used);
    else figures.deepestOutside = Math.max(figures.deepestOutside, used);
    if (open) {
      if (sp > open.sp) {
        const seen = figures.imports.get(open.name);
        if (!seen || open.sp - open.min > seen.use) figures.imports.set(open.name, { use: open.sp - open.min, at: top - open.sp });
        open = null;
      } else if (sp < open.min) open.min = sp;
    }
    return cycles;
  };
  return figures;
}

export function describeStack(f: StackFigures): string {
  const imports = [...f.imports].sort((a, b) => b[1].use - a[1].use).map(([n, v]) => `${n} ${v.use} B (entered at ${v.at} B)`);
  return `stack: deepest in the core ${f.deepestInCore} B, outside ${f.deepestOutside} B; imports: ${imports.join(", ") || "none"}`;
}
