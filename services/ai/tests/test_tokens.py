from ai_service.tokens import bigrams, similarity_terms, word_runs
from in_child import timed_in_child


def test_latin_words_are_lowercased_and_stop_words_dropped():
    assert similarity_terms("The Cats sat ON the mat, and THE dogs barked.") == ["cats", "sat", "mat", "dogs", "barked"]


def test_hangul_words_become_character_bigrams():
    # "공원에서" and "공원을" share the bigram "공원" though the words differ.
    assert similarity_terms("공원에서 공원을") == ["공원", "원에", "에서", "공원", "원을"]


def test_a_one_syllable_word_is_its_own_term():
    assert bigrams("책") == ["책"]


def test_scripts_are_split_inside_a_word():
    assert word_runs("API를 썼다") == [("api", False), ("를", True), ("썼다", True)]


def test_numbers_are_terms_and_punctuation_is_not():
    assert similarity_terms("Version 3.14 — released 2024!") == ["version", "3", "14", "released", "2024"]


def test_word_runs_are_linear_on_long_adversarial_runs():
    # The run regex is two alternatives of one character class each: no
    # backtracking. This keeps it that way (see in_child for why a child process).
    cases = {
        "one Latin word": ("'a' * MIB", "len(word_runs(text))"),
        "one Hangul word": ("'가' * MIB", "len(word_runs(text))"),
        "alternating scripts": ("'a가' * (MIB // 2)", "len(word_runs(text))"),
        "underscores": ("'_' * MIB + 'x'", "len(word_runs(text))"),
        "Hangul bigrams": ("'가나' * (MIB // 2)", "len(similarity_terms(text))"),
    }
    results = timed_in_child("from ai_service.tokens import similarity_terms, word_runs", cases, timeout=30)
    assert [value for _, value in results.values()] == [1, 1, 1 << 20, 1, (1 << 20) - 1]
    assert all(seconds < 2 for seconds, _ in results.values()), results
