// The server-sent-events reader: the framing rules of the HTML standard, whatever the chunks a
// network hands over — an event, a line, a CRLF or a UTF-8 character split across two reads.
import { describe, expect, it } from "vitest";
import { createSseParser, readEvents, SseEvent } from "./sse";

/** The events `chunks` make, pushed one after another. */
function parse(...chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e));
  for (const c of chunks) parser.push(c);
  return events;
}
const ev = (event: string, data: string, id = "") => ({ event, data, id });

/** A body that hands over `chunks` (bytes), one per read. */
function body(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}
async function collect(events: AsyncIterable<SseEvent>) {
  const all: SseEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}

const stream =
  'event: sentence\ndata: {"index": 0, "text": "First."}\n\n' +
  ": keep-alive\n\n" +
  "retry: 3000\n" +
  'event: sentence\ndata: {"index": 1, "text": "Second."}\n\n' +
  'event: done\ndata: {"sentences": 2, "cached": false, "version": 7}\n\n';
const expected = [
  ev("sentence", '{"index": 0, "text": "First."}'),
  ev("sentence", '{"index": 1, "text": "Second."}'),
  ev("done", '{"sentences": 2, "cached": false, "version": 7}'),
];

describe("the parser", () => {
  it("dispatches each event at its blank line, skipping comments and retry", () => {
    expect(parse(stream)).toEqual(expected);
  });

  it("gives the same events however the text is cut in two", () => {
    for (let i = 0; i <= stream.length; ++i) expect(parse(stream.slice(0, i), stream.slice(i))).toEqual(expected);
  });

  it("gives the same events fed one character at a time", () => {
    expect(parse(...stream.split(""))).toEqual(expected);
  });

  it("takes CRLF, LF and CR as line ends, a CRLF split between chunks as one", () => {
    for (const eol of ["\r\n", "\n", "\r"]) {
      const text = stream.replace(/\n/g, eol);
      expect(parse(text)).toEqual(expected);
      expect(parse(...text.split(""))).toEqual(expected);
    }
    expect(parse("data: a\r", "\ndata: b\r", "", "\n\r\n")).toEqual([ev("message", "a\nb")]);
  });

  it("joins the data lines of one event with newlines", () => {
    expect(parse("event: poem\ndata: Roses are red,\ndata:  violets are blue\ndata\n\n")).toEqual([
      ev("poem", "Roses are red,\n violets are blue\n"),
    ]);
  });

  it("strips one space after the colon, and takes a line without one as a field with no value", () => {
    expect(parse("data:no space\n\ndata:  two spaces\n\ndata\n\n")).toEqual([
      ev("message", "no space"),
      ev("message", " two spaces"),
      ev("message", ""),
    ]);
  });

  it("names an event without an event line 'message', and forgets the name after each event", () => {
    expect(parse("event: a\ndata: 1\n\ndata: 2\n\n")).toEqual([ev("a", "1"), ev("message", "2")]);
  });

  it("dispatches nothing for an event without data, comments only, or unknown fields", () => {
    expect(parse("event: empty\n\n: just a comment\n\nretry: 10\nfoo: bar\n\n\n\n")).toEqual([]);
  });

  it("keeps the last event id", () => {
    expect(parse("id: 4\ndata: a\n\ndata: b\n\n")).toEqual([ev("message", "a", "4"), ev("message", "b", "4")]);
  });

  it("drops an event the stream ends in the middle of", () => {
    expect(parse('event: sentence\ndata: {"index": 0}\n')).toEqual([]);
    expect(parse("data: a\n\ndata: b")).toEqual([ev("message", "a")]);
  });

  it("skips a byte order mark opening the stream, and only there", () => {
    expect(parse("\uFEFFdata: a\n\n")).toEqual([ev("message", "a")]);
    expect(parse("", "\uFEFF", "data: a\n\n")).toEqual([ev("message", "a")]);
    expect(parse("data: \uFEFFa\n\n")).toEqual([ev("message", "\uFEFFa")]);
  });
});

describe("readEvents", () => {
  const bytes = new TextEncoder().encode(stream.replace("First.", "Première. Übung."));

  it("reads the events of a body, UTF-8 characters split between reads included", async () => {
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    const events = await collect(readEvents(body(chunks)));
    expect(events.map((e) => e.event)).toEqual(["sentence", "sentence", "done"]);
    expect(JSON.parse(events[0]!.data)).toEqual({ index: 0, text: "Première. Übung." });
  });

  it("yields an event as soon as its chunk is read, before the body ends", async () => {
    let later!: ReadableStreamDefaultController<Uint8Array>;
    const open = new ReadableStream<Uint8Array>({ start: (c) => void (later = c) });
    const events = readEvents(open);
    later.enqueue(new TextEncoder().encode("data: first\n\ndata: sec"));
    expect((await events.next()).value).toEqual(ev("message", "first"));
    later.enqueue(new TextEncoder().encode("ond\n\n"));
    later.close();
    expect((await events.next()).value).toEqual(ev("message", "second"));
    expect((await events.next()).done).toBe(true);
  });

  it("cancels the body when the reader stops early", async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new TextEncoder().encode("data: again\n\n")),
      cancel: () => void (cancelled = true),
    });
    for await (const e of readEvents(endless)) {
      expect(e.data).toBe("again");
      break;
    }
    expect(cancelled).toBe(true);
  });

  it("rejects as the body's read does", async () => {
    const failing = new ReadableStream<Uint8Array>({
      start: (c) => (c.enqueue(new TextEncoder().encode("data: a\n\n")), c.error(new TypeError("network error"))),
    });
    const events = readEvents(failing);
    await expect(collect(events)).rejects.toThrow("network error");
  });
});
