// The dashboard page (web/dashboard.html) as the board serves it: gzip level 9, written to
// build/index.html.gz, the read-only asset `index.html.gz` behind GET / and GET /index.html.
// The page lives in the board's flash, so it has a budget; the build fails past it and prints the size.
// `tsx tools/build/dashboard.ts` builds it alone; tools/build/build.ts calls buildDashboard().
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");
export const DASHBOARD_SOURCE = join(ROOT, "web", "dashboard.html");
export const DASHBOARD_ASSET = join(ROOT, "build", "index.html.gz");
/** Largest gzip-compressed page the build accepts (bytes). */
export const DASHBOARD_BUDGET = 16 * 1024;

/** The page compressed as the board serves it (deterministic: no name, no mtime in the gzip header). */
export function dashboardGzip(html: Uint8Array = readFileSync(DASHBOARD_SOURCE)): Buffer {
  return gzipSync(html, { level: 9 });
}

/** Builds build/index.html.gz; throws (saying the sizes) when the page breaks its budget. */
export function buildDashboard(): { raw: number; gzip: number } {
  const html = readFileSync(DASHBOARD_SOURCE);
  const gz = dashboardGzip(html);
  const size = `${html.length} bytes, ${gz.length} bytes gzip (budget ${DASHBOARD_BUDGET})`;
  if (gz.length > DASHBOARD_BUDGET) {
    throw new Error(`BUDGET BROKEN: web/dashboard.html is ${size}; the board keeps it in flash, make it smaller`);
  }
  mkdirSync(join(ROOT, "build"), { recursive: true });
  writeFileSync(DASHBOARD_ASSET, gz);
  console.log(`build/index.html.gz: web/dashboard.html ${size}`);
  return { raw: html.length, gzip: gz.length };
}

/** The board assets a virtual board started by the CLI serves: the built page when it exists. */
export function dashboardAssets(): Record<string, Uint8Array> {
  return existsSync(DASHBOARD_ASSET) ? { "index.html.gz": readFileSync(DASHBOARD_ASSET) } : {};
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    buildDashboard();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
