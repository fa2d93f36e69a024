"""Words of a sentence, and the terms TextRank compares sentences by.

A sentence is cut into runs of one script: Hangul syllables, CJK ideographs and
kana ("bigram scripts"), or any other letters and digits (Latin and the rest),
so "API를" gives "api" and "를".

For similarity, a Latin word is its lowercase form, English stop words
dropped. A Hangul word is its character bigrams: Korean glues particles and
endings to the word ("공원에", "공원을", "공원은" are one noun), so whole words
rarely match across sentences, while the bigram "공원" is shared by all three —
a dictionary-free stand-in for a morphological analyser. Chinese and Japanese
write no spaces, so the same bigrams are the only usable unit there too.
"""

from __future__ import annotations

import re

_BIGRAM_SCRIPTS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3"
_RUN = re.compile(rf"([{_BIGRAM_SCRIPTS}]+)|([^\W_{_BIGRAM_SCRIPTS}]+)")

# Function words that would otherwise make every English sentence look alike.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because
    been before being below between both but by can could did do does doing
    down during each few for from further had has have having he her here hers
    herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves
    out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would
    you your yours yourself yourselves also may might must shall s t ll re ve d
    """.split()
)


def word_runs(sentence: str) -> list[tuple[str, bool]]:
    """The single-script runs of `sentence`: (run, is_bigram_script), Latin lowercased."""
    runs = []
    for match in _RUN.finditer(sentence):
        bigram_run, other_run = match.groups()
        if bigram_run is not None:
            runs.append((bigram_run, True))
        else:
            runs.append((other_run.lower(), False))
    return runs


def bigrams(run: str) -> list[str]:
    """Overlapping character pairs of `run`; a one-character run is its own term."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def similarity_terms(sentence: str) -> list[str]:
    """The terms TextRank compares `sentence` by (with repeats: they are its term frequencies)."""
    terms = []
    for run, is_bigram_script in word_runs(sentence):
        if is_bigram_script:
            terms.extend(bigrams(run))
        elif run not in STOPWORDS:
            terms.append(run)
    return terms
