// LED-strip frames: 480 pixels through parse -> gamma and brightness -> GRB -> pixels_show, the core on
// V8 (including the copy of each datagram into the io buffer, as a host pays it) against the same
// algorithm in plain TypeScript. The goal is 480 pixels at 60 fps within 20% of one RP2040 core
// at 125 MHz; here it is reported as the share of one core of this machine that 60 fps take.
// `npx tsx tools/bench/lights.ts` runs it alone.
import { C, IMPORT_NAMES, type HostImports } from "../host/abi.generated.ts";
import { Core, compileCore } from "../host/core.ts";
import { ddp, e131, wled, DRGB, PORT_DDP, PORT_E131, PORT_WLED, type Rgb } from "../lights/send.ts";
import type { Comparison } from "./measure.ts";

const PIXELS = 480;

/** A core with a 480-pixel strip and every listener, and the sockets it opened by port. */
function lightsCore(wasm: Uint8Array): { core: Core; sock: Map<number, number>; shown: () => number } {
  const sock = new Map<number, number>();
  let shown = 0;
  const imports: Record<string, (...a: number[]) => number> = {};
  for (const name of IMPORT_NAMES) imports[name] = () => C.ERR_UNSUPPORTED;
  imports.log = () => 0;
  imports.tcp_listen = () => 1;
  imports.udp_open = (port) => {
    const h = 10 + sock.size;
    sock.set(port, h);
    return h;
  };
  imports.pixels_show = (_pin, _p, n) => ((shown += n), C.OK);
  const core = new Core(compileCore(wasm), imports as unknown as HostImports);
  const cfg = new TextEncoder().encode(`http_port=0\ncontrol_port=0\npixels_count=${PIXELS}\nlights=wled,ddp,e131\nbrightness=200`);
  const r = core.exports.init(core.writeIo(cfg), 0);
  if (r !== C.OK) throw new Error(`bench: init failed (${r})`);
  return { core, sock, shown: () => shown };
}

/** The reference: the same work in TypeScript (DDP header checks, gamma+brightness table, GRB). */
function tsFrame(lut: Uint8Array, out: Uint8Array, d: Uint8Array): number {
  if (d.length < 10 || (d[0] & 0xc6) !== 0x40 || d[3] !== 1) return 0;
  const len = (d[8] << 8) | d[9];
  if (d.length !== 10 + len || len % 3) return 0;
  for (let i = 0, s = 10; i < len; i += 3, s += 3) {
    out[i] = lut[d[s + 1]];
    out[i + 1] = lut[d[s]];
    out[i + 2] = lut[d[s + 2]];
  }
  return len;
}

export function lightsComparisons(wasm: Uint8Array): Comparison[] {
  const { core, sock, shown } = lightsCore(wasm);
  const px: Rgb[] = Array.from({ length: PIXELS }, (_, i) => [(i * 7) & 255, (i * 13) & 255, (i * 29) & 255]);
  const frameDdp = ddp(px.flat());
  const frameE131 = [e131(1, px.slice(0, 170).flat(), { sequence: 0 }), e131(2, px.slice(170, 340).flat()), e131(3, px.slice(340).flat())];
  const lut = Uint8Array.from({ length: 256 }, (_, i) => Math.floor((Math.round(255 * Math.pow(i / 255, 2.2)) * 200) / 255));
  const out = new Uint8Array(PIXELS * 3);
  const udp = (port: number, d: Uint8Array) => core.exports.udp_data(sock.get(port)!, 0x7f000001, 4000, core.writeIo(d), 0);
  // check before timing: a broken path must not be measured
  const before = shown();
  udp(PORT_DDP, frameDdp);
  for (let k = 0; k < 3; k++) frameE131[k][111] = 1;
  for (const d of frameE131) udp(PORT_E131, d);
  udp(PORT_WLED, wled(DRGB, 1, px));
  if (shown() - before !== 3 * PIXELS * 3 || core.exports.stat(C.STAT_PIXELS_DROPPED) !== 0) throw new Error("bench: the core did not show every 480-pixel frame");
  let seq = 2;
  const frameWled = wled(DRGB, 1, px);
  const ops = 20_000;
  return [
    {
      title: `LED frames of ${PIXELS} pixels (parse -> gamma + brightness -> GRB -> pixels_show)`,
      unit: "frames",
      ops,
      candidates: [
        { name: "core on V8, DDP (1 datagram)", run: (n) => { for (let i = 0; i < n; i++) udp(PORT_DDP, frameDdp); return shown(); } },
        { name: "core on V8, WLED DRGB", run: (n) => { for (let i = 0; i < n; i++) udp(PORT_WLED, frameWled); return shown(); } },
        {
          name: "core on V8, E1.31 (3 universes)",
          run: (n) => {
            for (let i = 0; i < n; i++, seq++) for (const d of frameE131) { d[111] = seq & 255; udp(PORT_E131, d); }
            return shown();
          },
        },
        { name: "TypeScript, DDP", run: (n) => { let x = 0; for (let i = 0; i < n; i++) x += tsFrame(lut, out, frameDdp); return x; } },
      ],
    },
  ];
}

/** Frames per second and the share of one core that 60 fps take, per candidate. */
export function lightsReport(c: Comparison, results: { name: string; opsPerSec: number }[]): string {
  const base = results[results.length - 1];
  const lines = [c.title];
  for (const r of results) {
    lines.push(`  ${r.name.padEnd(34)} ${Math.round(r.opsPerSec).toString().padStart(9)} frames/s   60 fps = ${((60 / r.opsPerSec) * 100).toFixed(3)}% of a core   ${(r.opsPerSec / base.opsPerSec).toFixed(2)}x${r === base ? " (baseline)" : ""}`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readCore } = await import("../cli/wasm.ts");
  const { compare } = await import("./measure.ts");
  for (const c of lightsComparisons(readCore())) console.log(lightsReport(c, compare(c)));
}
