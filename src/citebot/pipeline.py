"""corpus -> passages -> index -> reader -> cite: the one entry point the CLI and bot share.

The one place the stages meet: retrieval finds the passages (`retrieve`), the reader
reads them through the `reader.contract` protocols (the `Index` is its corpus view),
and `cite` quotes the answer from the article body.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from citebot.cite import Answer, Tier, cite, finite
from citebot.corpus.articles import Corpus
from citebot.corpus.folder import load_corpus
from citebot.errors import QuestionError, UnknownSourceError
from citebot.reader.neural.calibration import load_calibration
from citebot.reader.neural.reader import read_neural
from citebot.reader.question import Question, parse_question
from citebot.reader.reading import Reading
from citebot.retrieval.cache import load_index
from citebot.retrieval.index import Hit, Index
from citebot.retrieval.spelling import correct
from citebot.text.dates import describe
from citebot.text.tokenizer import term_set, words

MAX_CITATIONS = 3
TOP_PASSAGES = 8  # the passages retrieved; the reader reads the best of them


class Asker:
    """Answers questions from one loaded corpus; cheap to call, safe to share between threads."""

    def __init__(
        self,
        index: Index,
        *,
        min_confidence: float | None = None,
        max_question_chars: int = 500,
        answer_confidence: float | None = None,
    ) -> None:
        """`min_confidence`: abstain below it; None takes the threshold chosen for the
        reader (`reader_thresholds`). `answer_confidence`: from it up the answer is the
        headline, below it a "possible answer"; None takes the reader's."""
        possible, answer = reader_thresholds()
        if min_confidence is None:
            min_confidence = possible
        if answer_confidence is None:
            answer_confidence = max(answer, min_confidence)
        for name, value in (
            ("min_confidence", min_confidence),
            ("answer_confidence", answer_confidence),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        self.index = index
        self.min_confidence = min_confidence
        self.answer_confidence = answer_confidence
        self.max_question_chars = max_question_chars

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
        read, corrections = correct(text, self.index)
        parsed = parse_question(read)
        if not parsed.terms:
            raise QuestionError(
                "that question has no words to search for; ask about a person, place, "
                "event or thing in the articles"
            )
        reading = read_index(self.index, parsed, source)
        answer = self._compose(text, reading, source)
        return answer.model_copy(update={"read_as": {c.written: c.read_as for c in corrections}})

    def tier(self, confidence: float) -> Tier:
        """The tier an answer of this confidence is given."""
        if confidence < self.min_confidence:
            return "none"
        return "answer" if confidence >= self.answer_confidence else "possible"

    def _compose(self, text: str, reading: Reading, source: str | None = None) -> Answer:
        index = self.index
        best = reading.best
        confidence = finite(reading.confidence)
        common: dict[str, Any] = {
            "question": text,
            "confidence": confidence,
            "answer_type": reading.question.answer_type.value,
            "passages": [h.passage.index for h in reading.hits],
            "corpus_version": index.version,
        }
        # A span scored -inf (or NaN) is no answer at all; citations need finite scores.
        usable = best is not None and best.span is not None and math.isfinite(best.score)
        if best is None or best.span is None or not usable or self.tier(confidence) == "none":
            return self._abstain(reading, source, common)
        sentence = best.sentence
        article = index.article(sentence.article_id)
        citations = [cite(1, article, sentence, best.score)]
        for other in reading.ranked[1:]:
            if len(citations) >= MAX_CITATIONS:
                break
            # Only sentences that hold a span the reader scored are cited.
            if other.span is None or not math.isfinite(other.score):
                continue
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
        evidence = index.term_contributions(reading.question.terms, hit.passage.index)
        return Answer(
            answered=True,
            tier=self.tier(confidence),
            answer=span.text,
            normalized=span.value,
            quote=citations[0].quote,
            citations=citations,
            suggestions=[],
            answer_start=sentence.start + span.start,
            answer_end=sentence.start + span.end,
            normalized_text=describe(span.value) if span.value else None,
            evidence={term: finite(weight) for term, weight in evidence.items()},
            **common,
        )

    def _abstain(self, reading: Reading, source: str | None, common: dict[str, Any]) -> Answer:
        """The abstention: which question words nothing mentions, and related articles
        (the question as read: a misspelt word read as an article's is mentioned)."""
        read = reading.question.text
        unknown = self.unknown_words(read, reading.missing)
        best = reading.best
        if unknown:
            scope = f"the article `{source}`" if source is not None else "the articles"
            message = f"nothing in {scope} mentions {', '.join(unknown[:3])}"
        elif best is None or best.span is None:
            message = "no passage of the articles answers this kind of question"
        else:
            message = f"the best match is too weak (confidence {common['confidence']:.2f})"
        # An article is suggested only when its title shares a content word with the
        # question: every retrieved passage scores above zero (BM25+ credits absent terms
        # too), so being retrieved alone says nothing about being related.
        asked = term_set(read)
        suggestions = [
            article_id
            for article_id in dict.fromkeys(h.passage.article_id for h in reading.hits)
            if asked & term_set(self.index.article(article_id).title)
        ][:3]
        return Answer(
            answered=False,
            answer=None,
            suggestions=suggestions,
            message=message,
            unknown_words=unknown,
            **common,
        )

    def unknown_words(self, text: str, names: list[str]) -> list[str]:
        """The question's words (as written) and `names` that no article mentions."""
        found = [
            text[w.start : w.end]
            for w in words(text)
            if not w.is_stop and not self.index.mentions(w.term)
        ]
        seen = {w.casefold() for w in found}
        for name in names:
            if not any(part.casefold() in seen for part in name.split()):
                found.append(name)
        return list(dict.fromkeys(found))


def reader_thresholds() -> tuple[float, float]:
    """(possible, answer): the confidences chosen for the reader by scripts/choose_tiers.py
    (below the first it abstains; from the second up the answer is the headline), read
    from its calibration file (`min_confidence` and `tiers.answer`)."""
    return _thresholds(load_calibration().meta)


def _thresholds(meta: dict[str, Any]) -> tuple[float, float]:
    """`min_confidence` and `tiers.answer` of a threshold file; without tiers, the answer
    tier starts where answering does (no possible-answer tier)."""
    tiers = meta.get("tiers")
    if isinstance(tiers, dict) and isinstance(tiers.get("answer"), int | float):
        answer = float(tiers["answer"])
    else:
        answer = float(meta.get("min_confidence", 0.0))
    return float(meta.get("min_confidence", 0.5)), answer


def retrieve(
    index: Index, question: Question, source: str | None = None, k: int = TOP_PASSAGES
) -> list[Hit]:
    """The k passages the reader reads for a question, best first, optionally within one
    article (BM25 over the question's terms, re-ranked: `retrieval.index`)."""
    return index.search(question.terms, k, source)


def read_index(
    index: Index,
    question: Question,
    source: str | None = None,
    *,
    top_passages: int = TOP_PASSAGES,
) -> Reading:
    """Retrieve, then read: the reading `Asker.ask` composes its answer from."""
    hits = retrieve(index, question, source, top_passages)
    return read_neural(question, hits, index, source)


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
