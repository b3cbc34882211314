// RGB codec: the core's parser and formatter on V8 (including the copy into the io buffer, as a host
// pays it) against the plain TypeScript reference.
import { C } from "../host/abi.generated.ts";
import { Core, compileCore } from "../host/core.ts";
import type { HostImports } from "../host/abi.generated.ts";
import * as ref from "../rgb/reference.ts";
import type { Comparison } from "./measure.ts";

export function rgbComparisons(wasm: Uint8Array): Comparison[] {
  const noop = new Proxy({}, { get: () => () => 0 }) as HostImports;
  const core = new Core(compileCore(wasm), noop);
  const colours = Array.from({ length: 1024 }, (_, i) => (i * 2654435761) & 0xffffff);
  const texts = colours.map((c) => new TextEncoder().encode(ref.formatText(c)));
  const ops = 300_000;
  return [
    {
      title: "RGB text parse (\"r,g,b\" bytes -> colour)",
      unit: "parses",
      ops,
      candidates: [
        { name: "core on V8 (copy in + rgb_parse)", run: (n) => { let x = 0; for (let i = 0; i < n; i++) x ^= core.exports.rgb_parse(core.writeIo(texts[i & 1023]), C.RGB_FMT_TEXT); return x; } },
        { name: "TypeScript reference", run: (n) => { let x = 0; for (let i = 0; i < n; i++) x ^= ref.parseText(texts[i & 1023]); return x; } },
      ],
    },
    {
      title: "RGB text format (colour -> \"r,g,b\" bytes)",
      unit: "formats",
      ops,
      candidates: [
        { name: "core on V8 (rgb_format + copy out)", run: (n) => { let x = 0; for (let i = 0; i < n; i++) x += core.read(core.io, core.exports.rgb_format(colours[i & 1023], C.RGB_FMT_TEXT)).length; return x; } },
        { name: "TypeScript reference", run: (n) => { let x = 0; for (let i = 0; i < n; i++) x += new TextEncoder().encode(ref.formatText(colours[i & 1023])).length; return x; } },
      ],
    },
  ];
}
