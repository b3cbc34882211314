#!/usr/bin/env node
// The published package runs the CLI compiled to dist/ by `npm pack` (tools/build/pack.ts): no TypeScript
// loader at start-up. A checkout has no dist/ (postpack removes it, so it can never go stale) and runs
// the TypeScript sources through tsx, a devDependency.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
let main;
if (existsSync(compiled)) ({ main } = await import(compiled.href));
else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../tools/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
