// The API client: openapi-fetch over same-origin fetch (the session cookie rides along;
// JavaScript never sees the token), typed by `paths` as generated from spur-app's /openapi.json
// (schema.d.ts): a route, a parameter or a body that changes there breaks `tsc --noEmit` here.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { retryAfterSeconds, retryDelay } from "./idempotency";
import { readEvents } from "./sse";

type Schemas = components["schemas"];
export type User = Schemas["UserOut"];
export type Text = Schemas["TextOut"];
export type TextSummary = Schemas["TextSummaryOut"];
export type TextPage = Schemas["TextPage"];
export type ApiKey = Schemas["KeyOut"];
export type KeyCreated = Schemas["KeyCreated"];
type Violation = Schemas["Violation"];
type TextsQuery = NonNullable<paths["/api/texts"]["get"]["parameters"]["query"]>;
// The summary's stream is read by hand (summaryEvents), but its route and query still come
// from the generated paths: a renamed route or parameter breaks `tsc` here too.
const summaryRoute = "/api/texts/{id}/summary" satisfies keyof paths;
type SummaryQuery = NonNullable<paths[typeof summaryRoute]["post"]["parameters"]["query"]>;

/** What a summary's stream brings: each sentence as the AI service makes it, then its end. */
export type SummaryEvent =
  | { type: "sentence"; index: number; text: string }
  | { type: "done"; sentences: number; cached: boolean; version: number };

/**
 * An answer other than 2xx, with the server's code, message and per-field details, and its
 * Retry-After in seconds when it had one (429, 503, 409 idempotency_key_in_use); or, with
 * status 0 and code "network_error", a request that got no answer at all. A request aborted
 * through its signal is not an ApiError: it rejects with the fetch's own AbortError.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Violation[] = [],
    readonly retryAfter?: number,
  ) {
    super(message);
  }
  /** The message of the first problem with `field` ("/title"), if any. */
  about(field: string): string | undefined {
    return this.details.find((d) => d.path === field)?.message;
  }
}

/** Called when the session has ended (a 401): the app shows the login page. */
let onSessionEnded: () => void = () => {};
export function whenSessionEnds(callback: () => void) {
  onSessionEnded = callback;
}

// By name: the AbortError is a DOMException, which is not an Error everywhere.
const isAbort = (err: unknown) => typeof err === "object" && err !== null && (err as { name?: unknown }).name === "AbortError";

/** The ApiError for a non-2xx answer: the server's `{error: {code, message, details}}` when
 *  the body is that, else the status line (a proxy's HTML page, an empty body). */
function errorOf(response: Response, body: unknown): ApiError {
  const error = typeof body === "object" && body !== null && "error" in body ? (body as { error: unknown }).error : undefined;
  const { code, message, details } = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  return new ApiError(
    response.status,
    typeof code === "string" ? code : "error",
    typeof message === "string" && message ? message : response.statusText || `HTTP ${response.status}`,
    Array.isArray(details) ? (details as Violation[]) : [],
    retryAfterSeconds(response.headers.get("Retry-After")),
  );
}

/** What openapi-fetch answers: the parsed 2xx body as `data`, or the error body as `error`. */
type Answer<T> = { data?: T; error?: unknown; response: Response };
/** The body a call resolves to: void for an operation whose only success is 204. */
type Body<T> = [Exclude<T, undefined>] extends [never] ? void : Exclude<T, undefined>;

/**
 * The 2xx body of `call` (undefined for 204 or an empty body); otherwise throws the ApiError,
 * after telling the app that the session ended on a 401 unless `quiet401` (asking "who am I?"
 * and logging in expect a 401 without any session having ended).
 */
async function answer<T>(call: Promise<Answer<T>>, quiet401 = false): Promise<Body<T>> {
  const { data, error, response } = await call;
  if (response.ok) return data as Body<T>;
  if (response.status === 401 && !quiet401) onSessionEnded();
  throw errorOf(response, error);
}

/** A write's extra headers: its Idempotency-Key, when it has one. */
type KeyHeaders = { "Idempotency-Key"?: string };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `answer` for a write that may carry an Idempotency-Key (`key`). With a key, a try that got no
 * definite answer (see `retryDelay`: no answer, 409 idempotency_key_in_use, 502/503/504) is
 * sent again with the same key and body, up to `maxRetries` times, after the wait it asks for;
 * the server runs the write once and replays its answer to the others. Without a key it is
 * sent once, as a write that may not be repeated must be. Throws the last try's ApiError.
 */
async function keyed<T>(send: (headers: KeyHeaders) => Promise<Answer<T>>, key: string | undefined,
                        wait: (ms: number) => Promise<void>): Promise<Body<T>> {
  const headers: KeyHeaders = key ? { "Idempotency-Key": key } : {};
  for (let attempt = 0; ; ++attempt) {
    try {
      return await answer(send(headers));
    } catch (err) {
      const delay = key && err instanceof ApiError ? retryDelay(err, attempt) : undefined;
      if (delay === undefined) throw err;
      await wait(delay);
    }
  }
}

/**
 * The events of a summary's stream (`POST …/summary`, answered `text/event-stream`), as they
 * arrive; it returns after `done`. Throws the ApiError of a refusal before the stream began (as
 * `answer` does, 401 included), of an `error` event after it began (its code, with the 200 the
 * stream began with), `network_error` when the connection fails midway, `incomplete` when the
 * stream ends without `done`; an abort through the request's signal stays an AbortError.
 */
async function* summaryEvents(send: (r: Request) => Promise<Response>, request: Request): AsyncGenerator<SummaryEvent> {
  const response = await send(request);
  if (!response.ok) {
    if (response.status === 401) onSessionEnded();
    throw errorOf(response, await response.json().catch(() => undefined));
  }
  if (!response.body || !response.headers.get("Content-Type")?.startsWith("text/event-stream"))
    throw new ApiError(response.status, "not_a_stream", "The server answered something other than a summary.");
  const events = readEvents(response.body);
  try {
    for (;;) {
      let next: IteratorResult<{ event: string; data: string }>;
      try {
        next = await events.next();
      } catch (err) {
        if (isAbort(err)) throw err;
        throw new ApiError(0, "network_error", "The connection was lost before the summary was finished.");
      }
      if (next.done) throw new ApiError(response.status, "incomplete", "The summary ended before it was finished.");
      const { event, data } = next.value;
      const fields = parseObject(data);
      if (event === "sentence") yield { type: "sentence", index: Number(fields.index), text: String(fields.text ?? "") };
      else if (event === "done") {
        yield { type: "done", sentences: Number(fields.sentences), cached: fields.cached === true, version: Number(fields.version) };
        return;
      } else if (event === "error") throw errorOf(response, { error: fields });
      // Other events: a newer server's, which this page does not know yet.
    }
  } finally {
    // However this ends (done, an error, the caller leaving the loop), the body is cancelled:
    // the connection closes and nothing after `done` is waited for.
    await events.return(undefined);
  }
}
/** An event's JSON object, or {} for data that is not one. */
function parseObject(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The API's calls, over `fetch` (the browser's by default) at `baseUrl` ("" is this origin);
 * `wait` is how a keyed write waits before it is sent again (tests pass one that does not).
 *
 * The writes that take `key` send it as Idempotency-Key (one per form submission: see
 * `idempotency.ts`) and are retried with it when they got no definite answer (`keyed`).
 */
export function createApi({ baseUrl = "", fetch = (r: Request) => globalThis.fetch(r), wait = sleep } = {}) {
  // No answer at all (offline, refused, reset) becomes an ApiError the forms can show; an
  // abort stays an AbortError, which the caller asked for and ignores.
  const send = (request: Request) =>
    fetch(request).catch((err: unknown) => {
      if (isAbort(err)) throw err;
      throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and try again.");
    });
  const client = createClient<paths>({ baseUrl, fetch: send });
  // If-Match: the version this page showed, so that an edit made elsewhere meanwhile is
  // refused (412) instead of silently overwritten.
  const ifMatch = (version: number) => ({ "If-Match": `"${version}"` });

  return {
    me: () => answer(client.GET("/api/auth/me"), true),
    // `key`: the submission's Idempotency-Key (here and below): sent again with it, the
    // write runs once.
    register: (body: Schemas["RegisterIn"], key?: string) =>
      keyed((headers) => client.POST("/api/auth/register", { body, headers }), key, wait),
    logIn: (body: Schemas["LoginIn"]) => answer(client.POST("/api/auth/session", { body }), true),
    logOut: () => answer(client.POST("/api/auth/logout")),
    logOutEverywhere: () => answer(client.POST("/api/auth/logout-all")),
    changePassword: (body: Schemas["PasswordChangeIn"], key?: string) =>
      keyed((headers) => client.POST("/api/auth/password", { body, headers }), key, wait),
    // Account recovery, signed out: always 202 whether an account has the address (429 when
    // asked too often); then the mail's token and a new password (400 invalid_reset_token
    // for a token unknown, used or expired).
    requestPasswordReset: (email: string) => answer(client.POST("/api/auth/password-reset", { body: { email } })),
    resetPassword: (body: { token: string; new_password: string }, key?: string) =>
      keyed((headers) => client.POST("/api/auth/password-reset/confirm", { body, headers }), key, wait),
    // The address: a new confirmation mail for the signed-in account (202), and the mail's
    // token confirmed, signed in or not (400 invalid_verification_token).
    requestVerification: () => answer(client.POST("/api/auth/verify-email")),
    confirmVerification: (token: string) => answer(client.POST("/api/auth/verify-email/confirm", { body: { token } })),
    deleteAccount: (body: Schemas["PasswordConfirmIn"]) => answer(client.DELETE("/api/auth/me", { body })),

    // A search runs one at a time per account (429 search_in_progress otherwise): `signal`
    // lets the page abandon a search the user has typed past.
    texts: (query: TextsQuery, signal?: AbortSignal) =>
      answer(client.GET("/api/texts", { params: { query }, signal })),
    // `signal`: the text view abandons the text the user has moved away from.
    text: (id: number, signal?: AbortSignal) => answer(client.GET("/api/texts/{id}", { params: { path: { id } }, signal })),
    createText: (body: Schemas["TextIn"], key?: string) =>
      keyed((headers) => client.POST("/api/texts", { body, headers }), key, wait),
    updateText: (id: number, body: Schemas["TextPatch"], version: number) =>
      answer(client.PUT("/api/texts/{id}", { params: { path: { id } }, body, headers: ifMatch(version) })),
    deleteText: (id: number, version: number) =>
      answer(client.DELETE("/api/texts/{id}", { params: { path: { id } }, headers: ifMatch(version) })),
    // Server-sent events over a POST, which EventSource cannot send: by hand, not through
    // openapi-fetch (whose answer is one parsed body), but over the same fetch and origin.
    // `sentences`: 1..10, the server's default (3) when omitted. `signal` stops it.
    summarize: (id: number, { sentences, signal }: SummaryQuery & { signal?: AbortSignal } = {}) =>
      summaryEvents(send, new Request(`${baseUrl}${summaryRoute.replace("{id}", String(id))}${sentences ? `?sentences=${sentences}` : ""}`,
                                      { method: "POST", headers: { Accept: "text/event-stream" }, signal })),

    keys: () => answer(client.GET("/api/keys")),
    // The password again: a key outlives the session, so the session alone cannot mint one.
    // 403 email_unverified while the account's address is not confirmed.
    createKey: (body: Schemas["KeyIn"], key?: string) =>
      keyed((headers) => client.POST("/api/keys", { body, headers }), key, wait),
    revokeKey: (id: number) => answer(client.DELETE("/api/keys/{id}", { params: { path: { id } } })),
  };
}

export const api = createApi();
