// Idempotency-Key in the client: a keyed write sends its key, and is sent again with the same
// key and body when it got no definite answer (no answer, 409 idempotency_key_in_use after its
// Retry-After, 502/503/504), at most maxRetries times; every other answer is final, and a write
// without a key is never repeated. Also the pieces: the key itself, Retry-After, which failures
// leave a submission's key pending. Node (vitest) against a fake fetch and a fake clock.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, createApi } from "./client";
import { maxRetries, newIdempotencyKey, retryAfterSeconds, retryDelay, unanswered } from "./idempotency";

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
const serverError = (status: number, code: string, headers: Record<string, string> = {}) =>
  json(status, { success: false, error: { code, message: `the ${code} message`, request_id: "r-1" } }, headers);
const created = () => json(201, { success: true, text: { id: 9, title: "T", size: 1, content: "c", created_at: "", updated_at: "", version: 1 } });
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let requests: Request[];
let waits: number[];
/** An API whose fetch answers each request with the next of `replies` (an Error: no answer). */
function apiAnswering(...replies: (Response | Error)[]) {
  return createApi({
    baseUrl: "http://spur.test",
    fetch: async (request) => {
      requests.push(request);
      const reply = replies.shift();
      if (!reply) throw new Error("more requests than the test expected");
      if (reply instanceof Error) throw reply;
      return reply;
    },
    wait: async (ms) => void waits.push(ms),
  });
}
const keysSent = () => requests.map((r) => r.headers.get("Idempotency-Key"));

beforeEach(() => {
  requests = [];
  waits = [];
});

describe("a keyed write", () => {
  it("sends its key as Idempotency-Key, with the body", async () => {
    const reply = await apiAnswering(created()).createText({ title: "T", content: "c" }, "key-1");
    expect(reply.text.id).toBe(9);
    expect(keysSent()).toEqual(["key-1"]);
    expect(await requests[0]?.json()).toEqual({ title: "T", content: "c" });
  });

  it("without a key sends no Idempotency-Key", async () => {
    await apiAnswering(created()).createText({ title: "T", content: "c" });
    expect(keysSent()).toEqual([null]);
  });

  it("409 idempotency_key_in_use: sent again after its Retry-After, with the same key and body", async () => {
    const api = apiAnswering(serverError(409, "idempotency_key_in_use", { "Retry-After": "2" }), created());
    const reply = await api.createText({ title: "T", content: "c" }, "key-1");
    expect(reply.text.id).toBe(9);
    expect(waits).toEqual([2000]);
    expect(keysSent()).toEqual(["key-1", "key-1"]);
    expect(await requests[1]?.json()).toEqual({ title: "T", content: "c" });
  });

  it("no answer (the connection failed): sent again with the same key, after a growing wait", async () => {
    const api = apiAnswering(new TypeError("Failed to fetch"), new TypeError("Failed to fetch"), created());
    await api.createKey({ name: "ci", password: "secret password" }, "key-2");
    expect(keysSent()).toEqual(["key-2", "key-2", "key-2"]);
    expect(waits).toEqual([500, 1000]);
    expect(requests.every((r) => r.url === "http://spur.test/api/keys" && r.method === "POST")).toBe(true);
  });

  it("503 from a proxy or an unavailable database: sent again, after Retry-After when it has one", async () => {
    const api = apiAnswering(serverError(503, "service_unavailable", { "Retry-After": "1" }), new Response("", { status: 502 }), created());
    await api.createText({ title: "T", content: "c" }, "key-3");
    expect(waits).toEqual([1000, 1000]);  // the second: 502 without Retry-After, backoff 2^1 × 0.5 s
    expect(keysSent()).toEqual(["key-3", "key-3", "key-3"]);
  });

  it("gives up after maxRetries and throws the last failure", async () => {
    const failures = Array.from({ length: maxRetries + 1 }, () => serverError(409, "idempotency_key_in_use", { "Retry-After": "1" }));
    const err = await apiAnswering(...failures).register({ email: "a@b.c", password: "12345678" }, "key-4").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).code, (err as ApiError).retryAfter]).toEqual([409, "idempotency_key_in_use", 1]);
    expect(requests).toHaveLength(maxRetries + 1);
    expect(new Set(keysSent())).toEqual(new Set(["key-4"]));
  });

  it("a wait Retry-After asks beyond 5 s is cut to 5 s", async () => {
    await apiAnswering(serverError(409, "idempotency_key_in_use", { "Retry-After": "120" }), created()).createText({ title: "T", content: "c" }, "k");
    expect(waits).toEqual([5000]);
  });

  for (const [status, code] of [[422, "idempotency_key_reused"], [400, "validation_error"], [409, "email_taken"], [403, "email_unverified"], [500, "internal_error"]] as const) {
    it(`${status} ${code} is final: not sent again`, async () => {
      const err = await apiAnswering(serverError(status, code)).register({ email: "a@b.c", password: "12345678" }, "key-5").catch((e: unknown) => e);
      expect([(err as ApiError).status, (err as ApiError).code]).toEqual([status, code]);
      expect(requests).toHaveLength(1);
      expect(waits).toEqual([]);
    });
  }
});

describe("a write without a key", () => {
  it("is sent once: no answer is a network_error, not a retry", async () => {
    const err = await apiAnswering(new TypeError("Failed to fetch")).createText({ title: "T", content: "c" }).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe("network_error");
    expect(requests).toHaveLength(1);
  });

  it("409 idempotency_key_in_use cannot happen, and any 409 is final", async () => {
    await apiAnswering(serverError(409, "idempotency_key_in_use", { "Retry-After": "1" })).createText({ title: "T", content: "c" }).catch(() => undefined);
    expect(requests).toHaveLength(1);
  });
});

describe("the pieces", () => {
  it("a key is a version-4 UUID, a new one each time", () => {
    const a = newIdempotencyKey(), b = newIdempotencyKey();
    expect(a).toMatch(uuid);
    expect(a).not.toBe(b);
  });

  it("a key without crypto.randomUUID (plain http, not localhost) is still a version-4 UUID", () => {
    const real = globalThis.crypto;
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array) => real.getRandomValues(a) });
    try {
      expect(newIdempotencyKey()).toMatch(uuid);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("Retry-After: seconds, an HTTP-date, or nothing", () => {
    expect(retryAfterSeconds("7")).toBe(7);
    expect(retryAfterSeconds(" 0 ")).toBe(0);
    const now = Date.parse("Wed, 21 Oct 2026 07:28:00 GMT");
    expect(retryAfterSeconds("Wed, 21 Oct 2026 07:28:30 GMT", now)).toBe(30);
    expect(retryAfterSeconds("Wed, 21 Oct 2026 07:27:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds(null)).toBeUndefined();
    expect(retryAfterSeconds("soon")).toBeUndefined();
  });

  it("429 keeps its Retry-After on the ApiError", async () => {
    const err = await apiAnswering(serverError(429, "too_many_requests", { "Retry-After": "42" })).logIn({ email: "a@b.c", password: "12345678" }).catch((e: unknown) => e);
    expect([(err as ApiError).status, (err as ApiError).retryAfter]).toEqual([429, 42]);
    expect(requests).toHaveLength(1);
  });

  it("retryDelay: none after the last retry", () => {
    expect(retryDelay({ status: 0, code: "network_error" }, maxRetries - 1)).toBeDefined();
    expect(retryDelay({ status: 0, code: "network_error" }, maxRetries)).toBeUndefined();
  });

  it("unanswered: no answer, a 5xx and a write still running leave the key pending; an answer frees it", () => {
    expect(unanswered(new ApiError(0, "network_error", ""))).toBe(true);
    expect(unanswered(new ApiError(503, "service_unavailable", ""))).toBe(true);
    expect(unanswered(new ApiError(409, "idempotency_key_in_use", ""))).toBe(true);
    expect(unanswered(new ApiError(400, "validation_error", ""))).toBe(false);
    expect(unanswered(new ApiError(403, "email_unverified", ""))).toBe(false);
    expect(unanswered(new Error("a bug"))).toBe(false);
  });
});
