// The client's mapping from what the server (or the network) answers to what the pages see:
// a 2xx body, undefined for 204, an ApiError with the server's code, message and details, the
// session-ended callback on a 401, and an AbortError left alone; a summary's event stream,
// sentence by sentence, and each way it can fail before or after it began; the recovery and
// address calls. (Keyed writes and their retries: idempotency.test.ts.) Runs in Node
// (vitest) against a fake fetch; the requests it records prove the typed calls put the right
// things on the wire.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, createApi, whenSessionEnds } from "./client";

type Reply = Response | Error | ((request: Request) => Promise<Response>);
const json = (status: number, body: unknown, statusText = "") =>
  new Response(JSON.stringify(body), { status, statusText, headers: { "Content-Type": "application/json" } });
const serverError = (status: number, code: string, message: string, details?: unknown[]) =>
  json(status, { success: false, error: { code, message, request_id: "r-1", ...(details ? { details } : {}) } });

let requests: Request[];
let sessionEnded: number;
function apiAnswering(reply: Reply) {
  return createApi({
    baseUrl: "http://spur.test",
    fetch: async (request) => {
      requests.push(request);
      if (reply instanceof Error) throw reply;
      return typeof reply === "function" ? reply(request) : reply;
    },
  });
}
/** The ApiError `promise` rejects with (fails the test if it resolves or rejects otherwise). */
async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

beforeEach(() => {
  requests = [];
  sessionEnded = 0;
  whenSessionEnds(() => ++sessionEnded);
});

describe("a 2xx answer", () => {
  it("resolves to its JSON body, from a request the schema describes", async () => {
    const text = { id: 7, title: "Poem", size: 3, content: "red", created_at: "", updated_at: "", version: 4 };
    const reply = await apiAnswering(json(200, { success: true, text })).updateText(7, { title: "Poem", content: "red" }, 3);
    expect(reply.text).toEqual(text);
    const [request] = requests;
    expect(request?.method).toBe("PUT");
    expect(request?.url).toBe("http://spur.test/api/texts/7");
    expect(request?.headers.get("If-Match")).toBe('"3"');
    expect(request?.headers.get("Content-Type")).toBe("application/json");
    expect(await request?.json()).toEqual({ title: "Poem", content: "red" });
  });

  it("puts a search in the query string", async () => {
    await apiAnswering(json(200, { success: true, items: [], limit: 10, offset: 20, has_more: false }))
      .texts({ limit: 10, offset: 20, q: "flour & eggs" });
    expect(requests[0]?.url).toBe("http://spur.test/api/texts?limit=10&offset=20&q=flour%20%26%20eggs");
  });

  it("resolves to undefined for 204 No Content", async () => {
    await expect(apiAnswering(new Response(null, { status: 204 })).revokeKey(3)).resolves.toBeUndefined();
    expect(requests[0]?.method).toBe("DELETE");
    expect(requests[0]?.url).toBe("http://spur.test/api/keys/3");
  });

  it("resolves to undefined for an empty 200 body", async () => {
    await expect(apiAnswering(new Response("", { status: 200 })).logOut()).resolves.toBeUndefined();
    await expect(apiAnswering(new Response("", { status: 200, headers: { "Content-Length": "0" } })).logOut()).resolves.toBeUndefined();
  });
});

describe("an answer other than 2xx", () => {
  it("4xx: the server's code and message", async () => {
    const err = await apiError(apiAnswering(serverError(409, "email_taken", "That email is taken")).register({ email: "a@b.c", password: "12345678" }));
    expect(err.status).toBe(409);
    expect(err.code).toBe("email_taken");
    expect(err.message).toBe("That email is taken");
    expect(err.details).toEqual([]);
    expect(sessionEnded).toBe(0);
  });

  it("412: the refusal of a stale edit keeps its code", async () => {
    const err = await apiError(apiAnswering(serverError(412, "precondition_failed", "The text changed since you read it")).deleteText(1, 2));
    expect([err.status, err.code, err.message]).toEqual([412, "precondition_failed", "The text changed since you read it"]);
  });

  for (const status of [400, 422]) {
    it(`${status}: the validation list, each message findable by its field`, async () => {
      const details = [
        { in: "body", path: "/title", rule: "minLength", message: "title must be at least 1 character" },
        { in: "body", path: "/content", rule: "type", message: "content must be a string" },
      ];
      const err = await apiError(apiAnswering(serverError(status, "validation_error", "2 problems", details)).createText({ title: "", content: "" }));
      expect(err.status).toBe(status);
      expect(err.code).toBe("validation_error");
      expect(err.details).toEqual(details);
      expect(err.about("/title")).toBe("title must be at least 1 character");
      expect(err.about("/content")).toBe("content must be a string");
      expect(err.about("/other")).toBeUndefined();
    });
  }

  it("401: tells the app the session ended", async () => {
    const err = await apiError(apiAnswering(serverError(401, "unauthorized", "Sign in first")).keys());
    expect([err.status, err.code, err.message]).toEqual([401, "unauthorized", "Sign in first"]);
    expect(sessionEnded).toBe(1);
  });

  it("401 to 'who am I?' or to a login: no session ended, only the error", async () => {
    await apiError(apiAnswering(serverError(401, "unauthorized", "Sign in first")).me());
    const err = await apiError(apiAnswering(serverError(401, "invalid_credentials", "Invalid email or password")).logIn({ email: "a@b.c", password: "x" }));
    expect(err.message).toBe("Invalid email or password");
    expect(sessionEnded).toBe(0);
  });

  it("5xx with a body that is not JSON: the status line", async () => {
    const html = new Response("<html><body>Bad gateway</body></html>", { status: 502, statusText: "Bad Gateway", headers: { "Content-Type": "text/html" } });
    const err = await apiError(apiAnswering(html).keys());
    expect([err.status, err.code, err.message, err.details]).toEqual([502, "error", "Bad Gateway", []]);
  });

  it("5xx with an empty body and no reason phrase: the status code", async () => {
    const err = await apiError(apiAnswering(new Response(null, { status: 503 })).texts({ limit: 10, offset: 0, q: "" }));
    expect([err.status, err.code, err.message]).toEqual([503, "error", "HTTP 503"]);
  });

  it("JSON that is not the server's error shape: the status line, no details", async () => {
    const err = await apiError(apiAnswering(json(500, { error: "boom", details: "not a list" }, "Internal Server Error")).keys());
    expect([err.status, err.code, err.message, err.details]).toEqual([500, "error", "Internal Server Error", []]);
  });
});

describe("account recovery and the address", () => {
  it("asks for a reset link with the address alone, unkeyed, and resolves to the 202's body", async () => {
    const reply = await apiAnswering(json(202, { success: true, message: "If an account has this address, a link is on its way" }))
      .requestPasswordReset("a@b.c");
    expect(reply.message).toMatch(/on its way/);
    const [request] = requests;
    expect([request?.method, request?.url]).toEqual(["POST", "http://spur.test/api/auth/password-reset"]);
    expect(await request?.json()).toEqual({ email: "a@b.c" });
    expect(request?.headers.get("Idempotency-Key")).toBeNull();
  });

  it("sets the new password with the mail's token and the submission's key: 204 is undefined", async () => {
    await expect(apiAnswering(new Response(null, { status: 204 })).resetPassword({ token: "t-1", new_password: "a new password" }, "key-1"))
      .resolves.toBeUndefined();
    const [request] = requests;
    expect(request?.url).toBe("http://spur.test/api/auth/password-reset/confirm");
    expect(request?.headers.get("Idempotency-Key")).toBe("key-1");
    expect(await request?.json()).toEqual({ token: "t-1", new_password: "a new password" });
  });

  it("a used or expired reset token is invalid_reset_token, and no session ends", async () => {
    const err = await apiError(apiAnswering(serverError(400, "invalid_reset_token", "The link is invalid or has expired"))
      .resetPassword({ token: "t-1", new_password: "a new password" }, "key-1"));
    expect([err.status, err.code]).toEqual([400, "invalid_reset_token"]);
    expect(requests).toHaveLength(1);
    expect(sessionEnded).toBe(0);
  });

  it("asks for a new confirmation mail with an empty POST", async () => {
    await apiAnswering(json(202, { success: true, message: "queued" })).requestVerification();
    const [request] = requests;
    expect([request?.method, request?.url]).toEqual(["POST", "http://spur.test/api/auth/verify-email"]);
    expect(await request?.text()).toBe("");
  });

  it("confirms an address with the mail's token and resolves to the account", async () => {
    const user = { id: 3, email: "a@b.c", created_at: "", email_verified: true };
    const reply = await apiAnswering(json(200, { success: true, user })).confirmVerification("t-2");
    expect(reply.user).toEqual(user);
    expect(requests[0]?.url).toBe("http://spur.test/api/auth/verify-email/confirm");
    expect(await requests[0]?.json()).toEqual({ token: "t-2" });
  });
});

describe("no answer", () => {
  it("a network failure is an ApiError with status 0", async () => {
    const err = await apiError(apiAnswering(new TypeError("Failed to fetch")).keys());
    expect(err.status).toBe(0);
    expect(err.code).toBe("network_error");
    expect(err.message).toMatch(/could not be reached/);
    expect(sessionEnded).toBe(0);
  });

  it("an aborted request rejects with its AbortError, not an ApiError", async () => {
    const api = apiAnswering((request) => new Promise((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason))));
    const abandon = new AbortController();
    const loading = api.text(5, abandon.signal);
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    abandon.abort();
    const err = await loading.then(() => undefined, (e: unknown) => e);
    expect(err).not.toBeInstanceOf(ApiError);
    expect((err as Error).name).toBe("AbortError");
  });
});

describe("summarize: a stream of server-sent events", () => {
  const encoder = new TextEncoder();
  /** A 200 text/event-stream answer whose body hands over `chunks` and then ends (or fails). */
  const sse = (chunks: string[], end: "close" | Error = "close", onCancel = () => {}) =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          const next = chunks.shift();
          if (next !== undefined) c.enqueue(encoder.encode(next));
          else if (end === "close") c.close();
          else c.error(end);
        },
        cancel: onCancel,
      }),
      { status: 200, headers: { "Content-Type": "text/event-stream" } },
    );
  const sentence = (index: number, text: string) => `event: sentence\ndata: ${JSON.stringify({ index, text })}\n\n`;
  const done = 'event: done\ndata: {"sentences": 2, "cached": false, "version": 7}\n\n';
  async function all<T>(events: AsyncIterable<T>) {
    const seen: T[] = [];
    for await (const e of events) seen.push(e);
    return seen;
  }
  /** What `events` yields before it throws, and the ApiError it throws. */
  async function untilError<T>(events: AsyncIterable<T>) {
    const seen: T[] = [];
    const err = await (async () => {
      for await (const e of events) seen.push(e);
    })().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    return { seen, err: err as ApiError };
  }

  it("posts to the text's summary and yields each sentence, then done", async () => {
    const reply = sse([": keep-alive\n\n", "retry: 1000\n", sentence(0, "First."), sentence(1, "Second."), done]);
    const events = await all(apiAnswering(reply).summarize(7, { sentences: 2 }));
    expect(events).toEqual([
      { type: "sentence", index: 0, text: "First." },
      { type: "sentence", index: 1, text: "Second." },
      { type: "done", sentences: 2, cached: false, version: 7 },
    ]);
    const [request] = requests;
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("http://spur.test/api/texts/7/summary?sentences=2");
    expect(request?.headers.get("Accept")).toBe("text/event-stream");
  });

  it("asks for the server's default length when none is given", async () => {
    await all(apiAnswering(sse([done])).summarize(7));
    expect(requests[0]?.url).toBe("http://spur.test/api/texts/7/summary");
  });

  it("yields a sentence as soon as it arrives, long before the stream ends", async () => {
    let body!: ReadableStreamDefaultController<Uint8Array>;
    const open = new ReadableStream<Uint8Array>({ start: (c) => void (body = c) });
    const events = apiAnswering(new Response(open, { headers: { "Content-Type": "text/event-stream; charset=utf-8" } })).summarize(7);
    body.enqueue(encoder.encode(sentence(0, "First.")));
    expect((await events.next()).value).toEqual({ type: "sentence", index: 0, text: "First." });
    body.enqueue(encoder.encode(done));
    expect((await events.next()).value).toMatchObject({ type: "done" });
    expect((await events.next()).done).toBe(true);
  });

  it("stops reading at done, cancelling the body", async () => {
    let cancelled = false;
    const reply = sse([done, ": still open\n\n"], new Error("never read"), () => void (cancelled = true));
    expect(await all(apiAnswering(reply).summarize(7))).toHaveLength(1);
    expect(cancelled).toBe(true);
  });

  for (const [status, code] of [[404, "not_found"], [429, "summary_in_progress"], [502, "ai_error"], [503, "ai_unavailable"], [504, "ai_timeout"]] as const) {
    it(`${status} before the stream: the server's code and message`, async () => {
      const { seen, err } = await untilError(apiAnswering(serverError(status, code, `the ${code} message`)).summarize(7));
      expect(seen).toEqual([]);
      expect([err.status, err.code, err.message]).toEqual([status, code, `the ${code} message`]);
      expect(sessionEnded).toBe(0);
    });
  }

  it("401 before the stream: tells the app the session ended", async () => {
    await untilError(apiAnswering(serverError(401, "unauthorized", "Sign in first")).summarize(7));
    expect(sessionEnded).toBe(1);
  });

  it("an error event after the stream began: the sentences before it, then its code and message", async () => {
    const failure = 'event: error\ndata: {"code": "ai_timeout", "message": "the AI service took too long", "request_id": "r-2"}\n\n';
    const { seen, err } = await untilError(apiAnswering(sse([sentence(0, "First."), failure, sentence(1, "Never.")])).summarize(7));
    expect(seen).toEqual([{ type: "sentence", index: 0, text: "First." }]);
    expect([err.status, err.code, err.message]).toEqual([200, "ai_timeout", "the AI service took too long"]);
  });

  it("a stream that ends without done is incomplete, not a summary", async () => {
    const { seen, err } = await untilError(apiAnswering(sse([sentence(0, "First.")])).summarize(7));
    expect(seen).toHaveLength(1);
    expect(err.code).toBe("incomplete");
  });

  it("a connection lost midway is a network_error", async () => {
    const { seen, err } = await untilError(apiAnswering(sse([sentence(0, "First.")], new TypeError("terminated"))).summarize(7));
    expect(seen).toHaveLength(1);
    expect([err.status, err.code]).toEqual([0, "network_error"]);
  });

  it("a 200 that is not an event stream is refused", async () => {
    const { err } = await untilError(apiAnswering(json(200, { success: true })).summarize(7));
    expect(err.code).toBe("not_a_stream");
  });

  it("an abort midway reaches the request and rejects with its AbortError", async () => {
    const stop = new AbortController();
    const api = apiAnswering(async (request) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(encoder.encode(sentence(0, "First.")));
          request.signal.addEventListener("abort", () => c.error(request.signal.reason));
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    });
    const events = api.summarize(7, { signal: stop.signal });
    expect((await events.next()).value).toMatchObject({ type: "sentence" });
    const pending = events.next();
    stop.abort();
    const err = await pending.then(() => undefined, (e: unknown) => e);
    expect(err).not.toBeInstanceOf(ApiError);
    expect((err as Error).name).toBe("AbortError");
    expect(requests[0]?.signal.aborted).toBe(true);
  });
});
