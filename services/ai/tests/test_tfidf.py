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
