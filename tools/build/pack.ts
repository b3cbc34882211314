// `npm pack` / `npm publish` (package.json prepack and postpack):
//   npx tsx tools/build/pack.ts           refuses a package without both firmware images built from its
//                                         build/picowire.wasm (build/firmware.json), then compiles the CLI
//                                         to dist/ (tsconfig.cli.json), so the package runs without tsx
//   npx tsx tools/build/pack.ts --after   removes dist/ again: a checkout runs its TypeScript sources, and a
//                                         leftover dist/ would shadow every later edit (bin/picowire.js)
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./firmware.ts";
import { checkImage, DEFAULT_IMAGE, WASM2C_IMAGE } from "../provision/firmware-images.ts";

export const DIST = join(ROOT, "dist");

/** Why these firmware images must not be packed, one line each (empty: they may). */
export function packProblems(root = ROOT): string[] {
  const problems: string[] = [];
  for (const file of [DEFAULT_IMAGE, WASM2C_IMAGE]) {
    const r = checkImage(file, root);
    if ("problem" in r) problems.push(r.problem);
    else if (file === DEFAULT_IMAGE && r.entry.engine !== "wasm3")
      problems.push(`${file} is the ${r.entry.engine} image; a package's default is wasm3 (set WASM3_PATH and npm run build)`);
  }
  return problems;
}

/** tools/cli and what it imports, compiled to dist/ with the project's TypeScript (the emit only: types
 *  are not checked here). Compiled beside and renamed into place, so a picowire started meanwhile (a test
 *  running bin/picowire.js) sees the whole of dist/ or none of it. */
export function compileCli(): void {
  const tmp = `${DIST}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.cli.json"), "--outDir", tmp], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0 || !existsSync(join(tmp, "cli", "main.js"))) throw new Error(`tsc -p tsconfig.cli.json failed:\n${r.stdout}${r.stderr}`);
  removeDist();
  renameSync(tmp, DIST);
}

/** dist/ gone, renamed away first for the same reason. */
export function removeDist(): void {
  if (!existsSync(DIST)) return;
  const old = `${DIST}.old-${process.pid}`;
  renameSync(DIST, old);
  rmSync(old, { recursive: true, force: true });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (process.argv.includes("--after")) removeDist();
  else {
    const problems = packProblems();
    if (problems.length) {
      console.error(`npm pack: REFUSED, the package would not carry the firmware of its core:\n  ${problems.join("\n  ")}`);
      process.exit(1);
    }
    compileCli();
    console.error("npm pack: firmware images match build/picowire.wasm; CLI compiled to dist/");
  }
}
