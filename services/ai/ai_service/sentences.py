"""Sentence splitting for English and Korean (and text that mixes them).

A sentence ends
  * at a run of `.`, `!`, `?`, `…` followed by whitespace or the end of the line
    (closing quotes and brackets right after the run stay with the sentence);
  * at a run of the full-width `。`, `！`, `？`, whether or not a space follows:
    Chinese and Japanese text puts none after them, and they never occur inside
    a word or a number, so they are safe to split on;
  * at every line break: a title, a list item or a paragraph is never glued to
    the next one (the cost is that hard-wrapped prose splits at its wraps).

It does not end at a period inside a number (`3.14`: no whitespace follows) or
after a common English abbreviation or an initial (`Mr.`, `e.g.`, `U.S.`, `J.`).
Fragments without a single letter or digit (`***`, `---`) are not sentences.
"""

from __future__ import annotations

import re

# The terminator run, then any closing punctuation that belongs to the sentence.
#
# Linear time, whatever the text: a match may only start at the first
# terminator of a run (the lookbehinds), and the run and its closers are taken
# whole, never given back (possessive `++`, `*+`; Python 3.11). Giving back
# could never succeed anyway — a shorter run is followed by a terminator, not
# by whitespace — but without these the engine retried from every position of
# a run and backtracked through the rest of it: "Hello" + "." * 16_000 + "x"
# took seconds, a 1 MiB run hours, holding the GIL.
_CLOSERS = "\"'”’)\\]」』"
_END = re.compile(
    rf"(?:(?<![.!?…])[.!?…]++[{_CLOSERS}]*+(?=\s|$))|(?:(?<![。！？])[。！？]++[{_CLOSERS}]*+)"
)

# Longer than any abbreviation; looking no further back keeps a line of a
# million "Mr." linear.
_LONGEST_ABBREVIATION = 8

# Lowercase, without the final period. Words that also end sentences often
# ("etc.", "no.", "Inc.") are left out: splitting after them is the better error.
ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "cf",
        "e.g", "i.e", "u.s", "u.k", "u.n", "a.m", "p.m", "approx", "dept",
        "est", "fig", "gen", "gov", "lt", "col", "sgt", "capt", "rev", "vol",
    }
)

_HAS_WORD = re.compile(r"[^\W_]")


def _is_abbreviation(line: str, period: int) -> bool:
    """Whether the word before `line[period]` (a lone period) is an abbreviation.

    The word is the letters and inner dots right before it ("e.g", "U.S").
    """
    begin = period
    while begin > 0 and (line[begin - 1].isalpha() or line[begin - 1] == "."):
        begin -= 1
        if period - begin > _LONGEST_ABBREVIATION:
            return False
    word = line[begin:period].strip(".")
    if not word:
        return False
    # A single capital letter is an initial ("J. R. R. Tolkien").
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _split_line(line: str) -> list[str]:
    sentences = []
    start = 0
    for match in _END.finditer(line):
        if match.group(0) == "." and _is_abbreviation(line, match.start()):
            continue
        sentences.append(line[start : match.end()])
        start = match.end()
    sentences.append(line[start:])
    return sentences


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` in order, stripped, each with its terminator."""
    result = []
    for line in text.splitlines():
        for piece in _split_line(line):
            sentence = piece.strip()
            if _HAS_WORD.search(sentence):
                result.append(sentence)
    return result


def has_words(text: str) -> bool:
    """Whether `text` contains a letter or a digit, i.e. at least one sentence."""
    return _HAS_WORD.search(text) is not None
