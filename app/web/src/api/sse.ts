// Server-sent events read from a fetch's body: EventSource cannot POST, nor be aborted together
// with the rest of a page's work. Parsing follows the HTML standard's "event stream
// interpretation" (https://html.spec.whatwg.org/multipage/server-sent-events.html): lines end
// in CRLF, LF or CR — a CRLF may be split across two chunks; `data:` lines join with "\n"; a
// line starting with ":" is a comment (keep-alive); `retry:` and unknown fields are ignored; an
// event is dispatched at a blank line, and one the stream ends in the middle of is dropped.

/** One event: its `event:` name ("message" when none is given) and its joined `data:` lines. */
export type SseEvent = { event: string; data: string; id: string };

/**
 * An incremental parser: `push` text as it arrives, in pieces of any size; each complete
 * event goes to `onEvent`, in order. Holds at most one unfinished line and one unfinished event.
 */
export function createSseParser(onEvent: (event: SseEvent) => void) {
  let line = "";          // the line being read, up to the last chunk's end
  let afterCR = false;    // the previous chunk ended in CR: an LF opening this one belongs to it
  let first = true;       // a byte order mark opening the stream is skipped
  let event = "";
  let data: string[] = [];
  let id = "";

  function field(text: string) {
    if (text === "") {
      // A blank line ends the event; one without data is no event (a spacer, comments only).
      if (data.length) onEvent({ event: event || "message", data: data.join("\n"), id });
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") event = value;
    else if (name === "data") data.push(value);
    else if (name === "id" && !value.includes("\0")) id = value;
    // "retry" (the reconnection delay: this reader does not reconnect) and others: ignored.
  }

  return {
    push(chunk: string) {
      if (!chunk) return;  // keeps a pending CR pending
      if (first) {
        if (chunk.startsWith("\uFEFF")) chunk = chunk.slice(1);
        first = false;
      }
      let start = 0;
      if (afterCR && chunk.startsWith("\n")) start = 1;
      afterCR = false;
      for (let i = start; i < chunk.length; ++i) {
        const c = chunk[i];
        if (c !== "\n" && c !== "\r") continue;
        field(line + chunk.slice(start, i));
        line = "";
        if (c === "\r") {
          if (i + 1 === chunk.length) afterCR = true;
          else if (chunk[i + 1] === "\n") ++i;
        }
        start = i + 1;
      }
      line += chunk.slice(start);
    },
  };
}

/**
 * The events of `body` (a fetch response's), as they arrive. Rejects as the read does: an
 * AbortError when the fetch's signal aborts, a TypeError when the connection fails. Leaving
 * the loop early (break, return, throw) cancels the body, which closes the connection.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();  // UTF-8, a character split across chunks kept for the next
  const ready: SseEvent[] = [];
  const parser = createSseParser((e) => ready.push(e));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      parser.push(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      while (ready.length) yield ready.shift()!;
      if (done) return;
    }
  } finally {
    // Not awaited: cancelling a body whose fetch was aborted rejects, and nothing is left to do.
    reader.cancel().catch(() => {});
  }
}
