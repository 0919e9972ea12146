# A frozen copy of src/citebot/features.py at 57cdc95 (the code the shipped reader
# model was trained with), kept to check that the fast features give the same values.
"""Features of (question, sentence, candidate span) for the learned reader.

Each candidate becomes a dense vector (`DENSE_NAMES`, in that order) and a few
hashed lexical conjunctions (`HASH_TEMPLATES`, indexes into a table of
`HASH_DIM` weights). What depends on the question (matched words, proximity,
answer type) is a handful of numpy operations over all candidates of a sentence
at once, on top of the sentence's cached table.

The sentence-only part lives in `spantable`. The words around a span carry most
of what a parser would: "charged with
▸undermining…" (the word before is a matched question word), "in ▸1066" (a
preposition before), "▸Normandy, a region" (punctuation after).
"""

from __future__ import annotations

import functools
import itertools
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
from citebot.text.tokenizer import words

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
DENSE_NAMES = (
    "bias",
    *_BASE,
    *tuple(f"{t}&{name}" for t in ANSWER_TYPES for name in _BASE),
)
_N_STATIC = len(STATIC_NAMES)
_N_CONJ = len(_BASE)
_SENTENCE_START = 1 + len(STATIC_NAMES) + len(MATCH_NAMES)
_CONJ_START = 1 + len(_BASE)
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


@functools.lru_cache(maxsize=65_536)
def term_pairs(text: str) -> frozenset[tuple[str, str]]:
    """Neighbouring index terms of a text, stop words skipped: "the Norman conquest" -> 1 pair."""
    terms = [w.term for w in words(text) if not w.is_stop]
    return frozenset(itertools.pairwise(terms))


def question_key(question: Question) -> int:
    """The hash of what lexical features are conjoined with: answer type and question word."""
    return stable_hash(f"{question.answer_type.value}:{question.wh}")


def candidate_features(
    question: Question,
    weights: dict[str, float],
    table: SentenceTable,
    evidence: SentenceEvidence,
    sentence: str,
) -> tuple[FloatArray, IntArray]:
    """Dense features (candidates x DENSE_NAMES) and hash indexes (candidates x templates).

    `sentence` is the text the table was made from (its words' capitals and brackets).
    """
    n = len(table.candidates)
    first, last = table.first, table.last
    word_weight = np.asarray([weights.get(t, 0.0) for t in table.terms], dtype=np.float64)
    matched = word_weight > 0
    content = ~table.stop
    cum_m = np.concatenate([[0], np.cumsum(matched & content)])
    cum_c = np.concatenate([[0], np.cumsum(content)])
    inside_m = cum_m[last + 1] - cum_m[first]
    inside_c = cum_c[last + 1] - cum_c[first]
    overlap = inside_m / np.maximum(inside_c, 1)
    total = sum(weights.values()) or 1.0

    match = np.zeros((n, len(MATCH_NAMES)), dtype=np.float32)
    match[:, 0] = overlap
    match[:, 1] = inside_m > 0
    match[:, 2] = (inside_m == inside_c) & (inside_c > 0)
    shape = sentence_shape(sentence)
    anchors = np.flatnonzero(matched)
    if anchors.size:
        # Distances in words, a bracket counting as none: "iMakerBase (大公坊), Shenzhen's
        # government approved incubator" puts the description right after the name.
        at = shape.position
        before = at[first][:, None] - at[anchors][None, :]  # > 0: the anchor is left of the span
        after = at[anchors][None, :] - at[last][:, None]  # > 0: the anchor is right of the span
        distance = np.where(before > 0, before, np.where(after > 0, after, 0))
        decay = np.where(distance > 0, np.exp(-(distance - 1) / 4.0), 0.0)
        match[:, 3] = np.minimum(decay @ word_weight[anchors] / total, 1.0)
        left_d = np.where(before > 0, before, 10_000).min(axis=1)
        right_d = np.where(after > 0, after, 10_000).min(axis=1)
        match[:, 4] = np.exp(-(left_d - 1) / 2.0)
        match[:, 5] = np.exp(-(right_d - 1) / 2.0)
    match[:, 6] = _next_to(matched, table.stop, first, -1)
    match[:, 7] = _next_to(matched, table.stop, last, +1)
    if question.verb is not None:
        is_verb = np.asarray([t == question.verb for t in table.terms], dtype=np.bool_)
        match[:, 8] = _next_to(is_verb, table.stop, first, -1)
    if question.focus:
        is_focus = np.asarray([t in question.focus for t in table.terms], dtype=np.bool_)
        cum_f = np.concatenate([[0], np.cumsum(is_focus)])
        match[:, 9] = is_focus[last]
        match[:, 10] = (cum_f[last + 1] - cum_f[first]) > 0
        match[:, 11] = np.append(is_focus, False)[last + 1]
    if question.unit:
        unit = {w.term for w in words(question.unit)}
        is_unit = np.asarray([t in unit for t in table.terms], dtype=np.bool_)
        cum_u = np.concatenate([[0], np.cumsum(is_unit)])
        match[:, 12] = (cum_u[last + 1] - cum_u[first]) > 0
        # "▸16 companies" for "how many companies": the counted noun follows the number.
        size = len(table.terms)
        match[:, 20] = (cum_u[np.minimum(last + 3, size)] - cum_u[np.minimum(last + 1, size)]) > 0
    if question.asks_name:
        named = np.asarray([bool(c.flags & NAME_BITS) for c in table.candidates], dtype=np.bool_)
        match[:, 13] = named & (inside_m > 0) & (inside_m < inside_c)
    if question.verb is not None:
        verb_at = np.flatnonzero([t == question.verb for t in table.terms])
        if verb_at.size:
            verb_clauses = table.clause[verb_at]
            match[:, 18] = np.isin(table.clause[first], verb_clauses) | np.isin(
                table.clause[last], verb_clauses
            )
            gap = np.maximum(first[:, None] - verb_at[None, :], verb_at[None, :] - last[:, None])
            match[:, 14] = np.exp(-(np.maximum(gap, 1).min(axis=1) - 1) / 4.0)
    cum_any = np.concatenate([[0], np.cumsum(matched)])
    size = len(table.terms)
    # "iMakerBase (大公坊), the approved incubator": a bracket after the span is skipped.
    edge = shape.bracket_end[last]
    right_hits = cum_any[np.minimum(edge + 4, size)] - cum_any[np.minimum(edge + 1, size)]
    match[:, 15] = table.pause[edge] & (right_hits > 0)
    left_hits = cum_any[first] - cum_any[np.maximum(first - 3, 0)]
    match[:, 16] = np.append(False, table.pause)[first] & (left_hits > 0)

    # "iMakerBase: the government-approved startup incubator": the words that describe
    # the span hold the question.
    cum_w = np.concatenate([[0.0], np.cumsum(word_weight)])
    d_from, d_to = table.described_from[last], table.described_to[last]
    has = d_from >= 0
    match[:, 19] = np.where(
        has, np.minimum((cum_w[d_to + 1] - cum_w[np.maximum(d_from, 0)]) / total, 1.0), 0.0
    )
    if evidence.carried > 0:
        # "They include ▸Carrie Lam": what the pronoun stands for is right before the span.
        match[:, 3] = np.minimum(match[:, 3] + evidence.carried * np.exp(-first / 4.0), 1.0)
        match[:, 4] = np.maximum(match[:, 4], np.exp(-first / 2.0))
    clause_weight = np.bincount(table.clause, weights=word_weight) / total
    match[:, 17] = np.minimum(
        np.maximum(clause_weight[table.clause[first]], clause_weight[table.clause[last]]), 1.0
    )

    align = _alignment(question)
    for col, term, where, reach in (
        (21, align.next_term, +1, 3),
        (22, align.prev_term, -1, 2),
        (23, align.last_term, -1, 3),
    ):
        if term is not None:
            is_term = np.asarray([t == term for t in table.terms], dtype=np.bool_)
            cum_t = np.concatenate([[0], np.cumsum(is_term)])
            if where > 0:
                hits = cum_t[np.minimum(last + 1 + reach, size)] - cum_t[last + 1]
            else:
                hits = cum_t[first] - cum_t[np.maximum(first - reach, 0)]
            match[:, col] = hits > 0

    # "Neutrophils and macrophages" for "what are two types of phagocytes": a list
    # (a conjunction inside the span) answers a question that asks for several things.
    is_and = np.asarray([t in _LIST_WORDS for t in table.terms], dtype=np.bool_)
    cum_and = np.concatenate([[0], np.cumsum(is_and)])
    listed = (cum_and[last] - cum_and[np.minimum(first + 1, last)]) > 0
    match[:, 24] = listed
    if question.plural or _asks_several(question.text):
        match[:, 25] = listed

    dense = np.zeros((n, len(DENSE_NAMES)), dtype=np.float32)
    dense[:, 0] = 1.0
    dense[:, 1 : 1 + _N_STATIC] = table.static
    dense[:, 1 + _N_STATIC : _SENTENCE_START] = match
    dense[:, _SENTENCE_START:_CONJ_START] = _sentence_row(evidence)
    if question.verb is not None and question.verb in table.terms:
        dense[:, _SENTENCE_START + SENTENCE_NAMES.index("verb_in_sentence")] = 1.0
    t = ANSWER_TYPES.index(question.answer_type.value)
    start = _CONJ_START + t * _N_CONJ
    dense[:, start : start + _N_CONJ] = dense[:, 1 : 1 + _N_CONJ]
    windows = _window_codes(question, weights, table, shape, first, last)
    hashed = np.concatenate(
        [
            hash_indexes(table.lex, question_key(question)),
            hash_indexes(windows, 0, first_slot=len(WORD_TEMPLATES)),
        ],
        axis=1,
    )
    return dense, hashed


_LIST_WORDS = frozenset(["and", "or"])
_SEVERAL = frozenset(["two", "three", "four", "five", "both", "several"])


@functools.lru_cache(maxsize=4096)
def _asks_several(text: str) -> bool:
    """ "What are two types of ...", "both": the question asks for more than one thing."""
    return any(w.folded in _SEVERAL for w in words(text))


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


def _symbols(
    question: Question, weights: dict[str, float], table: SentenceTable, shape: SentenceShape
) -> list[str]:
    """One symbol per word, as the question sees it: its own words by role, stop words as
    themselves, other words as capitalised or not."""
    align = _alignment(question)
    out = []
    for k, term in enumerate(table.terms):
        if term in weights:
            if term == question.verb:
                out.append("V")
            elif term in question.focus:
                out.append("F")
            elif term == align.next_term:
                out.append("N")
            else:
                out.append("Q")
        elif table.stop[k]:
            out.append(term)
        else:
            out.append("C" if shape.capital[k] else "w")
    return out


def _window_codes(
    question: Question,
    weights: dict[str, float],
    table: SentenceTable,
    shape: SentenceShape,
    first: IntArray,
    last: IntArray,
) -> IntArray:
    """Hashes of the window templates (WINDOW_TEMPLATES) for every candidate."""
    n = len(table.terms)
    symbol = np.asarray(
        [stable_hash(s) for s in _symbols(question, weights, table, shape)], dtype=np.int64
    )
    # left[k]: the code of what is just before word k; right[k]: just after word k.
    left = np.full(n + 1, _START, dtype=np.int64)
    right = np.full(n + 1, _END, dtype=np.int64)
    if n:
        pause = table.pause
        left[1:n] = np.where(pause[: n - 1], _PAUSE_CODE, symbol[: n - 1])
        right[: n - 1] = np.where(pause[: n - 1], _PAUSE_CODE, symbol[1:])
    before = np.maximum(first - 1, 0)
    l1 = left[first]
    l2 = np.where(first > 0, left[before], _START)
    r1 = right[last]
    after = np.minimum(last + 1, n)
    r2 = np.where(last + 1 < n, right[after], _END)
    qkey = question_key(question)
    whkey = stable_hash(f"wh:{question.wh}")
    # The span's own first and last words as the question sees them, and the word on
    # each side of an edge with that edge word itself: "in ▸1066", "▸Odo said".
    inner = _mix(symbol[first], symbol[last]) if n else np.zeros_like(first)
    word_first = table.lex[:, 2]
    word_last = table.lex[:, 3]
    codes = np.column_stack(
        [
            _mix(l1, qkey),
            _mix(_mix(l1, l2), qkey),
            _mix(r1, qkey),
            _mix(_mix(r1, r2), qkey),
            _mix(_mix(l1, r1), qkey),
            _mix(l1, whkey),
            _mix(r1, whkey),
            _mix(_mix(_mix(l1, l2), _mix(r1, r2)), whkey),
            _mix(inner, qkey),
            _mix(_mix(l1, word_first), qkey),
            _mix(_mix(word_last, r1), qkey),
        ]
    )
    return codes.astype(np.int64)


def _mix(a: IntArray | int, b: IntArray | int) -> IntArray:
    mixed = (np.asarray(a, dtype=np.int64) * 1_000_003 + b) & 0xFFFFFFFF
    out: IntArray = (mixed ^ (mixed >> 13)) * 0x5BD1E995 & 0xFFFFFFFF
    return out


def hash_indexes(lex: IntArray, key: int, *, first_slot: int = 0) -> IntArray:
    """Each lexical hash conjoined with the question key and its template, folded into HASH_DIM."""
    slots = np.arange(first_slot, first_slot + lex.shape[1], dtype=np.int64)
    mixed = (lex * 1_000_003 + key * 7_919 + slots * 104_729) & 0xFFFFFFFF
    mixed = (mixed ^ (mixed >> 15)) * 0x2C1B3C6D & 0xFFFFFFFF
    out: IntArray = (mixed ^ (mixed >> 12)) % HASH_DIM
    return out


def _next_to(
    flag: npt.NDArray[np.bool_], stop: npt.NDArray[np.bool_], edge: IntArray, step: int
) -> npt.NDArray[np.bool_]:
    """Whether a flagged word is next to the edge word, past one stop word: "charged with ▸X"."""
    padded = np.concatenate([[False, False], flag, [False, False]])
    stop_padded = np.concatenate([[False, False], stop, [False, False]])
    one = edge + step + 2
    two = edge + 2 * step + 2
    near: npt.NDArray[np.bool_] = padded[one] | (stop_padded[one] & padded[two])
    return near


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
