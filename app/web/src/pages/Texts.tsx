// The texts: a searchable, paged list, a form for a new one, and one text to read, edit, delete
// or summarize (Summary.tsx).
import { FormEvent, useEffect, useRef, useState } from "react";
import { useAction } from "../action";
import { api, ApiError, Text, TextPage } from "../api/client";
import { Field, FormError, fieldError } from "../forms";
import { linkProps, navigate } from "../router";
import { Summary } from "./Summary";

const pageSize = 10;

export function TextList() {
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<TextPage | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    let current = true;
    const abandon = new AbortController();
    let timer: ReturnType<typeof setTimeout>;
    // The server runs one search per account at a time: a search typed past is abandoned, and
    // one refused because the abandoned one had not ended yet is asked again shortly.
    const load = (retries: number) => {
      api.texts({ limit: pageSize, offset, q: search }, abandon.signal).then(
        (p) => current && (setPage(p), setError(null)),
        (e) => {
          if (!current) return;
          if (e instanceof ApiError && e.code === "search_in_progress" && retries > 0) timer = setTimeout(() => load(retries - 1), 500);
          else setError(e);
        },
      );
    };
    timer = setTimeout(() => load(3), search ? 200 : 0);
    return () => {
      current = false;
      clearTimeout(timer);
      abandon.abort();
    };
  }, [search, offset, reloads]);

  return (
    <main>
      <div className="title-row">
        <h1>Texts</h1>
        {!creating && <button onClick={() => setCreating(true)}>New text</button>}
      </div>
      {creating && <NewText onCancel={() => setCreating(false)} onMadeUnseen={() => (setCreating(false), setReloads((n) => n + 1))} />}
      <div role="search">
        <Field label="Search" type="search" value={search} onChange={(v) => (setSearch(v), setOffset(0))}
               error={fieldError(error, "/q")} />
      </div>
      {page === null && !error && <p aria-live="polite">Loading…</p>}
      {!(error instanceof ApiError && error.about("/q")) && <FormError error={error} />}
      {page && page.items.length === 0 && (
        <p className="empty">{search ? `No text matches “${search}”.` : "No texts yet. Write the first one with New text."}</p>
      )}
      {page && page.items.length > 0 && (
        <>
          <ul className="cards" aria-label="Texts">
            {page.items.map((t) => (
              <li key={t.id}>
                <a {...linkProps(`/texts/${t.id}`)}>{t.title}</a>
                <p className="excerpt">{t.excerpt}</p>
                <p className="meta">{t.size} bytes · updated {new Date(t.updated_at).toLocaleString()}</p>
              </li>
            ))}
          </ul>
          <nav className="pager" aria-label="Pages">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>Previous</button>
            <span>
              {offset + 1}–{offset + page.items.length}
              {page.total != null && ` of ${page.total}`}
            </span>
            <button disabled={!page.has_more} onClick={() => setOffset(offset + pageSize)}>Next</button>
          </nav>
        </>
      )}
    </main>
  );
}

/** The form for a new text; `onMadeUnseen`: the text was made but its answer was lost. */
function NewText({ onCancel, onMadeUnseen }: { onCancel: () => void; onMadeUnseen: () => void }) {
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");
  const { busy, error, submit } = useAction();
  // Keyed: a retried submission (the client's own retry, Save pressed again after a network
  // error) never makes a second text.
  const create = submit(async (key) => {
    try {
      const { text } = await api.createText({ title, content }, key);
      navigate(`/texts/${text.id}`);
    } catch (err) {
      // Made, but its answer was lost (a crash between the two): the list shows it.
      if (err instanceof ApiError && err.code === "idempotency_key_applied") return onMadeUnseen();
      throw err;
    }
  }, { title, content });
  return (
    <form className="panel" onSubmit={create} aria-label="New text">
      <Field label="Title" value={title} onChange={setTitle} error={fieldError(error, "/title")} />
      <Field label="Content" multiline value={content} onChange={setContent} error={fieldError(error, "/content")} />
      <FormError error={error} fields={["/title", "/content"]} />
      <div className="buttons">
        <button type="submit" disabled={busy}>Save</button>
        <button type="button" className="secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

export function TextView({ id }: { id: number }) {
  const [text, setText] = useState<Text | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");
  const [busy, setBusy] = useState(false);
  // Each opening of a text is a visit with its own AbortController. Opening another text (the
  // same view, a new id) or leaving the page aborts it: its loads are cancelled, and an answer
  // that arrives anyway (a save, or a load that had already finished) sees the abort and is
  // dropped, so text A's answer never lands on text B.
  const visit = useRef<AbortController>();

  useEffect(() => {
    const mine = new AbortController();
    visit.current = mine;
    setText(null);
    setError(null);
    setEditing(false);
    setConfirming(false);
    setBusy(false);
    api.text(id, mine.signal).then(
      (r) => mine.signal.aborted || setText(r.text),
      (e) => mine.signal.aborted || setError(e),
    );
    return () => mine.abort();
  }, [id]);

  // The form's buttons wait while a save or a load of the latest version runs: a Save pressed
  // before the latest version arrived would send the old version (412 again), and the load,
  // landing after it, would then clear that refusal and leave the edit unsaved without a word.
  // `work` answers what to do with its result, done only if the visit it began in goes on.
  async function run(work: (signal: AbortSignal) => Promise<() => void>) {
    const { signal } = visit.current!;
    setBusy(true);
    try {
      const apply = await work(signal);
      if (signal.aborted) return;
      apply();
      setError(null);
    } catch (err) {
      if (!signal.aborted) setError(err);
    } finally {
      if (!signal.aborted) setBusy(false);
    }
  }
  function save(e: FormEvent) {
    e.preventDefault();
    // Not aborted on leaving: a save the user pressed still reaches the server.
    run(async () => {
      const saved = await api.updateText(id, { title, content }, text!.version);
      return () => (setText(saved.text), setEditing(false));
    });
  }
  const loadLatest = () =>
    run(async (signal) => {
      const latest = await api.text(id, signal);
      return () => setText(latest.text);
    });
  const remove = () =>
    run(async () => {
      await api.deleteText(id, text!.version);
      return () => navigate("/texts");
    });

  if (error instanceof ApiError && error.status === 404)
    return (
      <main>
        <h1>No such text</h1>
        <p><a {...linkProps("/texts")}>Back to the texts</a></p>
      </main>
    );
  if (!text) return <main>{error ? <FormError error={error} /> : <p aria-live="polite">Loading…</p>}</main>;
  return (
    <main>
      <p><a {...linkProps("/texts")}>← Texts</a></p>
      {editing ? (
        <form className="panel" onSubmit={save} aria-label="Edit text">
          <Field label="Title" value={title} onChange={setTitle} error={fieldError(error, "/title")} />
          <Field label="Content" multiline value={content} onChange={setContent} error={fieldError(error, "/content")} />
          <FormError error={error} fields={["/title", "/content"]} />
          {error instanceof ApiError && error.status === 412 && (
            <p>
              <button type="button" className="secondary" disabled={busy} onClick={loadLatest}>
                Load the latest version
              </button>{" "}
              (your edit stays in the form; save again to replace it)
            </p>
          )}
          <div className="buttons">
            <button type="submit" disabled={busy}>Save</button>
            <button type="button" className="secondary" onClick={() => (setEditing(false), setError(null))}>Cancel</button>
          </div>
        </form>
      ) : (
        <article>
          <h1>{text.title}</h1>
          <pre className="content">{text.content}</pre>
          <p className="meta">
            {text.size} bytes · created {new Date(text.created_at).toLocaleString()} · updated{" "}
            {new Date(text.updated_at).toLocaleString()}
          </p>
          <div className="buttons">
            <button onClick={() => (setTitle(text.title), setContent(text.content), setEditing(true))}>Edit</button>
            {confirming ? (
              <span role="group" aria-label="Confirm deletion" className="confirm">
                Delete this text for good?
                <button className="danger" onClick={remove}>Delete</button>
                <button className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
              </span>
            ) : (
              <button className="danger" onClick={() => setConfirming(true)}>Delete</button>
            )}
          </div>
          <FormError error={error} />
        </article>
      )}
      {/* Beside the article, not in it: an edit begun while a summary streams does not stop it. */}
      <Summary key={id} textId={id} />
    </main>
  );
}
