"""Citations and the final Answer: every quote is checked against the article body.

A quote is only ever made by slicing `article.body`; `Citation` re-checks that
`body[start:end] == quote` when it is built from an index, so an answer whose quote
is not verbatim cannot be produced, whatever happens upstream.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from citebot.corpus.articles import Article
from citebot.corpus.passages import Sentence
from citebot.errors import CitebotError

# How sure the answer is, in words: "answer" (the headline), "possible" (shown as
# "Possible answer — check the quote"), "none" (an abstention). The confidences that
# separate them are chosen per reader model by scripts/choose_tiers.py.
Tier = Literal["answer", "possible", "none"]
TIERS: tuple[Tier, ...] = ("answer", "possible", "none")


class Citation(BaseModel):
    """A numbered source: the article's metadata and the exact sentence quoted from it."""

    # Every number is finite: JSON has no infinity, and a stored answer holding one
    # (written as null) could not be read back by the buttons under it.
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    n: int
    article_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    quote: str
    start: int
    end: int
    score: float


class Answer(BaseModel):
    """The answer to one question (an abstention is an Answer with `answered` false)."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    question: str
    answered: bool
    answer: str | None = Field(description="verbatim span of the quote")
    normalized: str | None = Field(default=None, description="e.g. a resolved date, 2023-09-07")
    quote: str | None = None
    confidence: float = 0.0
    tier: Tier = Field(default="none", description="answer, possible (check the quote) or none")
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list, description="closest article ids")
    # More than the contract asks, for the bot's "why this answer" and for evaluation:
    answer_type: str | None = None
    answer_start: int | None = Field(default=None, description="span offsets in the article body")
    answer_end: int | None = None
    normalized_text: str | None = Field(default=None, description='"Thursday, 7 September 2023"')
    message: str | None = Field(default=None, description="why there is no answer, for people")
    evidence: dict[str, float] = Field(default_factory=dict, description="term -> BM25 weight")
    passages: list[int] = Field(default_factory=list, description="retrieved passage indexes")
    corpus_version: str | None = None
    unknown_words: list[str] = Field(
        default_factory=list, description="question words no article mentions, as written"
    )
    read_as: dict[str, str] = Field(
        default_factory=dict,
        description="misspelt question words, as written -> the article words read instead",
    )

    def read_as_text(self) -> str | None:
        """'read “purhcased” as “purchased”' for the misspelt words the question was read
        with (`read_as`), None when it was read as written."""
        if not self.read_as:
            return None
        return "read " + ", ".join(f"“{a}” as “{b}”" for a, b in self.read_as.items())

    @model_validator(mode="before")
    @classmethod
    def _tier_of_older_answers(cls, data: Any) -> Any:
        """Answers stored before tiers existed read as "answer" (answered) or "none"."""
        if isinstance(data, dict) and "tier" not in data:
            return {**data, "tier": "answer" if data.get("answered") else "none"}
        return data


class QuoteMismatchError(CitebotError):
    """A quote did not equal the article text at its offsets: a bug, never shown to users."""


def cite(n: int, article: Article, sentence: Sentence, score: float) -> Citation:
    """A citation of one sentence, verified verbatim against the article body."""
    quote = article.body[sentence.start : sentence.end]
    if quote != sentence.text or not quote:
        raise QuoteMismatchError(
            f"quote of {article.id}[{sentence.start}:{sentence.end}] is not verbatim"
        )
    return Citation(
        n=n,
        article_id=article.id,
        title=article.title,
        date=article.date.isoformat() if article.date else None,
        source=article.source,
        url=article.url,
        quote=quote,
        start=sentence.start,
        end=sentence.end,
        score=finite(score),
    )


def finite(value: float, digits: int = 4) -> float:
    """`value` rounded, or 0.0 when it is not a finite number (a ruled-out candidate's -inf)."""
    return round(value, digits) if math.isfinite(value) else 0.0
