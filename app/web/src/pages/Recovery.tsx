// Account recovery, signed out: Forgot password (a mail with a link, the same words whether an
// account has the address or not) and the link's page, which sets a new password once.
import { useState } from "react";
import { useAction } from "../action";
import { api, ApiError } from "../api/client";
import { Field, FormError, fieldError, tooSoon } from "../forms";
import { linkProps, useLinkToken } from "../router";

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [asked, setAsked] = useState(false);
  const { busy, error, submit } = useAction();
  const send = submit(async () => {
    setAsked(false);
    await api.requestPasswordReset(email);
    setAsked(true);
  });
  const wait = tooSoon(error);
  return (
    <main className="narrow">
      <h1>Forgot password</h1>
      <p>Enter your account's address: we send it a link to set a new password.</p>
      <form onSubmit={send} aria-label="Forgot password">
        <Field label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} required
               error={fieldError(error, "/email")} />
        {wait ? <p className="form-error" role="alert">{wait}</p> : <FormError error={error} fields={["/email"]} />}
        {/* The server answers 202 whether or not the address has an account, and so does this. */}
        {asked && (
          <p role="status">
            If an account has this address, a link is on its way. It works once, for 30 minutes.
          </p>
        )}
        <button type="submit" disabled={busy}>{busy ? "Sending…" : "Send link"}</button>
      </form>
      <p>
        Remembered it? <a {...linkProps("/login")}>Log in</a>
      </p>
    </main>
  );
}

/** The mail's link (/reset-password?token=…). `onReset`: the password is set (every session of
 *  the account ended with it: the shell asks again who is signed in). */
export function ResetPassword({ onReset }: { onReset: () => void }) {
  const token = useLinkToken();
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, submit } = useAction();
  // Keyed: a retry of this submission replays its 204 instead of meeting a token it burned.
  const reset = submit(async (key) => {
    await api.resetPassword({ token, new_password: password }, key);
    setPassword("");
    setDone(true);
    onReset();
  }, { token, password });

  if (done)
    return (
      <main className="narrow">
        <h1>Password set</h1>
        <p role="status">Your new password is set. Every session and API key of the account has been ended.</p>
        <p><a {...linkProps("/login")}>Log in</a> with the new password.</p>
      </main>
    );
  if (!token || (error instanceof ApiError && error.code === "invalid_reset_token"))
    return (
      <main className="narrow">
        <h1>This link does not work</h1>
        <p role="alert">
          The link is unknown, already used, or expired: a link sets a password once, within 30 minutes of being sent.
        </p>
        <p><a {...linkProps("/forgot-password")}>Request another link</a></p>
      </main>
    );
  return (
    <main className="narrow">
      <h1>Set a new password</h1>
      <form onSubmit={reset} aria-label="Password reset">
        <Field label="New password" type="password" autoComplete="new-password" value={password}
               onChange={setPassword} required error={fieldError(error, "/new_password")} />
        <FormError error={error} fields={["/new_password"]} />
        <button type="submit" disabled={busy}>{busy ? "Saving…" : "Set password"}</button>
      </form>
    </main>
  );
}
