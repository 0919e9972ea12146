"""The neural reader: the retrieved passages -> the best span, its sentence, a confidence.

1. The networks (`network.py`, an ensemble of trainings from different seeds) read the
   question and the best `TOP_PASSAGES` hits together and score every token of each as
   the answer's first and last, and each passage as holding no answer; their scores
   are averaged.
2. Within each passage the answer is a span of at most `MAX_ANSWER_TOKENS` tokens
   inside one sentence (the answer is quoted with its sentence): first the sentence
   whose spans together are the most probable, given a head start of LEXICAL_WEIGHT
   times the share of the question's weight it holds, then its span maximising start +
   end score. Across passages the raw scores compare directly, as in DrQA: the passage
   whose answer scores highest answers, with the same head start for its sentence,
   less RANK_PENALTY per place the passage stands below the first hit and
   RETRIEVAL_WEIGHT times the share of the first hit's retrieval score it falls short by.
3. The calibration model (`calibration.py`) turns the evidence (the span's
   probability within its passage, its lead over its passage's no-answer score, its
   margin over the other passages' answers, whether the ensemble's members agree on
   it, how much of the question its sentence and passage hold, names the corpus lacks)
   into the probability that the answer is right.

The other sentences are ranked by `sentences.rank_sentences`, for "more context".
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from citebot.corpus.passages import Sentence
from citebot.reader.contract import CorpusView, Hit, passage_sentences
from citebot.reader.names import missing_names
from citebot.reader.neural.calibration import Calibration, evidence, load_calibration
from citebot.reader.neural.encode import MAX_QUESTION, Encoded, encode, features
from citebot.reader.neural.network import (
    MAX_ANSWER_TOKENS,
    Ensemble,
    average,
    best_span,
    load_ensemble,
)
from citebot.reader.question import Question
from citebot.reader.reading import Reading
from citebot.reader.sentences import Candidate, ScoredSentence, rank_sentences, term_weights
from citebot.text.dates import find_time_expressions

TOP_PASSAGES = 5  # hits the network reads
# Taken off a passage's span score per place it stands below the first hit: the network
# scores each passage alone, and retrieval's order is evidence too. Chosen on SQuAD v2.0
# dev over all its articles (1,500 answerable questions, F1 of the best answer): reading
# 1, 3, 5 or 8 hits by raw score gave 48.8, 48.9, 48.0, 47.6; with this penalty at 0.5,
# 1, 2 and 4, five hits gave 49.3, 49.7, 50.0 and 49.8. (2.0 until RETRIEVAL_WEIGHT came
# in; both were then chosen together, below.)
RANK_PENALTY = 1.5
# Taken off a passage's span score per unit of the share by which its retrieval score
# falls short of the first hit's (`PassageAnswer.gap`): the place alone does not say
# whether the re-ranker found the first hit far better or about as good. Chosen with
# RANK_PENALTY on a dump of the readings of 5 passages, SQuAD v1.1 dev's 35 articles
# that v2.0 dev shares as the corpus (6,013 questions; EM / sentence hit): the place
# alone at 2.0 (as before) 54.50 / 82.55 %; at 1.5 with this weight 10 or 15 54.70 /
# 82.92 and 54.68 / 82.97; at 2.0 with 5, 10, 15 82.87, 82.92, 82.85 %; at 0 with 20
# or 30 (the share alone) 82.14 and 82.50 %.
RETRIEVAL_WEIGHT = 15.0
# Added to a sentence's log span mass and to its answer's rating per unit of the share
# of the question's weight the sentence holds (`ScoredSentence.coverage`): the network
# reads the question's words in context, but misses the plain evidence of a sentence
# that holds them all. Chosen on SQuAD v1.1 dev, the 35 articles v2.0 dev shares (6,013
# questions; EM / sentence hit): 0 -> 58.8 / 90.4 % with the paragraph given, 53.9 /
# 81.2 % over those articles; 2, 4, 6 gave 58.9 / 90.6, 59.0 / 90.7, 58.9 / 90.7 and
# 54.1 / 81.5, 54.3 / 81.8, 54.2 / 81.8.
LEXICAL_WEIGHT = 4.0


@dataclass(frozen=True)
class PassageAnswer:
    """The best span of one passage: body offsets, its sentence, and its scores."""

    hit: Hit
    sentence: Sentence
    start: int  # offsets into the article body
    end: int
    score: float  # start + end score: comparable across passages
    none: float  # the no-answer start + end score of its passage, on the same scale
    probability: float  # P(start) * P(end) within its passage
    agreement: float  # share of the ensemble's members whose own best span this is
    tokens: int
    rank: int  # the hit's place among those read
    coverage: float = 0.0  # the share of the question's weight its sentence holds
    gap: float = 0.0  # 1 - its hit's retrieval score over the first hit's

    @property
    def rating(self) -> float:
        """What the answers of different passages are ranked by."""
        return (
            self.score
            + LEXICAL_WEIGHT * self.coverage
            - RANK_PENALTY * self.rank
            - RETRIEVAL_WEIGHT * self.gap
        )


@functools.cache
def shipped_network() -> Ensemble:
    """The networks shipped in the package (loaded once per process)."""
    return load_ensemble()


def read_neural(
    question: Question,
    hits: Sequence[Hit],
    corpus: CorpusView,
    article_id: str | None = None,
    *,
    network: Ensemble | None = None,
    calibration: Calibration | None = None,
    top_passages: int = TOP_PASSAGES,
) -> Reading:
    """Read the hits (best first) for one parsed question with the neural span model."""
    network = network if network is not None else shipped_network()
    calibration = calibration if calibration is not None else load_calibration()
    hits = list(hits)
    missing = missing_names(question, corpus, article_id)
    weights = term_weights(corpus, question)
    if not hits or not weights:
        return Reading(question, hits, [], None, 0.0, missing)
    ranked = rank_sentences(corpus, question, weights, hits)
    coverage = {(s.article_id, s.index): s.coverage for s in ranked}
    answers = passage_answers(network, question.text, hits[:top_passages], corpus, coverage)
    if not answers:
        return Reading(question, hits, ranked, None, 0.0, missing)
    order = sorted(answers, key=lambda a: -a.rating)
    by_sentence = {(s.article_id, s.index): s for s in ranked}
    # Passages overlap: a sentence keeps the span of the best-rated passage that holds it.
    firsts = {_key(a): a for a in reversed(order)}
    scored = [_scored(a, by_sentence, corpus) for a in order if firsts[_key(a)] is a]
    best = scored[0]
    rest = [s for s in ranked if all(s is not other for other in scored)]
    x = evidence(question, order, scored[0], corpus, weights)
    confidence = calibration.probability(x, missing)
    return Reading(question, hits, scored + rest, best, confidence, missing, x)


def passage_answers(
    network: Ensemble,
    question_text: str,
    hits: Sequence[Hit],
    corpus: CorpusView,
    coverage: Mapping[tuple[str, int], float] | None = None,
) -> list[PassageAnswer]:
    """Each passage's best span (passages with no token are skipped). `coverage` maps
    a sentence's (article id, index) to the share of the question's weight it holds
    (absent: none)."""
    coverage = coverage or {}
    top_score = hits[0].score if hits else 0.0
    question = encode(question_text, network.vocabulary)
    if not len(question.tokens):
        return []
    passages = [encode(h.passage.text, network.vocabulary) for h in hits]
    kept = [(k, h, p) for k, (h, p) in enumerate(zip(hits, passages, strict=True)) if len(p.tokens)]
    if not kept:
        return []
    runs = network.each(
        question.head(MAX_QUESTION),
        [p for _, _, p in kept],
        [features(p, question) for _, _, p in kept],
    )
    out = []
    for k, ((rank, hit, passage), (start, end, none)) in enumerate(
        zip(kept, average(runs), strict=True)
    ):
        sentences = passage_sentences(corpus, hit)
        group = _sentence_of_tokens(passage, sentences, hit.passage.start)
        shares = np.array([coverage.get((s.article_id, s.index), 0.0) for s in sentences])
        head_start = LEXICAL_WEIGHT * shares
        first, last, score = answer_span(start, end, group, head_start)
        if not math.isfinite(score):
            continue
        own = [answer_span(run[k][0], run[k][1], group, head_start)[:2] for run in runs]
        probability = math.exp(score - _logsumexp(start) - _logsumexp(end))
        offset = hit.passage.start
        chosen = int(group[first])
        out.append(
            PassageAnswer(
                hit=hit,
                sentence=sentences[chosen],
                start=offset + passage.tokens.starts[first],
                end=offset + passage.tokens.ends[last],
                score=score,
                none=float(none.sum()),
                probability=probability,
                agreement=own.count((first, last)) / len(own),
                tokens=last - first + 1,
                rank=rank,
                coverage=float(shares[chosen]),
                gap=1.0 - hit.score / top_score if top_score > 0 else 0.0,
            )
        )
    return out


def answer_span(
    start: np.ndarray,
    end: np.ndarray,
    group: np.ndarray,
    head_start: np.ndarray | None = None,
    longest: int = MAX_ANSWER_TOKENS,
) -> tuple[int, int, float]:
    """(first, last, score) of a passage's answer: within the sentence (`group`) whose
    spans of at most `longest` tokens hold the most probability together, the span
    maximising start[first] + end[last]. `head_start[g]`, when given, is added to
    sentence g's log probability mass.

    A sentence that several overlapping spans point to ("on Thursday", "Thursday",
    "Thursday, 7 September") wins over one holding a single slightly higher span: the
    quote is more often right (dev split, 35 articles: sentence hit 90.0 -> 90.2 % with
    the paragraph given, 80.9 -> 81.1 % over the articles; EM unchanged).
    """
    # A span's probability is proportional to exp(start[first]) * exp(end[last]): a
    # sentence's mass sums, over its first tokens, exp(start) times the running sum of
    # exp(end) from that token to the earlier of `longest` tokens on and its sentence's end.
    # (`group` never decreases: tokens are in reading order.)
    n = len(start)
    begins = np.exp(start.astype(np.float64) - float(start.max()))
    running = np.cumsum(np.exp(end.astype(np.float64) - float(end.max())))
    running = np.concatenate([[0.0], running])
    stop = np.minimum(np.arange(n) + longest, np.searchsorted(group, group, side="right"))
    mass = np.bincount(group, weights=begins * (running[stop] - running[:n]))
    if head_start is not None:
        with np.errstate(divide="ignore"):  # a sentence with no token has no mass
            mass = np.log(mass) + head_start[: len(mass)]
    chosen = int(np.argmax(mass))
    lo, hi = (int(k) for k in np.searchsorted(group, [chosen, chosen + 1]))
    first, last, score = best_span(start[lo:hi], end[lo:hi], longest)
    return lo + first, lo + last, score


def _key(answer: PassageAnswer) -> tuple[str, int]:
    return answer.sentence.article_id, answer.sentence.index


def _sentence_of_tokens(passage: Encoded, sentences: list[Sentence], offset: int) -> np.ndarray:
    """For each token, the index (into `sentences`) of the sentence it starts in."""
    bounds = np.array([s.start - offset for s in sentences[1:]], dtype=np.int64)
    starts = np.array(passage.tokens.starts, dtype=np.int64)
    return np.searchsorted(bounds, starts, side="right")


def _scored(
    answer: PassageAnswer,
    by_sentence: dict[tuple[str, int], ScoredSentence],
    corpus: CorpusView,
) -> ScoredSentence:
    """The ranked sentence holding the answer, with the answer as its span."""
    sentence = answer.sentence
    scored = by_sentence.get((sentence.article_id, sentence.index))
    if scored is None:  # a sentence the ranker did not keep (it holds no question word)
        scored = ScoredSentence(
            sentences=corpus.sentences[sentence.article_id],
            index=sentence.index,
            text=sentence.text,
            passage_score=answer.hit.score,
            coverage=0.0,
            context=0.0,
            matched=[],
        )
    start, end = answer.start - sentence.start, answer.end - sentence.start
    scored.span = _candidate(sentence.text, start, end, corpus.article_date(sentence.article_id))
    scored.span_score = scored.score = answer.score
    return scored


def _candidate(text: str, start: int, end: int, anchor: dt.date | None) -> Candidate:
    """The span as a candidate: a date when it is (or lies within) a temporal expression."""
    for found in find_time_expressions(text, anchor):
        inside = found.start <= start and end <= found.end
        holds = start <= found.start < found.end <= end
        if (
            (inside or holds)
            and found.value is not None
            and end - start <= 2 * (found.end - found.start)
        ):
            return Candidate(start, end, text[start:end], "date", found.value)
    kind = "number" if any(c.isdigit() for c in text[start:end]) else "phrase"
    return Candidate(start, end, text[start:end], kind)


def _logsumexp(x: np.ndarray) -> float:
    top = float(x.max())
    return top + math.log(float(np.exp(x - top).sum()))
