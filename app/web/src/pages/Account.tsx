// The account: who is signed in, a new password, logging out everywhere, deleting the account.
import { useState } from "react";
import { useAction } from "../action";
import { api, ApiError, User } from "../api/client";
import { Field, FormError, fieldError } from "../forms";

export function Account({ user, onOut }: { user: User; onOut: () => void }) {
  const [current, setCurrent] = useState("");
  const [fresh, setFresh] = useState("");
  const [changed, setChanged] = useState(false);
  const [deletePassword, setDeletePassword] = useState("");
  const [confirming, setConfirming] = useState(false);
  const passwordChange = useAction();
  const deletion = useAction();
  const passwordError = passwordChange.error;
  const deleteError = deletion.error;

  const changePassword = passwordChange.submit(async (key) => {
    setChanged(false);
    await api.changePassword({ current_password: current, new_password: fresh }, key);
    setCurrent("");
    setFresh("");
    setChanged(true);
  }, { current, fresh });
  const deleteAccount = deletion.submit(async () => {
    if (!confirming) return setConfirming(true);
    await api.deleteAccount({ password: deletePassword });
    onOut();
  });
  const wrong = (error: unknown) =>
    error instanceof ApiError && error.code === "invalid_credentials" ? "That is not your current password." : undefined;

  return (
    <main className="narrow">
      <h1>Account</h1>
      <p>Signed in as <strong>{user.email}</strong>{user.name ? ` (${user.name})` : ""}.</p>

      <form className="panel" onSubmit={changePassword} aria-label="Change password">
        <h2>Change password</h2>
        <Field label="Current password" type="password" autoComplete="current-password" value={current}
               onChange={setCurrent} error={fieldError(passwordError, "/current_password") ?? wrong(passwordError)} />
        <Field label="New password" type="password" autoComplete="new-password" value={fresh} onChange={setFresh}
               error={fieldError(passwordError, "/new_password")} />
        {!wrong(passwordError) && <FormError error={passwordError} fields={["/current_password", "/new_password"]} />}
        {changed && <p role="status">Password changed. Other devices are signed out.</p>}
        <button type="submit" disabled={passwordChange.busy}>Save</button>
      </form>

      <section className="panel">
        <h2>Sessions</h2>
        <p>End every session of this account, on every device, this one included.</p>
        <button onClick={async () => (await api.logOutEverywhere(), onOut())}>Log out everywhere</button>
      </section>

      <form className="panel danger-zone" onSubmit={deleteAccount} aria-label="Delete account">
        <h2>Delete account</h2>
        <p>Deletes the account with all its texts and API keys. This cannot be undone.</p>
        <Field label="Current password" type="password" autoComplete="current-password" value={deletePassword}
               onChange={setDeletePassword} error={fieldError(deleteError, "/password") ?? wrong(deleteError)} />
        {!wrong(deleteError) && <FormError error={deleteError} fields={["/password"]} />}
        {confirming && <p role="alert">Press Delete account again to delete it for good.</p>}
        <button type="submit" className="danger">Delete account</button>
      </form>
    </main>
  );
}
