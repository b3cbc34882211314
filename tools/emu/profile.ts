// Cycle profile of a picowire_emu run in rp2040js: every executed instruction's cycles are charged to
// the function holding its PC (symbols from the ELF next to the UF2, arm-none-eabi-nm), between two
// UART0 markers. Exact, not sampled (rp2040js counts cycles per instruction; no flash-cache model).
//
//   npx tsx tools/emu/profile.ts [image.uf2] [--from TEXT] [--to TEXT] [--top 25] [--sram-kb N]
//
// Default window: the second WebSocket echo run of picowire_emu ("canary off"), i.e. from the line
// that ends the canary-on run to the line that ends the canary-off run. Prints cycles per function,
// their share, and per payload byte (--bytes N, default 65536 = 64 frames x 1 KiB).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { EMU_IMAGE, runImage } from "./run.ts";

const args = process.argv.slice(2);
let image = EMU_IMAGE;
let from = "memory canary on";
let to = "canary off";
let top = 25;
let bytes = 65536;
let sramKb: number | undefined; // the wasm3 measurement image needs 1024 (tools/emu/run.ts)
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--from") from = args[++i];
  else if (args[i] === "--to") to = args[++i];
  else if (args[i] === "--top") top = Number(args[++i]);
  else if (args[i] === "--bytes") bytes = Number(args[++i]);
  else if (args[i] === "--sram-kb") sramKb = Number(args[++i]);
  else image = resolve(args[i]);
}
const elf = image.replace(/\.uf2$/, ".elf");
if (!existsSync(elf)) {
  console.error(`tools/emu/profile.ts: ${elf} does not exist`);
  process.exit(2);
}

// function symbols, sorted by address (Thumb: clear bit 0)
const nm = spawnSync("arm-none-eabi-nm", ["-n", "-S", "--defined-only", elf], { encoding: "utf8", maxBuffer: 64 << 20 });
const syms: { addr: number; name: string }[] = [];
for (const line of nm.stdout.split("\n")) {
  const m = line.match(/^([0-9a-f]+) (?:[0-9a-f]+ )?[tTwW] (\S+)$/);
  if (m) syms.push({ addr: parseInt(m[1], 16) & ~1, name: m[2] });
}
syms.sort((a, b) => a.addr - b.addr);
function symbolOf(pc: number): string {
  let lo = 0;
  let hi = syms.length - 1;
  if (hi < 0 || pc < syms[0].addr) return `?${pc.toString(16)}`;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (syms[mid].addr <= pc) lo = mid;
    else hi = mid - 1;
  }
  return syms[lo].name;
}

const perPc = new Map<number, number>();
const romCallers = new Map<number, number>();
let on = false;
let total = 0;
let fromSeen = false;
const r = await runImage(image, {
  timeoutMs: 300_000,
  sramKb,
  setup(sim) {
    const core = sim.rp2040.core;
    const exec = core.executeInstruction.bind(core);
    core.executeInstruction = () => {
      const pc = core.PC;
      const c = exec();
      if (on) {
        perPc.set(pc, (perPc.get(pc) ?? 0) + c);
        total += c;
        if (pc < 0x4000) {
          // bootrom code (the SDK's memcpy/memset/...): also charged to the caller, by LR
          const lr = core.LR & ~1;
          romCallers.set(lr, (romCallers.get(lr) ?? 0) + c);
        }
      }
      return c;
    };
  },
  onOutput(_text, output) {
    // a marker counts once its line is complete
    if (!fromSeen) {
      const i = output.indexOf(from);
      if (i >= 0 && output.indexOf("\n", i) >= 0) {
        fromSeen = true;
        on = true;
      }
    } else if (on) {
      const i = output.lastIndexOf(to);
      if (i >= 0 && i > output.indexOf(from) && output.indexOf("\n", i) >= 0) on = false;
    }
  },
});
if (!r.done) console.error("profile: the image did not finish");
const perFn = new Map<string, number>();
for (const [pc, c] of perPc) {
  const s = symbolOf(pc);
  perFn.set(s, (perFn.get(s) ?? 0) + c);
}
const rows = [...perFn].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`profile: ${image}\nwindow "${from}" .. "${to}": ${total} cycles, ${(total / bytes).toFixed(2)} cycles/B over ${bytes} B`);
for (const [name, c] of rows)
  console.log(`${c.toString().padStart(10)}  ${((100 * c) / total).toFixed(1).padStart(5)}%  ${(c / bytes).toFixed(2).padStart(7)}/B  ${name}`);
const hot = [...perPc].sort((a, b) => b[1] - a[1]).slice(0, 12);
console.log("hottest instructions:");
for (const [pc, c] of hot) console.log(`  0x${pc.toString(16)}  ${c}  ${symbolOf(pc)}`);
if (romCallers.size) {
  console.log("bootrom cycles by caller (LR):");
  for (const [lr, c] of [...romCallers].sort((a, b) => b[1] - a[1]).slice(0, 10))
    console.log(`  0x${lr.toString(16)}  ${c}  ${(c / bytes).toFixed(2)}/B  ${symbolOf(lr)}`);
}
process.exit(0); // the emulator leaves timers behind
