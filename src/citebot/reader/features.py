"""Features of (question, sentence, candidate span) for the learned reader.

Each candidate becomes a dense vector (`SHARED_NAMES`, in that order) and a few
hashed lexical conjunctions (`HASH_TEMPLATES`, indexes into a table of
`HASH_DIM` weights). The span model also conjoins the dense features with the
question's answer type (`DENSE_NAMES`); those conjunctions are not written out:
the model adds the type's weights to the shared ones (`model.ReaderModel.scores`).
What depends on the question (matched words, proximity, answer type) is a
handful of numpy operations over all candidates of the question's sentences at
once (`_Stack`), on top of the sentences' cached tables and their facts.

The sentence-only part lives in `spantable`. The words around a span carry most
of what a parser would: "charged with
▸undermining…" (the word before is a matched question word), "in ▸1066" (a
preposition before), "▸Normandy, a region" (punctuation after).
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from citebot.reader.candidates import (
    NAME_BITS,
    STATIC_NAMES,
    FloatArray,
    IntArray,
    SentenceTable,
    has_capital,
    stable_hash,
)
from citebot.reader.question import AnswerType, Question
from citebot.text.tokenizer import STOP_WORDS, stem, words
from citebot.text.tokenizer import (
    term_pairs as term_pairs,  # re-exported: part of this module's API
)

ANSWER_TYPES = tuple(t.value for t in AnswerType)
# Features of the candidate against the question.
MATCH_NAMES = (
    "overlap",
    "overlap_any",
    "overlap_all",
    "proximity",
    "near_left",
    "near_right",
    "left_matched",
    "right_matched",
    "after_verb",
    "focus_last",
    "focus_in",
    "focus_right",
    "unit_in",
    "extends_name",
    "verb_near",
    "appos_right",
    "appos_left",
    "clause_coverage",
    "verb_clause",
    "described",
    "unit_next",
    "wh_next_right",
    "wh_prev_left",
    "q_last_left",
    "list_in",
    "list_wanted",
)
# Features of the candidate's sentence, the same for all its candidates.
SENTENCE_NAMES = (
    "coverage",
    "context",
    "density",
    "passage_score",
    "coverage_gap",
    "bigrams",
    "terms_present",
    "names_present",
    "verb_in_sentence",
    "focus_present",
    "rank=0",
    "rank=1",
    "rank=2",
    "rank=3+",
)
_BASE = STATIC_NAMES + MATCH_NAMES + SENTENCE_NAMES
# The columns of a candidate's dense row: the bias and the base features.
SHARED_NAMES = ("bias", *_BASE)
# The span model's dense weights: those of SHARED_NAMES, then one block per ANSWER_TYPES
# of the base features conjoined with the answer type. A row's conjunctions with its
# question's type repeat its base features and the other types' are zero, so a row is
# scored with the shared weights plus its type's block (`model.kind_weights`).
DENSE_NAMES = (
    *SHARED_NAMES,
    *tuple(f"{t}&{name}" for t in ANSWER_TYPES for name in _BASE),
)
_N_STATIC = len(STATIC_NAMES)
_SENTENCE_START = 1 + len(STATIC_NAMES) + len(MATCH_NAMES)
# Question-level evidence for the confidence model (computed by `confidence`).
CONFIDENCE_NAMES = (
    "bias",
    "p_best",
    "p_sentence",
    "margin",
    "score",
    "coverage",
    "context",
    "names_missing",
    "rarest_missing",
    "negation_mismatch",
    "number_missing",
    "type_found",
    "overlap",
    *(f"type={t}" for t in ANSWER_TYPES),
    "lacking",
    "lacking_nearby",
    "rarest_nearby",
    "lacking_anywhere",
    "question_terms",
    "sentence_lead",
)
HASH_DIM = 1 << 16
# Word-level templates (the words at and around the span's edges) and window templates:
# the words around the span as the question sees them, one symbol per word (see
# `_SYMBOLS`), so "▸X considers" for "who considers" and "most ▸X" for "the most what"
# are learned as patterns of the question's own words rather than of particular words.
WORD_TEMPLATES = ("qkey&left", "qkey&right", "qkey&first", "qkey&last")
WINDOW_TEMPLATES = (
    "qkey&L1",
    "qkey&L2",
    "qkey&R1",
    "qkey&R2",
    "qkey&L1R1",
    "wh&L1",
    "wh&R1",
    "wh&L2R2",
    "qkey&inner",
    "qkey&L1&first",
    "qkey&last&R1",
)
HASH_TEMPLATES = WORD_TEMPLATES + WINDOW_TEMPLATES


@dataclass(frozen=True)
class SentenceEvidence:
    """How well a sentence matches the question, as the sentence ranker measured it."""

    coverage: float
    context: float
    density: float
    passage_score: float
    coverage_gap: float  # best coverage among the ranked sentences minus this one's
    rank: int
    bigrams: float = 0.0  # share of the question's word pairs the sentence has side by side
    carried: float = 0.0  # question weight found only in the sentence an opening pronoun refers to
    terms_present: float = 0.0  # share of the question's terms in the sentence, idf ignored
    names_present: float = 0.0  # share of the names the question mentions that the sentence has
    focus_present: float = 0.0  # the noun of "which officials" is in the sentence (or its referent)


def question_key(question: Question) -> int:
    """The hash of what lexical features are conjoined with: answer type and question word."""
    return _key_hash(f"{question.answer_type.value}:{question.wh}")


def answer_kind(question: Question) -> int:
    """The question's answer type as an index of ANSWER_TYPES: its block of DENSE_NAMES."""
    return ANSWER_TYPES.index(question.answer_type.value)


@dataclass(frozen=True)
class Features:
    """The features of several sentences' candidates, their rows stacked sentence by sentence."""

    dense: FloatArray  # candidates x SHARED_NAMES
    hashed: IntArray  # candidates x HASH_TEMPLATES
    starts: tuple[int, ...]  # each sentence's first row, then the number of rows
    flags: IntArray  # each candidate's `CandidateList.flags` (its kinds' bits)

    @classmethod
    def empty(cls) -> Features:
        """The features of no sentence."""
        return cls(
            np.zeros((0, len(SHARED_NAMES)), dtype=np.float32),
            np.zeros((0, len(HASH_TEMPLATES)), dtype=np.int64),
            (0,),
            np.zeros(0, dtype=np.int64),
        )

    def sentence(self, j: int) -> tuple[FloatArray, IntArray]:
        """The rows of sentence j (views, not copies)."""
        rows = slice(self.starts[j], self.starts[j + 1])
        return self.dense[rows], self.hashed[rows]


def candidate_features(
    question: Question,
    weights: dict[str, float],
    table: SentenceTable,
    evidence: SentenceEvidence,
    sentence: str,
) -> tuple[FloatArray, IntArray]:
    """Dense features (candidates x SHARED_NAMES) and hash indexes (candidates x templates).

    `sentence` is the text the table was made from (its words' capitals and brackets).
    """
    return block_features(question, weights, [(table, evidence, sentence)]).sentence(0)


def block_features(
    question: Question,
    weights: dict[str, float],
    blocks: Sequence[tuple[SentenceTable, SentenceEvidence, str]],
) -> Features:
    """`candidate_features` of several sentences' tables for one question, in one stack."""
    if not blocks:
        return Features.empty()
    stack = _stack(question, weights, blocks)
    return Features(
        _dense_blocks(question, weights, blocks, stack),
        _hashed_blocks(question, stack),
        tuple(stack.row0),
        stack.kinds,
    )


@dataclass(frozen=True)
class _Stack:
    """One question's sentences side by side: their words numbered on from one sentence
    to the next ("global" word indexes: the sentence's first word plus its own index),
    their candidates' rows stacked, and where the question's words are among them."""

    tables: list[SentenceTable]
    word0: list[int]  # each sentence's first word, then the number of words
    row0: list[int]  # each sentence's first row, then the number of rows
    counts: list[int]  # each sentence's rows
    max_words: int  # the most words a sentence has
    block_of_word: IntArray
    block_of_row: IntArray
    w: IntArray  # each row's sentence's first word
    at: IntArray  # the tables' `_TableFacts.at` side by side (len(_AT) x rows)
    flags: npt.NDArray[np.bool_]  # their `_TableFacts.flags`
    words: IntArray  # their `_TableFacts.words` (place, clause) x words
    clause0: IntArray  # each sentence's first clause, then the number of clauses
    content: npt.NDArray[np.bool_]  # each word: not a stop word
    pause: npt.NDArray[np.bool_]  # each word: punctuation follows it
    weight: npt.NDArray[np.float64]  # each word's question weight (0: not a question word)
    flag: npt.NDArray[np.bool_]  # (_N_FLAGS, words): the question's words, its verb...
    symbol: IntArray  # each word's symbol (`_SYMBOLS`)
    has_verb: list[bool]  # each sentence: has the question's verb (all False: it has none)
    kinds: IntArray  # each row's candidate's kind bits (`CandidateList.flags`)


def _stack(
    question: Question,
    weights: dict[str, float],
    blocks: Sequence[tuple[SentenceTable, SentenceEvidence, str]],
) -> _Stack:
    """The sentences of `blocks` stacked, and the question's words found in them."""
    tables = [t for t, _, _ in blocks]
    facts = [_table_facts(t, s) for t, _, s in blocks]
    cached = [_sentence_words(s) for _, _, s in blocks]
    sizes = [len(t.terms) for t in tables]
    counts = [len(t.first) for t in tables]
    word0 = [0, *itertools.accumulate(sizes)]
    row0 = [0, *itertools.accumulate(counts)]
    align = _alignment(question)
    unit = {w.term for w in words(question.unit)} if question.unit else set()
    flag_terms = (
        (_VERB, (question.verb,) if question.verb is not None else ()),
        (_FOCUS, question.focus),
        (_UNIT, unit),
        (_NEXT, (align.next_term,) if align.next_term is not None else ()),
        (_PREV, (align.prev_term,) if align.prev_term is not None else ()),
        (_LAST, (align.last_term,) if align.last_term is not None else ()),
        (_LIST, _LIST_WORDS),
    )
    # What the window templates see in a question word's place (`_SYMBOLS`).
    code_of = {
        term: _V
        if term == question.verb
        else _F
        if term in question.focus
        else _N
        if term == align.next_term
        else _Q
        for term in weights
    }
    # The global indexes of the question's words, with their weights and codes, and of
    # the words of each flag: gathered here, written with one numpy operation each.
    weight_at: list[int] = []
    weight_of: list[float] = []
    code_at: list[int] = []
    flag_row: list[int] = []
    flag_at: list[int] = []
    for w0, c in zip(word0, cached, strict=False):  # word0 ends with the total
        positions = c.positions
        for word, value in weights.items():
            at = positions.get(word)
            if at is not None:
                weight_at += [w0 + k for k in at]
                weight_of += [value] * len(at)
                code_at += [code_of[word]] * len(at)
        for row, terms in flag_terms:
            for word in terms:
                at = positions.get(word)
                if at is not None:
                    flag_at += [w0 + k for k in at]
                    flag_row += [row] * len(at)
    weight = np.zeros(word0[-1], dtype=np.float64)
    weight[weight_at] = weight_of
    symbol = np.concatenate([c.symbols for c in cached])
    symbol[weight_at] = code_at
    joined = _side_by_side(facts)
    word_flags = joined.word_flags
    flag = np.zeros((_N_FLAGS, word0[-1]), dtype=np.bool_)
    flag[flag_row, flag_at] = True
    flag[_MATCHED] = weight > 0
    flag[_MATCHED_CONTENT] = flag[_MATCHED] & word_flags[0]
    block_of_row = np.repeat(np.arange(len(blocks)), counts)
    return _Stack(
        tables=tables,
        word0=word0,
        row0=row0,
        counts=counts,
        max_words=max(sizes),
        block_of_word=np.repeat(np.arange(len(blocks)), sizes),
        block_of_row=block_of_row,
        w=np.asarray(word0, dtype=np.int64)[block_of_row],
        at=joined.at,
        flags=joined.flags,
        words=joined.words,
        clause0=np.asarray([0, *itertools.accumulate(joined.n_clauses)]),
        content=word_flags[0],
        pause=word_flags[1],
        weight=weight,
        flag=flag,
        symbol=symbol,
        has_verb=[question.verb is not None and question.verb in c.positions for c in cached],
        kinds=np.concatenate([t.candidates.flag_array() for t in tables]),
    )


def _pairs(
    stack: _Stack, points: IntArray
) -> tuple[npt.NDArray[np.bool_], IntArray, IntArray, IntArray, list[tuple[int, int]]]:
    """Each row paired with each of `points` (global word indexes, ascending) in its
    sentence: which rows have any, then for every pair (row by row, points in order) its
    row and its point, each such row's first pair, and each sentence's (pairs, points)."""
    per_block = np.bincount(stack.block_of_word[points], minlength=len(stack.counts))
    n_pairs = per_block[stack.block_of_row]
    has = n_pairs > 0
    pair_start = np.cumsum(n_pairs) - n_pairs
    pair_row = np.repeat(np.arange(len(n_pairs)), n_pairs)
    point0 = np.cumsum(per_block) - per_block  # each sentence's first point
    shift = point0[stack.block_of_row] - pair_start
    pair_point = points[np.arange(len(pair_row)) + shift[pair_row]]
    sizes = [(n * k, k) for n, k in zip(stack.counts, per_block.tolist(), strict=True)]
    return has, pair_row, pair_point, pair_start[has], sizes


def _dense_blocks(
    question: Question,
    weights: dict[str, float],
    blocks: Sequence[tuple[SentenceTable, SentenceEvidence, str]],
    stack: _Stack,
) -> FloatArray:
    """The dense features of several sentences' candidates (candidates x SHARED_NAMES).

    Every integer or boolean feature, every element-wise division or minimum is one
    numpy operation for all the sentences' rows (see `_Stack`); the exponentials of word
    distances are read from a table (`_decays`). What depends on the order of
    floating-point operations stays per sentence: the matrix product of the anchor
    distances and weights, and the running sums of word weights (each sentence's its
    own row of one matrix).
    """
    tables = stack.tables
    word0, row0, counts = stack.word0, stack.row0, stack.counts
    n_words, n_rows, n_blocks = word0[-1], row0[-1], len(blocks)
    word_weight, flag, w = stack.weight, stack.flag, stack.w
    align = _alignment(question)
    quarter, half = _decays(stack.max_words)
    far = len(half) - 1  # a distance whose `half` is 0
    # count[r, k]: flagged words before global word k (differences within a sentence
    # are its own counts); padded: the flags with two False words around each sentence.
    count = np.zeros((_N_FLAGS, n_words + 1), dtype=np.int64)
    np.cumsum(flag, axis=1, out=count[:, 1:])
    padded = np.zeros((_N_FLAGS, n_words + 4 * n_blocks), dtype=np.bool_)
    padded[:, np.arange(n_words) + 4 * stack.block_of_word + 2] = flag
    # (a flag's row of `count` or `padded` is taken first: indexing a row is cheaper
    # than indexing the matrix with a row and an array)
    matched_c, focus_c, unit_c, list_c = (
        count[_MATCHED_CONTENT],
        count[_FOCUS],
        count[_UNIT],
        count[_LIST],
    )

    # The facts' word indexes in the stack (rows in `_AT` order).
    at = stack.at
    (
        g_first,
        g_last,
        g_last1,
        last1_in,
        last3_in,
        last4_in,
        first2,
        first3,
        edge1,
        edge4,
        list_from,
    ) = at[:11] + w
    left_one, left_two, right_one, right_two = at[12:16] + (w + 4 * stack.block_of_row)
    clause0 = stack.clause0
    clause_first, clause_last = at[16:18] + clause0[stack.block_of_row]
    # `cum_w` below has a row of max_words + 1 running sums per sentence.
    described_from, described_to1 = at[18:20] + stack.block_of_row * (stack.max_words + 1)
    inside_c, inside_c1 = at[20:22]
    has_content, stop_before, stop_after, pause_edge, pause_first, described = stack.flags
    place, clause = stack.words

    inside_m = matched_c[g_last1] - matched_c[g_first]
    total = sum(weights.values()) or 1.0

    # Every column is written below: the bias, the static and sentence features, and
    # the match features on zeros (some apply only to some questions).
    dense = np.empty((n_rows, len(SHARED_NAMES)), dtype=np.float32)
    dense[:, 0] = 1.0
    np.concatenate([t.static for t in tables], out=dense[:, 1 : 1 + _N_STATIC])
    match = dense[:, 1 + _N_STATIC : _SENTENCE_START]  # written in place
    match[:] = 0.0
    match[:, 0] = inside_m / inside_c1
    match[:, 1] = inside_m > 0
    match[:, 2] = (inside_m == inside_c) & has_content
    anchors = np.flatnonzero(flag[_MATCHED])
    if anchors.size:
        # Distances in words, a bracket counting as none: "iMakerBase (大公坊), Shenzhen's
        # government approved incubator" puts the description right after the name.
        has, pair_row, pair_anchor, starts, sizes = _pairs(stack, anchors)
        place_anchor = place[pair_anchor]
        before = place[g_first][pair_row] - place_anchor  # > 0: anchor left of the span
        after = place_anchor - place[g_last][pair_row]  # > 0: anchor right of the span
        # (at most one of them is > 0: the span's first word is not after its last)
        decay = quarter[np.maximum(np.maximum(before, after), 0)]
        anchor_weight = word_weight[anchors]
        # With one anchor (as in most sentences) a row's product is its one term, the
        # same number as the matrix product gives.
        weighted = decay * word_weight[pair_anchor]
        near = np.zeros(n_rows, dtype=np.float64)
        p = a = r = 0
        for (n_pairs, n_anchors), n in zip(sizes, counts, strict=True):
            if n_anchors == 1:
                near[r : r + n] = weighted[p : p + n]
            elif n_anchors:
                near[r : r + n] = (
                    decay[p : p + n_pairs].reshape(n, n_anchors) @ anchor_weight[a : a + n_anchors]
                )
            p, a, r = p + n_pairs, a + n_anchors, r + n
        match[:, 3] = np.minimum(near / total, 1.0)
        rows = np.flatnonzero(has)
        match[rows, 4] = half[np.minimum.reduceat(np.where(before > 0, before, far), starts)]
        match[rows, 5] = half[np.minimum.reduceat(np.where(after > 0, after, far), starts)]

    def next_to(
        row: int, one: IntArray, stop_one: npt.NDArray[np.bool_], two: IntArray
    ) -> npt.NDArray[np.bool_]:
        """The flag at the word beside the edge, or one further past a stop word."""
        flags = padded[row]
        near: npt.NDArray[np.bool_] = flags[one] | (stop_one & flags[two])
        return near

    match[:, 6] = next_to(_MATCHED, left_one, stop_before, left_two)
    match[:, 7] = next_to(_MATCHED, right_one, stop_after, right_two)
    if question.verb is not None:
        match[:, 8] = next_to(_VERB, left_one, stop_before, left_two)
    if question.focus:
        match[:, 9] = flag[_FOCUS][g_last]
        match[:, 10] = (focus_c[g_last1] - focus_c[g_first]) > 0
        match[:, 11] = padded[_FOCUS][right_one]  # the word after the span (none at the end)
    if question.unit:
        match[:, 12] = (unit_c[g_last1] - unit_c[g_first]) > 0
        # "▸16 companies" for "how many companies": the counted noun follows the number.
        match[:, 20] = (unit_c[last3_in] - unit_c[last1_in]) > 0
    if question.asks_name:
        named = (stack.kinds & NAME_BITS) != 0
        match[:, 13] = named & (inside_m > 0) & (inside_m < inside_c)
    clause = clause + clause0[stack.block_of_word]
    if question.verb is not None:
        verbs = np.flatnonzero(flag[_VERB])
        if verbs.size:
            in_verb_clause = np.zeros(int(clause0[-1]), dtype=np.bool_)
            in_verb_clause[clause[verbs]] = True
            has, pair_row, pair_verb, starts, _ = _pairs(stack, verbs)
            gap = np.maximum(g_first[pair_row] - pair_verb, pair_verb - g_last[pair_row])
            nearest = np.minimum.reduceat(np.maximum(gap, 1), starts)
            match[np.flatnonzero(has), 14] = quarter[nearest]
            match[:, 18] = in_verb_clause[clause_first] | in_verb_clause[clause_last]
        # (rows whose sentence lacks the verb: no clause of theirs is marked)
    cum_any = count[_MATCHED]
    # "iMakerBase (大公坊), the approved incubator": a bracket after the span is skipped.
    match[:, 15] = pause_edge & ((cum_any[edge4] - cum_any[edge1]) > 0)
    match[:, 16] = pause_first & ((cum_any[g_first] - cum_any[first3]) > 0)

    # "iMakerBase: the government-approved startup incubator": the words that describe
    # the span hold the question. Running sums of weights, each sentence's from 0.
    spread = np.zeros((n_blocks, stack.max_words + 1), dtype=np.float64)
    word_in_sentence = np.arange(n_words) - np.asarray(word0)[stack.block_of_word]
    spread[stack.block_of_word, word_in_sentence + 1] = word_weight
    cum_w = np.cumsum(spread, axis=1).ravel()
    match[:, 19] = np.where(
        described,
        np.minimum((cum_w[described_to1] - cum_w[described_from]) / total, 1.0),
        0.0,
    )
    for j, (table, evidence, _) in enumerate(blocks):
        if evidence.carried > 0:
            # "They include ▸Carrie Lam": what the pronoun stands for is right before the span.
            own, f = slice(row0[j], row0[j + 1]), table.first
            match[own, 3] = np.minimum(match[own, 3] + evidence.carried * np.exp(-f / 4.0), 1.0)
            match[own, 4] = np.maximum(match[own, 4], np.exp(-f / 2.0))
    clause_weight = np.bincount(clause, weights=word_weight) / total
    match[:, 17] = np.minimum(
        np.maximum(clause_weight[clause_first], clause_weight[clause_last]), 1.0
    )

    for col, row, aligned, before_span, lo in (
        (21, _NEXT, align.next_term, False, None),
        (22, _PREV, align.prev_term, True, first2),
        (23, _LAST, align.last_term, True, first3),
    ):
        if aligned is not None:
            cum_t = count[row]
            # Before the span (two or three words), or within three words after it.
            hits = cum_t[g_first] - cum_t[lo] if before_span else cum_t[last4_in] - cum_t[g_last1]
            match[:, col] = hits > 0

    # "Neutrophils and macrophages" for "what are two types of phagocytes": a list
    # (a conjunction inside the span) answers a question that asks for several things.
    listed = (list_c[g_last] - list_c[list_from]) > 0
    match[:, 24] = listed
    if question.plural or _asks_several(question.text):
        match[:, 25] = listed

    # The sentence features, the verb's presence among them, row by row.
    sentence_rows = np.asarray(
        [
            _sentence_row(e, has_verb)
            for (_, e, _), has_verb in zip(blocks, stack.has_verb, strict=True)
        ],
        dtype=np.float32,
    )
    np.take(sentence_rows, stack.block_of_row, axis=0, out=dense[:, _SENTENCE_START:])
    return dense


@functools.lru_cache(maxsize=16)
def _decay_tables(size: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    distance = np.arange(size, dtype=np.int64)
    quarter, half = np.exp(-(distance - 1) / 4.0), np.exp(-(distance - 1) / 2.0)
    quarter[0] = half[0] = 0.0
    quarter.flags.writeable = half.flags.writeable = False
    return quarter, half


def _decays(max_words: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """exp(-(d - 1) / 4) and exp(-(d - 1) / 2) at each word distance d >= 1 (0 at d = 0),
    for distances up to `max_words` and one more at which both are 0.

    An exponential gives the same number whichever array computes it, so the features
    read these tables rather than computing one exponential per (span, word) pair.
    """
    # From 2,982 on both round to 0: one table serves every sentence up to that length.
    return _decay_tables(max(3_000, 1 << max_words.bit_length()))


# Rows of `_Stack.flag`, the word flags.
_MATCHED, _MATCHED_CONTENT, _VERB, _FOCUS, _UNIT, _NEXT, _PREV, _LAST, _LIST = range(9)
_N_FLAGS = 9
_LIST_WORDS = frozenset(["and", "or"])
_SEVERAL = frozenset(["two", "three", "four", "five", "both", "several"])


@functools.lru_cache(maxsize=4096)
def _asks_several(text: str) -> bool:
    """ "What are two types of ...", "both": the question asks for more than one thing."""
    return any(w.folded in _SEVERAL for w in words(text))


@dataclass(frozen=True)
class _Batch:
    """The facts of tables made together (`_make_table_facts`), side by side: per
    candidate `at` (rows in `_AT` order) and `flags` (in `_FLAGS` order), per word
    `words` (its place, its clause) and `word_flags` (content, pause)."""

    at: IntArray
    flags: npt.NDArray[np.bool_]
    words: IntArray
    word_flags: npt.NDArray[np.bool_]
    row0: list[int]  # each table's first candidate, then the number of candidates
    word0: list[int]  # each table's first word, then the number of words
    n_clauses: list[int]  # each table's clauses


@dataclass(frozen=True)
class _TableFacts:
    """Question-independent arrays `_dense_blocks` and `_hashed_blocks` derive from a
    table (cached): its columns of the batch it was made in (`_Batch`)."""

    batch: _Batch
    j: int  # its place in the batch

    @property
    def _rows(self) -> slice:
        """Its candidates' columns in the batch."""
        return slice(self.batch.row0[self.j], self.batch.row0[self.j + 1])

    @property
    def _words(self) -> slice:
        """Its words' columns in the batch."""
        return slice(self.batch.word0[self.j], self.batch.word0[self.j + 1])

    @property
    def at(self) -> IntArray:
        return self.batch.at[:, self._rows]

    @property
    def flags(self) -> npt.NDArray[np.bool_]:
        return self.batch.flags[:, self._rows]

    @property
    def words(self) -> IntArray:
        return self.batch.words[:, self._words]

    @property
    def word_flags(self) -> npt.NDArray[np.bool_]:
        return self.batch.word_flags[:, self._words]

    @property
    def n_clauses(self) -> int:
        return self.batch.n_clauses[self.j]


def _side_by_side(facts: Sequence[_TableFacts]) -> _Batch:
    """The facts of several tables, in that order, as one batch: the batch they were made
    in when they are its consecutive tables (as for a question's sentences read for the
    first time), else their columns joined."""
    batch, j = facts[0].batch, facts[0].j
    if all(f.batch is batch and f.j == j + k for k, f in enumerate(facts)):
        end = j + len(facts)
        rows = slice(batch.row0[j], batch.row0[end])
        words = slice(batch.word0[j], batch.word0[end])
        return _Batch(
            batch.at[:, rows],
            batch.flags[:, rows],
            batch.words[:, words],
            batch.word_flags[:, words],
            [],
            [],
            batch.n_clauses[j:end],
        )
    return _Batch(
        np.concatenate([f.at for f in facts], axis=1),
        np.concatenate([f.flags for f in facts], axis=1),
        np.concatenate([f.words for f in facts], axis=1),
        np.concatenate([f.word_flags for f in facts], axis=1),
        [],
        [],
        [f.n_clauses for f in facts],
    )


# Each candidate's word indexes in its sentence (edge: the end of a bracket right after the
# span, or its last word), then indexes into the flags padded by two words on each side,
# clause numbers, indexes into the running sums of word weights, and counts.
_AT = (
    "first",
    "last",
    "last1",  # last + 1
    "last1_in",  # min(last + 1, words)
    "last3_in",  # min(last + 3, words)
    "last4_in",  # min(last + 4, words)
    "first2",  # max(first - 2, 0)
    "first3",  # max(first - 3, 0)
    "edge1",  # min(edge + 1, words)
    "edge4",  # min(edge + 4, words)
    "list_from",  # min(first + 1, last)
    "first1",  # max(first - 1, 0)
    "left_one",  # the word before the first, padded
    "left_two",  # two before
    "right_one",  # the word after the last, padded
    "right_two",  # two after
    "clause_first",
    "clause_last",
    "described_from",  # the first word of the phrase describing the last (0 when none)
    "described_to1",  # its last word + 1
    "inside_c",  # content words in the candidate
    "inside_c1",  # the same, at least 1
)
_FLAGS = (
    "has_content",
    "stop_before",  # the word before the first is a stop word
    "stop_after",  # the word after the last is
    "pause_edge",  # punctuation after the edge
    "pause_first",  # punctuation before the first word
    "described",  # the last word has a describing phrase
)


# id(table) -> (table, facts); the table is kept so that its id is not reused meanwhile.
_FACTS: dict[int, tuple[SentenceTable, _TableFacts]] = {}
# The bot reads several questions at once in threads: the cache's updates are atomic.
_FACTS_LOCK = threading.Lock()


def _table_facts(table: SentenceTable, sentence: str) -> _TableFacts:
    known = _FACTS.get(id(table))
    if known is not None and known[0] is table:
        return known[1]
    return prepare_tables([table], [sentence])[0]


def prepare_tables(tables: Sequence[SentenceTable], sentences: Sequence[str]) -> list[_TableFacts]:
    """The facts of the tables (with candidates), those not known yet made in one batch.

    Like the tables themselves (`spantable.sentence_tables`), a question's new tables
    get their facts together: one numpy operation per fact instead of one per table.
    All of it is integer and boolean work, so a table's facts do not depend on the batch.
    """
    out: dict[int, _TableFacts] = {}
    todo: dict[int, tuple[SentenceTable, str]] = {}
    for table, sentence in zip(tables, sentences, strict=True):
        known = _FACTS.get(id(table))
        if known is not None and known[0] is table:
            out[id(table)] = known[1]
        elif table.candidates:
            todo[id(table)] = (table, sentence)
    if todo:
        items = list(todo.values())
        made = _make_table_facts(items)
        with _FACTS_LOCK:
            if len(_FACTS) + len(made) > 16_384:
                _FACTS.clear()
            for (table, _), facts in zip(items, made, strict=True):
                _FACTS[id(table)] = (table, facts)
                out[id(table)] = facts
    return [out[id(t)] for t in tables if t.candidates]


def _make_table_facts(items: Sequence[tuple[SentenceTable, str]]) -> list[_TableFacts]:
    """The facts of several tables, their words numbered on from table to table."""
    tables = [t for t, _ in items]
    sizes = [len(t.terms) for t in tables]
    counts = [len(t.first) for t in tables]
    word0 = [0, *itertools.accumulate(sizes)]
    row0 = [0, *itertools.accumulate(counts)]
    n_words = word0[-1]
    w = np.repeat(word0[:-1], counts)  # each candidate's first word in the batch
    size = np.repeat(sizes, counts)  # its sentence's words
    # The rows of `at`, each written in place (views of one matrix).
    at = np.empty((len(_AT), row0[-1]), dtype=np.int64)
    row = dict(zip(_AT, at, strict=True))
    first = np.concatenate([t.first for t in tables], out=row["first"])
    last = np.concatenate([t.last for t in tables], out=row["last"])
    # The per-word rows, written in place: (place, clause) and (content, pause).
    word_values = np.empty((2, n_words), dtype=np.int64)
    word_flags = np.empty((2, n_words), dtype=np.bool_)
    stop = np.concatenate([t.stop for t in tables])
    content = np.logical_not(stop, out=word_flags[0])
    pause = np.concatenate([t.pause for t in tables], out=word_flags[1])
    clause = np.concatenate([t.clause for t in tables], out=word_values[1])
    # Each word's place and the end of a bracket after it: its index in its sentence
    # but in the few sentences with a bracket (`sentence_shape`).
    position = np.subtract(np.arange(n_words), np.repeat(word0[:-1], sizes), out=word_values[0])
    bracket_end = position
    bracketed = [j for j, (_, sentence) in enumerate(items) if "(" in sentence]
    if bracketed:
        bracket_end = position.copy()
        for j in bracketed:
            shape = sentence_shape(items[j][1])
            bracket_end[word0[j] : word0[j + 1]] = shape.bracket_end
            position[word0[j] : word0[j + 1]] = shape.position
    cum_c = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(content, out=cum_c[1:])
    at_first, at_last = w + first, w + last
    inside_c = np.subtract(cum_c[at_last + 1], cum_c[at_first], out=row["inside_c"])
    edge = bracket_end[at_last]
    d_from = np.concatenate([t.described_from for t in tables])[at_last]
    d_to = np.concatenate([t.described_to for t in tables])[at_last]
    # The word before the first and after the last, when the sentence has one.
    has_before, has_after = first > 0, last + 1 < size
    before = np.maximum(at_first - 1, 0)
    after = np.minimum(at_last + 1, max(n_words - 1, 0))
    np.minimum(np.add(last, 1, out=row["last1"]), size, out=row["last1_in"])
    np.minimum(np.add(last, 3, out=row["right_one"]), size, out=row["last3_in"])
    np.minimum(np.add(last, 4, out=row["right_two"]), size, out=row["last4_in"])
    np.maximum(first - 2, 0, out=row["first2"])
    np.maximum(first - 3, 0, out=row["first3"])
    np.minimum(edge + 1, size, out=row["edge1"])
    np.minimum(edge + 4, size, out=row["edge4"])
    np.minimum(np.add(first, 1, out=row["left_one"]), last, out=row["list_from"])
    np.maximum(first - 1, 0, out=row["first1"])
    row["left_two"][:] = first
    np.take(clause, at_first, out=row["clause_first"])
    np.take(clause, at_last, out=row["clause_last"])
    np.maximum(d_from, 0, out=row["described_from"])
    np.add(d_to, 1, out=row["described_to1"])
    np.maximum(inside_c, 1, out=row["inside_c1"])
    flags = np.empty((len(_FLAGS), row0[-1]), dtype=np.bool_)
    np.greater(inside_c, 0, out=flags[0])
    np.logical_and(has_before, stop[before], out=flags[1])
    np.logical_and(has_after, stop[after], out=flags[2])
    np.take(pause, w + edge, out=flags[3])
    np.logical_and(has_before, pause[before], out=flags[4])
    np.greater_equal(d_from, 0, out=flags[5])
    batch = _Batch(
        at,
        flags,
        word_values,
        word_flags,
        row0,
        word0,
        [int(t.clause[-1]) + 1 if n else 1 for t, n in zip(tables, sizes, strict=True)],
    )
    return [_TableFacts(batch, j) for j in range(len(tables))]


def _hashed_blocks(question: Question, stack: _Stack) -> IntArray:
    """The hash indexes of HASH_TEMPLATES for each candidate of each table, keyed by
    `question_key(question)`: the word templates from `table.lex`, the window templates
    from the symbols (`_SYMBOLS`) around the span; the tables' rows stacked
    (candidates x HASH_TEMPLATES).

    Each window operand of every candidate of every table is one indexing operation,
    and all rows are hashed at once. All of it is integer arithmetic on values below
    2**32 (products stay below 2**63), so regrouping the operations gives the same
    numbers.
    """
    symbol, pause, word0 = stack.symbol, stack.pause, stack.word0
    n_words, n_blocks = word0[-1], len(word0) - 1
    # The code of what is just before each word: the sentence's start, a pause mark when
    # punctuation separates them, else the neighbour's symbol.
    before = np.empty(n_words, dtype=np.int64)
    before[1:] = np.where(pause[:-1], _PAUSE_CODE, symbol[:-1])
    before[word0[:-1]] = _START
    # Just after each word, the sentence's own words followed by one end mark each: the
    # end mark after its last word, and once more past it.
    after = np.empty(n_words + n_blocks, dtype=np.int64)
    after[np.arange(n_words - 1) + stack.block_of_word[:-1]] = np.where(
        pause[:-1], _PAUSE_CODE, symbol[1:]
    )
    ends = np.asarray(word0[1:], dtype=np.int64) + np.arange(n_blocks)
    after[ends - 1] = _END
    after[ends] = _END
    at, w = stack.at, stack.w
    g_first, g_last, first1 = at[_FIRST_LAST_FIRST1] + w
    g_after = g_last + stack.block_of_row  # the last word in `after`
    n = len(g_first)
    # Each template's operand, rows in HASH_TEMPLATES order: the tables' lexical hashes
    # (left, right, first and last word), then the windows' codes (below).
    every = np.empty((len(HASH_TEMPLATES), n), dtype=np.int64)
    np.concatenate([t.lex.T for t in stack.tables], axis=1, out=every[:4])
    # The six pairs the windows mix: (l1, l2), (r1, r2), (l1, r1), (first symbol, last
    # symbol), (l1, first word), (last word, r1); the left and right operands as rows.
    left, right = np.empty((6, n), dtype=np.int64), np.empty((6, n), dtype=np.int64)
    l1, r1 = np.take(before, g_first, out=left[0]), np.take(after, g_after, out=left[1])
    np.take(before, first1, out=right[0])
    np.take(after, g_after + 1, out=right[1])
    left[2], right[2] = l1, r1
    np.take(symbol, g_first, out=left[3])
    np.take(symbol, g_last, out=right[3])
    left[4], right[4] = l1, every[2]
    left[5], right[5] = every[3], r1
    pairs = _mix(left, right)
    # l1, r1, the pairs and both first pairs mixed: the parts of WINDOW_TEMPLATES.
    parts = np.concatenate([left[:2], pairs, _mix(pairs[0], pairs[1])[None]])
    window_keys, keys = _template_keys(question.answer_type.value, question.wh)
    _mix(parts[_WINDOW_PARTS], window_keys, out=every[4:])
    mixed = (every * 1_000_003 + keys) & 0xFFFFFFFF
    mixed = (mixed ^ (mixed >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF
    # (HASH_DIM is a power of two and the values are not negative: the mask is the modulo)
    hashed: IntArray = np.ascontiguousarray(((mixed ^ (mixed >> 12)) & (HASH_DIM - 1)).T)
    return hashed


# The rows of `_AT` `_hashed_blocks` reads: first, last, first1.
_FIRST_LAST_FIRST1 = np.asarray([0, 1, 11])
# WINDOW_TEMPLATES (L1, L2, R1, R2, L1R1, wh&L1, wh&R1, wh&L2R2, inner, L1&first, last&R1)
# as rows of `_hashed_blocks`' parts (l1, r1, the six pairs, both first pairs mixed).
_WINDOW_PARTS = np.asarray([0, 2, 1, 3, 4, 0, 1, 8, 5, 6, 7])


@functools.lru_cache(maxsize=4096)
def _template_keys(answer_type: str, wh: str) -> tuple[IntArray, IntArray]:
    """What a question's windows are mixed with (its key, or its wh-word's key: one row
    per WINDOW_TEMPLATES), and each HASH_TEMPLATES' term of the final hash (a row each)."""
    qkey = _key_hash(f"{answer_type}:{wh}")  # `question_key`
    whkey = _key_hash(f"wh:{wh}")
    return (
        _WINDOW_KEYS * qkey + (1 - _WINDOW_KEYS) * whkey,
        _HASH_SLOTS + _HASH_KEYED * (qkey * 7_919),
    )


# Rows of `hash_indexes`' per-column terms: slot * 104_729, plus key * 7_919 for the
# lexical columns (the first four).
_HASH_SLOTS = (np.arange(4 + 11, dtype=np.int64) * 104_729)[:, None]
_HASH_KEYED = np.asarray([1] * 4 + [0] * 11, dtype=np.int64)[:, None]


@dataclass(frozen=True)
class _SentenceWords:
    """Per-sentence lookups that make the question's words cheap to find."""

    positions: dict[str, list[int]]  # index term -> the indexes of its words, ascending
    symbols: IntArray  # each word's symbol (`_SYMBOLS`) as if no word were the question's


@functools.lru_cache(maxsize=16_384)
def _sentence_words(sentence: str) -> _SentenceWords:
    """The words of `sentence` (the table's words: `sentence_table` takes them from
    `words(sentence)`) by term, and their question-independent symbols."""
    at: dict[str, list[int]] = {}
    codes: list[int] = []
    ascii_only = sentence.isascii()
    for k, w in enumerate(words(sentence)):
        term = w.term
        known = at.get(term)
        if known is None:
            at[term] = [k]
        else:
            known.append(k)
        if w.is_stop:
            codes.append(_STOP_SYMBOLS[term])
        else:
            surface = sentence[w.start : w.end]
            # `has_capital`, with its ASCII case written out (the call costs more)
            capital = surface != surface.lower() if ascii_only else has_capital(surface)
            codes.append(_CAPITAL if capital else _LOWER)
    symbols = np.asarray(codes, dtype=np.int64)
    return _SentenceWords(at, symbols)


# The symbol of each stop word's term (a stop word's term is its stem).
_STOP_SYMBOLS = {stem(w): stable_hash(stem(w)) for w in STOP_WORDS}


@functools.lru_cache(maxsize=4096)
def _key_hash(key: str) -> int:
    return stable_hash(key)


@dataclass(frozen=True)
class Alignment:
    """Question words whose place around the wh-word says where the answer sits."""

    next_term: str | None  # "who ▸considers": the answer comes right before "considers"
    prev_term: str | None  # "the most ▸what": the answer comes right after "most"
    last_term: str | None  # "what does ozone ▸absorb": the answer often follows it


@functools.lru_cache(maxsize=4096)
def _alignment_of(text: str, wh: str, focus: frozenset[str]) -> Alignment:
    ws = words(text)
    at = next((k for k, w in enumerate(ws) if w.folded == wh), -1)
    content = [(k, w.term) for k, w in enumerate(ws) if not w.is_stop]
    if at < 0:
        return Alignment(None, None, content[-1][1] if content else None)
    after = [t for k, t in content if k > at and t not in focus]
    before = [t for k, t in content if k < at]
    return Alignment(
        after[0] if after else None,
        before[-1] if before else None,
        content[-1][1] if content else None,
    )


def _alignment(question: Question) -> Alignment:
    return _alignment_of(question.text, question.wh, question.focus)


@dataclass(frozen=True)
class SentenceShape:
    """Question-independent facts about a sentence's words that the table does not keep."""

    bracket_end: IntArray  # for each word, the last word of a bracket right after it (or itself)
    position: IntArray  # word index with bracketed words not counted (they share the one before)


@functools.lru_cache(maxsize=16_384)
def sentence_shape(sentence: str) -> SentenceShape:
    """Which words a bracket right after a word spans, and the words' places."""
    ws = words(sentence)
    n = len(ws)
    bracket_end = np.arange(n, dtype=np.int64)
    if "(" not in sentence:  # (most sentences) no word is in a bracket
        return SentenceShape(bracket_end, np.arange(n, dtype=np.int64))
    for p in range(n - 1):
        if "(" in sentence[ws[p].end : ws[p + 1].start]:
            close = sentence.find(")", ws[p].end)
            q = p + 1
            while close >= 0 and q + 1 < n and ws[q + 1].start < close:
                q += 1
            if close >= 0:
                bracket_end[p] = q
    inside = np.zeros(n, dtype=np.int64)
    for opener in np.flatnonzero(bracket_end > np.arange(n)).tolist():
        inside[opener + 1 : bracket_end[opener] + 1] = 1
    return SentenceShape(bracket_end, np.arange(n, dtype=np.int64) - np.cumsum(inside))


# _SYMBOLS: what the window templates see of a word. A question word is "V" (the
# question's verb), "F" (its focus noun), "N" (the first other content word after its wh
# word) or "Q" (any other); a stop word is itself; any other word is "C" (capitalised)
# or "w". Sentence start and end, and punctuation between words, have symbols too.
_START, _END, _PAUSE_CODE = stable_hash("<s>"), stable_hash("</s>"), stable_hash("<,>")
_V, _F, _N, _Q = (stable_hash(s) for s in ("V", "F", "N", "Q"))
_CAPITAL, _LOWER = stable_hash("C"), stable_hash("w")


def _mix(a: IntArray | int, b: IntArray | int, out: IntArray | None = None) -> IntArray:
    mixed = (np.asarray(a, dtype=np.int64) * 1_000_003 + b) & 0xFFFFFFFF
    mixed ^= mixed >> 13
    mixed *= 0x5BD1E995
    result: IntArray = np.bitwise_and(mixed, 0xFFFFFFFF, out=out)
    return result


# Which window templates are conjoined with the question key (1) rather than the wh key (0).
_WINDOW_KEYS = np.asarray([[1], [1], [1], [1], [1], [0], [0], [0], [1], [1], [1]], dtype=np.int64)


def hash_indexes(lex: IntArray, key: int, *, first_slot: int = 0) -> IntArray:
    """Each lexical hash conjoined with the question key and its template, folded into HASH_DIM."""
    slots = np.arange(first_slot, first_slot + lex.shape[1], dtype=np.int64)
    mixed = (lex * 1_000_003 + key * 7_919 + slots * 104_729) & 0xFFFFFFFF
    mixed = (mixed ^ (mixed >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF
    out: IntArray = (mixed ^ (mixed >> 12)) % HASH_DIM
    return out


def _sentence_row(e: SentenceEvidence, has_verb: bool) -> list[float]:
    """The SENTENCE_NAMES values of a sentence (`has_verb`: it has the question's verb)."""
    rank = [0.0] * 4
    rank[min(e.rank, 3)] = 1.0
    return [
        e.coverage,
        e.context,
        e.density,
        e.passage_score,
        e.coverage_gap,
        e.bigrams,
        e.terms_present,
        e.names_present,
        float(has_verb),
        e.focus_present,
        *rank,
    ]
