// API keys: create one (with the password again; its secret shown once), list them, revoke one.
import { useEffect, useState } from "react";
import { useAction } from "../action";
import { api, ApiError, ApiKey, KeyCreated } from "../api/client";
import { Field, FormError, fieldError } from "../forms";

const when = (t: string | null | undefined) => (t ? new Date(t).toLocaleString() : "never");
const wrongPassword = (error: unknown) =>
  error instanceof ApiError && error.code === "invalid_credentials" ? "That is not your password." : undefined;
// A key acts without the password or the mail: the server mints one only for an account whose
// address is confirmed (403 email_unverified), which the banner above the page offers to do.
const unverified = (error: unknown) => error instanceof ApiError && error.code === "email_unverified";
// The key was made but its answer was lost (the server keeps no copy of a secret): the list
// shows it; it can only be revoked and made again.
const madeUnseen = (error: unknown) => error instanceof ApiError && error.code === "idempotency_key_applied";

export function Keys() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [created, setCreated] = useState<KeyCreated | null>(null);
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);  // of the list: loading it, revoking
  const creation = useAction();
  const createError = creation.error;

  const load = () => api.keys().then((r) => setKeys(r.items), setError);
  useEffect(() => {
    load();
  }, []);

  useEffect(() => {
    if (madeUnseen(createError)) load();
  }, [createError]);
  const create = creation.submit(async (key) => {
    setCreated(await api.createKey({ name, password }, key));
    setCopied(false);
    setName("");
    setPassword("");
    setError(null);
    await load();
  }, { name, password });
  async function revoke(id: number) {
    try {
      await api.revokeKey(id);
      setConfirming(null);
      await load();
    } catch (err) {
      setError(err);
    }
  }
  async function copy() {
    if (!created) return;
    await navigator.clipboard.writeText(created.secret);
    setCopied(true);
  }

  return (
    <main>
      <h1>API keys</h1>
      <p>An API key lets a program use the texts API in your name with the <code>X-API-Key</code> header.</p>
      <form className="panel inline" onSubmit={create} aria-label="Create key">
        <Field label="Key name" value={name} onChange={setName} error={fieldError(createError, "/name")} />
        <Field label="Your password" type="password" autoComplete="current-password" value={password}
               onChange={setPassword} error={fieldError(createError, "/password") ?? wrongPassword(createError)} />
        <button type="submit" disabled={creation.busy}>Create key</button>
      </form>
      {unverified(createError) ? (
        <p className="form-error" role="alert">
          Confirm your e-mail address first: a key lets a program act in your name, so one is made only for an
          account whose address is confirmed. Follow the link in the mail we sent, or use Resend above.
        </p>
      ) : madeUnseen(createError) ? (
        <p className="form-error" role="alert">
          The key was created, but its answer was lost on the way and its secret cannot be shown again. Revoke it
          below and create another.
        </p>
      ) : (
        !wrongPassword(createError) && <FormError error={createError} fields={["/name", "/password"]} />
      )}
      {created && (
        <section className="secret" aria-label="New key">
          <p className="warning" role="status">
            Copy the key <strong>{created.key.name}</strong> now: it is shown this once and cannot be seen again.
          </p>
          <code data-testid="secret">{created.secret}</code>
          <button onClick={copy}>Copy</button>
          {copied && <span role="status"> Copied.</span>}
        </section>
      )}
      <FormError error={error} />
      {keys === null && !error && <p aria-live="polite">Loading…</p>}
      {keys && keys.length === 0 && <p className="empty">No API keys yet.</p>}
      {keys && keys.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td><code>{k.prefix}…</code></td>
                <td>{when(k.created_at)}</td>
                <td>{when(k.last_used_at)}</td>
                <td>{when(k.expires_at)}</td>
                <td>
                  {confirming === k.id ? (
                    <span role="group" aria-label={`Confirm revoking ${k.name}`} className="confirm">
                      Revoke for good?
                      <button className="danger" onClick={() => revoke(k.id)} aria-label={`Revoke ${k.name} for good`}>Revoke</button>
                      <button className="secondary" onClick={() => setConfirming(null)}>Cancel</button>
                    </span>
                  ) : (
                    <button className="danger" onClick={() => setConfirming(k.id)} aria-label={`Revoke ${k.name}`}>Revoke</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
