// Idempotency-Key for the API's writes (POST /api/texts, /api/keys, /api/auth/register,
// /api/auth/password, /api/auth/password-reset/confirm): one key per form submission, so that
// sending that submission again (the client's own retry, the user pressing Save again after
// "could not be reached") runs it at most once on the server, which replays its first answer.

/**
 * A fresh key: a random UUID. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost); a page served over plain http elsewhere builds the same version-4 UUID from
 * `crypto.getRandomValues`, which exists everywhere.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;  // version 4
  b[8] = (b[8]! & 0x3f) | 0x80;  // the RFC 4122 variant
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Seconds from a Retry-After header (delay-seconds or an HTTP-date, RFC 9110 §10.2.3), or
 * undefined when there is none or it means nothing.
 */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** How many times a keyed write is sent again after its first try, at most. */
export const maxRetries = 3;
/** The longest a retry waits, whatever Retry-After asks: the user is watching a busy button. */
const longestWaitMs = 5000;

/**
 * How long to wait before sending a keyed write again, in milliseconds, after it failed with
 * `failure` on try `attempt` (0 for the first); undefined when it must not be sent again: it
 * got a definite answer, or it has been retried `maxRetries` times.
 *
 * Sent again, with the same key: no answer at all (the connection failed: the write may or may
 * not have run; the server replays it if it did), 409 idempotency_key_in_use (the first is still
 * running: after its Retry-After), and 502/503/504 (a proxy found no instance, the database was
 * unavailable). Everything else is the server's answer to this write and is final.
 */
export function retryDelay(failure: { status: number; code: string; retryAfter?: number }, attempt: number): number | undefined {
  if (attempt >= maxRetries) return undefined;
  const backoff = 500 * 2 ** attempt;  // 0.5, 1, 2 s
  const asked = failure.retryAfter !== undefined ? failure.retryAfter * 1000 : undefined;
  let wait: number;
  if (failure.status === 0) wait = backoff;
  else if (failure.status === 409 && failure.code === "idempotency_key_in_use") wait = asked ?? 1000;
  else if (failure.status === 502 || failure.status === 503 || failure.status === 504) wait = asked ?? backoff;
  else return undefined;
  return Math.min(wait, longestWaitMs);
}

/**
 * Whether a write that failed with `failure` may have run without its answer reaching the page
 * (no answer, a gateway's or an unavailable server's, or still running): a submission of the
 * same input keeps its key, so that sending it again cannot run it twice.
 */
export function unanswered(failure: unknown): boolean {
  if (typeof failure !== "object" || failure === null) return false;
  const { status, code } = failure as { status?: unknown; code?: unknown };
  return status === 0 || (typeof status === "number" && status >= 500) || code === "idempotency_key_in_use";
}
