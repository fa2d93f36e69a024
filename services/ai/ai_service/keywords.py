"""Keywords of a text by TF-IDF over its sentences.

A term's score is its weight summed over the text's sentences, each sentence an
L2-normalised TF-IDF vector (`tfidf`): a term scores high when it is frequent in
the sentences that use it and not spread thinly over all of them. Equal scores
(rounded) go to the alphabetically first term, so the list is deterministic.

Terms must read as words here, unlike TextRank's bigrams: a Latin word is its
lowercase form (stop words, one-letter words and bare numbers dropped); a
Korean word loses a trailing particle ("날씨가" → "날씨") — but only when the
text also shows the stem bare or with another particle, because without a
dictionary a particle cannot be told from the end of a noun ("고양이" is a cat,
not "고양" + "이"). Chinese and Japanese runs are kept whole.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from dataclasses import dataclass

from .sentences import split_sentences
from .tfidf import tfidf
from .tokens import STOPWORDS, word_runs

_HANGUL = re.compile("[\uac00-\ud7a3]+")

# Longest first, so "공원에는" is 공원 + 에는 before it is 공원에 + 는.
PARTICLES = sorted(
    """
    에서는 에게는 으로는 까지는 부터는 에서도 으로써 으로서 에게서 한테서 이라고
    에는 에도 에만 로는 와는 과는 에서 에게 한테 까지 부터 처럼 보다 으로 라고 이랑
    은 는 이 가 을 를 에 의 도 로 와 과 만 랑
    """.split(),
    key=len,
    reverse=True,
)

# Pronouns and dependent nouns that are frequent in any Korean text.
KOREAN_STOPWORDS = frozenset("것 수 등 때 그 이 저 우리 저희 나 너 및 또".split())

_SCORE_DECIMALS = 6


@dataclass(frozen=True)
class Keyword:
    term: str
    score: float


def keywords(text: str, max_keywords: int) -> list[Keyword]:
    """The `max_keywords` best terms of `text`, best first (fewer if it has fewer terms)."""
    sentences = [word_runs(s) for s in split_sentences(text)]
    stems = korean_stems(run for runs in sentences for run, _ in runs if _HANGUL.fullmatch(run))
    vectors = tfidf([_terms(runs, stems) for runs in sentences])
    totals = vectors.term_totals()
    ranked = heapq.nsmallest(
        max_keywords,
        ((-round(float(total), _SCORE_DECIMALS), term) for term, total in zip(vectors.vocabulary, totals)),
    )
    return [Keyword(term, -negative) for negative, term in ranked]


def _terms(runs: list[tuple[str, bool]], stems: dict[str, str]) -> list[str]:
    terms = []
    for run, is_bigram_script in runs:
        if not is_bigram_script:
            if len(run) > 1 and run not in STOPWORDS and not run.isdigit():
                terms.append(run)
        elif run in stems:
            if stems[run] not in KOREAN_STOPWORDS:
                terms.append(stems[run])
        else:
            terms.append(run)
    return terms


def korean_stems(words) -> dict[str, str]:
    """Maps each Hangul word to itself without its trailing particle, when the text supports it.

    The stem of "날씨가" is "날씨" only if another form of it occurs ("날씨",
    "날씨는", ...); the longest particle with such support wins.
    """
    words = set(words)
    forms: dict[str, set[str]] = defaultdict(set)  # stem -> the words that could carry it
    for word in words:
        forms[word].add(word)
        for particle in PARTICLES:
            if word.endswith(particle) and len(word) > len(particle):
                forms[word[: -len(particle)]].add(word)

    stems = {}
    for word in words:
        stems[word] = word
        for particle in PARTICLES:
            stem = word[: -len(particle)]
            if word.endswith(particle) and len(word) > len(particle) and len(forms[stem]) >= 2:
                stems[word] = stem
                break
    return stems
