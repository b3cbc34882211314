// Cycles per function of the core under wasm3 in rp2040js: which wasm functions a picowire_emu benchmark
// window spends its cycles in (tools/emu/profile.ts gives the same window by C function, where wasm3's
// op handlers hide which wasm function runs them).
//
//   npx tsx tools/emu/wasm3-profile.ts [image.uf2] [--from TEXT] [--to TEXT] [--bytes N] [--top 30]
//                                      [--children NAME,...] [--ops NAME,...]
//
// Default: build/pico-wasm3/native/pico/picowire_emu.uf2 (its .elf beside it), the streamed WebSocket echo
// with the canary off (from the line ending the canary-on run to the next "bench: ws echo: "), per byte of
// 64 x 1 KiB. Prints per wasm function: calls, inclusive cycles (with its callees and the host imports it
// made), self (without its wasm callees); --children lists the callees of the named functions, --ops the
// op handlers run in their own bodies. NAME is as build/picowire.wat spells it ($assembly/abi/exports/tick).
//
// How a call is seen: wasm3 enters every function through op_Entry, whose first argument (r0) points at
// the IM3Function; its `wasm` field (offset 12 in a 32-bit build: module, import's two names) is where the
// body lies in the module image, whose index in build/picowire.wasm names it (build/picowire.wat, the same
// module printed with names). Thumb-1 has no tail calls, so the call returns when the PC reaches the link
// register op_Entry was entered with, at the same stack pointer. Exact cycles (rp2040js), no cache model.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT, runImage } from "./run.ts";

const args = process.argv.slice(2);
let image = join(ROOT, "build", "pico-wasm3", "native", "pico", "picowire_emu.uf2");
let from = "ws echo 1 KiB frames streamed, canary on";
let to = "bench: ws echo: ";
let bytes = 65536;
let top = 30;
let children: string[] = [];
let ops: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--from") from = args[++i];
  else if (args[i] === "--to") to = args[++i];
  else if (args[i] === "--bytes") bytes = Number(args[++i]);
  else if (args[i] === "--top") top = Number(args[++i]);
  else if (args[i] === "--children") children = args[++i].split(",");
  else if (args[i] === "--ops") ops = args[++i].split(",");
  else if (args[i].startsWith("--")) throw new Error(`tools/emu/wasm3-profile.ts: unknown option ${args[i]}`);
  else image = resolve(args[i]);
}
const elf = image.replace(/\.uf2$/, ".elf");
for (const f of [image, elf, join(ROOT, "build", "picowire.wasm"), join(ROOT, "build", "picowire.wat")])
  if (!existsSync(f)) {
    console.error(`tools/emu/wasm3-profile.ts: ${f} does not exist (npm run build with the Pico SDK and WASM3_PATH)`);
    process.exit(2);
  }

// ---- the image's symbols: op handler entries, op_Entry, where the embedded core lies
const nm = spawnSync("arm-none-eabi-nm", ["-n", "--defined-only", elf], { encoding: "utf8", maxBuffer: 64 << 20 });
if (nm.status !== 0) throw new Error(`arm-none-eabi-nm ${elf}: ${nm.stderr || nm.error}`);
const opAt = new Map<number, string>();
for (const line of nm.stdout.split("\n")) {
  const m = line.match(/^([0-9a-f]+) [tTwW] (op_\S+)$/);
  if (m) opAt.set(parseInt(m[1], 16) & ~1, m[2]);
}
const entryAt = [...opAt].find(([, n]) => n === "op_Entry")?.[0];
if (entryAt === undefined) throw new Error(`${elf}: no op_Entry (not a wasm3 image)`);

// ---- the module: each body's offset in build/picowire.wasm, and its name from the .wat
const wasm = readFileSync(join(ROOT, "build", "picowire.wasm"));
const bodies: number[] = [];
{
  let o = 8;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let b;
    do {
      b = wasm[o++];
      r |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return r >>> 0;
  };
  while (o < wasm.length) {
    const id = wasm[o++];
    const size = leb();
    const end = o + size;
    if (id === 10)
      for (let n = leb(); n > 0; n--) {
        bodies.push(o); // M3Function.wasm points here: the body's size, then its bytes
        const size = leb();
        o += size;
      }
    o = end;
  }
}
const names = [...readFileSync(join(ROOT, "build", "picowire.wat"), "utf8").matchAll(/^ \(func (\$\S+)/gm)].map((m) => m[1]);
if (names.length !== bodies.length) throw new Error(`build/picowire.wat names ${names.length} functions, build/picowire.wasm has ${bodies.length}: rebuild`);
let base = -1; // where the module image lies in the emulated memory: found from the first body seen
function nameOf(body: number): string {
  if (base < 0) {
    // the first body pointer seen fixes the image's base: the one candidate every later pointer agrees with
    const i = bodies.findIndex((b) => seenBodies.every((p) => bodies.includes(p - (body - b))));
    if (i < 0) return `?${body.toString(16)}`;
    base = body - bodies[i];
  }
  const k = bodies.indexOf(body - base);
  return k < 0 ? `?${body.toString(16)}` : names[k];
}
const seenBodies: number[] = [];

// ---- the run
interface Frame {
  body: number;
  ret: number;
  sp: number;
  at: number;
  kids: number;
}
const incl = new Map<number, number>();
const self = new Map<number, number>();
const calls = new Map<number, number>();
const edges = new Map<string, number>(); // "caller body>callee body" -> inclusive cycles
const opCycles = new Map<string, number>(); // "body|op" -> cycles
const stack: Frame[] = [];
let state: "wait" | "on" | "done" = "wait";
let start = 0;
let end = 0;
let lastOp = "";
let lastOpAt = 0;
let fromHost = 0; // cycles in the calls the host made (the exports), callees included
let lastSearch = 0;
const tap = { cycles: 0 };
let core: { PC: number; SP: number; LR: number; registers: Uint32Array };
let mcu: { readUint32(a: number): number };
const add = <K>(m: Map<K, number>, k: K, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const closeOp = () => {
  if (lastOp && stack.length) add(opCycles, `${stack[stack.length - 1].body}|${lastOp}`, tap.cycles - lastOpAt);
  lastOp = "";
};

const r = await runImage(image, {
  timeoutMs: 900_000,
  until: "picowire emu: done",
  setup(sim) {
    mcu = sim.rp2040 as unknown as typeof mcu;
    core = sim.rp2040.core as unknown as typeof core;
    const exec = sim.rp2040.core.executeInstruction.bind(sim.rp2040.core);
    sim.rp2040.core.executeInstruction = () => {
      if (state === "on") step(core.PC & ~1);
      const c = exec();
      tap.cycles += c;
      return c;
    };
  },
  onOutput(_text, output) {
    if (state === "wait") {
      const i = output.indexOf(from);
      if (i >= 0 && output.indexOf("\n", i) >= 0) {
        state = "on";
        start = tap.cycles;
        lastSearch = i;
      }
    } else if (state === "on" && output.indexOf(to, lastSearch) >= 0) {
      state = "done";
      end = tap.cycles;
    }
  },
});

function step(pc: number): void {
  while (stack.length && pc === stack[stack.length - 1].ret && core.SP >= stack[stack.length - 1].sp) {
    closeOp();
    const f = stack.pop()!;
    const c = tap.cycles - f.at;
    add(incl, f.body, c);
    add(self, f.body, c - f.kids);
    if (stack.length) {
      stack[stack.length - 1].kids += c;
      add(edges, `${stack[stack.length - 1].body}>${f.body}`, c);
    } else fromHost += c;
  }
  const op = opAt.get(pc);
  if (op === undefined) return;
  closeOp();
  lastOp = op;
  lastOpAt = tap.cycles;
  if (pc !== entryAt) return;
  const fn = mcu.readUint32(core.registers[0] >>> 0) >>> 0;
  const body = mcu.readUint32(fn + 12) >>> 0;
  if (seenBodies.length < 64 && !seenBodies.includes(body)) seenBodies.push(body);
  add(calls, body, 1);
  stack.push({ body, ret: core.LR & ~1, sp: core.SP, at: tap.cycles, kids: 0 });
}

if (state !== "done") {
  console.error(`tools/emu/wasm3-profile.ts: the window ${JSON.stringify(from)} .. ${JSON.stringify(to)} was ${state === "wait" ? "never entered" : "not closed"}${r.done ? "" : " (the run stopped early)"}`);
  process.exit(1);
}
const total = end - start;
const perB = (c: number) => (c / bytes).toFixed(2).padStart(8);
const byName = (m: Map<number, number>) => new Map([...m].map(([b, c]) => [nameOf(b), c]));
console.log(`window: ${total} cycles, ${(total / bytes).toFixed(2)} per unit (${bytes} units), of which the core's exports ${(fromHost / bytes).toFixed(2)} (the rest: the host's own C)`);
console.log(`\n${"incl/unit".padStart(9)} ${"self/unit".padStart(9)} ${"calls".padStart(7)} ${"incl/call".padStart(9)}  function`);
const inclN = byName(incl);
const selfN = byName(self);
const callsN = byName(calls);
for (const [n, c] of [...inclN].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${perB(c)} ${perB(selfN.get(n) ?? 0)} ${String(callsN.get(n)).padStart(7)} ${(c / callsN.get(n)!).toFixed(0).padStart(9)}  ${n}`);
for (const want of children) {
  console.log(`\ncallees of ${want} (inclusive per unit, calls):`);
  const rows = [...edges].map(([k, c]) => [k.split(">").map(Number).map(nameOf), c] as const).filter(([[a]]) => a === want);
  for (const [[, b], c] of rows.sort((x, y) => y[1] - x[1])) console.log(`${perB(c)}  ${b}`);
}
for (const want of ops) {
  console.log(`\nop handlers in ${want}'s own body (cycles per unit):`);
  const rows = [...opCycles].map(([k, c]) => [nameOf(Number(k.split("|")[0])), k.split("|")[1], c] as const).filter(([n]) => n === want);
  for (const [, op, c] of rows.sort((x, y) => y[2] - x[2]).slice(0, 25)) console.log(`${perB(c)}  ${op}`);
}
process.exit(0); // rp2040js leaves timers behind
