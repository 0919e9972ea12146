"""Features of (question, sentence, candidate span) for the learned reader.

Each candidate becomes a dense vector (`SHARED_NAMES`, in that order) and a few
hashed lexical conjunctions (`HASH_TEMPLATES`, indexes into a table of
`HASH_DIM` weights). The span model also conjoins the dense features with the
question's answer type (`DENSE_NAMES`); those conjunctions are not written out:
the model adds the type's weights to the shared ones (`model.ReaderModel.scores`).
What depends on the question (matched words, proximity, answer type) is a
handful of numpy operations over all candidates of a sentence at once, on top of
the sentence's cached table.

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
from typing import Any

import numpy as np
import numpy.typing as npt

from citebot.question import AnswerType, Question
from citebot.spantable import (
    NAME_BITS,
    STATIC_NAMES,
    FloatArray,
    IntArray,
    SentenceTable,
    has_capital,
    stable_hash,
)
from citebot.text import term_pairs as term_pairs  # re-exported: part of this module's API
from citebot.text import words

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
# Question-level evidence for the confidence model (computed by `answer`).
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
# `_symbols`), so "▸X considers" for "who considers" and "most ▸X" for "the most what"
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

    @classmethod
    def empty(cls) -> Features:
        """The features of no sentence."""
        return cls(
            np.zeros((0, len(SHARED_NAMES)), dtype=np.float32),
            np.zeros((0, len(HASH_TEMPLATES)), dtype=np.int64),
            (0,),
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
    counts = [len(t.first) for t, _, _ in blocks]
    return Features(
        _dense_blocks(question, weights, blocks),
        _hashed_blocks(question, weights, [(t, s) for t, _, s in blocks]),
        (0, *itertools.accumulate(counts)),
    )


def _dense_blocks(
    question: Question,
    weights: dict[str, float],
    blocks: Sequence[tuple[SentenceTable, SentenceEvidence, str]],
) -> FloatArray:
    """The dense features of several sentences' candidates (candidates x SHARED_NAMES).

    The sentences' words are numbered on from one sentence to the next ("global" word
    indexes: the sentence's first word plus its own index) and their candidates' rows
    stacked, so that each integer or boolean feature, each element-wise division or
    minimum, is one numpy operation for all of them. What depends on the order of
    floating-point operations stays per sentence: the anchor distances (a matrix
    product and exponentials), the running sums of word weights, every exponential.
    """
    tables = [t for t, _, _ in blocks]
    facts = [_table_facts(t, s) for t, _, s in blocks]
    cached = [_sentence_words(s) for _, _, s in blocks]
    sizes = [len(t.terms) for t in tables]
    counts = [len(t.first) for t in tables]
    word0 = [0, *itertools.accumulate(sizes)]
    row0 = [0, *itertools.accumulate(counts)]
    n_words, n_rows = word0[-1], row0[-1]
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
    # Each word's weight and flags, one row per flag.
    word_weight = np.zeros(n_words, dtype=np.float64)
    flag = np.zeros((_N_FLAGS, n_words), dtype=np.bool_)
    for j, c in enumerate(cached):
        w0, positions = word0[j], c.positions
        for word, weight in weights.items():
            at = positions.get(word)
            if at is not None:
                word_weight[[w0 + k for k in at]] = weight
        for row, terms in flag_terms:
            for word in terms:
                at = positions.get(word)
                if at is not None:
                    flag[row, [w0 + k for k in at]] = True
    matched = word_weight > 0
    flag[_MATCHED] = matched
    content = np.concatenate([f.content for f in facts])
    flag[_MATCHED_CONTENT] = matched & content
    # count[r, k]: flagged words before global word k (differences within a sentence
    # are its own counts); padded: the flags with two False words around each sentence.
    count = np.zeros((_N_FLAGS, n_words + 1), dtype=np.int64)
    np.cumsum(flag, axis=1, out=count[:, 1:])
    block_of_word = np.repeat(np.arange(len(blocks)), sizes)
    padded = np.zeros((_N_FLAGS, n_words + 4 * len(blocks)), dtype=np.bool_)
    padded[:, np.arange(n_words) + 4 * block_of_word + 2] = flag

    def rows(arrays: Sequence[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        return np.concatenate(arrays)

    w = np.repeat(np.asarray(word0[:-1], dtype=np.int64), counts)  # each row's first word
    pad = w + 4 * np.repeat(np.arange(len(blocks)), counts)  # ... in `padded`, less 2
    first = rows([t.first for t in tables])
    last = rows([t.last for t in tables])
    g_first, g_last, g_last1 = w + first, w + last, w + last + 1
    inside_c = rows([f.inside_c for f in facts])
    inside_m = count[_MATCHED_CONTENT, g_last1] - count[_MATCHED_CONTENT, g_first]
    overlap = inside_m / rows([f.inside_c1 for f in facts])
    total = sum(weights.values()) or 1.0

    dense = np.zeros((n_rows, len(SHARED_NAMES)), dtype=np.float32)
    dense[:, 0] = 1.0
    dense[:, 1 : 1 + _N_STATIC] = rows([t.static for t in tables])
    match = dense[:, 1 + _N_STATIC : _SENTENCE_START]  # written in place
    match[:, 0] = overlap
    match[:, 1] = inside_m > 0
    match[:, 2] = (inside_m == inside_c) & rows([f.has_content for f in facts])
    for j, (table, _, sentence) in enumerate(blocks):
        ww = word_weight[word0[j] : word0[j + 1]]
        anchors = np.flatnonzero(ww > 0)
        if not anchors.size:
            continue
        # Distances in words, a bracket counting as none: "iMakerBase (大公坊), Shenzhen's
        # government approved incubator" puts the description right after the name.
        place = sentence_shape(sentence).position
        f, la = table.first, table.last
        before = place[f][:, None] - place[anchors][None, :]  # > 0: anchor left of the span
        after = place[anchors][None, :] - place[la][:, None]  # > 0: anchor right of the span
        distance = np.where(before > 0, before, np.where(after > 0, after, 0))
        decay = np.where(distance > 0, np.exp(-(distance - 1) / 4.0), 0.0)
        r = slice(row0[j], row0[j + 1])
        match[r, 3] = np.minimum(decay @ ww[anchors] / total, 1.0)
        left_d = np.where(before > 0, before, 10_000).min(axis=1)
        right_d = np.where(after > 0, after, 10_000).min(axis=1)
        match[r, 4] = np.exp(-(left_d - 1) / 2.0)
        match[r, 5] = np.exp(-(right_d - 1) / 2.0)

    def next_to(row: int, which: str) -> npt.NDArray[np.bool_]:
        """`_next_to_at` of every row: the flag at the word beside the edge, or one
        further past a stop word (`which`: "left_one" of the first word, "right_one")."""
        one = rows([getattr(f, which)[0] for f in facts]) + pad
        stop_one = rows([getattr(f, which)[1] for f in facts])
        two = rows([getattr(f, which)[2] for f in facts]) + pad
        near: npt.NDArray[np.bool_] = padded[row, one] | (stop_one & padded[row, two])
        return near

    match[:, 6] = next_to(_MATCHED, "left_one")
    match[:, 7] = next_to(_MATCHED, "right_one")
    if question.verb is not None:
        match[:, 8] = next_to(_VERB, "left_one")
    if question.focus:
        match[:, 9] = flag[_FOCUS, g_last]
        match[:, 10] = (count[_FOCUS, g_last1] - count[_FOCUS, g_first]) > 0
        match[:, 11] = padded[_FOCUS, pad + last + 3]  # the word after the span (none at the end)
    if question.unit:
        match[:, 12] = (count[_UNIT, g_last1] - count[_UNIT, g_first]) > 0
        # "▸16 companies" for "how many companies": the counted noun follows the number.
        last3_in = w + rows([f.last3_in for f in facts])
        last1_in = w + rows([f.last1_in for f in facts])
        match[:, 20] = (count[_UNIT, last3_in] - count[_UNIT, last1_in]) > 0
    if question.asks_name:
        named = (rows([t.candidates.flag_array() for t in tables]) & NAME_BITS) != 0
        match[:, 13] = named & (inside_m > 0) & (inside_m < inside_c)
    clause0 = [0, *itertools.accumulate(f.n_clauses for f in facts)]
    c0 = np.repeat(np.asarray(clause0[:-1], dtype=np.int64), counts)
    clause_first = c0 + rows([f.clause_first for f in facts])
    clause_last = c0 + rows([f.clause_last for f in facts])
    if question.verb is not None:
        in_verb_clause = np.zeros(clause0[-1], dtype=np.bool_)
        for j, (table, c) in enumerate(zip(tables, cached, strict=True)):
            verb_list = c.positions.get(question.verb)
            if verb_list is None:
                continue
            verb_at = np.asarray(verb_list, dtype=np.int64)
            in_verb_clause[clause0[j] + table.clause[verb_at]] = True
            f, la = table.first, table.last
            gap = np.maximum(f[:, None] - verb_at[None, :], verb_at[None, :] - la[:, None])
            r = slice(row0[j], row0[j + 1])
            match[r, 14] = np.exp(-(np.maximum(gap, 1).min(axis=1) - 1) / 4.0)
        match[:, 18] = in_verb_clause[clause_first] | in_verb_clause[clause_last]
        # (rows whose sentence lacks the verb: no clause of theirs is marked)
    cum_any = count[_MATCHED]
    # "iMakerBase (大公坊), the approved incubator": a bracket after the span is skipped.
    right_hits = (
        cum_any[w + rows([f.edge4 for f in facts])] - cum_any[w + rows([f.edge1 for f in facts])]
    )
    match[:, 15] = rows([f.pause_edge for f in facts]) & (right_hits > 0)
    first3 = w + rows([f.first3 for f in facts])
    left_hits = cum_any[g_first] - cum_any[first3]
    match[:, 16] = rows([f.pause_first for f in facts]) & (left_hits > 0)

    # "iMakerBase: the government-approved startup incubator": the words that describe
    # the span hold the question. Running sums of weights, each sentence's from 0.
    cum_w = np.concatenate(
        [
            np.concatenate([[0.0], np.cumsum(word_weight[word0[j] : word0[j + 1]])])
            for j in range(len(blocks))
        ]
    )
    cw = w + np.repeat(np.arange(len(blocks)), counts)  # each row's sentence in `cum_w`
    match[:, 19] = np.where(
        rows([f.described for f in facts]),
        np.minimum(
            (
                cum_w[cw + rows([f.described_to1 for f in facts])]
                - cum_w[cw + rows([f.described_from for f in facts])]
            )
            / total,
            1.0,
        ),
        0.0,
    )
    for j, (table, evidence, _) in enumerate(blocks):
        if evidence.carried > 0:
            # "They include ▸Carrie Lam": what the pronoun stands for is right before the span.
            r, f = slice(row0[j], row0[j + 1]), table.first
            match[r, 3] = np.minimum(match[r, 3] + evidence.carried * np.exp(-f / 4.0), 1.0)
            match[r, 4] = np.maximum(match[r, 4], np.exp(-f / 2.0))
    clause = np.concatenate([c + t.clause for c, t in zip(clause0[:-1], tables, strict=True)])
    clause_weight = np.bincount(clause, weights=word_weight) / total
    match[:, 17] = np.minimum(
        np.maximum(clause_weight[clause_first], clause_weight[clause_last]), 1.0
    )

    first2 = w + rows([f.first2 for f in facts])
    last4_in = w + rows([f.last4_in for f in facts])
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
    listed = (count[_LIST, g_last] - count[_LIST, np.minimum(g_first + 1, g_last)]) > 0
    match[:, 24] = listed
    if question.plural or _asks_several(question.text):
        match[:, 25] = listed

    sentence_rows = np.stack([_sentence_row(e) for _, e, _ in blocks])
    dense[:, _SENTENCE_START:] = np.repeat(sentence_rows, counts, axis=0)
    if question.verb is not None:
        has_verb = [question.verb in c.positions for c in cached]
        verb_col = _SENTENCE_START + SENTENCE_NAMES.index("verb_in_sentence")
        dense[np.repeat(np.asarray(has_verb, dtype=np.bool_), counts), verb_col] = 1.0
    return dense


# Rows of `candidate_features`' word flags.
_MATCHED, _MATCHED_CONTENT, _VERB, _FOCUS, _UNIT, _NEXT, _PREV, _LAST, _LIST = range(9)
_N_FLAGS = 9
_LIST_WORDS = frozenset(["and", "or"])
_SEVERAL = frozenset(["two", "three", "four", "five", "both", "several"])


@functools.lru_cache(maxsize=4096)
def _asks_several(text: str) -> bool:
    """ "What are two types of ...", "both": the question asks for more than one thing."""
    return any(w.folded in _SEVERAL for w in words(text))


@dataclass(frozen=True)
class _TableFacts:
    """Question-independent arrays `candidate_features` derives from a table (cached)."""

    content: npt.NDArray[np.bool_]  # not a stop word
    last1: IntArray  # last + 1
    inside_c: IntArray  # content words in each candidate
    inside_c1: IntArray  # the same, at least 1
    has_content: npt.NDArray[np.bool_]
    left_one: tuple[IntArray, npt.NDArray[np.bool_], IntArray]  # `_next_to_at` of first, -1
    right_one: tuple[IntArray, npt.NDArray[np.bool_], IntArray]  # of last, +1
    last1_in: IntArray  # min(last + 1, words)
    last3_in: IntArray  # min(last + 3, words)
    last4_in: IntArray  # min(last + 4, words)
    first2: IntArray  # max(first - 2, 0)
    first3: IntArray  # max(first - 3, 0)
    n_clauses: int
    clause_first: IntArray
    clause_last: IntArray
    edge1: IntArray  # min(edge + 1, words), edge: the end of a bracket after the span
    edge4: IntArray  # min(edge + 4, words)
    pause_edge: npt.NDArray[np.bool_]
    pause_first: npt.NDArray[np.bool_]  # punctuation before the first word
    described: npt.NDArray[np.bool_]  # the last word has a describing phrase
    described_from: IntArray  # its first word (0 when none)
    described_to1: IntArray  # its last word + 1
    window_gather: IntArray  # (12, candidates) indexes into `_hashed`'s buffer


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
    word0 = np.cumsum([0, *sizes])
    row0 = np.cumsum([0, *counts])
    w = np.repeat(word0[:-1], counts)  # each candidate's first word in the batch
    size = np.repeat(np.asarray(sizes, dtype=np.int64), counts)  # its sentence's words
    first = np.concatenate([t.first for t in tables])
    last = np.concatenate([t.last for t in tables])
    stop = np.concatenate([t.stop for t in tables])
    pause = np.concatenate([t.pause for t in tables])
    clause = np.concatenate([t.clause for t in tables])
    bracket_end = np.concatenate([sentence_shape(s).bracket_end for _, s in items])
    content = ~stop
    cum_c = np.concatenate([[0], np.cumsum(content)])
    inside_c = cum_c[w + last + 1] - cum_c[w + first]
    at_last = w + last
    edge = bracket_end[at_last]
    d_from = np.concatenate([t.described_from for t in tables])[at_last]
    d_to = np.concatenate([t.described_to for t in tables])[at_last]
    # The word before the first and after the last, when the sentence has one.
    has_before, has_after = first > 0, last + 1 < size
    before = np.maximum(w + first - 1, 0)
    after = np.minimum(at_last + 1, max(len(stop) - 1, 0))
    stop_before = has_before & stop[before]
    stop_after = has_after & stop[after]
    # Where `_hashed` finds each window operand in its buffer (per table, so indexes are
    # the sentence's own). The buffer is [left codes (n + 1), right codes (n + 1),
    # symbols (n), the lexical hashes of each candidate's first word, then of its last
    # word]; rows are the six pairs the windows mix, left operands then right ones:
    # (l1, l2), (r1, r2), (l1, r1), (first symbol, last symbol), (l1, first word),
    # (last word, r1); right[last + 1] is the end mark past the last word.
    m = np.repeat(np.asarray(counts, dtype=np.int64), counts)
    wf = 3 * size + 2 + np.arange(len(first), dtype=np.int64) - np.repeat(row0[:-1], counts)
    gather = np.stack(
        [
            first,
            size + 1 + last,
            first,
            2 * size + 2 + first,
            first,
            wf + m,
            np.maximum(first - 1, 0),
            size + 2 + last,
            size + 1 + last,
            2 * size + 2 + last,
            wf,
            size + 1 + last,
        ]
    )
    last1, inside_c1, has_content = last + 1, np.maximum(inside_c, 1), inside_c > 0
    left_one, right_one = (first + 1, stop_before, first), (last + 3, stop_after, last + 4)
    last1_in, last3_in, last4_in = (np.minimum(last + k, size) for k in (1, 3, 4))
    first2, first3 = np.maximum(first - 2, 0), np.maximum(first - 3, 0)
    clause_first, clause_last = clause[w + first], clause[at_last]
    edge1, edge4 = np.minimum(edge + 1, size), np.minimum(edge + 4, size)
    pause_edge = pause[w + edge]
    pause_first = has_before & pause[before]
    described, described_from, described_to1 = d_from >= 0, np.maximum(d_from, 0), d_to + 1
    out = []
    for j, table in enumerate(tables):
        r = slice(int(row0[j]), int(row0[j + 1]))
        out.append(
            _TableFacts(
                content=content[word0[j] : word0[j + 1]],
                last1=last1[r],
                inside_c=inside_c[r],
                inside_c1=inside_c1[r],
                has_content=has_content[r],
                left_one=(left_one[0][r], left_one[1][r], left_one[2][r]),
                right_one=(right_one[0][r], right_one[1][r], right_one[2][r]),
                last1_in=last1_in[r],
                last3_in=last3_in[r],
                last4_in=last4_in[r],
                first2=first2[r],
                first3=first3[r],
                n_clauses=int(table.clause[-1]) + 1 if sizes[j] else 1,
                clause_first=clause_first[r],
                clause_last=clause_last[r],
                edge1=edge1[r],
                edge4=edge4[r],
                pause_edge=pause_edge[r],
                pause_first=pause_first[r],
                described=described[r],
                described_from=described_from[r],
                described_to1=described_to1[r],
                window_gather=gather[:, r],
            )
        )
    return out


def _next_to_at(
    padded: npt.NDArray[np.bool_], at: tuple[IntArray, npt.NDArray[np.bool_], IntArray]
) -> npt.NDArray[np.bool_]:
    """`_next_to(flag, stop, edge, step)`, given the flags padded by two words on each
    side and `at` = (edge + step + 2, the stop flags there, edge + 2 * step + 2), the
    question-independent part."""
    one, stop_one, two = at
    near: npt.NDArray[np.bool_] = padded[one] | (stop_one & padded[two])
    return near


def _hashed_blocks(
    question: Question, weights: dict[str, float], blocks: Sequence[tuple[SentenceTable, str]]
) -> IntArray:
    """`_hash_all(table.lex, _window_codes(...), question_key(question))` of each table,
    the tables' rows stacked (candidates x HASH_TEMPLATES).

    The window operands of every candidate of every table are gathered from one buffer
    in one indexing operation, and all rows hashed at once. All of it is integer
    arithmetic on values below 2**32 (products stay below 2**63), so regrouping the
    operations gives the same numbers.
    """
    tables = [t for t, _ in blocks]
    symbol = np.concatenate(
        [_symbol_codes(question, weights, _sentence_words(s)) for _, s in blocks]
    )
    pause = np.concatenate([t.pause for t in tables])
    # left[k] = the code of what is just before word k, right[k] = just after it: a
    # pause mark when punctuation separates them, else the neighbour's symbol.
    left = np.where(pause, _PAUSE_CODE, symbol)
    right = np.where(pause[:-1], _PAUSE_CODE, symbol[1:])
    parts: list[IntArray] = []
    gathers: list[IntArray] = []
    base = word = 0
    for table, (_, sentence) in zip(tables, blocks, strict=True):
        n, m = len(table.terms), len(table.first)
        # This table's buffer (see `_make_table_facts`), where its gather indexes point.
        w = slice(word, word + n - 1)
        lex = table.lex
        parts += [_START1, left[w], _START1, right[w], _END2, symbol[word : word + n]]
        parts += [lex[:, 2], lex[:, 3]]
        gathers.append(_table_facts(table, sentence).window_gather + base)
        base += 3 * n + 2 + 2 * m
        word += n
    operands = np.concatenate(parts)[np.concatenate(gathers, axis=1)]
    pairs = _mix(operands[:6], operands[6:])  # l1l2, r1r2, l1r1, inner, l1&first, last&r1
    both = _mix(pairs[0], pairs[1])
    rows = np.concatenate([operands[:2], pairs, both[None, :]])[_WINDOW_ROWS]
    qkey = question_key(question)
    whkey = _key_hash(f"wh:{question.wh}")
    codes = _mix(rows, _WINDOW_KEYS * qkey + (1 - _WINDOW_KEYS) * whkey)
    every = np.concatenate([np.concatenate([t.lex for t in tables]).T, codes])
    keys = _HASH_SLOTS + _HASH_KEYED * (qkey * 7_919)
    mixed = (every * 1_000_003 + keys) & 0xFFFFFFFF
    mixed = (mixed ^ (mixed >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF
    hashed: IntArray = np.ascontiguousarray(((mixed ^ (mixed >> 12)) % HASH_DIM).T)
    return hashed


_START1 = np.asarray([stable_hash("<s>")], dtype=np.int64)
_END2 = np.asarray([stable_hash("</s>")] * 2, dtype=np.int64)
# Rows of [l1, r1, the six pairs, both] in WINDOW_TEMPLATES order.
_WINDOW_ROWS = np.asarray([0, 2, 1, 3, 4, 0, 1, 8, 5, 6, 7], dtype=np.int64)
# `_hash_all`'s per-column terms: slot * 104_729, plus key * 7_919 for the lexical columns.
_HASH_SLOTS = (np.arange(4 + 11, dtype=np.int64) * 104_729)[:, None]
_HASH_KEYED = np.asarray([1] * 4 + [0] * 11, dtype=np.int64)[:, None]


@dataclass(frozen=True)
class _SentenceWords:
    """Per-sentence lookups that make the question's words cheap to find."""

    positions: dict[str, list[int]]  # index term -> the indexes of its words, ascending
    symbols: IntArray  # `_symbols` hashes as if no word were the question's


@functools.lru_cache(maxsize=16_384)
def _sentence_words(sentence: str) -> _SentenceWords:
    """The words of `sentence` (the table's words: `sentence_table` takes them from
    `words(sentence)`) by term, and their question-independent symbols."""
    ws = words(sentence)
    at: dict[str, list[int]] = {}
    for k, w in enumerate(ws):
        at.setdefault(w.term, []).append(k)
    capital = sentence_shape(sentence).capital
    symbols = np.asarray(
        [
            _symbol_hash(w.term) if w.is_stop else (_CAPITAL if capital[k] else _LOWER)
            for k, w in enumerate(ws)
        ],
        dtype=np.int64,
    )
    return _SentenceWords(at, symbols)


@functools.lru_cache(maxsize=4096)
def _symbol_hash(symbol: str) -> int:
    return stable_hash(symbol)


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

    capital: npt.NDArray[np.bool_]  # the word has a capital letter
    bracket_end: IntArray  # for each word, the last word of a bracket right after it (or itself)
    position: IntArray  # word index with bracketed words not counted (they share the one before)


@functools.lru_cache(maxsize=16_384)
def sentence_shape(sentence: str) -> SentenceShape:
    """Capitals of each word, and which words a bracket right after a word spans."""
    ws = words(sentence)
    n = len(ws)
    capital = np.asarray([has_capital(sentence[w.start : w.end]) for w in ws], dtype=np.bool_)
    bracket_end = np.arange(n, dtype=np.int64)
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
    return SentenceShape(capital, bracket_end, np.arange(n, dtype=np.int64) - np.cumsum(inside))


_START, _END, _PAUSE_CODE = stable_hash("<s>"), stable_hash("</s>"), stable_hash("<,>")
_V, _F, _N, _Q = (stable_hash(s) for s in ("V", "F", "N", "Q"))
_CAPITAL, _LOWER = stable_hash("C"), stable_hash("w")


def _mix(a: IntArray | int, b: IntArray | int) -> IntArray:
    mixed = (np.asarray(a, dtype=np.int64) * 1_000_003 + b) & 0xFFFFFFFF
    out: IntArray = (mixed ^ (mixed >> 13)) * 0x5BD1E995 & 0xFFFFFFFF
    return out


# Which window templates are conjoined with the question key (1) rather than the wh key (0).
_WINDOW_KEYS = np.asarray([[1], [1], [1], [1], [1], [0], [0], [0], [1], [1], [1]], dtype=np.int64)


def _symbol_codes(
    question: Question, weights: dict[str, float], cached: _SentenceWords
) -> IntArray:
    """`stable_hash` of each of `_symbols`, from the sentence's cached symbols."""
    align = _alignment(question)
    out = cached.symbols.copy()
    for term in weights:
        at = cached.positions.get(term)
        if at is None:
            continue
        if term == question.verb:
            out[at] = _V
        elif term in question.focus:
            out[at] = _F
        elif term == align.next_term:
            out[at] = _N
        else:
            out[at] = _Q
    return out


def hash_indexes(lex: IntArray, key: int, *, first_slot: int = 0) -> IntArray:
    """Each lexical hash conjoined with the question key and its template, folded into HASH_DIM."""
    slots = np.arange(first_slot, first_slot + lex.shape[1], dtype=np.int64)
    mixed = (lex * 1_000_003 + key * 7_919 + slots * 104_729) & 0xFFFFFFFF
    mixed = (mixed ^ (mixed >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF
    out: IntArray = (mixed ^ (mixed >> 12)) % HASH_DIM
    return out


def _sentence_row(e: SentenceEvidence) -> FloatArray:
    rank = [0.0] * 4
    rank[min(e.rank, 3)] = 1.0
    return np.asarray(
        [
            e.coverage,
            e.context,
            e.density,
            e.passage_score,
            e.coverage_gap,
            e.bigrams,
            e.terms_present,
            e.names_present,
            0.0,
            e.focus_present,
            *rank,
        ],
        dtype=np.float32,
    )
