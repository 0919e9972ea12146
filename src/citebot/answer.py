"""The reader: from retrieved passages to one sentence and the shortest span that answers.

1. Retrieve the best passages with BM25 (`index`).
2. Score each of their sentences by how much of the question's weight (idf, with
   the question's verb counted double) it holds, alone and with its neighbours: a
   sentence that opens with "They"/"It" speaks about the sentence before it.
3. Propose spans of the type the question wants (`spans`), score them by type,
   closeness to the matched question words and novelty, and keep the best.
4. Turn the evidence into a confidence in [0, 1]; below the threshold, abstain.

No rule here names a question, article or wording: the same code is measured on
SQuAD (see `evaluate`).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import re
from dataclasses import dataclass, field

from citebot.corpus import Article
from citebot.index import Hit, Index
from citebot.passages import Sentence
from citebot.question import AnswerType, Question
from citebot.spans import (
    Candidate,
    definition_candidates,
    name_candidates,
    number_candidates,
    phrase_candidates,
    time_candidates,
)
from citebot.text import tokenize, words

_ANAPHOR = re.compile(r"^\s*(?:They|He|She|It|This|These|Those|His|Her|Their|Its|The\s+\w+)\b")
_TYPED = {
    AnswerType.DATE,
    AnswerType.TIME,
    AnswerType.NUMBER,
    AnswerType.PERSON,
    AnswerType.PLACE,
    AnswerType.DEFINITION,
    AnswerType.ENTITY,
}


@dataclass
class ScoredSentence:
    """A candidate sentence with the evidence behind its score."""

    sentence: Sentence
    passage_score: float
    coverage: float  # share of the question's weight in the sentence itself
    context: float  # the same with its neighbours (and the sentence before an anaphor)
    matched: list[str]
    score: float = 0.0
    span: Candidate | None = None
    span_score: float = 0.0


@dataclass
class Reading:
    """What the reader concluded: the best sentence, its span, and a confidence."""

    question: Question
    hits: list[Hit]
    ranked: list[ScoredSentence]
    best: ScoredSentence | None
    confidence: float
    missing: list[str] = field(default_factory=list)  # question names the corpus lacks


def read(
    index: Index,
    question: Question,
    article_id: str | None = None,
    *,
    top_passages: int = 8,
    top_sentences: int = 30,
) -> Reading:
    """Read the corpus for one parsed question."""
    weights = _term_weights(index, question)
    query = list(question.terms) + [t for t, w in question.weights.items() if w > 1]
    hits = index.search(query, top_passages, article_id)
    missing = [e for e in question.entities if not _known(index, e)]
    if not hits or not weights:
        return Reading(question, hits, [], None, 0.0, missing)
    ranked = _rank_sentences(index, question, weights, hits)
    for scored in ranked[:top_sentences]:
        article = index.article(scored.sentence.article_id)
        scored.span, scored.span_score = _best_span(question, weights, scored.sentence, article)
        scored.score += 0.35 * scored.span_score
    # A sentence with no span of the wanted type cannot answer, however well it matches.
    ranked[:top_sentences] = sorted(
        ranked[:top_sentences], key=lambda s: (s.span is None, -s.score)
    )
    best = ranked[0] if ranked and ranked[0].span is not None else None
    confidence = _confidence(question, best, missing) if best else 0.0
    return Reading(question, hits, ranked, best, confidence, missing)


def _term_weights(index: Index, question: Question) -> dict[str, float]:
    """Each unique question term's weight: its idf times the question's own emphasis."""
    weights = {t: index.idf(t) * question.weights.get(t, 1.0) for t in question.terms}
    return {t: w for t, w in weights.items() if w > 0}


def _known(index: Index, entity: str) -> bool:
    """Whether any word of a name the question uses occurs anywhere in the corpus."""
    return any(index.doc_freq.get(t, 0) > 0 for t in tokenize(entity))


def _rank_sentences(
    index: Index, question: Question, weights: dict[str, float], hits: list[Hit]
) -> list[ScoredSentence]:
    total = sum(weights.values()) or 1.0
    top = hits[0].score or 1.0
    seen: dict[tuple[str, int], ScoredSentence] = {}
    for hit in hits:
        sentences = index.sentences[hit.passage.article_id]
        for i in range(hit.passage.first_sentence, hit.passage.last_sentence):
            key = (hit.passage.article_id, i)
            if key in seen:
                continue
            s = sentences[i]
            own = _terms(s.text)
            matched = [t for t in weights if t in own]
            coverage = sum(weights[t] for t in matched) / total
            around = set(own)
            for j in (i - 1, i + 1):
                if 0 <= j < len(sentences):
                    around |= _terms(sentences[j].text)
            context = sum(w for t, w in weights.items() if t in around) / total
            if i > 0 and _ANAPHOR.match(s.text):
                before = own | _terms(sentences[i - 1].text)
                coverage = max(
                    coverage, 0.9 * sum(w for t, w in weights.items() if t in before) / total
                )
            scored = ScoredSentence(s, hit.score / top, coverage, context, matched)
            # Density prefers "X: the government-approved incubator" to a long list sentence.
            density = len(matched) / max(len(own), 1)
            scored.score = coverage + 0.4 * context + 0.25 * scored.passage_score + 0.3 * density
            seen[key] = scored
    return sorted(seen.values(), key=lambda s: -s.score)


@functools.lru_cache(maxsize=65_536)
def _terms(text: str) -> frozenset[str]:
    return frozenset(w.term for w in words(text) if not w.is_stop)


def _candidates(
    question: Question, sentence: Sentence, article_date: dt.date | None
) -> list[Candidate]:
    text = sentence.text
    kind = question.answer_type
    out: list[Candidate] = []
    if kind in {AnswerType.DATE, AnswerType.TIME}:
        out += time_candidates(text, article_date)
    elif kind == AnswerType.NUMBER:
        out += number_candidates(text, question.unit)
    elif kind == AnswerType.DEFINITION and question.subject:
        out += definition_candidates(text, question.subject)
        if not out:  # no definitional pattern here: any phrase may still describe it
            out += phrase_candidates(text)
    elif kind in {AnswerType.PERSON, AnswerType.PLACE, AnswerType.ENTITY}:
        out += name_candidates(text)
    if kind not in _TYPED:
        out += name_candidates(text) + time_candidates(text, article_date)
        out += number_candidates(text, None) + phrase_candidates(text)
    return out


def _type_bonus(question: Question, c: Candidate) -> float:
    kind = question.answer_type
    table: dict[AnswerType, dict[str, float]] = {
        AnswerType.DATE: {"date": 1.0},
        AnswerType.TIME: {"time": 1.0, "date": 0.5},
        AnswerType.NUMBER: {"number": 1.0},
        AnswerType.PERSON: {"person": 1.0, "name": 0.6, "place": 0.2},
        AnswerType.PLACE: {"place": 1.0, "name": 0.6, "person": 0.3},
        AnswerType.ENTITY: {"name": 1.0, "person": 0.8, "place": 0.8},
        AnswerType.DEFINITION: {"definition": 1.0},
    }
    if kind in table:
        return table[kind].get(c.kind, 0.0)
    return 0.2  # an untyped question: no kind of span is preferred


def _best_span(
    question: Question, weights: dict[str, float], sentence: Sentence, article: Article
) -> tuple[Candidate | None, float]:
    """The best candidate span in the sentence and its score."""
    text = sentence.text
    ws = words(text)
    total = sum(weights.values()) or 1.0
    anchors = [(k, weights[w.term]) for k, w in enumerate(ws) if w.term in weights]
    starts = [w.start for w in ws]
    scored: list[tuple[float, Candidate]] = []
    for c in _candidates(question, sentence, article.date):
        k = bisect.bisect_left(starts, c.start)
        inside = []
        while k < len(ws) and ws[k].end <= c.end:
            inside.append(k)
            k += 1
        content = [ws[k] for k in inside if not ws[k].is_stop]
        if not content and c.kind not in {"date", "time", "number"}:
            continue
        if c.kind == "number":  # "16 companies" answers "how many companies": the unit is free
            content = [w for w in content if any(ch.isdigit() for ch in w.folded)]
        in_question = sum(1 for w in content if w.term in weights)
        overlap = in_question / len(content) if content else 0.0
        extends = question.asks_name and 0 < in_question < len(content)
        if overlap == 1.0 and question.answer_type != AnswerType.DEFINITION:
            continue  # the question already says it
        first, last = (inside[0], inside[-1]) if inside else (0, 0)
        proximity = 0.0
        for k, weight in anchors:
            if first <= k <= last:
                continue
            distance = first - k if k < first else k - last
            proximity += weight * math.exp(-(distance - 1) / 4)
        proximity /= total
        if extends:  # the candidate holds the matched words: it is about them
            proximity = 1.0
        length = len(inside)
        free_overlap = question.answer_type == AnswerType.DEFINITION or extends
        score = (
            _type_bonus(question, c)
            + (0.8 if question.answer_type == AnswerType.DEFINITION else 0.2) * c.prior
            + 0.8 * min(proximity, 1.0)
            - (0.0 if free_overlap else 0.8 * overlap)
            - (0.0 if extends else 0.04 * max(0, length - 4))
            # "the full name of the Hetao zone" is a longer name that contains "Hetao zone".
            + (0.6 if extends else 0.0)
            # "how many companies": a number counting companies beats any other number.
            + (0.5 if c.kind == "number" and c.prior > 1.0 else 0.0)
        )
        scored.append((score, c))
    if not scored:
        return None, 0.0
    scored.sort(key=lambda sc: (-sc[0], sc[1].start))
    best_score, best = scored[0]
    if question.plural:
        best = _as_list(best, [c for s, c in scored if c.kind == best.kind], text)
    return best, best_score


def _as_list(best: Candidate, same_kind: list[Candidate], text: str) -> Candidate:
    """For "which officials ...", the span from the first to the last listed item."""
    items = sorted({(c.start, c.end) for c in same_kind})
    chain = [next((s, e) for s, e in items if (s, e) == (best.start, best.end))]
    for s, e in items:  # extend to neighbours joined by commas/"and" within a short gap
        if (
            s >= chain[-1][1]
            and s - chain[-1][1] <= 80
            and re.search(r",|\band\b", text[chain[-1][1] : s])
        ):
            chain.append((s, e))
    for s, e in reversed(items):
        if (
            e <= chain[0][0]
            and chain[0][0] - e <= 80
            and re.search(r",|\band\b", text[e : chain[0][0]])
        ):
            chain.insert(0, (s, e))
    start, end = chain[0][0], chain[-1][1]
    return Candidate(start, end, text[start:end], best.kind, best.value, best.prior)


def _confidence(question: Question, best: ScoredSentence, missing: list[str]) -> float:
    """A logistic blend of the evidence: question weight found, answer type found, names missing."""
    typed = question.answer_type in _TYPED
    type_found = best.span is not None and (not typed or best.span.kind != "phrase")
    support = max(best.coverage, 0.8 * best.context)
    z = (
        -3.2
        + 5.0 * support
        + (0.8 if type_found else -0.8)
        + 0.8 * min(best.span_score, 1.5)
        - 2.5 * min(len(missing), 2)
    )
    return 1.0 / (1.0 + math.exp(-z))
