// The shell: who is signed in, the navigation, and which page the path shows.
import { useEffect, useState } from "react";
import { api, User, whenSessionEnds } from "./api/client";
import { Account } from "./pages/Account";
import { LogIn, Register } from "./pages/Auth";
import { Keys } from "./pages/Keys";
import { ForgotPassword, ResetPassword } from "./pages/Recovery";
import { TextList, TextView } from "./pages/Texts";
import { VerifyBanner, VerifyEmail } from "./pages/Verify";
import { linkProps, navigate, usePath } from "./router";

export function App() {
  const path = usePath();
  const [user, setUser] = useState<User | null | undefined>(undefined);  // undefined: still asking

  // Asks who is signed in: at the start, and when that may have changed outside this page's
  // own log in and out (an address confirmed, a password reset that ended every session).
  const refresh = () => api.me().then((r) => setUser(r.user), () => setUser(null));
  useEffect(() => {
    whenSessionEnds(() => {
      setUser(null);
      navigate("/login");
    });
    refresh();
  }, []);

  // Public pages are for the signed out; a mail's link opens its page either way.
  const publicPage = path === "/login" || path === "/register" || path === "/forgot-password";
  const mailLink = path === "/reset-password" || path === "/verify-email";
  useEffect(() => {
    if (user === null && !publicPage && !mailLink) navigate("/login");
    if (user && (publicPage || path === "/")) navigate("/texts");
  }, [user, path, publicPage, mailLink]);

  const signedIn = (u: User) => {
    setUser(u);
    navigate("/texts");
  };
  const signedOut = () => {
    setUser(null);
    navigate("/login");
  };

  if (user === undefined) return <p className="loading" aria-live="polite">Loading…</p>;
  return (
    <>
      <header>
        <a className="brand" {...linkProps(user ? "/texts" : "/login")}>spur-app</a>
        <nav aria-label="Main">
          {user && (
            <>
              <a {...linkProps("/texts")} aria-current={path.startsWith("/texts") ? "page" : undefined}>Texts</a>
              <a {...linkProps("/keys")} aria-current={path === "/keys" ? "page" : undefined}>API keys</a>
              <a {...linkProps("/account")} aria-current={path === "/account" ? "page" : undefined}>Account</a>
            </>
          )}
          <a href="/docs">API docs</a>
          {user && (
            <button className="secondary" onClick={async () => {
              try {
                await api.logOut();
              } finally {
                signedOut();
              }
            }}>Log out</button>
          )}
        </nav>
      </header>
      {user && !user.email_verified && path !== "/verify-email" && <VerifyBanner email={user.email} />}
      {page(path, user, signedIn, signedOut, refresh)}
    </>
  );
}

function page(path: string, user: User | null, signedIn: (u: User) => void, signedOut: () => void, refresh: () => void) {
  if (path === "/register") return <Register onIn={signedIn} />;
  if (path === "/reset-password") return <ResetPassword onReset={refresh} />;
  if (path === "/verify-email") return <VerifyEmail signedIn={user !== null} onVerified={refresh} />;
  if (path === "/forgot-password") return <ForgotPassword />;
  if (!user) return <LogIn onIn={signedIn} />;
  if (path === "/texts" || path === "/") return <TextList />;
  const text = /^\/texts\/(\d+)$/.exec(path);
  if (text) return <TextView id={Number(text[1])} />;
  if (path === "/keys") return <Keys />;
  if (path === "/account") return <Account user={user} onOut={signedOut} />;
  return (
    <main>
      <h1>Page not found</h1>
      <p><a {...linkProps("/texts")}>Back to the texts</a></p>
    </main>
  );
}
