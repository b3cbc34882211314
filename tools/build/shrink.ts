// Post-link step of `npm run build`: one more binaryen round (-O3 -s2, as asc's) over asc's release
// output. asc stops early ("converge was suboptimal"); this round inlines and merges a few dozen more
// small functions: fewer wasm bytes, and fewer functions, each of which costs board RAM under wasm3.
// Then the least-used module globals move to linear memory (tools/build/globals-to-memory.ts): each
// costs wasm3 32 bytes of board RAM as a global, 4 as a word of the core's memory; and binaryen packs
// the data segments once more.
// Binaryen applies only behaviour-preserving passes; the features stay mvp + bulk memory (checked
// again by the budgets). asc is run with --debug so the module carries names: the .wat written from
// here keeps them for `npm run size`, the binary has none.
import binaryen from "binaryen";
import { globalsToMemory, type MovedGlobals } from "./globals-to-memory.ts";
import { hotFirst } from "./function-order.ts";

export const ALWAYS_INLINE_MAX_SIZE = 4;
const FEATURES = binaryen.Features.MVP | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt;

export function shrink(wasm: Uint8Array): { wasm: Uint8Array; wat: string; globals: MovedGlobals } {
  let m = binaryen.readBinary(wasm);
  try {
    m.setFeatures(FEATURES);
    binaryen.setOptimizeLevel(3);
    binaryen.setShrinkLevel(2);
    // functions of up to 4 binaryen nodes are inlined everywhere (binaryen's default: 2): 18 fewer
    // functions (68 bytes of wasm3 RAM each, and a call less for the interpreter) for +43 bytes of wasm;
    // at 5 the module grows by 650 bytes (docs/BOARD-PERFORMANCE.md)
    binaryen.setAlwaysInlineMaxSize(ALWAYS_INLINE_MAX_SIZE);
    binaryen.setDebugInfo(true);
    m.optimize();
    const globals = globalsToMemory(m.emitText());
    m.dispose();
    // binaryen's memory packing once more, over the data the moved globals added: their zero runs leave
    // the data segments (main at d1d1c921: 67,195 -> 66,805 B); the code is left as it is (a whole
    // optimize round more changes it, and costs wasm3 cycles in tick and stat: tools/bench/emu.ts)
    m = binaryen.parseText(globals.wat);
    m.setFeatures(FEATURES);
    m.runPasses(["memory-packing"]);
    const text = hotFirst(m.emitText()).wat;
    m.dispose();
    m = binaryen.parseText(text);
    m.setFeatures(FEATURES);
    if (!m.validate()) throw new Error("shrink: binaryen's output does not validate with features mvp + bulk memory");
    const wat = m.emitText();
    binaryen.setDebugInfo(false);
    return { wasm: m.emitBinary(), wat, globals };
  } finally {
    binaryen.setDebugInfo(false);
    m.dispose();
  }
}
