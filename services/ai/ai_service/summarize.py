"""Extractive summaries by TextRank.

The text is split into sentences; each becomes a TF-IDF vector (`tfidf`); the
sentences are the nodes of a graph whose edges weigh their cosine similarity;
PageRank over that graph scores a sentence by how much of the rest of the text
it resembles. The best `max_sentences` are kept and given back in document
order, so the summary reads like the text.

Bound: the graph is a dense similarity matrix, quadratic in its nodes, so at
most MAX_GRAPH_SENTENCES sentences enter it — the ones closest to the text's
TF-IDF centroid, a linear-time pre-selection. Their similarities come from a
dense sentences × terms matrix (`TfIdf.shared_dense`) whose columns are
bounded too: a term in only one of those sentences is dropped (it adds to no
similarity between two of them), and each sentence keeps at most
MAX_GRAPH_TERMS of the terms it shares, its highest-weighted (equal weights:
the earlier term). So the matrix is at most 300 × 9,600 and its product with
itself at most 300 × 300 × 9,600 multiply-adds, about 0.4 s with Debian's
reference BLAS, whatever the text; before, 300 sentences of unique words or
random Hangul (no shared terms at all) made it 300 × 340,000 and took 8–14 s.

The cap is not a loss for ordinary text: a sentence shares far fewer than 64
terms with the others unless it is very long (100+ English content words, or
40+ Korean words — each gives a bigram or two), and then only its
lowest-weighted shared terms, which add least to a cosine, are left out.
Weights are not renormalised, so a capped sentence's similarities only shrink.

Past the graph the cost is linear in the text (splitting, tokens, TF-IDF). On
the 2-core development machine a 1 MiB text takes about 0.2–0.8 s, the worst
found under 1 s (see tests/test_summarize.py for the pathological cases); the
bound the tests hold it to is 5 s.

Determinism: the same text gives the same summary. PageRank comes from a
floating-point eigen-solver, so scores are rounded before ranking and equal
scores go to the earlier sentence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .sentences import split_sentences
from .tfidf import tfidf
from .tokens import similarity_terms

MAX_GRAPH_SENTENCES = 300
# Per sentence, of the terms it shares with another graph sentence; see the docstring.
MAX_GRAPH_TERMS = 64
_DAMPING = 0.85
_SCORE_DECIMALS = 12  # far above the eigen-solver's noise, far below real differences


@dataclass(frozen=True)
class Chosen:
    position: int  # index of the sentence among the text's sentences
    text: str
    score: float  # its PageRank among the graph's sentences


@dataclass(frozen=True)
class Summary:
    sentences: list[Chosen]  # in document order
    input_sentences: int


def summarize(text: str, max_sentences: int) -> Summary:
    """The `max_sentences` most central sentences of `text` (all of them if it has fewer)."""
    sentences = split_sentences(text)
    if not sentences:
        return Summary([], 0)
    vectors = tfidf([similarity_terms(s) for s in sentences])

    candidates = np.arange(len(sentences))
    if len(sentences) > MAX_GRAPH_SENTENCES:
        closeness = vectors.centroid_similarity()
        candidates = np.sort(_best_first(closeness, candidates)[:MAX_GRAPH_SENTENCES])

    matrix = vectors.shared_dense(candidates, MAX_GRAPH_TERMS)
    similarity = matrix @ matrix.T
    np.fill_diagonal(similarity, 0.0)  # a sentence does not vote for itself
    scores = np.round(textrank(similarity), _SCORE_DECIMALS)

    best = _best_first(scores, candidates)[:max_sentences]
    chosen = [Chosen(int(candidates[i]), sentences[candidates[i]], float(scores[i])) for i in sorted(best)]
    return Summary(chosen, len(sentences))


def _best_first(scores: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Indices into `scores` from highest to lowest score, equal scores by position."""
    return np.lexsort((positions, -scores))


def textrank(similarity: np.ndarray) -> np.ndarray:
    """PageRank of each node of the weighted graph given by a symmetric similarity matrix."""
    graph = nx.from_numpy_array(similarity)  # an edge per non-zero similarity, weight = similarity
    ranks = _pagerank(graph)
    return np.array([ranks[node] for node in range(len(similarity))])


# nx.pagerank needs scipy, which Debian 12 cannot install beside spur's Boost
# (see README); pagerank_numpy is the dense eigenvector solution, right for a
# graph capped at a few hundred nodes. On every call NetworkX 2.8 warns that 3.0
# drops it, that google_matrix will return an ndarray, and numpy that np.matrix
# is discouraged: those three warnings, and only them, are silenced once, here —
# warnings.catch_warnings around the call would race, as summaries run on
# several worker threads. Without pagerank_numpy (NetworkX 3) the same
# computation is done from google_matrix, which NetworkX 3 keeps.
PAGERANK_NUMPY_WARNINGS = (
    (DeprecationWarning, r"networkx\.pagerank_numpy is deprecated"),
    (FutureWarning, r"google_matrix will return an np\.ndarray"),
    (PendingDeprecationWarning, r"the matrix subclass is not the recommended way"),
)
for _category, _message in PAGERANK_NUMPY_WARNINGS:
    warnings.filterwarnings("ignore", message=_message, category=_category)


def _pagerank(graph: nx.Graph) -> dict:
    pagerank_numpy = getattr(nx, "pagerank_numpy", None)
    if pagerank_numpy is None:
        return pagerank_from_google_matrix(graph)
    return pagerank_numpy(graph, alpha=_DAMPING, weight="weight")


def pagerank_from_google_matrix(graph: nx.Graph) -> dict:
    """PageRank as the principal left eigenvector of the Google matrix (what pagerank_numpy does)."""
    if len(graph) == 0:
        return {}
    google = nx.google_matrix(graph, alpha=_DAMPING, weight="weight")
    eigenvalues, eigenvectors = np.linalg.eig(np.asarray(google).T)
    principal = np.real(eigenvectors[:, np.argmax(eigenvalues)])
    principal = principal / principal.sum()
    return dict(zip(graph, map(float, principal)))
