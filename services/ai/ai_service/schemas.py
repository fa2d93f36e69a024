"""Request bodies of the AI service. Types are strict: "3" is not a number, 3 is not a text."""

from __future__ import annotations

from pydantic import BaseModel, StrictStr, conint, validator

from .sentences import has_words


class _Text(BaseModel):
    text: StrictStr

    @validator("text")
    def _has_words(cls, text: str) -> str:
        # JSON may carry a lone surrogate (\ud800), which is not a character: no UTF-8 can
        # carry it out again, so it is refused here rather than failing mid-stream.
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text is not valid Unicode (a lone surrogate)") from None
        # Empty or whitespace-only text (or only punctuation) has no sentence to work on.
        if not has_words(text):
            raise ValueError("text has no words")
        return text


class SummarizeRequest(_Text):
    max_sentences: conint(strict=True, ge=1, le=20) = 3
    pace_ms: conint(strict=True, ge=0, le=5000) = 0  # delay before each sentence event


class KeywordsRequest(_Text):
    max_keywords: conint(strict=True, ge=1, le=50) = 10
