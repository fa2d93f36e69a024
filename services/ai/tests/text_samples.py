"""Texts shared by the tests."""

import random

# The last sentence shares words with every other one: TextRank must rank it first.
HUB = (
    "Solar panels turn sunlight into power. "
    "Wind turbines turn moving air into power. "
    "Hydro dams turn falling water into power. "
    "The bakery on the corner sells fresh bread. "
    "Solar panels, wind turbines and hydro dams turn sunlight, moving air and falling water into renewable power."
)
HUB_CENTRE = 4

KOREAN = (
    "오늘은 날씨가 맑고 따뜻했다. "
    "우리는 아침 일찍 공원에 갔다! "
    "공원에는 산책하는 사람이 많았다. "
    "날씨도 좋아서 공원에서 오래 산책했다. "
    "저녁에는 집에서 책을 읽었다."
)

TEN_SENTENCES = " ".join(
    f"Sentence number {word} talks about the river and the {word} boat." for word in
    "one two three four five six seven eight nine ten".split()
)


def large_text(size: int = 1 << 20, seed: int = 7) -> str:
    """About `size` bytes of English-like sentences over a vocabulary of 20,000 made-up words."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(20_000)]
    parts, total = [], 0
    while total < size:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(6, 25))).capitalize()
        sentence += rng.choice([". ", "! ", "? "])
        parts.append(sentence)
        total += len(sentence)
    return "".join(parts)


# Pathological texts of about 1 MiB (UTF-8), for the time bounds. Before the
# graph's terms were bounded, the first two took 8–14 s to summarise.
def random_hangul(size: int = 1 << 20) -> str:
    """300 sentences of random Hangul syllables: nearly every bigram occurs once."""
    rng = random.Random(1)
    chars = [chr(0xAC00 + rng.randrange(11172)) for _ in range(size // 3)]
    per = len(chars) // 300
    return "\n".join("".join(chars[i * per : (i + 1) * per]) + "." for i in range(300))


def unique_latin_words(size: int = 1 << 20) -> str:
    """300 sentences of words that each occur once in the text."""
    words = [format(i, "x") + "q" for i in range(size // 7)]
    per = len(words) // 300
    return "\n".join(" ".join(words[i * per : (i + 1) * per]) + "." for i in range(300))


def one_giant_sentence(size: int = 1 << 20) -> str:
    """No terminator at all: a single sentence of distinct words."""
    return " ".join(format(i, "x") + "q" for i in range(size // 7))


def tiny_sentences(size: int = 1 << 20) -> str:
    """350,000 sentences "a." (a stop word: no terms at all)."""
    return "a. " * (size // 3)


def paired_long_sentences(size: int = 1 << 20) -> str:
    """300 sentences in pairs, each pair sharing ~500 words no other sentence has."""
    per = size // 300 // 7
    return "\n".join(" ".join(f"{i // 2:x}q{j:x}" for j in range(per)) + "." for i in range(300))


PATHOLOGICAL = {
    "random Hangul": random_hangul,
    "unique Latin words": unique_latin_words,
    "one giant sentence": one_giant_sentence,
    "tiny sentences": tiny_sentences,
    "paired long sentences": paired_long_sentences,
}
