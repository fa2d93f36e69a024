// The mails spur-app writes into MAIL_DIR when it has no SMTP_URL (one RFC 5322 `.eml` file
// per mail; tests/browser/run.sh makes the directory and exports it): wait for the next one
// to an address and take its link, as a person reading the mail would.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.MAIL_DIR;

/** The names of the mails written so far: `nextMail` looks only past them. */
export function mailsSoFar() {
  if (!dir) throw new Error("MAIL_DIR is not set (tests/browser/run.sh sets it)");
  return new Set(readdirSync(dir).filter((f) => f.endsWith(".eml")));
}

/**
 * The first mail to `to` written after `before` (from mailsSoFar) whose text holds a link to
 * `path` ("/verify-email", "/reset-password"): `{ subject, text, link }`, the link as the
 * path and query to open on the test's own server (the mail's host is PUBLIC_URL's). Mails go
 * out through the job queue, so it polls (every 50 ms, up to `timeoutMs`); throws when none
 * comes.
 */
export async function nextMail(to, path, before, timeoutMs = 10000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const name of [...mailsSoFar()].filter((f) => !before.has(f)).sort()) {
      const mail = parse(readFileSync(join(dir, name), "latin1"));
      if (!(mail.headers.to ?? "").toLowerCase().includes(to.toLowerCase())) continue;
      const url = (mail.text.match(/https?:\/\/[^\s<>"]+/g) ?? []).find((u) => new URL(u).pathname === path);
      if (url) return { subject: mail.headers.subject ?? "", text: mail.text, link: new URL(url).pathname + new URL(url).search };
    }
    if (Date.now() > until) throw new Error(`no mail to ${to} with a ${path} link within ${timeoutMs} ms (MAIL_DIR ${dir})`);
    await new Promise((resolve) => setTimeout(resolve, 50));  // a file to appear: nothing to wait on
  }
}

/** A mail's headers (lower-cased names, folded lines unfolded) and its text: the text/plain
 *  part of a multipart mail, its transfer encoding (quoted-printable, base64) undone. */
function parse(raw) {
  const { headers, body } = split(raw);
  const type = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith("multipart/") && boundary) {
    const parts = body.split(`--${boundary}`).slice(1).filter((p) => !p.startsWith("--"));
    const plain = parts.map((p) => split(p.replace(/^\r?\n/, ""))).find((p) => (p.headers["content-type"] ?? "text/plain").toLowerCase().startsWith("text/plain"));
    return { headers, text: plain ? decode(plain) : "" };
  }
  return { headers, text: decode({ headers, body }) };
}

function split(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? "" : raw.slice(at).replace(/^\r?\n\r?\n/, "");
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decode({ headers, body }) {
  const encoding = (headers["content-transfer-encoding"] ?? "").toLowerCase();
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return Buffer.from(body, "latin1").toString("utf8");
}
