// Debian's Chromium driven by playwright-core, as the browser tests launch it: no downloads, no
// background traffic, and hostnames mapped to loopback so pages run on plain http:// origins (which
// browsers treat as non-secure, as a board on a LAN is) while nothing else resolves.
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.PICOWIRE_CHROMIUM || "/usr/bin/chromium";

type Playwright = typeof import("playwright-core");
export const playwright: Playwright | null = await import("playwright-core").catch(() => null);

/** Why the browser tests cannot run here, or "" when they can. */
export function chromiumMissing(): string {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (Debian: apt-get install chromium)`;
  if (!playwright) return "playwright-core is not installed (npm install)";
  return "";
}

/** Launches Chromium with each of `hosts` resolving to 127.0.0.1 and every other name failing. */
export function launchChromium(hosts: string[]): Promise<import("playwright-core").Browser> {
  const rules = [...hosts.map((h) => `MAP ${h} 127.0.0.1`), "MAP * ~NOTFOUND"].join(", ");
  return playwright!.chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-proxy-server", `--host-resolver-rules=${rules}`,
    ],
  });
}
