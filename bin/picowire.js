#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so the package needs no separate compile step.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../tools/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
