// The setup page (web/setup.html) an unconfigured board serves instead of the dashboard: gzip level 9,
// written to build/setup.html.gz, the read-only asset `setup.html.gz`. It lives in flash beside the
// dashboard, so it has a small budget of its own. `tsx tools/build/setup.ts` builds it alone.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const SETUP_SOURCE = join(ROOT, "web", "setup.html");
export const SETUP_ASSET = join(ROOT, "build", "setup.html.gz");
/** Largest gzip-compressed setup page the build accepts (bytes). */
export const SETUP_BUDGET = 2048;

export function buildSetupPage(): { raw: number; gzip: number } {
  const html = readFileSync(SETUP_SOURCE);
  const gz = gzipSync(html, { level: 9 });
  const size = `${html.length} bytes, ${gz.length} bytes gzip (budget ${SETUP_BUDGET})`;
  if (gz.length > SETUP_BUDGET) throw new Error(`BUDGET BROKEN: web/setup.html is ${size}; the board keeps it in flash, make it smaller`);
  mkdirSync(join(ROOT, "build"), { recursive: true });
  if (!existsSync(SETUP_ASSET) || !readFileSync(SETUP_ASSET).equals(gz)) writeFileSync(SETUP_ASSET, gz);
  console.log(`build/setup.html.gz: web/setup.html ${size}`);
  return { raw: html.length, gzip: gz.length };
}

/** The setup page as a board asset, built on demand when the build has not made it yet. */
export function setupAssets(): Record<string, Uint8Array> {
  if (!existsSync(SETUP_ASSET)) buildSetupPage();
  return { "setup.html.gz": readFileSync(SETUP_ASSET) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildSetupPage();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
