#!/usr/bin/env node
// The published package runs the CLI compiled to dist/ by `npm pack` (tools/build/pack.ts): no TypeScript
// loader at start-up. A checkout has no dist/ (postpack removes it, so it can never go stale) and runs
// the TypeScript sources through tsx, a devDependency.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
let main;
if (existsSync(compiled)) ({ main } = await import(compiled.href));
else {
  const tsx = await import("tsx/esm/api").catch(() => null);
  if (!tsx) {
    console.error("picowire: this copy has neither its compiled CLI (dist/, made by npm pack) nor tsx to run the sources (npm install in a checkout)");
    process.exit(1);
  }
  tsx.register();
  ({ main } = await import("../tools/cli/main.ts"));
}
process.exitCode = await main(process.argv.slice(2));
