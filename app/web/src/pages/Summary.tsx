// A text's summary, written by the AI service and shown sentence by sentence as it streams in
// (POST /api/texts/{id}/summary, server-sent events). Summarize starts it and becomes Stop
// while it runs — the same button, so the keyboard focus stays on it.
import { useEffect, useId, useRef, useState } from "react";
import { api, ApiError } from "../api/client";

type Phase =
  | { is: "idle" }
  | { is: "running" }
  | { is: "done"; version: number; cached: boolean }
  | { is: "stopped" }
  | { is: "failed"; error: unknown };

// The server's codes in words for the reader; others show the server's (or the client's) message.
const explained: Record<string, string> = {
  ai_unavailable: "The summary service is unavailable. Try again in a moment.",
  ai_timeout: "The summary took too long. Try again in a moment.",
  ai_error: "The summary service failed. Try again, or summarize another text.",
  summary_in_progress: "A summary is already being made for you. Wait for it to finish.",
  too_many_summaries: "Many summaries are being made right now. Try again in a moment.",
};
function messageOf(error: unknown) {
  if (error instanceof ApiError) return explained[error.code] ?? error.message;
  return `Something went wrong: ${String(error)}`;
}

function statusOf(phase: Phase) {
  switch (phase.is) {
    case "idle": return "A few sentences on what this text says, written by the summary service.";
    case "running": return "Summarizing…";
    case "done": return `Summary of version ${phase.version}${phase.cached ? ", from cache" : ""}.`;
    case "stopped": return "Stopped.";
    case "failed": return "";
  }
}

/** The summary of text `textId`; give it `key={textId}`, so that another text starts afresh. */
export function Summary({ textId }: { textId: number }) {
  const [sentences, setSentences] = useState<string[]>([]);
  const [phase, setPhase] = useState<Phase>({ is: "idle" });
  const heading = useId();
  // Each run has its own AbortController, as each visit of TextView has: Stop, another run or
  // leaving the text (unmounting this) aborts it, which closes the stream, and whatever it was
  // about to show is dropped.
  const run = useRef<AbortController>();
  useEffect(() => () => run.current?.abort(), []);

  async function summarize() {
    run.current?.abort();
    const mine = new AbortController();
    run.current = mine;
    setSentences([]);
    setPhase({ is: "running" });
    try {
      for await (const event of api.summarize(textId, { signal: mine.signal })) {
        if (mine.signal.aborted) return;
        if (event.type === "sentence") setSentences((shown) => [...shown, event.text]);
        else setPhase({ is: "done", version: event.version, cached: event.cached });
      }
    } catch (error) {
      if (!mine.signal.aborted) setPhase({ is: "failed", error });
    }
  }
  function stop() {
    run.current?.abort();
    setPhase({ is: "stopped" });
  }

  const running = phase.is === "running";
  return (
    <section className="panel summary" aria-labelledby={heading}>
      <div className="title-row">
        <h2 id={heading}>Summary</h2>
        <button className={running ? "secondary" : undefined} onClick={running ? stop : summarize}>
          {running ? "Stop" : "Summarize"}
        </button>
      </div>
      <ol aria-live="polite">
        {sentences.map((sentence, i) => (
          <li key={i}>{sentence}</li>
        ))}
      </ol>
      <p role="status" className="meta">{statusOf(phase)}</p>
      {phase.is === "failed" && (
        <p className="form-error" role="alert">
          {messageOf(phase.error)}
        </p>
      )}
    </section>
  );
}
