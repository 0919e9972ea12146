"""The reader: from retrieved passages to one sentence and the span that answers.

1. The pipeline retrieves the best passages and hands them over with a view of the
   corpus (`contract`): the reader asks it for sentences, idf and dates, nothing more.
2. Rank their sentences by how much of the question's weight (idf, with the
   question's verb counted double) each holds, alone and with its neighbours: a
   sentence that opens with "They"/"It" speaks about the sentence before it.
3. Propose spans in the best sentences (`spans`), describe each against the
   question (`features`) and score them all with the learned span model
   (`model`): one softmax over every candidate of every sentence, so the choice
   of sentence and of span is one decision.
4. The confidence model turns the evidence (the winner's probability, its margin,
   the sentence's coverage, names of the question the sentence lacks) into the
   probability that the answer is right; a question naming something the corpus
   never mentions is pushed far below any threshold.

No rule here names a question, article or wording: the weights are learned on
SQuAD articles and measured on others (see `evaluate`, `scripts/train_reader.py`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from citebot.corpus.passages import Sentence
from citebot.reader.candidates import (
    FloatArray,
    IntArray,
    SentenceTable,
    sentence_tables,
    with_extra,
)
from citebot.reader.choice import WANTED, display, gate, lacks_wanted
from citebot.reader.contract import ArticleSentences, CorpusView, Hit
from citebot.reader.features import (
    ANSWER_TYPES,
    CONFIDENCE_NAMES,
    SHARED_NAMES,
    Features,
    SentenceEvidence,
    answer_kind,
    block_features,
    prepare_tables,
    term_pairs,
)
from citebot.reader.model import ReaderModel, load_model
from citebot.reader.question import AnswerType, Question
from citebot.reader.spans import KIND_BIT, Candidate, definition_candidates
from citebot.text.tokenizer import term_set, tokenize, words

TOP_SENTENCES = 8
ANSWERS_WEIGHED = 20  # the most probable answers the expected score is taken over
# Answers that name one thing, place or time are atomic: "Shenzhen Bay" is not part of
# the answer "Shenzhen Bay Startup Plaza". For them the most probable answer is kept.
_NAMED = frozenset([AnswerType.ENTITY, AnswerType.PLACE, AnswerType.DATE, AnswerType.TIME])
_ARTICLES = frozenset(["a", "an", "the"])  # left out of the F1, as SQuAD's scoring does
WIDE = 30  # sentences read when the best ones lack the kind of answer the question fixes
# Logit taken off the confidence for each question name (at most two) that no
# passage of the corpus mentions: the corpus cannot be about it.
MISSING_NAME_PENALTY = 3.0
# A question word is evidence even when every passage has it: in a corpus of two
# articles about Shenzhen, "Shenzhen" has an idf near 0, yet a sentence about "the
# Shenzhen park" answers "how many companies does the Shenzhen park have" and one
# about Cyberport does not. (In a large corpus hardly any word's idf is this low.)
MIN_IDF = 1.0
_ANAPHOR = re.compile(r"^\s*(?:They|He|She|It|This|These|Those|His|Her|Their|Its|The\s+\w+)\b")
_OVERLAP = SHARED_NAMES.index("overlap")


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


@dataclass
class Reading:
    """What the reader concluded: the best sentence, its span, and a confidence."""

    question: Question
    hits: list[Hit]
    ranked: list[ScoredSentence]
    best: ScoredSentence | None
    confidence: float
    missing: list[str] = field(default_factory=list)  # question names the corpus lacks
    evidence: npt.NDArray[np.float64] | None = None  # the confidence model's input


@dataclass
class Block:
    """The candidates of one ranked sentence and their features (rows of `Collected.features`)."""

    scored: ScoredSentence
    table: SentenceTable
    dense: FloatArray
    hashed: IntArray


@dataclass
class Collected:
    """Everything the models look at for one question."""

    weights: dict[str, float]
    hits: list[Hit]
    missing: list[str]
    ranked: list[ScoredSentence]
    blocks: list[Block]
    features: Features = field(default_factory=Features.empty)  # the blocks' rows, stacked


def recommended_min_confidence() -> float:
    """The threshold chosen for the shipped model on cross-fitted SQuAD readings (see its file)."""
    return float(load_model().meta.get("min_confidence", 0.5))


def collect(
    question: Question,
    hits: Sequence[Hit],
    corpus: CorpusView,
    article_id: str | None = None,
    *,
    top_sentences: int = TOP_SENTENCES,
) -> Collected:
    """Rank the hits' sentences and compute the features of the best sentences' candidates.

    `article_id`: the one article the question was asked about, if any (its hits come
    from it alone; a name it never uses is missing even when other articles have it).
    """
    hits = list(hits)
    weights = _term_weights(corpus, question)
    missing = [e for e in question.entities if not _known(corpus, e, article_id)]
    if not hits or not weights:
        return Collected(weights, hits, missing, [], [])
    ranked = _rank_sentences(corpus, question, weights, hits)
    return _with_blocks(
        corpus, question, Collected(weights, hits, missing, ranked, []), top_sentences
    )


def _with_blocks(
    corpus: CorpusView, question: Question, found: Collected, top_sentences: int
) -> Collected:
    """`found` (retrieved and ranked) with the blocks of its best `top_sentences` sentences."""
    weights, ranked = found.weights, found.ranked
    top = ranked[:top_sentences]
    best_coverage = max(s.coverage for s in top)
    pairs = term_pairs(question.text)
    chosen: list[tuple[ScoredSentence, SentenceTable, SentenceEvidence]] = []
    # The tables of the sentences not met before are made in one batch.
    tables = sentence_tables([(s.text, corpus.article_date(s.article_id)) for s in top])
    prepare_tables(tables, [s.text for s in top])
    for rank, (scored, table) in enumerate(zip(top, tables, strict=True)):
        text = scored.text
        if question.answer_type == AnswerType.DEFINITION and question.subject:
            table = with_extra(table, text, definition_candidates(text, question.subject))
        if not table.candidates:
            continue
        evidence = SentenceEvidence(
            coverage=scored.coverage,
            context=scored.context,
            density=scored.density,
            passage_score=scored.passage_score,
            coverage_gap=best_coverage - scored.coverage,
            rank=rank,
            bigrams=len(pairs & term_pairs(text)) / len(pairs) if pairs else 0.0,
            carried=_carried(scored, weights),
            # With few articles the idf of a name they all share is ~0, yet "the Shenzhen
            # park" and "Cyberport" are different subjects: presence counts regardless.
            terms_present=len(scored.matched) / len(weights),
            names_present=_names_present(question, scored),
            focus_present=_focus_present(question, scored),
        )
        chosen.append((scored, table, evidence))
    made = block_features(question, weights, [(t, e, s.text) for s, t, e in chosen])
    blocks = [Block(s, table, *made.sentence(j)) for j, (s, table, _) in enumerate(chosen)]
    return Collected(weights, found.hits, found.missing, ranked, blocks, made)


def read(
    question: Question,
    hits: Sequence[Hit],
    corpus: CorpusView,
    article_id: str | None = None,
    *,
    top_sentences: int = TOP_SENTENCES,
    model: ReaderModel | None = None,
) -> Reading:
    """Read the hits (best first) for one parsed question; see `collect` for `article_id`."""
    model = model if model is not None else load_model()
    found = collect(question, hits, corpus, article_id, top_sentences=top_sentences)
    if not found.blocks:
        return Reading(question, found.hits, found.ranked, None, 0.0, found.missing)
    if lacks_wanted(question, found.features) and len(found.ranked) > top_sentences:
        # The kind the question fixes is not in the best sentences: look further down,
        # as far as a person would scan ("the full name" is often said only once).
        # The same retrieval and ranking as `collect` with top_sentences=WIDE (nothing
        # above has changed them): only the blocks are made again.
        found = _with_blocks(corpus, question, found, WIDE)
    made = found.features
    scores = gate(question, made, model.scores(made.dense, made.hashed, answer_kind(question)))
    # Each sentence's best candidate (the first of its highest scores, as `np.argmax`).
    starts = np.asarray(made.starts[:-1])
    top = np.maximum.reduceat(scores, starts)
    at_top = np.flatnonzero(scores == np.repeat(top, np.diff(made.starts)))
    firsts = at_top[np.searchsorted(at_top, starts)] - starts
    for block, i, score in zip(found.blocks, firsts.tolist(), top.tolist(), strict=True):
        block.scored.span = block.table.candidates[i]
        block.scored.span_score = block.scored.score = score
    k, i = _most_supported(
        found.blocks, scores, made.starts, overlap=question.answer_type not in _NAMED
    )
    chosen = found.blocks[k]
    chosen.scored.span = chosen.table.candidates[i]
    chosen.scored.span_score = chosen.scored.score = float(scores[made.starts[k] + i])
    if question.plural:
        k = _fullest_list(question, found.blocks, k)
        i = int(np.argmax(scores[made.starts[k] : made.starts[k + 1]]))
    # Scored sentences first, best first; the others keep the ranker's order (a stable sort).
    found.ranked.sort(key=lambda s: (s.span is None, -s.score if s.span is not None else 0.0))
    best = found.blocks[k].scored
    if best.span is not None:
        best.span = display(question, best.span, found.blocks[k].table.candidates, best.text)
    x = confidence_features(corpus, question, found, scores, k, i)
    z = float(x @ model.confidence) - MISSING_NAME_PENALTY * min(len(found.missing), 2)
    confidence = 1.0 / (1.0 + math.exp(-z))
    return Reading(question, found.hits, found.ranked, best, confidence, found.missing, x)


def _most_supported(
    blocks: list[Block],
    scores: npt.NDArray[np.float32],
    starts: Sequence[int],
    *,
    overlap: bool = True,
) -> tuple[int, int]:
    """The answer with the highest expected EM + F1 under the span model (with `overlap`;
    else the most probable answer), and the place to quote it from (block, candidate).
    `scores` are the blocks' candidates' scores one block after the other, block k's
    from starts[k] to starts[k + 1].

    The model scores each occurrence alone. An answer's probability is summed over
    every place it is proposed: one two sentences support ("iMakerBase: the
    government-approved incubator" and "... iMakerBase (大公坊), Shenzhen's
    government approved startup incubator, ...") is better supported than one a
    single ambiguous sentence offers (evidence aggregation). Then, rather than the
    most probable answer, the one expected to score best against whichever answer
    is right (minimum Bayes risk): when "luxurious parks and royal gardens",
    "luxurious parks" and "royal gardens" share the probability, the whole phrase
    overlaps them all. The expectation runs over the ANSWERS_WEIGHED most probable.
    """
    top = float(scores.max())
    if not math.isfinite(top):
        return 0, 0
    probability = np.exp(scores.astype(np.float64) - top)
    support: dict[tuple[str, ...], float] = {}
    # Where each answer is proposed: block -> (its best probability there, candidate).
    spots: dict[tuple[str, ...], dict[int, tuple[float, int]]] = {}
    rows = np.flatnonzero(probability > 1e-4)
    k = 0
    for row, chance in zip(rows.tolist(), probability[rows].tolist(), strict=True):
        while row >= starts[k + 1]:  # (rows ascending: block after block)
            k += 1
        i = row - starts[k]
        key = _answer_key(blocks[k].scored.text, blocks[k].table, i)
        support[key] = support.get(key, 0.0) + chance
        spot = spots.setdefault(key, {})
        if k not in spot or chance > spot[k][0]:
            spot[k] = (chance, i)
    likely = sorted(support, key=lambda key: -support[key])[:ANSWERS_WEIGHED]
    bags = [[w for w in key if w not in _ARTICLES] for key in likely]
    p = np.asarray([support[key] for key in likely])
    expected = p
    if overlap:
        expected = pairwise_f1(bags) @ p + p  # F1, plus EM (1 only against itself)
    best = spots[likely[int(np.argmax(expected))]]  # ties: the more probable (sorted first)
    if len(best) == 1:
        [(k, (_, i))] = best.items()
        return k, i

    # Quoted from the sentence the model puts the most probability in, among those
    # that propose the answer (not merely where one candidate scored highest).
    def mass(k: int) -> tuple[float, int]:
        return float(probability[starts[k] : starts[k + 1]].sum()), -k

    k = max(best, key=mass)
    return k, best[k][1]


def _answer_key(sentence: str, table: SentenceTable, i: int) -> tuple[str, ...]:
    """The folded words of candidate i, as `words(candidate.text)` folds them.

    Read off the sentence's own words when none of them is cut by the candidate's
    edges: the tokenizer's pattern looks neither behind nor ahead, so a slice made of
    whole word runs (and whole CJK runs) has exactly those words. Otherwise (a cut
    word or CJK run, a text that is not the slice) the candidate's text is tokenised.
    """
    candidates = table.candidates
    start, end, text = candidates.starts[i], candidates.ends[i], candidates.text(i)
    folded, starts, ends = _word_bounds(sentence)
    a, b = int(table.first[i]), int(table.last[i])
    if (
        a <= b
        and starts[a] >= start
        and ends[b] <= end
        and (a == 0 or ends[a - 1] <= start)
        and (b + 1 == len(starts) or starts[b + 1] >= end)
        and text == sentence[start:end]
    ):
        return folded[a : b + 1]
    return tuple(w.folded for w in words(text))


@functools.lru_cache(maxsize=4096)
def _word_bounds(sentence: str) -> tuple[tuple[str, ...], list[int], list[int]]:
    """Folded form, start and end of each word of a sentence."""
    ws = words(sentence)
    return tuple(w.folded for w in ws), [w.start for w in ws], [w.end for w in ws]


def pairwise_f1(bags: list[list[str]]) -> npt.NDArray[np.float64]:
    """`text.bag_f1` of every pair of bags, as one matrix (the same values, computed with
    the same operations on whole arrays: 400 pairs in microseconds, not milliseconds)."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    for row, bag in enumerate(bags):
        for token in bag:
            rows.append(row)
            columns.append(vocabulary.setdefault(token, len(vocabulary)))
    # counts[bag, token]: how often the bag holds the token
    width = max(len(vocabulary), 1)
    cells = np.asarray(rows, dtype=np.int64) * width + np.asarray(columns, dtype=np.int64)
    counts = np.bincount(cells, minlength=len(bags) * width).reshape(len(bags), width)
    sizes = counts.sum(axis=1).astype(np.float64)
    shared = np.minimum(counts[:, None, :], counts[None, :, :]).sum(axis=2).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = shared / sizes[:, None]
        recall = shared / sizes[None, :]
        f1 = 2 * precision * recall / (precision + recall)
    f1[shared == 0] = 0.0
    empty = sizes == 0  # an empty bag matches only another empty one
    if empty.any():
        f1[empty, :] = 0.0
        f1[:, empty] = 0.0
        f1[np.ix_(empty, empty)] = 1.0
    out: npt.NDArray[np.float64] = f1
    return out


def _fullest_list(question: Question, blocks: list[Block], k: int) -> int:
    """For "which officials", the sentence that lists the most of them, among those whose
    best span is the winner's: the same answer said twice ("meetings with leaders
    including Carrie Lam" and "They include Carrie Lam, Matthew Cheung ... and Teresa
    Cheng") is quoted where the list is whole.
    """
    best = blocks[k].scored.span
    if best is None:
        return k
    kind = KIND_BIT[best.kind]

    def listed(block: Block) -> int:
        span = block.scored.span
        if span is None or span.text.casefold() != best.text.casefold():
            return -1
        text = block.scored.text
        shown = display(question, span, block.table.candidates, text)
        inside = sorted(
            (c.start, c.end)
            for c in block.table.candidates
            if c.flags & kind and shown.start <= c.start and c.end <= shown.end
        )
        count, end = 0, -1
        for start, stop in inside:  # distinct, non-overlapping items
            if start >= end:
                count, end = count + 1, stop
        return count

    counts = [listed(b) for b in blocks]
    top = max(counts)
    return k if counts[k] >= top else counts.index(top)


def confidence_features(
    corpus: CorpusView,
    question: Question,
    found: Collected,
    scores: npt.NDArray[np.float32],
    k: int,
    i: int,
) -> npt.NDArray[np.float64]:
    """The question-level evidence (CONFIDENCE_NAMES) behind candidate i of block k
    (`scores`: of the rows of `found.features`)."""
    flat = scores.astype(np.float64)
    top = float(flat.max())
    probs = np.exp(flat - top)
    probs /= probs.sum()
    offsets = found.features.starts
    block = found.blocks[k]
    near = _near_terms(corpus, block.scored.sentence)  # the sentence's and its neighbours' terms
    best = block.table.candidates[i]
    # The runner-up is the best candidate that does not overlap the winner: a
    # different answer, not the same one a word longer.
    spans = block.table.candidates
    apart = (np.asarray(spans.ends) <= best.start) | (np.asarray(spans.starts) >= best.end)
    rivals = np.concatenate(
        [scores[: offsets[k]], scores[offsets[k] : offsets[k + 1]][apart], scores[offsets[k + 1] :]]
    )
    rival = float(rivals.max()) if len(rivals) else None
    margin = top - rival if rival is not None else 10.0
    wanted = WANTED.get(question.answer_type, set())
    type_found = any(best.flags & KIND_BIT[kind] for kind in wanted)
    types = [float(question.answer_type.value == t) for t in ANSWER_TYPES]
    x = [
        1.0,
        float(probs[offsets[k] + i]),
        float(probs[offsets[k] : offsets[k + 1]].sum()),
        min(margin, 10.0) / 10.0,
        max(min(top, 20.0), -20.0) / 10.0,
        block.scored.coverage,
        block.scored.context,
        _names_missing(question, near),
        *_mismatches(question, found.weights, block.scored.sentence, near),
        float(type_found),
        float(block.dense[i, _OVERLAP]),
        *types,
        *_details_lacking(corpus, question, block.scored.sentence),
        _lead(found.ranked),
    ]
    assert len(x) == len(CONFIDENCE_NAMES)
    return np.asarray(x, dtype=np.float64)


# "didn't" is read as "didn" + "t".
_NEGATION = frozenset(
    """
    not no never none nor without cannot didn doesn isn wasn aren weren don hasn haven
    hadn wouldn couldn shouldn mustn
    """.split()
)


def _mismatches(
    question: Question, weights: dict[str, float], sentence: Sentence, near: frozenset[str]
) -> tuple[float, float, float]:
    """What the question says that the sentence and its neighbours (`near`: their
    terms, `_near_terms`) do not.

    - the idf of the rarest question word they lack, over the rarest question word's:
      a question about "the 1990 Treaty of Lyon" answered from a sentence about Paris;
    - a negation on one side only: "which did not ..." against "which did ...";
    - a number of the question ("in 1981") that they lack.
    """
    folded = {w.folded for w in words(sentence.text)}
    top = max(weights.values(), default=0.0) or 1.0
    lacking = [w for t, w in weights.items() if t not in near]
    rarest = max(lacking, default=0.0) / top
    q_words = {w.folded for w in words(question.text)}
    negation = float(bool(q_words & _NEGATION) != bool(folded & _NEGATION))
    numbers = [t for t in question.terms if any(ch.isdigit() for ch in t)]
    number_missing = float(any(t not in near for t in numbers))
    return rarest, negation, number_missing


def _details_lacking(
    corpus: CorpusView, question: Question, sentence: Sentence
) -> tuple[float, float, float, float, float]:
    """The question's terms the answer's sentence lacks: how an unanswerable question
    written to look answerable (SQuAD 2.0's) often shows.

    - the share of the question's distinct terms the sentence lacks;
    - the idf-weighted share it lacks but its paragraph has, and the largest such idf
      (over 10): a detail the text says elsewhere, swapped into a question that
      otherwise matches the sentence, the mark of one changed from an answerable one;
    - the share its paragraph lacks too;
    - how many terms the question has (up to 15, over 15): in SQuAD 2.0 short
      questions are more often unanswerable.
    """
    asked = _terms(question.text)
    if not asked:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    own = _terms(sentence.text)
    around = _paragraph_terms(corpus, sentence)
    idf = {t: corpus.idf(t) for t in asked}
    total = sum(idf.values()) or 1.0
    nearby = [t for t in asked if t not in own and t in around]
    return (
        sum(1 for t in asked if t not in own) / len(asked),
        sum(idf[t] for t in nearby) / total,
        max((idf[t] for t in nearby), default=0.0) / 10,
        sum(1 for t in asked if t not in around) / len(asked),
        min(len(asked), 15) / 15,
    )


def _lead(ranked: list[ScoredSentence]) -> float:
    """How far the best sentence's coverage stands above the next one's."""
    if not ranked:
        return 0.0
    return ranked[0].coverage - (ranked[1].coverage if len(ranked) > 1 else 0.0)


def _paragraph_terms(corpus: CorpusView, sentence: Sentence, reach: int = 20) -> frozenset[str]:
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


def _names_missing(question: Question, near: frozenset[str]) -> float:
    """Share of the question's names with no word in the sentence or its neighbours
    (`near`: their terms, `_near_terms`)."""
    if not question.entities:
        return 0.0
    lacking = sum(1 for e in question.entities if _terms(e).isdisjoint(near))
    return lacking / len(question.entities)


def _names_present(question: Question, sentence: ScoredSentence) -> float:
    """Share of the question's names with a word in the sentence (1.0 when it names none).

    A sentence opening with "They"/"It" also has the names of the sentence before it.
    """
    if not question.entities:
        return 1.0
    own = _with_referent(sentence)
    return sum(1 for e in question.entities if not _terms(e).isdisjoint(own)) / len(
        question.entities
    )


def _focus_present(question: Question, sentence: ScoredSentence) -> float:
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
    if sentence.index > 0 and _ANAPHOR.match(sentence.text):
        own |= _terms(sentence.sentences.text(sentence.index - 1))
    return own


def _near_terms(corpus: CorpusView, sentence: Sentence) -> frozenset[str]:
    """The terms of the sentence and of its neighbours."""
    sentences = corpus.sentences[sentence.article_id]
    return _terms_between(
        sentences, max(sentence.index - 1, 0), min(sentence.index + 2, len(sentences))
    )


def _carried(scored: ScoredSentence, weights: dict[str, float]) -> float:
    """Share of the question's weight that a sentence opening with "They"/"It" borrows."""
    if scored.index == 0 or not _ANAPHOR.match(scored.text):
        return 0.0
    own = _terms(scored.text)
    before = _terms(scored.sentences.text(scored.index - 1))
    total = sum(weights.values()) or 1.0  # named: mypyc rejected the inline `... / (sum or 1.0)`
    return sum(w for t, w in weights.items() if t in before and t not in own) / total


def _term_weights(corpus: CorpusView, question: Question) -> dict[str, float]:
    """Each unique question term's weight: its idf times the question's own emphasis."""
    weights = {
        t: max(corpus.idf(t), MIN_IDF) * question.weights.get(t, 1.0) for t in question.terms
    }
    return {t: w for t, w in weights.items() if w > 0}


def _known(corpus: CorpusView, entity: str, article_id: str | None = None) -> bool:
    """Whether any word of a name the question uses occurs in the corpus, or in the one
    article the question is restricted to: an article that never names "Seoul" cannot
    say when the mayor left Seoul, whatever the other articles say."""
    return any(corpus.mentions(t, article_id) for t in tokenize(entity))


def _rank_sentences(
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
            if i > 0 and _ANAPHOR.match(text):
                coverage = max(coverage, 0.9 * sum(before) / total)
            # Density prefers "X: the government-approved incubator" to a long list sentence.
            density = len(matched) / max(len(own), 1)
            scored = ScoredSentence(
                sentences, i, text, hit.score / top, coverage, context, matched, density
            )
            scored.score = coverage + 0.4 * context + 0.25 * scored.passage_score + 0.3 * density
            seen[key] = scored
    return sorted(seen.values(), key=lambda s: -s.score)


_terms = term_set
_NO_TERMS: frozenset[str] = frozenset()
