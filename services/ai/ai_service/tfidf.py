"""TF-IDF vectors of a list of documents (here: the sentences of one text), in numpy.

weight(term, doc) = tf × (log((1 + N) / (1 + df)) + 1), each document's vector
L2-normalised — the smoothed IDF, so a term found in every document still
counts a little and no weight is ever zero.

The vectors are kept sparse, as parallel arrays (doc, term, weight) of their
non-zero entries: a 1 MiB text has ~10,000 sentences and tens of thousands of
distinct terms, and a dense matrix of that would take gigabytes. Only a small
subset is ever made dense (`dense`), for the similarity graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TfIdf:
    docs: np.ndarray  # int64: the document of each non-zero entry, ascending
    terms: np.ndarray  # int64: its term (an index into `vocabulary`)
    weights: np.ndarray  # float64: its weight
    n_docs: int
    vocabulary: list[str]

    def term_totals(self) -> np.ndarray:
        """Each term's weights summed over all documents (index = term)."""
        return np.bincount(self.terms, self.weights, minlength=len(self.vocabulary))

    def centroid_similarity(self) -> np.ndarray:
        """Cosine similarity of each document to the normalised sum of all of them; O(entries)."""
        centroid = self.term_totals()
        norm = np.linalg.norm(centroid)
        if norm == 0.0:
            return np.zeros(self.n_docs)
        dots = self.weights * centroid[self.terms]
        return np.bincount(self.docs, dots, minlength=self.n_docs) / norm

    def dense(self, selected: np.ndarray) -> np.ndarray:
        """The vectors of the `selected` documents (ascending indices) as a dense matrix.

        Row i is document selected[i]; the columns are only the terms those
        documents use, so the matrix stays len(selected) × (their vocabulary).
        """
        rows, terms, weights = self._entries_of(selected)
        return _dense(len(selected), rows, terms, weights)

    def shared_dense(self, selected: np.ndarray, max_terms: int) -> np.ndarray:
        """Like `dense`, but only what the off-diagonal of M @ M.T can use, at most `max_terms` a row.

        * A term used by only one selected document adds to no dot product
          between two of them: it is dropped (this changes nothing off the
          diagonal).
        * Of the rest, each row keeps its `max_terms` highest weights (equal
          weights: the earlier term). Weights are not renormalised, so a dot
          product can only shrink, and only for a document with more than
          `max_terms` shared terms.
        * Terms that this leaves to a single row are dropped too (again exact).

        So the matrix is at most len(selected) × len(selected)·max_terms / 2,
        whatever the vocabulary: without this, 300 documents of unique words
        made it 300 × 340,000 and M @ M.T took 8–14 s.
        """
        rows, terms, weights = self._entries_of(selected)
        rows, terms, weights = _shared(rows, terms, weights)
        # Entries are by row; within a row by descending weight, then ascending term.
        order = np.lexsort((terms, -weights, rows))
        rows, terms, weights = rows[order], terms[order], weights[order]
        first_of_row = np.searchsorted(rows, rows)  # rows is sorted now
        keep = np.arange(len(rows)) - first_of_row < max_terms
        rows, terms, weights = _shared(rows[keep], terms[keep], weights[keep])
        return _dense(len(selected), rows, terms, weights)

    def _entries_of(self, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row in `selected`, term, weight) of the selected documents' entries."""
        row_of = np.full(self.n_docs, -1, dtype=np.int64)
        row_of[selected] = np.arange(len(selected))
        keep = row_of[self.docs] >= 0
        return row_of[self.docs[keep]], self.terms[keep], self.weights[keep]


def _shared(rows: np.ndarray, terms: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries whose term is in at least two rows (a (row, term) pair occurs once)."""
    used_by = np.bincount(terms)
    keep = used_by[terms] >= 2
    return rows[keep], terms[keep], weights[keep]


def _dense(n_rows: int, rows: np.ndarray, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The n_rows × (distinct terms) matrix of the entries, columns in term order."""
    used_terms, column = np.unique(terms, return_inverse=True)
    matrix = np.zeros((n_rows, len(used_terms)))
    matrix[rows, column] = weights
    return matrix


def tfidf(documents: list[list[str]]) -> TfIdf:
    """TF-IDF of `documents`, each a list of terms with repeats (repeats are its term frequency)."""
    index: dict[str, int] = {}
    doc_of_token: list[int] = []
    term_of_token: list[int] = []
    for doc, terms in enumerate(documents):
        for term in terms:
            term_of_token.append(index.setdefault(term, len(index)))
        doc_of_token.extend([doc] * len(terms))

    n_docs, n_terms = len(documents), max(len(index), 1)
    # One key per (doc, term) pair; np.unique counts repeats (tf) and sorts by doc.
    keys = np.asarray(doc_of_token, dtype=np.int64) * n_terms + np.asarray(term_of_token, dtype=np.int64)
    pairs, tf = np.unique(keys, return_counts=True)
    docs, terms = pairs // n_terms, pairs % n_terms

    df = np.bincount(terms, minlength=n_terms)
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    weights = tf * idf[terms]
    norms = np.sqrt(np.bincount(docs, weights * weights, minlength=n_docs))
    weights = weights / norms[docs]  # every listed doc has a non-zero weight, so norm > 0
    return TfIdf(docs, terms, weights, n_docs, list(index))
