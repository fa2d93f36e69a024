#!/usr/bin/env node
// spur-app's web front end, end to end in a real browser: Playwright (playwright-core, pinned)
// drives Debian's chromium, headless, against a real spur-app on the real MariaDB. Elements are
// found by label and role, as a person (or a screen reader) finds them. Every page is scanned
// with axe-core (no serious or critical violation) and photographed into $SCREENSHOTS.
// Usage: node web_flows.mjs BASE_URL
import { baseUrl, launch } from "./launch.mjs";
import { mailsSoFar, nextMail } from "./mail.mjs";
import { pageTools } from "./pages.mjs";

const base = baseUrl("web_flows.mjs");
const browser = await launch();
const problems = [];
let step = "start";
const { person, check } = pageTools({ browser, base, shots: process.env.SCREENSHOTS || "screenshots", problems, currentStep: () => step });

// A link of the main navigation.
const nav = (page, name) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true });
// The text as the page shows it once saved: not the edit form, whose textarea holds the same
// words before the save has answered (React mirrors a textarea's value into its text).
const shownText = (page, words) => page.getByRole("article").getByText(words);

function ok(what) {
  console.log("ok: " + what);
}

const email = `web-${Date.now()}@example.com`;
const other = `web-other-${Date.now()}@example.com`;
const password = "correct horse battery";

try {
  const { context, page } = await person("ada");

  step = "a visitor is sent to the login page";
  await page.goto("/");
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  await check(page, "login");
  ok(step);

  step = "create account, with the server's message next to the field";
  await page.getByRole("link", { name: "Create account" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText("password must be at least 8 characters").waitFor();
  await check(page, "register-error");
  await page.getByLabel("Password").fill(password);
  const beforeRegister = mailsSoFar();
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await page.getByText("No texts yet").waitFor();
  ok(step);

  // An unconfirmed account cannot make API keys (tests/browser/recovery.mjs has the whole flow).
  step = "the address confirmed from the mail sent on register";
  await page.getByRole("region", { name: "Unconfirmed address" }).waitFor();
  await page.goto((await nextMail(email, "/verify-email", beforeRegister)).link);
  await page.getByRole("heading", { name: "Address confirmed", exact: true }).waitFor();
  await page.getByRole("link", { name: "Go to your texts" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  if (await page.getByRole("region", { name: "Unconfirmed address" }).count()) throw new Error("the banner stayed after confirming");
  ok(step);

  step = "the session cookie is not readable by the page";
  if ((await page.evaluate(() => document.cookie)).includes("spur_session")) throw new Error("the session cookie is readable by JavaScript");
  const cookie = (await context.cookies()).find((c) => c.name === "spur_session");
  if (!cookie || !cookie.httpOnly || cookie.sameSite !== "Strict") throw new Error("the session cookie is not HttpOnly + SameSite=Strict: " + JSON.stringify(cookie));
  ok(step);

  step = "new texts, and search";
  for (const [title, content] of [["Shopping list", "eggs, flour, milk"], ["Poem", "Roses are red"], ["Notes", "call the bank"]]) {
    await nav(page, "Texts").click();
    await page.getByRole("button", { name: "New text" }).click();
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Content").fill(content);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: title, exact: true }).waitFor();
  }
  await nav(page, "Texts").click();
  await page.getByRole("list", { name: "Texts" }).getByRole("listitem").nth(2).waitFor();
  await check(page, "texts");
  await page.getByLabel("Search").fill("flour");
  await page.getByRole("link", { name: "Shopping list" }).waitFor();
  await page.getByRole("link", { name: "Poem" }).waitFor({ state: "detached" });
  if ((await page.getByRole("list", { name: "Texts" }).getByRole("listitem").count()) !== 1) throw new Error("search did not narrow the list");
  await page.getByLabel("Search").fill("nothing like this");
  await page.getByText("No text matches").waitFor();
  ok(step);

  step = "pages of ten";
  for (let i = 1; i <= 10; ++i) {
    const r = await page.request.post("/api/texts", { data: { title: `Filler ${i}`, content: "more" } });
    if (r.status() !== 201) throw new Error("creating a filler text: " + r.status());
  }
  await page.getByLabel("Search").fill("");
  await page.reload();
  await page.getByText("1–10 of 13").waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("11–13 of 13").waitFor();
  await page.getByRole("link", { name: "Shopping list" }).waitFor();
  await page.getByRole("button", { name: "Previous" }).click();
  await page.getByText("1–10 of 13").waitFor();
  const all = await (await page.request.get("/api/texts?limit=100")).json();
  for (const t of all.items.filter((t) => t.title.startsWith("Filler ")))
    if ((await page.request.delete(`/api/texts/${t.id}`)).status() !== 204) throw new Error("deleting a filler text");
  await page.reload();
  await page.getByText("1–3 of 3").waitFor();
  ok(step);

  step = "an empty title is refused next to the Title field";
  await page.getByLabel("Search").fill("");
  await page.getByRole("button", { name: "New text" }).click();
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("title must be at least 1 character").waitFor();
  await page.getByRole("button", { name: "Cancel" }).click();
  ok(step);

  step = "view and edit a text";
  await page.getByRole("link", { name: "Poem" }).click();
  await page.getByText("Roses are red").waitFor();
  const poemUrl = page.url();
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Content").fill("Roses are red,\nviolets are blue");
  await page.getByRole("button", { name: "Save" }).click();
  await shownText(page, "violets are blue").waitFor();
  await check(page, "text");
  ok(step);

  step = "an edit saved elsewhere meanwhile is refused (412), not overwritten";
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Content").fill("my late edit");
  await page.evaluate(async (id) => {  // another tab saves first
    const r = await fetch(`/api/texts/${id}`, { method: "PUT", headers: { "Content-Type": "application/json" },
                                               body: JSON.stringify({ content: "edited in another tab" }) });
    if (!r.ok) throw new Error(`PUT ${r.status}`);
  }, poemUrl.split("/").pop());
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("alert").filter({ hasText: "changed since you read it" }).waitFor();
  await page.getByRole("button", { name: "Load the latest version" }).click();
  await page.getByRole("button", { name: "Save" }).click();  // waits until the latest version is in: Save is disabled meanwhile
  await shownText(page, "my late edit").waitFor();
  ok(step);

  step = "a text left while it loads never replaces the one opened next";
  {
    const poemId = poemUrl.split("/").pop();
    const notes = (await (await page.request.get("/api/texts?q=bank")).json()).items[0];
    const poemApi = `**/api/texts/${poemId}`;
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route(poemApi, async (route) => {
      await held;
      await route.continue().catch(() => {});  // the page may have cancelled it meanwhile
    });
    // Poem's request ends one way or the other: answered late, or cancelled by the page.
    const settled = new Promise((resolve) => {
      const done = (r) => { if (new URL(r.url()).pathname === `/api/texts/${poemId}`) resolve(); };
      page.on("requestfinished", done);
      page.on("requestfailed", done);
    });
    const go = (path) => page.evaluate((p) => { history.pushState(null, "", p); dispatchEvent(new PopStateEvent("popstate")); }, path);
    await go("/texts");
    await page.getByRole("link", { name: "Poem" }).click();  // its answer is held back
    await go(`/texts/${notes.id}`);                           // and the user moves on
    await shownText(page, "call the bank").waitFor();
    release();
    await settled;
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    if (await shownText(page, "my late edit").count()) throw new Error("the late answer for Poem replaced Notes");
    if (!(await page.getByRole("heading", { name: "Notes", exact: true }).count())) throw new Error("Notes is no longer shown");
    await page.unroute(poemApi);
    await go(new URL(poemUrl).pathname);
    await shownText(page, "my late edit").waitFor();
  }
  ok(step);

  step = "delete a text";
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("group", { name: "Confirm deletion" }).getByRole("button", { name: "Delete" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await page.getByRole("link", { name: "Notes" }).waitFor();
  if (await page.getByRole("link", { name: "Poem" }).count()) throw new Error("the deleted text is still listed");
  ok(step);

  step = "summarize: sentences appear while the stream runs; a cached rerun is complete at once";
  // The AI service waits AI_PACE_MS (400 ms, run.sh) between sentences: slow enough to see.
  const rivers = [
    "Rivers carry water from the mountains to the sea.", "Along the way they shape valleys and plains.",
    "Cities grew beside rivers because water meant trade and food.", "Floods spread fertile silt over the fields.",
    "Dams now hold back much of that silt.", "Some rivers run dry before they reach the coast.",
    "Deltas shrink where the silt no longer arrives.", "Restoring a river means letting it move again.",
  ].join(" ");
  const created = await page.request.post("/api/texts", { data: { title: "Rivers", content: rivers } });
  if (created.status() !== 201) throw new Error("creating the text to summarize: " + created.status());
  const riversText = (await created.json()).text;
  const summary = page.getByRole("region", { name: "Summary" });
  const sentences = summary.getByRole("listitem");
  // How many sentences show while Stop is still there, seen in one frame: polled at every
  // animation frame in the page (a locator's wait polls too seldom for 400 ms between sentences).
  // An error shown instead ends the wait with its words.
  const whileStreaming = async () => {
    const seen = await (await page.waitForFunction(() => {
      const region = [...document.querySelectorAll("section")].find((s) => s.querySelector("h2")?.textContent === "Summary");
      const alert = region?.querySelector("[role=alert]");
      if (alert) return `error: ${alert.textContent}`;
      const shown = region?.querySelectorAll("li").length ?? 0;
      const running = [...(region?.querySelectorAll("button") ?? [])].some((b) => b.textContent === "Stop");
      return running && shown > 0 ? shown : 0;
    }, null, { polling: "raf" })).jsonValue();
    if (typeof seen === "string") throw new Error(`the summary failed: ${seen}`);
    return seen;
  };
  await page.goto(`/texts/${riversText.id}`);
  await summary.getByRole("button", { name: "Summarize" }).click();
  const early = await whileStreaming();
  await summary.getByRole("status").filter({ hasText: `Summary of version ${riversText.version}.` }).waitFor();
  const made = await sentences.allTextContents();
  if (made.length !== 3) throw new Error(`the summary has ${made.length} sentences, not the default 3: ${JSON.stringify(made)}`);
  if (early >= made.length) throw new Error("the first sentence showed only once the summary was complete");
  await summary.getByRole("button", { name: "Summarize" }).waitFor();  // to run it again
  await check(page, "summary");
  await summary.getByRole("button", { name: "Summarize" }).click();
  await summary.getByRole("status").filter({ hasText: `Summary of version ${riversText.version}, from cache.` }).waitFor();
  if (JSON.stringify(await sentences.allTextContents()) !== JSON.stringify(made)) throw new Error("the cached summary differs from the one made");
  ok(step);

  step = "summarize: one at a time; Stop ends the stream midway, and nothing arrives after it; leaving the page stops it";
  {
    // A new version: its summary is not in the cache, so it streams again.
    const r = await page.request.put(`/api/texts/${riversText.id}`, { data: { content: rivers.replace("sea", "ocean") } });
    if (r.status() !== 200) throw new Error("editing the text: " + r.status());
    const { version } = (await r.json()).text;
    await page.reload();
    // One summary per account at a time: while another of this user's streams (ten sentences,
    // some 4 s), the page's is refused, in words.
    // fetch resolves once the answer's header is in: the server has admitted that summary.
    const otherStatus = await page.evaluate(async (id) => {
      window.otherSummary = await fetch(`/api/texts/${id}/summary?sentences=10`, { method: "POST" });
      return window.otherSummary.status;
    }, riversText.id);
    if (otherStatus !== 200) throw new Error(`the other summary was refused: ${otherStatus}`);
    await summary.getByRole("button", { name: "Summarize" }).click();
    await summary.getByRole("alert").filter({ hasText: "A summary is already being made for you." }).waitFor();
    await check(page, "summary-busy");
    const otherBody = await page.evaluate(async () => await window.otherSummary.text());  // to its end
    if (!otherBody.includes("event: done")) throw new Error("the other summary did not finish");
    await summary.getByRole("button", { name: "Summarize" }).click();
    await whileStreaming();
    await summary.getByRole("button", { name: "Stop" }).click();
    await summary.getByRole("status").filter({ hasText: "Stopped." }).waitFor();
    const kept = await sentences.count();
    if (kept < 1 || kept >= 3) throw new Error(`Stop came too late to prove anything: ${kept} sentences shown`);
    await page.waitForTimeout(3 * 400 + 400);  // longer than the rest of the stream would have taken
    if ((await sentences.count()) !== kept) throw new Error("sentences arrived after Stop");
    if (!(await summary.getByRole("status").filter({ hasText: "Stopped." }).count())) throw new Error("the status changed after Stop");
    // Stopping freed the user's one summary at a time: running it again works.
    await summary.getByRole("button", { name: "Summarize" }).click();
    await summary.getByRole("status").filter({ hasText: `Summary of version ${version}` }).waitFor();
    if ((await sentences.count()) !== 3) throw new Error("the summary after Stop is incomplete");

    // Leaving the page mid-stream stops the work at the AI service too (its own counter, asked
    // from here: run.sh exports AI_SERVICE_URL), not only on the page.
    const stats = async () => (await (await fetch(`${process.env.AI_SERVICE_URL}/v1/stats`)).json());
    const before = await stats();
    const again = await page.request.put(`/api/texts/${riversText.id}`, { data: { content: rivers.replace("sea", "bay") } });
    if (again.status() !== 200) throw new Error("editing the text: " + again.status());
    await page.reload();
    await summary.getByRole("button", { name: "Summarize" }).click();
    await whileStreaming();
    await nav(page, "API keys").click();
    let after = await stats();
    for (const until = Date.now() + 5000; after.summaries_cancelled === before.summaries_cancelled && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));  // a counter: no event to wait on
      after = await stats();
    }
    if (after.summaries_cancelled !== before.summaries_cancelled + 1)
      throw new Error(`leaving the page did not stop the summary: ${JSON.stringify(before)} then ${JSON.stringify(after)}`);
    if (after.summaries_completed !== before.summaries_completed) throw new Error("the summary left behind was completed");
    if ((await page.request.delete(`/api/texts/${riversText.id}`)).status() !== 204) throw new Error("deleting the summarized text");
    await nav(page, "Texts").click();
    await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  }
  ok(step);

  step = "a client-side route loads directly, and the session survives a reload";
  await page.reload();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await page.goto(poemUrl);
  await page.getByRole("heading", { name: "No such text", exact: true }).waitFor();
  ok(step);

  step = "API keys: the password again, the secret once, copied, listed, revoked";
  await nav(page, "API keys").click();
  await page.getByText("No API keys yet").waitFor();
  await page.getByLabel("Key name").fill("backup script");
  await page.getByLabel("Your password").fill("not my password");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByText("That is not your password.").waitFor();
  await page.getByLabel("Your password").fill(password);
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByText("it is shown this once").waitFor();
  const secret = await page.getByTestId("secret").textContent();
  await page.getByRole("button", { name: "Copy" }).click();
  await page.getByText("Copied.").waitFor();
  if ((await page.evaluate(() => navigator.clipboard.readText())) !== secret) throw new Error("Copy did not copy the secret");
  await page.getByRole("cell", { name: "backup script", exact: true }).waitFor();
  await check(page, "keys");
  // The key works for a program, without the cookie.
  const viaKey = await fetch(`${base}/api/texts`, { headers: { "X-API-Key": secret } });
  if (viaKey.status !== 200 || (await viaKey.json()).total !== 2) throw new Error("the new key does not read the texts");
  await page.getByRole("button", { name: "Revoke backup script" }).click();
  await page.getByRole("button", { name: "Revoke backup script for good" }).click();
  await page.getByText("No API keys yet").waitFor();
  if ((await fetch(`${base}/api/texts`, { headers: { "X-API-Key": secret } })).status !== 401) throw new Error("the revoked key still works");
  ok(step);

  step = "another person sees none of it";
  const bob = await person("bob");
  await bob.page.goto("/register");
  await bob.page.getByLabel("Email").fill(other);
  await bob.page.getByLabel("Password").fill(password);
  await bob.page.getByRole("button", { name: "Create account" }).click();
  await bob.page.getByText("No texts yet").waitFor();
  const notesUrl = (await page.goto("/texts"), await page.getByRole("link", { name: "Notes" }).getAttribute("href"));
  await bob.page.goto(notesUrl);
  await bob.page.getByRole("heading", { name: "No such text", exact: true }).waitFor();
  ok(step);

  step = "account: a wrong current password is shown, a right one changes it";
  await nav(page, "Account").click();
  const change = page.getByRole("form", { name: "Change password" });
  await change.getByLabel("Current password").fill("not my password");
  await change.getByLabel("New password").fill("battery staple horse");
  await change.getByRole("button", { name: "Save" }).click();
  await change.getByText("That is not your current password.").waitFor();
  await change.getByLabel("Current password").fill(password);
  await change.getByRole("button", { name: "Save" }).click();
  await page.getByText("Password changed").waitFor();
  await check(page, "account");
  await page.reload();  // the cookie now holds the fresh token
  await page.getByRole("heading", { name: "Account", exact: true }).waitFor();
  ok(step);

  step = "a session ended elsewhere sends the page to the login page at its next request";
  const second = await person("ada, second device");
  await second.page.goto("/login");
  await second.page.getByLabel("Email").fill(email);
  await second.page.getByLabel("Password").fill("battery staple horse");
  await second.page.getByRole("button", { name: "Log in" }).click();
  await second.page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  await nav(second.page, "API keys").click();
  await second.page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  ok(step);

  step = "a wrong password is shown to the user; log in and log out";
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);  // the old one
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").filter({ hasText: "Invalid email or password" }).waitFor();
  await page.getByLabel("Password").fill("battery staple horse");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Texts", exact: true }).waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  if ((await context.cookies()).some((c) => c.name === "spur_session")) throw new Error("logout left the session cookie");
  ok(step);

  step = "delete the account";
  await nav(bob.page, "Account").click();
  const removal = bob.page.getByRole("form", { name: "Delete account" });
  await removal.getByLabel("Current password").fill(password);
  await removal.getByRole("button", { name: "Delete account" }).click();
  await bob.page.getByText("Press Delete account again").waitFor();
  await removal.getByRole("button", { name: "Delete account" }).click();
  await bob.page.getByRole("heading", { name: "Log in", exact: true }).waitFor();
  await bob.page.getByLabel("Email").fill(other);
  await bob.page.getByLabel("Password").fill(password);
  await bob.page.getByRole("button", { name: "Log in" }).click();
  await bob.page.getByText("Invalid email or password").waitFor();
  ok(step);

  step = "the API docs are one link away";
  await nav(page, "API docs").click();
  await page.locator(".opblock").first().waitFor();
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
console.log("web flows ok");
