// What the web front end's browser tests share: a person (a browser profile of their own whose
// console errors and page errors become problems) and a check of a page (a screenshot, and
// axe-core: no serious or critical violation).
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * `person(name)`, `check(page, shot)` and `allowConsole(re)` for a test against `base`: problems are pushed onto
 * `problems`, labelled with `currentStep()`; screenshots go to `shots` (made if missing).
 */
export function pageTools({ browser, base, shots, problems, currentStep }) {
  mkdirSync(shots, { recursive: true });
  const allowed = new Set();

  // A browser profile of its own per person; console errors and CSP reports are collected.
  async function person(name) {
    const context = await browser.newContext({ baseURL: base });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      // The browser logs every 4xx answer the app expects (a wrong password, the first
      // "who am I?" before logging in); anything else is an error of the page.
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
      if ([...allowed].some((re) => re.test(m.text()))) return;
      problems.push(`${name}, ${currentStep()}: console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`${name}, ${currentStep()}: page error: ${e.message}`));
    return { context, page };
  }

  async function check(page, shot) {
    await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
    await page.evaluate(axeSource);  // evaluated through the debugger protocol: the page's CSP does not apply
    const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
    for (const v of result.violations)
      if (v.impact === "serious" || v.impact === "critical")
        problems.push(`${shot}: axe ${v.impact}: ${v.id} (${v.help}) on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }

  /** Console errors matching `re` are expected (a test that cuts a connection) until `.end()`. */
  function allowConsole(re) {
    allowed.add(re);
    return { end: () => allowed.delete(re) };
  }

  return { person, check, allowConsole };
}
