#!/usr/bin/env node
// Account recovery and a confirmed address in a real browser (Playwright + Debian's chromium,
// as web_flows.mjs), with the mails spur-app writes into MAIL_DIR: the banner of an unconfirmed
// address, Resend, the mail's link confirming it (then API keys can be made); Forgot password,
// the reset mail's link setting a new password once (the old one refused, the link then
// invalid); and a new text submitted twice — a double click, an answer lost on the way — made
// once, through its Idempotency-Key (the last step: it needs the server's idempotency
// middleware on POST /api/texts). Each new page is scanned with axe-core.
// Usage: node recovery.mjs BASE_URL   (MAIL_DIR: where spur-app writes its mails)
import { baseUrl, launch } from "./launch.mjs";
import { mailsSoFar, nextMail } from "./mail.mjs";
import { pageTools } from "./pages.mjs";

const base = baseUrl("recovery.mjs");
const browser = await launch();
const problems = [];
let step = "start";
const { person, check, allowConsole } = pageTools({ browser, base, shots: process.env.SCREENSHOTS || "screenshots", problems, currentStep: () => step });

const nav = (page, name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });
const ok = (what) => console.log("ok: " + what);
const banner = (page) => page.getByRole("region", { name: "Unconfirmed address" });
/** The texts titled `title`, through the API with the page's cookie. */
const textsTitled = async (page, title) =>
  (await (await page.request.get(`/api/texts?limit=100&q=${encodeURIComponent(title)}`)).json()).items.filter((t) => t.title === title);

const email = `recovery-${Date.now()}@example.com`;
const password = "correct horse battery";
const fresh = "a brand new passphrase";

try {
  const { page } = await person("cleo");

  step = "a new account's address is unconfirmed: the banner says where the link went";
  await page.goto("/register");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await banner(page).getByText(`Confirm your address: we sent a link to ${email}.`).waitFor();
  await check(page, "banner");
  ok(step);

  step = "no API key for an unconfirmed address, and the page says why";
  await nav(page, "API keys").click();
  await page.getByLabel("Key name").fill("deploy");
  await page.getByLabel("Your password").fill(password);
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByRole("alert").filter({ hasText: "Confirm your e-mail address first" }).waitFor();
  await check(page, "keys-unconfirmed");
  ok(step);

  step = "Resend sends a new mail; its link confirms the address, and the banner goes";
  const beforeResend = mailsSoFar();
  await banner(page).getByRole("button", { name: "Resend" }).click();
  await banner(page).getByRole("status").filter({ hasText: "Sent." }).waitFor();
  const confirmation = await nextMail(email, "/verify-email", beforeResend);
  await page.goto(confirmation.link);
  await page.getByRole("heading", { name: "Address confirmed", exact: true }).waitFor();
  await page.getByRole("status").filter({ hasText: `Your address ${email} is confirmed.` }).waitFor();
  await check(page, "verify-email");
  if (await banner(page).count()) throw new Error("the banner is still shown");
  const me = await (await page.request.get("/api/auth/me")).json();
  if (me.user.email_verified !== true) throw new Error("/api/auth/me does not say the address is confirmed: " + JSON.stringify(me));
  ok(step);

  step = "a confirmed address makes API keys";
  await nav(page, "API keys").click();
  if (await banner(page).count()) throw new Error("the banner came back");
  await page.getByLabel("Key name").fill("deploy");
  await page.getByLabel("Your password").fill(password);
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByText("it is shown this once").waitFor();
  const secret = await page.getByTestId("secret").textContent();
  if ((await fetch(`${base}/api/texts`, { headers: { "X-API-Key": secret } })).status !== 200) throw new Error("the new key does not work");
  ok(step);

  step = "double-clicking Save makes one text";
  {
    const keys = [];
    const posted = (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname === "/api/texts") keys.push(r.headers()["idempotency-key"]);
    };
    page.on("request", posted);
    await nav(page, "Texts").click();
    await page.getByRole("button", { name: "New text" }).click();
    await page.getByLabel("Title").fill("Clicked twice");
    await page.getByLabel("Content").fill("once is enough");
    await page.getByRole("button", { name: "Save" }).dblclick();
    await page.getByRole("heading", { name: "Clicked twice", exact: true }).waitFor();
    const made = await textsTitled(page, "Clicked twice");
    if (made.length !== 1) throw new Error(`a double click made ${made.length} texts`);
    if (keys.length < 1 || keys.some((k) => !k || k !== keys[0])) throw new Error(`the posts did not share one Idempotency-Key: ${JSON.stringify(keys)}`);
    page.off("request", posted);
  }
  ok(step);

  step = "Forgot password: the same words for an address with no account and for this one";
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await page.getByRole("heading", { name: "Forgot password", exact: true }).waitFor();
  await check(page, "forgot-password");
  const neutral = "If an account has this address, a link is on its way.";
  await page.getByLabel("Email").fill(`nobody-${Date.now()}@example.com`);
  await page.getByRole("button", { name: "Send link" }).click();
  await page.getByRole("status").filter({ hasText: neutral }).waitFor();
  const beforeReset = mailsSoFar();
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send link" }).click();
  await page.getByRole("status").filter({ hasText: neutral }).waitFor();
  const reset = await nextMail(email, "/reset-password", beforeReset);
  ok(step);

  step = "the reset link: the register form's rules, then the new password is set";
  await page.goto(reset.link);
  await page.getByRole("heading", { name: "Set a new password", exact: true }).waitFor();
  await check(page, "reset-password");
  await page.getByLabel("New password").fill("short");
  await page.getByRole("button", { name: "Set password" }).click();
  await page.getByText("at least 8 characters").waitFor();
  await page.getByLabel("New password").fill(fresh);
  await page.getByRole("button", { name: "Set password" }).click();
  await page.getByRole("heading", { name: "Password set", exact: true }).waitFor();
  await check(page, "reset-done");
  // A reset ends the account's API keys, as a password change does.
  if ((await fetch(`${base}/api/texts`, { headers: { "X-API-Key": secret } })).status !== 401) throw new Error("the API key outlived the reset");
  ok(step);

  step = "the old password is refused, the new one logs in";
  await page.getByRole("link", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").filter({ hasText: "Invalid email or password" }).waitFor();
  await page.getByLabel("Password").fill(fresh);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  ok(step);

  step = "the reset link works once: opened again it says so and offers another";
  await page.goto(reset.link);
  await page.getByRole("heading", { name: "Set a new password", exact: true }).waitFor();
  await page.getByLabel("New password").fill("yet another passphrase");
  await page.getByRole("button", { name: "Set password" }).click();
  await page.getByRole("heading", { name: "This link does not work", exact: true }).waitFor();
  await check(page, "reset-invalid");
  await page.getByRole("link", { name: "Request another link" }).click();
  await page.getByRole("heading", { name: "Forgot password", exact: true }).waitFor();
  const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" },
                                                     body: JSON.stringify({ email, password: fresh }) });
  if (login.status !== 200) throw new Error(`the used link changed the password again (logging in with the new one: ${login.status})`);
  ok(step);

  step = "log in again with the new password";
  await page.getByRole("link", { name: "Log in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(fresh);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  ok(step);

  step = "an answer lost on the way: the client sends it again with its key, and the server replays it";
  {
    const sent = [];
    let firstStatus = null, replayed = null;
    // The first POST reaches the server (which makes the text), but its answer never reaches
    // the page: to the page the connection was reset. The ones after it pass.
    const allowed = allowConsole(/net::ERR_CONNECTION_RESET/);  // the answer cut off, as the browser logs it
    await page.route("**/api/texts", async (route) => {
      const request = route.request();
      if (request.method() !== "POST") return route.continue();
      sent.push(request.headers()["idempotency-key"]);
      if (sent.length === 1) {
        firstStatus = (await route.fetch()).status();
        return route.abort("connectionreset");
      }
      const answer = await route.fetch();
      replayed = answer.headers()["idempotent-replayed"] ?? null;
      return route.fulfill({ response: answer });
    });
    await nav(page, "Texts").click();
    await page.getByRole("button", { name: "New text" }).click();
    await page.getByLabel("Title").fill("Sent again");
    await page.getByLabel("Content").fill("the first answer was lost");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Sent again", exact: true }).waitFor();
    await page.unroute("**/api/texts");
    allowed.end();
    if (firstStatus !== 201) throw new Error(`the first POST was answered ${firstStatus}`);
    if (sent.length !== 2 || sent[0] !== sent[1] || !sent[0]) throw new Error(`the retry did not carry the first key: ${JSON.stringify(sent)}`);
    if (replayed !== "true") throw new Error(`the retry was not a replay (Idempotent-Replayed: ${replayed})`);
    const made = await textsTitled(page, "Sent again");
    if (made.length !== 1) throw new Error(`a retried POST made ${made.length} texts`);
  }
  ok(step);
} catch (e) {
  problems.push(`${step}: ${e.stack || e}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("recovery flows ok");
