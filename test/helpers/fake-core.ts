// A do-nothing core with every export of the ABI (assembly/abi/spec.json), bent one way: what the hosts'
// loaders must refuse, naming the fault. The real core is build/picowire.wasm (./core.ts).
import { loadSpec } from "../../tools/abi/generate.ts";

export interface Misfit {
  /** a whole import clause, e.g. `(import "env" "abort" (func))` */
  extraImport?: string;
  /** an export left out */
  drop?: string;
  /** an export given one parameter too few */
  retype?: string;
  /** what abi_version returns (the spec's version by default) */
  abi?: number;
}

/** The module as WAT text; every export returns 0 but abi_version and io_buffer (1024, inside its page). */
export function fakeCoreWat(o: Misfit = {}): string {
  const spec = loadSpec();
  const funcs = spec.exports
    .filter((f) => f.name !== o.drop)
    .map((f) => {
      const n = f.params.length - (f.name === o.retype ? 1 : 0);
      const params = n > 0 ? ` (param${" i32".repeat(n)})` : "";
      const value = f.name === "abi_version" ? (o.abi ?? spec.version) : f.name === "io_buffer" ? 1024 : 0;
      const result = f.result ? ` (result i32) (i32.const ${value})` : "";
      return `  (func (export "${f.name}")${params}${result})`;
    });
  return `(module\n  ${o.extraImport ?? ""}\n  (memory (export "memory") 1)\n${funcs.join("\n")})\n`;
}
