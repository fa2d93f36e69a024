// Log in and Create account.
import { useState } from "react";
import { useAction } from "../action";
import { api, ApiError, User } from "../api/client";
import { Field, FormError, fieldError } from "../forms";
import { linkProps } from "../router";

export function LogIn({ onIn }: { onIn: (user: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useAction();
  return (
    <main className="narrow">
      <h1>Log in</h1>
      <form onSubmit={submit(async () => onIn((await api.logIn({ email, password })).user))}>
        <Field label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} required
               error={fieldError(error, "/email")} />
        <Field label="Password" type="password" autoComplete="current-password" value={password}
               onChange={setPassword} required error={fieldError(error, "/password")} />
        <FormError error={error} fields={["/email", "/password"]} />
        <button type="submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button>
      </form>
      <p>
        <a {...linkProps("/forgot-password")}>Forgot password?</a>
      </p>
      <p>
        No account yet? <a {...linkProps("/register")}>Create account</a>
      </p>
    </main>
  );
}

export function Register({ onIn }: { onIn: (user: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useAction();
  // Keyed: sent again after a lost answer, the account is not created twice (a second try
  // would otherwise be refused as email_taken by the account the first one made).
  const register = submit(async (key) => {
    // idempotency_key_applied: the account was made but its answer was lost; logging in works.
    await api.register({ email, password }, key).catch((err: unknown) => {
      if (!(err instanceof ApiError && err.code === "idempotency_key_applied")) throw err;
    });
    onIn((await api.logIn({ email, password })).user);
  }, { email, password });
  const taken = error instanceof ApiError && error.code === "email_taken" ? error.message : undefined;
  return (
    <main className="narrow">
      <h1>Create account</h1>
      <form onSubmit={register}>
        <Field label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} required
               error={fieldError(error, "/email") ?? taken} />
        <Field label="Password" type="password" autoComplete="new-password" value={password}
               onChange={setPassword} required error={fieldError(error, "/password")} />
        {!taken && <FormError error={error} fields={["/email", "/password"]} />}
        <button type="submit" disabled={busy}>{busy ? "Creating…" : "Create account"}</button>
      </form>
      <p>
        Have an account? <a {...linkProps("/login")}>Log in</a>
      </p>
    </main>
  );
}
