// The shell: who is signed in, the navigation, and which page the path shows.
import { useEffect, useState } from "react";
import { api, User, whenSessionEnds } from "./api/client";
import { Account } from "./pages/Account";
import { LogIn, Register } from "./pages/Auth";
import { Keys } from "./pages/Keys";
import { TextList, TextView } from "./pages/Texts";
import { linkProps, navigate, usePath } from "./router";

export function App() {
  const path = usePath();
  const [user, setUser] = useState<User | null | undefined>(undefined);  // undefined: still asking

  useEffect(() => {
    whenSessionEnds(() => {
      setUser(null);
      navigate("/login");
    });
    api.me().then((r) => setUser(r.user), () => setUser(null));
  }, []);

  const publicPage = path === "/login" || path === "/register";
  useEffect(() => {
    if (user === null && !publicPage) navigate("/login");
    if (user && (publicPage || path === "/")) navigate("/texts");
  }, [user, path, publicPage]);

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
      {page(path, user, signedIn, signedOut)}
    </>
  );
}

function page(path: string, user: User | null, signedIn: (u: User) => void, signedOut: () => void) {
  if (path === "/register") return <Register onIn={signedIn} />;
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
