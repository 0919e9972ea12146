"""Sentence ranking: which sentences of the hits hold the question, and how much of it.

A sentence is scored from its text alone, by the share of the question's weight
(idf times the question's own emphasis) it holds, alone and with its neighbours; a
sentence opening with "They"/"It" borrows the words of the one before it. The
helpers after `rank_sentences` measure the same evidence for the features and the
confidence model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from citebot.corpus.passages import Sentence
from citebot.reader.contract import ArticleSentences, CorpusView, Hit
from citebot.reader.question import Question
from citebot.reader.spans import Candidate
from citebot.text.tokenizer import term_set

# A question word is evidence even when every passage has it: in a corpus of two
# articles about Shenzhen, "Shenzhen" has an idf near 0, yet a sentence about "the
# Shenzhen park" answers "how many companies does the Shenzhen park have" and one
# about Cyberport does not. (In a large corpus hardly any word's idf is this low.)
MIN_IDF = 1.0


ANAPHOR = re.compile(r"^\s*(?:They|He|She|It|This|These|Those|His|Her|Their|Its|The\s+\w+)\b")


@dataclass
class ScoredSentence:
    """A candidate sentence with the evidence behind its score.

    The sentence is `sentences[index]` of its article; its `Sentence` object is made
    when first read (`sentence`): the ranker scores a few dozen sentences from their
    text and most of them are never read again.
    """

    sentences: ArticleSentences = field(repr=False)  # the sentences of its article
    index: int  # its place among them
    text: str
    passage_score: float
    coverage: float  # share of the question's weight in the sentence itself
    context: float  # the same with its neighbours (and the sentence before an anaphor)
    matched: list[str]
    density: float = 0.0  # matched terms per term of the sentence
    score: float = 0.0
    span: Candidate | None = None
    span_score: float = 0.0

    @property
    def sentence(self) -> Sentence:
        """The sentence itself."""
        return self.sentences[self.index]

    @property
    def article_id(self) -> str:
        return self.sentences.article_id


def rank_sentences(
    corpus: CorpusView, question: Question, weights: dict[str, float], hits: Sequence[Hit]
) -> list[ScoredSentence]:
    """The sentences of the hits' passages, best first, scored from their text alone."""
    total = sum(weights.values()) or 1.0
    top = hits[0].score or 1.0
    seen: dict[tuple[str, int], ScoredSentence] = {}
    for hit in hits:
        article_id = hit.passage.article_id
        sentences = corpus.sentences[article_id]
        first, last = hit.passage.first_sentence, hit.passage.last_sentence
        # The passage's texts and its neighbours', read from the table at once.
        lo, hi = max(first - 1, 0), min(last + 1, len(sentences))
        texts = sentences.texts(lo, hi)
        for i in range(first, last):
            key = (article_id, i)
            if key in seen:
                continue
            text = texts[i - lo]
            own = _terms(text)
            prev = _terms(texts[i - 1 - lo]) if i > 0 else _NO_TERMS
            nxt = _terms(texts[i + 1 - lo]) if i + 1 < hi else _NO_TERMS
            # The question's weights the sentence holds, alone, with the sentence before,
            # and with both neighbours (each summed in the question's order).
            matched: list[str] = []
            alone: list[float] = []
            before: list[float] = []
            near: list[float] = []
            for t, w in weights.items():
                if t in own:
                    matched.append(t)
                    alone.append(w)
                    before.append(w)
                    near.append(w)
                elif t in prev:
                    before.append(w)
                    near.append(w)
                elif t in nxt:
                    near.append(w)
            coverage = sum(alone) / total
            context = sum(near) / total
            if i > 0 and ANAPHOR.match(text):
                coverage = max(coverage, 0.9 * sum(before) / total)
            # Density prefers "X: the government-approved incubator" to a long list sentence.
            density = len(matched) / max(len(own), 1)
            scored = ScoredSentence(
                sentences, i, text, hit.score / top, coverage, context, matched, density
            )
            scored.score = coverage + 0.4 * context + 0.25 * scored.passage_score + 0.3 * density
            seen[key] = scored
    return sorted(seen.values(), key=lambda s: -s.score)


def term_weights(corpus: CorpusView, question: Question) -> dict[str, float]:
    """Each unique question term's weight: its idf times the question's own emphasis."""
    weights = {
        t: max(corpus.idf(t), MIN_IDF) * question.weights.get(t, 1.0) for t in question.terms
    }
    return {t: w for t, w in weights.items() if w > 0}


def carried(scored: ScoredSentence, weights: dict[str, float]) -> float:
    """Share of the question's weight that a sentence opening with "They"/"It" borrows."""
    if scored.index == 0 or not ANAPHOR.match(scored.text):
        return 0.0
    own = _terms(scored.text)
    before = _terms(scored.sentences.text(scored.index - 1))
    total = sum(weights.values()) or 1.0  # named: mypyc rejected the inline `... / (sum or 1.0)`
    return sum(w for t, w in weights.items() if t in before and t not in own) / total


def names_present(question: Question, sentence: ScoredSentence) -> float:
    """Share of the question's names with a word in the sentence (1.0 when it names none).

    A sentence opening with "They"/"It" also has the names of the sentence before it.
    """
    if not question.entities:
        return 1.0
    own = _with_referent(sentence)
    return sum(1 for e in question.entities if not _terms(e).isdisjoint(own)) / len(
        question.entities
    )


def focus_present(question: Question, sentence: ScoredSentence) -> float:
    """Whether the noun the question asks about ("which officials") is in the sentence.

    A sentence opening with "They"/"It" also has the words of the sentence before it:
    "... meet three officials. They include Carrie Lam, ..."
    """
    if not question.focus:
        return 0.0
    return float(not question.focus.isdisjoint(_with_referent(sentence)))


def _with_referent(sentence: ScoredSentence) -> frozenset[str]:
    """A sentence's terms, and those of the sentence before when it opens with "They"/"It"."""
    own = _terms(sentence.text)
    if sentence.index > 0 and ANAPHOR.match(sentence.text):
        own |= _terms(sentence.sentences.text(sentence.index - 1))
    return own


def near_terms(corpus: CorpusView, sentence: Sentence) -> frozenset[str]:
    """The terms of the sentence and of its neighbours."""
    sentences = corpus.sentences[sentence.article_id]
    return _terms_between(
        sentences, max(sentence.index - 1, 0), min(sentence.index + 2, len(sentences))
    )


def paragraph_terms(corpus: CorpusView, sentence: Sentence, reach: int = 20) -> frozenset[str]:
    """The terms of the sentence's paragraph (at most `reach` sentences either side)."""
    sentences = corpus.sentences[sentence.article_id]
    lo = sentence.index
    while lo > max(sentence.index - reach, 0) and sentences.paragraph(lo - 1) == sentence.paragraph:
        lo -= 1
    hi = sentence.index + 1
    while (
        hi < min(sentence.index + reach + 1, len(sentences))
        and sentences.paragraph(hi) == sentence.paragraph
    ):
        hi += 1
    return _terms_between(sentences, lo, hi)


def _terms_between(sentences: ArticleSentences, lo: int, hi: int) -> frozenset[str]:
    """The terms of sentences lo, ..., hi - 1 of an article."""
    return frozenset().union(*(_terms(sentences.text(j)) for j in range(lo, hi)))


_terms = term_set


_NO_TERMS: frozenset[str] = frozenset()
