// A confirmed address: the banner of an account whose address is not confirmed yet (with
// Resend), and the mail's link (/verify-email?token=…), which confirms it signed in or not.
import { useEffect, useState } from "react";
import { useAction } from "../action";
import { api, ApiError, User } from "../api/client";
import { FormError, tooSoon } from "../forms";
import { linkProps, useLinkToken } from "../router";

export function VerifyBanner({ email }: { email: string }) {
  const [sent, setSent] = useState(false);
  const { busy, error, submit } = useAction();
  const resend = submit(async () => {
    setSent(false);
    await api.requestVerification();
    setSent(true);
  });
  const wait = tooSoon(error);
  return (
    <section className="banner" aria-label="Unconfirmed address">
      <p>
        Confirm your address: we sent a link to <strong>{email}</strong>.
      </p>
      <button className="secondary" onClick={resend} disabled={busy}>{busy ? "Sending…" : "Resend"}</button>
      {sent && <span role="status">Sent.</span>}
      {wait ? <p className="form-error" role="alert">{wait}</p> : <FormError error={error} />}
    </section>
  );
}

// One confirmation per token for the page's life: React's StrictMode runs an effect twice in
// development, and a second POST would find the token already used. A failure is forgotten,
// so that coming back to the page tries again.
const confirmations = new Map<string, Promise<User>>();
function confirmOnce(token: string): Promise<User> {
  let once = confirmations.get(token);
  if (!once) {
    once = api.confirmVerification(token).then(
      (r) => r.user,
      (err: unknown) => {
        confirmations.delete(token);
        throw err;
      },
    );
    confirmations.set(token, once);
  }
  return once;
}

/** The mail's link. `onVerified`: the address is confirmed (the shell asks again who is
 *  signed in, which drops the banner). */
export function VerifyEmail({ signedIn, onVerified }: { signedIn: boolean; onVerified: () => void }) {
  const token = useLinkToken();
  const [confirmed, setConfirmed] = useState<User | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!token) return;
    let current = true;
    confirmOnce(token).then(
      (user) => {
        if (!current) return;
        setConfirmed(user);
        onVerified();
      },
      (err: unknown) => current && setError(err),
    );
    return () => {
      current = false;
    };
  }, [token]);

  const onward = signedIn ? <a {...linkProps("/texts")}>Go to your texts</a> : <a {...linkProps("/login")}>Log in</a>;
  if (confirmed)
    return (
      <main className="narrow">
        <h1>Address confirmed</h1>
        <p role="status">Your address <strong>{confirmed.email}</strong> is confirmed.</p>
        <p>{onward}</p>
      </main>
    );
  if (!token || (error instanceof ApiError && error.code === "invalid_verification_token"))
    return (
      <main className="narrow">
        <h1>This link does not work</h1>
        <p role="alert">
          The confirmation link is unknown, already used, or expired.{" "}
          {signedIn ? "Use Resend above for a new one." : "Log in: the page then offers to send a new one."}
        </p>
        <p>{onward}</p>
      </main>
    );
  return (
    <main className="narrow">
      <h1>Confirming your address</h1>
      {error ? <FormError error={error} /> : <p aria-live="polite">Confirming…</p>}
    </main>
  );
}
