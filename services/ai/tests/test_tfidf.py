import math

import numpy as np
import pytest

from ai_service.tfidf import tfidf


def test_weights_are_tf_times_smoothed_idf_normalised_per_document():
    vectors = tfidf([["a", "a", "b"], ["b"]])
    idf_a = math.log(3 / 2) + 1  # in 1 of 2 documents
    idf_b = math.log(3 / 3) + 1  # in both
    raw = np.array([2 * idf_a, 1 * idf_b])
    dense = vectors.dense(np.array([0, 1]))
    assert vectors.vocabulary == ["a", "b"]
    assert dense[0] == pytest.approx(raw / np.linalg.norm(raw))
    assert dense[1] == pytest.approx([0.0, 1.0])


def test_a_document_without_terms_has_a_zero_vector():
    vectors = tfidf([["a"], [], ["a", "b"]])
    assert vectors.dense(np.array([1])).tolist() == [[]]  # it uses no term at all
    assert vectors.dense(np.array([0, 1, 2]))[1].tolist() == [0.0, 0.0]
    assert vectors.centroid_similarity()[1] == 0.0


def test_dense_keeps_only_the_selected_documents_and_their_terms():
    vectors = tfidf([["x"], ["y", "z"], ["z"]])
    assert vectors.dense(np.array([2])).shape == (1, 1)
    assert vectors.dense(np.array([0, 2])).shape == (2, 2)


def test_centroid_similarity_prefers_the_typical_document():
    vectors = tfidf([["sun", "rain"], ["sun", "rain", "wind"], ["stock", "market"]])
    closeness = vectors.centroid_similarity()
    assert closeness.argmin() == 2
    assert all(0.0 <= c <= 1.0 + 1e-12 for c in closeness)


def test_no_documents():
    vectors = tfidf([])
    assert vectors.n_docs == 0
    assert vectors.centroid_similarity().shape == (0,)


def test_shared_dense_drops_terms_of_a_single_document_and_keeps_the_off_diagonal():
    documents = [["sun", "rain", "only0"], ["sun", "wind", "only1", "only1"], ["rain", "wind", "sun"], ["alone"]]
    vectors = tfidf(documents)
    selected = np.arange(4)
    full = vectors.dense(selected)
    shared = vectors.shared_dense(selected, max_terms=10)
    assert shared.shape == (4, 3)  # sun, rain, wind; not only0, only1, alone
    off_diagonal = ~np.eye(4, dtype=bool)
    assert (shared @ shared.T)[off_diagonal] == pytest.approx((full @ full.T)[off_diagonal])


def test_shared_dense_keeps_each_documents_highest_weights_earlier_term_on_ties():
    # a is in two documents, b, c, d in all three: a has the higher idf.
    vectors = tfidf([["a", "a", "b", "c", "d"], ["a", "b", "c", "d"], ["b", "c", "d"]])
    assert vectors.vocabulary == ["a", "b", "c", "d"]
    shared = vectors.shared_dense(np.arange(3), max_terms=2)
    # Rows 0 and 1 keep a and then b (b, c, d tie: the earlier term); row 2 keeps
    # b and c (equal weights) — but c, then kept by row 2 alone, is dropped.
    assert (shared != 0).tolist() == [[True, True], [True, True], [False, True]]
    full = vectors.dense(np.arange(3))
    assert shared[0] == pytest.approx(full[0, :2])  # kept weights are not renormalised


def test_shared_dense_is_bounded_whatever_the_vocabulary():
    # 300 documents of 1,000 terms each, every term shared by a pair of documents.
    documents = [[f"t{d // 2}-{i}" for i in range(1000)] for d in range(300)]
    vectors = tfidf(documents)
    assert vectors.dense(np.arange(300)).shape == (300, 150_000)
    assert vectors.shared_dense(np.arange(300), max_terms=64).shape == (300, 150 * 64)
