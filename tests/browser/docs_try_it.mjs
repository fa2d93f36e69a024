#!/usr/bin/env node
// The promise of /docs, kept in a real browser: a newcomer opens spur-app's /docs, registers
// and signs in from the page, authorizes with the token, and calls an endpoint that needs it.
// Playwright (playwright-core, pinned in package-lock.json) drives Debian's chromium, headless.
// Usage: node docs_try_it.mjs BASE_URL   (e.g. http://127.0.0.1:3001)
import { baseUrl, launch } from "./launch.mjs";

const base = baseUrl("docs_try_it.mjs");
const browser = await launch();
const problems = [];
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  page.on("console", (m) => { if (/content security policy/i.test(m.text())) problems.push("CSP: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));

  await page.goto(base + "/docs");
  await page.locator(".opblock").first().waitFor();
  const operations = await page.locator(".opblock").count();
  console.log(`ok: /docs shows ${operations} operations`);

  // Expands an operation, fills its body, executes it and returns [status, body text].
  async function call(id, body) {
    const op = page.locator(`#${id}`);
    if (!(await op.locator(".opblock-body").isVisible())) await op.locator(".opblock-summary").first().click();
    if (!(await op.locator("button.execute").isVisible())) await op.getByRole("button", { name: "Try it out" }).click();
    if (body !== undefined) await op.locator("textarea.body-param__text").fill(JSON.stringify(body));
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table tr.response .response-col_status").first();
    await status.waitFor();
    const code = (await status.textContent()).trim().slice(0, 3);
    const text = await op.locator(".live-responses-table tr.response .response-col_description pre").first().textContent();
    await op.locator("button.btn-clear").click();
    return [Number(code), text];
  }
  const expect = (what, got, want) => {
    if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`);
    console.log(`ok: ${what} -> ${got}`);
  };

  const email = `docs-${Date.now()}@example.com`;
  const password = "correct horse battery";
  let [status, text] = await call("operations-auth-post_api_auth_register", { email, password, name: "From the docs" });
  expect("register from /docs", status, 201);
  [status, text] = await call("operations-auth-post_api_auth_register", { email: "nope", password: "short" });
  expect("an invalid registration from /docs", status, 400);
  if (!text.includes('"details"') || !text.includes('"/password"')) throw new Error("the validation details are not shown: " + text);
  [status, text] = await call("operations-auth-post_api_auth_login", { email, password });
  expect("login from /docs", status, 200);
  const token = JSON.parse(text).token;

  // Authorize: the bearer scheme's dialog.
  await page.locator("button.authorize").first().click();
  const dialog = page.locator(".modal-ux");
  const bearer = dialog.locator(".auth-container").filter({ hasText: "bearer" }).first();
  await bearer.locator("input").fill(token);
  await bearer.locator("button.authorize").click();
  await bearer.locator("button", { hasText: "Logout" }).waitFor();  // the scheme now holds a token
  await dialog.locator("button.btn-done").first().click();

  [status, text] = await call("operations-auth-get_api_auth_me");
  expect("GET /api/auth/me with the token from the Authorize dialog", status, 200);
  if (!text.includes(email)) throw new Error("me did not answer with the account: " + text);
  [status, text] = await call("operations-texts-post_api_texts", { title: "Written in /docs", content: "hello" });
  expect("POST /api/texts", status, 201);
} catch (e) {
  problems.push(e.stack || String(e));
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("docs try-it ok");
