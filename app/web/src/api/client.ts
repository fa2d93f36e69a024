// The API client: same-origin fetch (the session cookie rides along; JavaScript never sees
// the token), typed by the schemas generated from spur-app's /openapi.json (schema.d.ts).
import type { components } from "./schema";

export type User = components["schemas"]["UserOut"];
export type Text = components["schemas"]["TextOut"];
export type TextSummary = components["schemas"]["TextSummaryOut"];
export type TextPage = components["schemas"]["TextPage"];
export type ApiKey = components["schemas"]["KeyOut"];
export type KeyCreated = components["schemas"]["KeyCreated"];
type Violation = components["schemas"]["Violation"];

/** An answer other than 2xx, with the server's code, message and per-field details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Violation[] = [],
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

async function request<T>(method: string, path: string, body?: unknown, quiet401 = false,
                          extraHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...extraHeaders },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data?.error ?? {};
    if (response.status === 401 && !quiet401) onSessionEnded();
    throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText, error.details ?? []);
  }
  return data as T;
}

export const api = {
  me: () => request<{ user: User }>("GET", "/api/auth/me", undefined, true),
  register: (email: string, password: string) =>
    request<{ user: User }>("POST", "/api/auth/register", { email, password }),
  logIn: (email: string, password: string) =>
    request<{ user: User }>("POST", "/api/auth/session", { email, password }, true),
  logOut: () => request<void>("POST", "/api/auth/logout"),
  logOutEverywhere: () => request<void>("POST", "/api/auth/logout-all"),
  changePassword: (current_password: string, new_password: string) =>
    request<unknown>("POST", "/api/auth/password", { current_password, new_password }),
  deleteAccount: (password: string) => request<void>("DELETE", "/api/auth/me", { password }),

  // A search runs one at a time per account (429 search_in_progress otherwise): `signal`
  // lets the page abandon a search the user has typed past.
  texts: (limit: number, offset: number, q: string, signal?: AbortSignal) =>
    request<TextPage>("GET", `/api/texts?${new URLSearchParams({ limit: String(limit), offset: String(offset), q })}`,
                      undefined, false, {}, signal),
  text: (id: number) => request<{ text: Text }>("GET", `/api/texts/${id}`),
  createText: (title: string, content: string) => request<{ text: Text }>("POST", "/api/texts", { title, content }),
  // If-Match: the version this page showed, so that an edit made elsewhere meanwhile is
  // refused (412) instead of silently overwritten.
  updateText: (id: number, title: string, content: string, version: number) =>
    request<{ text: Text }>("PUT", `/api/texts/${id}`, { title, content }, false, { "If-Match": `"${version}"` }),
  deleteText: (id: number, version: number) =>
    request<void>("DELETE", `/api/texts/${id}`, undefined, false, { "If-Match": `"${version}"` }),

  keys: () => request<{ items: ApiKey[] }>("GET", "/api/keys"),
  // The password again: a key outlives the session, so the session alone cannot mint one.
  createKey: (name: string, password: string) => request<KeyCreated>("POST", "/api/keys", { name, password }),
  revokeKey: (id: number) => request<void>("DELETE", `/api/keys/${id}`),
};
