"""The question-independent part of the reader's features: a sentence's candidate table.

For every candidate span of a sentence (`spans.sentence_candidates`): where its
words are, its static features (`STATIC_NAMES`: kind, length, the class of the
words around it, capitalisation...) and hashes of the words at and around its
edges, plus per-word facts the question-dependent features need (terms, stop
words, clauses, which words describe which). Computed once per sentence and
cached: the reader meets the same sentences question after question.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from citebot.spans import KIND_BIT, KINDS, Candidate, sentence_candidates
from citebot.text import Word, words

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

_LENGTHS = ("1", "2", "3", "4", "5-6", "7+")
_LEFT = ("start", "punct", "det", "prep", "be", "conj", "stop", "content")
_RIGHT = ("end", "punct", "of", "prep", "conj", "stop", "content")
_SHAPES = (
    "cap_first",
    "cap_all",
    "digit",
    "comma",
    "paren",
    "quoted",
    "at_start",
    "rel_pos",
    "before_colon",
    "persons",
)
# Features of the candidate alone, computed once per sentence.
STATIC_NAMES = (
    *tuple(f"kind={k}" for k in KINDS),
    "prior",
    *tuple(f"len={n}" for n in _LENGTHS),
    *tuple(f"left={c}" for c in _LEFT),
    *tuple(f"right={c}" for c in _RIGHT),
    *_SHAPES,
)
_DETERMINERS = frozenset("the a an this that these those his her its their our".split())
_PREPOSITIONS = frozenset(
    """
    in on at by for from to with into onto of as during since until after before between
    through under over about against among around near via within without upon
    """.split()
)
_BE = frozenset("is are was were be been being has have had".split())
_CONJUNCTIONS = frozenset("and or but nor".split())
_PAUSE = re.compile(r"[,:(–—]")
_DESCRIPTION_END = re.compile(r"[,;:()]|\.\s|\s[-–—]\s")
_CLAUSE_END = re.compile(r"[,;:()–—\"“”]")
_TEMPORAL = KIND_BIT["date"] | KIND_BIT["time"]
NAME_BITS = KIND_BIT["name"] | KIND_BIT["person"] | KIND_BIT["place"]
_QUOTES = "“”\"'‘’"


@dataclass(frozen=True)
class SentenceTable:
    """The question-independent part: candidates, word positions and static features."""

    candidates: tuple[Candidate, ...]
    first: IntArray  # index of each candidate's first word
    last: IntArray  # index of its last word
    static: FloatArray  # (candidates, len(STATIC_NAMES))
    lex: IntArray  # (candidates, 4) hashes of the words left, right, first and last
    terms: tuple[str, ...]  # index term of every word of the sentence
    stop: npt.NDArray[np.bool_]  # whether each word is a stop word
    pause: npt.NDArray[np.bool_]  # whether punctuation (, : ( dash) follows each word
    clause: IntArray  # clause number of each word (clauses end at punctuation)
    described_from: IntArray  # first word of the phrase describing each word, or -1
    described_to: IntArray  # its last word


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (unlike `hash`): CRC-32 of the UTF-8 text."""
    return zlib.crc32(text.encode("utf-8"))


def _lex_token(w: Word | None, edge: str) -> str:
    """A word as lexical features see it: digits are collapsed to a shape."""
    if w is None:
        return edge
    return "#" if any(ch.isdigit() for ch in w.folded) else w.folded


def _left_class(sentence: str, ws: Sequence[Word], i: int) -> str:
    if i == 0:
        return "start"
    gap = sentence[ws[i - 1].end : ws[i].start]
    if gap.strip():
        return "punct"
    prev = ws[i - 1].folded
    if prev in _DETERMINERS:
        return "det"
    if prev in _PREPOSITIONS:
        return "prep"
    if prev in _BE:
        return "be"
    if prev in _CONJUNCTIONS:
        return "conj"
    return "stop" if ws[i - 1].is_stop else "content"


def _right_class(sentence: str, ws: Sequence[Word], j: int) -> str:
    if j + 1 >= len(ws):
        return "end"
    gap = sentence[ws[j].end : ws[j + 1].start]
    if gap.strip():
        return "punct"
    nxt = ws[j + 1].folded
    if nxt == "of":
        return "of"
    if nxt in _PREPOSITIONS:
        return "prep"
    if nxt in _CONJUNCTIONS:
        return "conj"
    return "stop" if ws[j + 1].is_stop else "content"


_STATIC_INDEX = {name: k for k, name in enumerate(STATIC_NAMES)}


def _capital(surface: str) -> bool:
    """ "Park", "iMakerBase", "eBay": a capital first or inside marks a name."""
    return surface[:1].isupper() or any(ch.isupper() for ch in surface[1:])


def _descriptions(sentence: str, ws: Sequence[Word]) -> tuple[IntArray, IntArray]:
    """For each word, the words that describe it, if any: "X: D", "X, D,", "X (Y), D", "X is D".

    Returned as first and last word index of D (-1 when the word has no description).
    """
    n = len(ws)
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    for p in range(n - 1):
        gap = sentence[ws[p].end : ws[p + 1].start]
        q = p + 1
        if "(" in gap:  # "iMakerBase (大公坊), Shenzhen's ...": skip the parenthesis
            close = sentence.find(")", ws[p].end)
            while close >= 0 and q < n and ws[q].start < close:
                q += 1
            if close < 0 or q >= n or not re.search(r"[,:]", sentence[close + 1 : ws[q].start]):
                continue
        elif not re.search(r"[,:]", gap):
            if gap.strip() or ws[q].folded not in {"is", "are", "was", "were"}:
                continue
            q += 1
        r = q
        while (
            r + 1 < n
            and r - q < 12
            and not _DESCRIPTION_END.search(sentence[ws[r].end : ws[r + 1].start])
        ):
            r += 1
        if q < n:
            first[p], last[p] = q, r
    return first, last


def _static_rows(
    sentence: str, ws: Sequence[Word], candidates: Sequence[Candidate]
) -> tuple[list[Candidate], list[int], list[int], FloatArray, IntArray]:
    """Word positions, static features and lexical hashes of candidates (wordless ones dropped)."""
    starts = [w.start for w in ws]
    ends = [w.end for w in ws]
    kept: list[Candidate] = []
    first: list[int] = []
    last: list[int] = []
    rows: list[list[tuple[int, float]]] = []
    lex: list[tuple[int, int, int, int]] = []
    n = max(len(ws), 1)
    for c in candidates:
        i = bisect.bisect_left(starts, c.start)
        j = bisect.bisect_right(ends, c.end) - 1
        if i >= len(ws) or j < i:
            continue
        k = _STATIC_INDEX
        length = j - i + 1
        bucket = "7+" if length >= 7 else "5-6" if length >= 5 else str(length)
        surface = sentence[c.start : c.end]
        content = [w for w in ws[i : j + 1] if not w.is_stop]
        row = [
            (k[f"len={bucket}"], 1.0),
            (k[f"left={_left_class(sentence, ws, i)}"], 1.0),
            (k[f"right={_right_class(sentence, ws, j)}"], 1.0),
            (k["prior"], c.prior),
            (k["rel_pos"], i / n),
        ]
        row += [(k[f"kind={kind}"], 1.0) for kind in KINDS if c.flags & KIND_BIT[kind]]
        # A temporal expression is described by its kind, not its spelling: "Thursday" and
        # "1066" are both dates (the training text, an encyclopedia, has few weekdays).
        temporal = bool(c.flags & _TEMPORAL)
        if _capital(sentence[ws[i].start : ws[i].end]) and not temporal:
            row.append((k["cap_first"], 1.0))
        if content and not temporal and all(_capital(sentence[w.start : w.end]) for w in content):
            row.append((k["cap_all"], 1.0))
        if any(ch.isdigit() for ch in surface) and not temporal:
            row.append((k["digit"], 1.0))
        if ", " in surface:  # a list or a clause, not the comma of "1,000"
            row.append((k["comma"], 1.0))
        opener = sentence[: ws[i].start].rstrip()[-1:]
        closer = sentence[ws[j].end :].lstrip()[:1]
        if opener == "(" and closer == ")":
            row.append((k["paren"], 1.0))
        elif opener and opener in _QUOTES and closer and closer in _QUOTES:
            row.append((k["quoted"], 1.0))
        if i == 0:
            row.append((k["at_start"], 1.0))
        if ":" in sentence[ws[j].end : ws[j + 1].start if j + 1 < len(ws) else None]:
            row.append((k["before_colon"], 1.0))
        kept.append(c)
        first.append(i)
        last.append(j)
        rows.append(row)
        lex.append(
            (
                stable_hash(_lex_token(ws[i - 1] if i > 0 else None, "<s>")),
                stable_hash(_lex_token(ws[j + 1] if j + 1 < len(ws) else None, "</s>")),
                stable_hash("<time>" if temporal else _lex_token(ws[i], "")),
                stable_hash("<time>" if temporal else _lex_token(ws[j], "")),
            )
        )
    static = np.zeros((len(kept), len(STATIC_NAMES)), dtype=np.float32)
    for r, row in enumerate(rows):
        for col, value in row:
            static[r, col] = value
    # How many people the sentence names: a list of them answers "which officials".
    people = sum(1 for c in kept if c.flags & KIND_BIT["person"])
    static[:, _STATIC_INDEX["persons"]] = min(people, 4) / 4
    return kept, first, last, static, np.asarray(lex, dtype=np.int64).reshape(-1, 4)


@functools.lru_cache(maxsize=16_384)
def sentence_table(sentence: str, anchor: dt.date | None) -> SentenceTable:
    """The cached question-independent table of a sentence."""
    ws = words(sentence)
    kept, first, last, static, lex = _static_rows(
        sentence, ws, sentence_candidates(sentence, anchor)
    )
    described_from, described_to = _descriptions(sentence, ws)
    return SentenceTable(
        described_from=described_from,
        described_to=described_to,
        candidates=tuple(kept),
        first=np.asarray(first, dtype=np.int64),
        last=np.asarray(last, dtype=np.int64),
        static=static,
        lex=lex,
        terms=tuple(w.term for w in ws),
        stop=np.asarray([w.is_stop for w in ws], dtype=np.bool_),
        pause=np.asarray(
            [bool(_PAUSE.search(sentence[a.end : b.start])) for a, b in itertools.pairwise(ws)]
            + [False],
            dtype=np.bool_,
        )
        if ws
        else np.zeros(0, dtype=np.bool_),
        clause=np.asarray(
            [0]
            + [
                bool(_CLAUSE_END.search(sentence[a.end : b.start]))
                for a, b in itertools.pairwise(ws)
            ],
            dtype=np.int64,
        ).cumsum()[: len(ws)],
    )


def with_extra(table: SentenceTable, sentence: str, extra: Sequence[Candidate]) -> SentenceTable:
    """The table with question-specific candidates (definitions of a subject) appended."""
    if not extra:
        return table
    marked = [replace(c, flags=c.flags | KIND_BIT[c.kind]) for c in extra]
    kept, first, last, static, lex = _static_rows(sentence, words(sentence), marked)
    return replace(
        table,
        candidates=table.candidates + tuple(kept),
        first=np.concatenate([table.first, np.asarray(first, dtype=np.int64)]),
        last=np.concatenate([table.last, np.asarray(last, dtype=np.int64)]),
        static=np.concatenate([table.static, static]),
        lex=np.concatenate([table.lex, lex]),
    )
