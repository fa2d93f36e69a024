#!/usr/bin/env node
// The contract test. Usage:
//   node check.mjs OPENAPI.json [--responses DIR] [--api-md docs/api.md] [--ignore PATH-PREFIX]... [--ignore-html]
// 1. OPENAPI.json must be a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator,
//    the official 3.1 JSON Schema).
// 2. With --responses: every exchange the integration tests logged (DIR/*.jsonl, one JSON
//    object per line: method, target, status, content_type, body) must be one the document
//    declares — its route and method, its status — and a JSON body must validate against the
//    declared schema (Ajv, JSON Schema 2020-12, formats checked). Described structs are closed
//    (additionalProperties: false), so a handler that returns a field the schema lacks fails.
// 3. With --api-md: every operation of the document appears in the hand-written reference,
//    and every `### METHOD /path` heading there is an operation of the document.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ignored = args.flatMap((a, i) => (args[i - 1] === "--ignore" ? [a] : []));  // undocumented on purpose
const docPath = args[0];
if (!docPath) {
  console.error("usage: check.mjs OPENAPI.json [--responses DIR] [--api-md FILE]");
  process.exit(2);
}
const doc = JSON.parse(readFileSync(docPath, "utf8"));
const failures = [];

// 1. The document itself.
const validation = await new Validator().validate(doc);
if (!validation.valid) failures.push(`${docPath} is not valid OpenAPI 3.1: ${JSON.stringify(validation.errors, null, 1)}`);
else console.log(`ok: ${docPath} is a valid OpenAPI ${doc.openapi} document (${Object.keys(doc.paths).length} paths)`);

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const operations = [];
for (const [path, item] of Object.entries(doc.paths)) {
  for (const method of methods) {
    if (!item[method]) continue;
    const params = (path.match(/\{[^}]+\}/g) || []).length;
    const pattern = new RegExp("^" + path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+") + "$");
    operations.push({ method: method.toUpperCase(), path, params, pattern, op: item[method] });
  }
}
operations.sort((a, b) => a.params - b.params);  // a static path wins over a template

// 2. The responses the tests saw.
const responsesDir = option("--responses");
if (responsesDir) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: doc.components });
  const rebase = (schema) =>
    JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/components/', '"$ref":"openapi#/components/'));
  const compiled = new Map();
  let checked = 0, unrouted = 0;
  const files = readdirSync(responsesDir).filter((f) => f.endsWith(".jsonl"));
  for (const file of files) {
    for (const line of readFileSync(join(responsesDir, file), "utf8").split("\n")) {
      if (!line) continue;
      const r = JSON.parse(line);
      const path = decodeURI(r.target.split("?")[0]);
      const candidates = operations.filter((o) => o.pattern.test(r.target.split("?")[0]) || o.pattern.test(path));
      const match = candidates.find((o) => o.method === r.method);
      const where = `${r.method} ${r.target} -> ${r.status}`;
      if (ignored.some((prefix) => path.startsWith(prefix))) continue;
      // --ignore-html: pages of the web front end (index.html for its client-side routes).
      if (args.includes("--ignore-html") && r.content_type.startsWith("text/html")) continue;
      if (!match) {
        // Not an operation of the document: the router answers these (404, 405), and
        // nothing is promised about them beyond the error envelope.
        if (r.status !== 404 && r.status !== 405) failures.push(`${where}: answered, but the document has no such operation`);
        unrouted++;
        continue;
      }
      const declared = match.op.responses[String(r.status)] || match.op.responses.default;
      if (!declared) {
        failures.push(`${where}: status ${r.status} is not declared for ${match.method} ${match.path} (declared: ${Object.keys(match.op.responses).join(", ")})`);
        continue;
      }
      checked++;
      if (!declared.content) {
        if (r.body && r.status !== 204 && r.method !== "HEAD") failures.push(`${where}: a body was sent, the document declares none`);
        continue;
      }
      const media = Object.keys(declared.content).find((m) => r.content_type.startsWith(m));
      if (!media) {
        failures.push(`${where}: Content-Type ${r.content_type}, the document says ${Object.keys(declared.content).join(" or ")}`);
        continue;
      }
      const schema = declared.content[media].schema;
      if (media !== "application/json" || !schema || r.body_omitted) continue;
      const key = `${match.method} ${match.path} ${r.status}`;
      if (!compiled.has(key)) compiled.set(key, ajv.compile(rebase(schema)));
      const validate = compiled.get(key);
      let body;
      try {
        body = JSON.parse(r.body);
      } catch {
        failures.push(`${where}: the body is not JSON`);
        continue;
      }
      if (!validate(body))
        failures.push(`${where}: the body breaks the declared schema: ${ajv.errorsText(validate.errors)}\n    body: ${r.body.slice(0, 300)}`);
    }
  }
  if (checked === 0) failures.push(`no logged responses in ${responsesDir}: did the integration tests run?`);
  console.log(`ok: ${checked} responses checked against the document (${unrouted} to unrouted paths), from ${files.length} test processes`);
}

// 3. The hand-written reference names exactly the document's operations.
const apiMd = option("--api-md");
if (apiMd) {
  const text = readFileSync(apiMd, "utf8");
  const mentioned = new Set();
  const headed = new Set();
  const re = /`(GET|PUT|POST|DELETE|PATCH|HEAD|OPTIONS) (\/[^`?\s]*)[^`]*`/g;
  for (const line of text.split("\n")) {
    for (const m of line.matchAll(re)) {
      const op = `${m[1]} ${m[2].replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}")}`;
      mentioned.add(op);
      if (line.startsWith("### ")) headed.add(op);
    }
  }
  const documented = new Set(operations.map((o) => `${o.method} ${o.path}`));
  for (const op of documented) if (!mentioned.has(op)) failures.push(`${apiMd} does not describe ${op}`);
  for (const op of headed) if (!documented.has(op)) failures.push(`${apiMd} has a section for ${op}, which the API does not have`);
  console.log(`ok: ${apiMd} checked against ${documented.size} operations`);
}

if (failures.length) {
  console.error(`\n${failures.length} contract failure(s):`);
  for (const f of failures) console.error(" - " + f);
  process.exit(1);
}
console.log("contract ok");
