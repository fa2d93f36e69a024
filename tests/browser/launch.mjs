// Debian's chromium, headless, for the browser tests (Playwright's playwright-core, pinned).
import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // Keep Chromium off the network it would otherwise call home to (closed here).
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
           "--disable-background-networking", "--disable-component-update"],
  });
}

/** The base URL from the command line, or exit with the usage. */
export function baseUrl(script) {
  const base = process.argv[2];
  if (!base) {
    console.error(`usage: ${script} BASE_URL`);
    process.exit(2);
  }
  return base;
}
