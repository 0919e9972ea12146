"""corpus -> passages -> index -> answer -> cite: the one entry point the CLI and bot share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from citebot.answer import Reading, read, recommended_min_confidence
from citebot.cite import Answer, cite
from citebot.corpus import Corpus, load_corpus
from citebot.dates import describe
from citebot.errors import QuestionError, UnknownSourceError
from citebot.index import Index, load_index
from citebot.model import ReaderModel
from citebot.question import parse_question

MAX_CITATIONS = 3


class Asker:
    """Answers questions from one loaded corpus; cheap to call, safe to share between threads."""

    def __init__(
        self,
        index: Index,
        *,
        min_confidence: float | None = None,
        max_question_chars: int = 500,
        model: ReaderModel | None = None,
    ) -> None:
        """`min_confidence`: abstain below it; None takes the threshold chosen for the
        shipped reader model (`recommended_min_confidence`). `model`: the reader's
        weights, by default the shipped ones (the evaluation passes fold models)."""
        if min_confidence is None:
            min_confidence = recommended_min_confidence()
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
        self.index = index
        self.min_confidence = min_confidence
        self.max_question_chars = max_question_chars
        self.model = model

    @classmethod
    def from_directory(
        cls,
        corpus_dir: Path,
        cache_dir: Path | None = None,
        *,
        min_confidence: float | None = None,
    ) -> Asker:
        """Load a corpus folder (problems are kept on `asker.corpus.problems`) and index it."""
        corpus = load_corpus(corpus_dir, cache_dir=cache_dir)
        return cls(load_index(corpus, cache_dir), min_confidence=min_confidence)

    @property
    def corpus(self) -> Corpus:
        return self.index.corpus

    def ask(self, question: str, source: str | None = None) -> Answer:
        """Answer one question, optionally only from the article `source`.

        Raises QuestionError for a question that cannot be asked (empty, too long,
        unknown source); "not in the corpus" is an Answer with `answered` false.
        """
        text = _clean_question(question, self.max_question_chars)
        if source is not None and self.index.corpus.get(source) is None:
            raise UnknownSourceError(source, self.index.corpus.ids)
        parsed = parse_question(text)
        if not parsed.terms:
            raise QuestionError(
                "that question has no words to search for; ask about a person, place, "
                "event or thing in the articles"
            )
        reading = read(self.index, parsed, source, model=self.model)
        return self._compose(text, reading, source)

    def _compose(self, text: str, reading: Reading, source: str | None = None) -> Answer:
        index = self.index
        best = reading.best
        suggestions = list(dict.fromkeys(h.passage.article_id for h in reading.hits))[:3]
        common: dict[str, Any] = {
            "question": text,
            "confidence": round(reading.confidence, 4),
            "answer_type": reading.question.answer_type.value,
            "passages": [h.passage.index for h in reading.hits],
            "corpus_version": index.version,
        }
        if best is None or best.span is None or reading.confidence < self.min_confidence:
            if reading.missing:
                scope = f"the article `{source}`" if source is not None else "the sources"
                message = f"nothing in {scope} mentions {', '.join(reading.missing[:3])}"
            elif best is None:
                message = "no passage of the sources answers this kind of question"
            else:
                message = f"the best match is too weak (confidence {reading.confidence:.2f})"
            return Answer(
                answered=False, answer=None, suggestions=suggestions, message=message, **common
            )
        sentence = best.sentence
        article = index.article(sentence.article_id)
        citations = [cite(1, article, sentence, best.score)]
        for other in reading.ranked[1:]:
            if len(citations) >= MAX_CITATIONS:
                break
            if other.coverage < 0.5 * best.coverage or other.text == sentence.text:
                continue
            citations.append(
                cite(
                    len(citations) + 1,
                    index.article(other.sentence.article_id),
                    other.sentence,
                    other.score,
                )
            )
        span = best.span
        hit = next(
            h
            for h in reading.hits
            if h.passage.article_id == article.id
            and h.passage.first_sentence <= sentence.index < h.passage.last_sentence
        )
        return Answer(
            answered=True,
            answer=span.text,
            normalized=span.value,
            quote=citations[0].quote,
            citations=citations,
            suggestions=[],
            answer_start=sentence.start + span.start,
            answer_end=sentence.start + span.end,
            normalized_text=describe(span.value) if span.value else None,
            evidence=index.term_contributions(reading.question.terms, hit.passage.index),
            **common,
        )


class Context(BaseModel):
    """The paragraph around an answer, with the answer's offsets inside it."""

    model_config = ConfigDict(frozen=True)

    article_id: str
    text: str
    highlight_start: int
    highlight_end: int


def context_of(index: Index, article_id: str, start: int, end: int) -> Context:
    """The paragraph (blank-line block) holding body[start:end] of an article."""
    sentences = index.sentences.get(article_id)
    if not sentences:
        raise UnknownSourceError(article_id, index.corpus.ids)
    body = index.article(article_id).body
    holding = [s for s in sentences if s.start < end and start < s.end] or sentences[:1]
    paragraphs = {s.paragraph for s in holding}
    block = [s for s in sentences if s.paragraph in paragraphs]
    first, last = block[0].start, block[-1].end
    return Context(
        article_id=article_id,
        text=body[first:last],
        highlight_start=max(start - first, 0),
        highlight_end=min(end - first, last - first),
    )


def _clean_question(question: str, limit: int) -> str:
    """Collapse white space and control characters; refuse empty or over-long questions."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", " ", question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("the question is empty; type a question after the command")
    if len(text) > limit:
        raise QuestionError(
            f"the question is {len(text):,} characters long; keep it under {limit:,}"
        )
    return text
