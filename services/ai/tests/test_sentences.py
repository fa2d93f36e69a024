from ai_service.sentences import has_words, split_sentences
from in_child import timed_in_child


def test_english_sentences_end_at_terminators_followed_by_space():
    text = "The sky is blue. Is it raining? No! It is sunny… Really."
    assert split_sentences(text) == ["The sky is blue.", "Is it raining?", "No!", "It is sunny…", "Really."]


def test_decimals_do_not_end_a_sentence():
    assert split_sentences("Pi is about 3.14 and e is 2.718. Both are irrational.") == [
        "Pi is about 3.14 and e is 2.718.",
        "Both are irrational.",
    ]


def test_common_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Mr. Smith met Dr. Jones in the U.S. last week. They ate fruit, e.g. apples, i.e. food. J. R. R. Tolkien wrote."
    assert split_sentences(text) == [
        "Mr. Smith met Dr. Jones in the U.S. last week.",
        "They ate fruit, e.g. apples, i.e. food.",
        "J. R. R. Tolkien wrote.",
    ]


def test_a_word_that_merely_ends_like_an_abbreviation_still_ends_a_sentence():
    # "west" ends like "St." (Street): the whole word before the period is compared.
    assert split_sentences("He lives on Main St. in the west. Then he moved.") == [
        "He lives on Main St. in the west.",
        "Then he moved.",
    ]


def test_korean_sentences():
    assert split_sentences("오늘은 날씨가 좋다. 우리는 공원에 갔다! 정말 즐거웠나요?") == [
        "오늘은 날씨가 좋다.",
        "우리는 공원에 갔다!",
        "정말 즐거웠나요?",
    ]


def test_mixed_korean_and_english():
    assert split_sentences("spur는 C++20 프레임워크다. It serves HTTP. 빠르다!") == [
        "spur는 C++20 프레임워크다.",
        "It serves HTTP.",
        "빠르다!",
    ]


def test_full_width_terminators_end_a_sentence_without_a_following_space():
    assert split_sentences("今日は晴れ。明日は雨！本当？") == ["今日は晴れ。", "明日は雨！", "本当？"]


def test_line_breaks_and_blank_lines_end_sentences():
    text = "A title\nFirst line of text\n\n  Second paragraph. With two sentences.\r\n- a list item"
    assert split_sentences(text) == [
        "A title",
        "First line of text",
        "Second paragraph.",
        "With two sentences.",
        "- a list item",
    ]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    assert split_sentences('He said "stop." (Nobody did.) 그는 "왜?" 물었다.') == [
        'He said "stop."',
        "(Nobody did.)",
        '그는 "왜?"',
        "물었다.",
    ]


def test_runs_of_terminators_stay_together():
    assert split_sentences("What?! Wait... ok.") == ["What?!", "Wait...", "ok."]


def test_fragments_without_letters_or_digits_are_not_sentences():
    assert split_sentences("One.\n***\n---\n . ! ?\nTwo.") == ["One.", "Two."]
    assert split_sentences("   \n\t ") == []


def test_has_words():
    assert has_words("  가 ")
    assert has_words("7")
    assert not has_words(" \n ... !! ")
    assert not has_words("")


def test_a_long_line_of_abbreviations_splits_in_linear_time():
    import time

    started = time.process_time()
    assert len(split_sentences("Mr. " * 200_000)) == 1
    assert time.process_time() - started < 2


MIB = 1 << 20

# A long run of terminators (or of closers after one) not followed by whitespace
# used to make the terminator regex retry from every position of the run and
# backtrack through the rest of it: 16,000 dots took 4.7 s, 1 MiB would take
# hours. Each of these must now take milliseconds; 2 s is a generous bound.
ADVERSARIAL_LINES = {
    "dots then a letter": ("'Hello world' + '.' * MIB + 'x'", 1),
    "?! then a letter": ("'Hello world' + '!?' * (MIB // 2) + 'x'", 1),
    "ellipses then a letter": ("'Hello world' + '…' * MIB + 'x'", 1),
    "closers after a period": ("'Hello world.' + ')' * MIB + 'x'", 1),
    "dots then closers": ("'Hello' + '.' * (MIB // 2) + ')' * (MIB // 2) + 'x'", 1),
    "period-closer pairs": ("'Hello' + '.)' * (MIB // 2) + 'x'", 1),
    "mixed terminators and closers": ("'Hello' + '.?!…\"\\')]”’」』' * (MIB // 12) + 'x'", 1),
    "dots then a full stop": ("'Hello' + '.' * MIB + '。x'", 2),
    "full-width run then closers": ("'你好' + '。！？' * (MIB // 3) + '」' * MIB + 'x'", 2),
    "a period glued to each word": ("'a.' * (MIB // 2)", 1),
    "a sentence per word": ("'a. ' * (MIB // 3)", MIB // 3),
    "abbreviations": ("'Mr. ' * (MIB // 4)", 1),
}


def test_long_runs_of_terminators_and_closers_split_in_linear_time():
    cases = {name: (make_text, "len(split_sentences(text))") for name, (make_text, _) in ADVERSARIAL_LINES.items()}
    results = timed_in_child("from ai_service.sentences import split_sentences", cases, timeout=30)
    for name, (_, sentences) in ADVERSARIAL_LINES.items():
        seconds, got = results[name]
        assert got == sentences, name
        assert seconds < 2, f"{name}: {seconds:.2f} s"


def test_has_words_on_a_mebibyte_of_punctuation_is_linear():
    results = timed_in_child(
        "from ai_service.sentences import has_words",
        {"punctuation": ("'.!?…)' * MIB", "has_words(text)"), "then a letter": ("'_-' * MIB + 'x'", "has_words(text)")},
        timeout=30,
    )
    assert results["punctuation"][1] is False and results["then a letter"][1] is True
    assert all(seconds < 2 for seconds, _ in results.values()), results
