// The state of a form's submit: busy while the request runs, the error it ended with, and the
// submission's Idempotency-Key.
import { FormEvent, useRef, useState } from "react";
import { newIdempotencyKey, unanswered } from "./api/idempotency";

export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // Read and set synchronously: a second click that arrives before the button shows disabled
  // still finds the first submission running, and sends nothing.
  const running = useRef(false);
  // The last submission that may have run without its answer reaching the page, and its input.
  const pending = useRef<{ key: string; input: string } | null>(null);

  /**
   * A submit handler running `work` with the submission's Idempotency-Key; its error is kept
   * for the form to show. The key is new for each submission, except that one of the same
   * `input` as a submission that got no definite answer (no answer, a 5xx, still running)
   * reuses its key, so that pressing the button again cannot run it twice; an answered one
   * (a success, a refusal) frees the next submission to run anew.
   */
  const submit = (work: (key: string) => Promise<void>, input?: unknown) => async (e?: FormEvent) => {
    e?.preventDefault();
    if (running.current) return;
    running.current = true;
    const fingerprint = JSON.stringify(input ?? null);
    const key = pending.current?.input === fingerprint ? pending.current.key : newIdempotencyKey();
    pending.current = { key, input: fingerprint };
    setBusy(true);
    setError(null);
    try {
      await work(key);
      pending.current = null;
    } catch (err) {
      if (!unanswered(err)) pending.current = null;
      setError(err);
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}
