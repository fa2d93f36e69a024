import time

import pytest

from ai_service.keywords import keywords, korean_stems
from text_samples import HUB, KOREAN, PATHOLOGICAL


def test_the_most_repeated_content_words_come_first():
    terms = [k.term for k in keywords(HUB, 3)]
    assert terms[0] == "power"
    assert "the" not in terms and "into" not in terms


def test_scores_are_descending_and_max_keywords_is_respected():
    found = keywords(HUB, 5)
    assert len(found) == 5
    scores = [k.score for k in found]
    assert scores == sorted(scores, reverse=True)


def test_equal_scores_are_ordered_alphabetically():
    assert [k.term for k in keywords("beta alpha. alpha beta.", 2)] == ["alpha", "beta"]


def test_same_input_same_keywords():
    assert keywords(HUB + KOREAN, 10) == keywords(HUB + KOREAN, 10)


def test_one_letter_words_numbers_and_stop_words_are_not_keywords():
    assert keywords("I am 42 and x is a y. It is 7.", 10) == []


def test_korean_keywords_lose_their_particles():
    terms = [k.term for k in keywords(KOREAN, 3)]
    assert terms[:2] == ["공원", "날씨"]  # from 공원에 / 공원에는 / 공원에서, 날씨가 / 날씨도


def test_a_particle_is_stripped_only_when_the_text_shows_the_stem_in_another_form():
    stems = korean_stems(["고양이", "고양이가", "날씨가", "나이", "나이는", "책을", "책이"])
    assert stems == {
        "고양이": "고양이",  # a cat, not 고양 + 이: nothing else ends in 고양
        "고양이가": "고양이",
        "날씨가": "날씨가",  # the only form of 날씨: no evidence
        "나이": "나이",
        "나이는": "나이",
        "책을": "책",
        "책이": "책",
    }


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_a_pathological_mebibyte_gives_keywords_within_the_bound(name):
    # Keywords need no dense matrix (sums per term, a heap for the best): linear.
    text = PATHOLOGICAL[name]()
    # CPU time of this process, not wall time: the bound is on the work, and the test command
    # runs other tests (and builds) beside this one on two cores.
    started = time.process_time()
    keywords(text, 50)
    elapsed = time.process_time() - started
    assert elapsed < 5, f"{name}: {elapsed:.2f} s of CPU"  # at most about 1.2 s on the 2-core dev machine
