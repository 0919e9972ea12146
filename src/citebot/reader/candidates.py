"""The question-independent part of the reader's features: a sentence's candidate table.

For every candidate span of a sentence (`spans.sentence_candidates`): where its
words are, its static features (`STATIC_NAMES`: kind, length, the class of the
words around it, capitalisation...) and hashes of the words at and around its
edges, plus per-word facts the question-dependent features need (terms, stop
words, clauses, which words describe which). Computed once per sentence and
cached: the reader meets the same sentences question after question.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from citebot.reader.spans import (
    KIND_BIT,
    KINDS,
    PHRASE_MAX_WORDS,
    Candidate,
    CandidateList,
    merged_candidate,
    typed_spans,
)
from citebot.text.tokenizer import Word, words

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
_PAUSE_MARKS = ",:(–—"  # any of these after a word is a pause
_CLAUSE_MARKS = ',;:()–—"“”'  # any of these between two words ends a clause
_TEMPORAL = KIND_BIT["date"] | KIND_BIT["time"]
NAME_BITS = KIND_BIT["name"] | KIND_BIT["person"] | KIND_BIT["place"]
_QUOTES = "“”\"'‘’"


@dataclass(frozen=True)
class SentenceTable:
    """The question-independent part: candidates, word positions and static features."""

    candidates: CandidateList  # a Sequence[Candidate]; its columns are read directly
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


_STATIC_INDEX = {name: k for k, name in enumerate(STATIC_NAMES)}


def has_capital(surface: str) -> bool:
    """ "Park", "iMakerBase", "eBay": a capital first or inside marks a name."""
    if surface.isascii():  # then only A-Z are upper case, and lower() changes only them
        return surface != surface.lower()
    return surface[:1].isupper() or any(ch.isupper() for ch in surface[1:])


_COPULAS = frozenset({"is", "are", "was", "were"})
_COMMA_OR_COLON = re.compile(r"[,:]")


def _after_parenthesis(sentence: str, ws: Sequence[Word], p: int) -> int:
    """Where the description of word p starts when "(" follows it: "X (Y), D" (else -1)."""
    n = len(ws)
    close = sentence.find(")", ws[p].end)
    q = p + 1
    while close >= 0 and q < n and ws[q].start < close:
        q += 1
    if close < 0 or q >= n or not _COMMA_OR_COLON.search(sentence[close + 1 : ws[q].start]):
        return -1
    return q


@functools.lru_cache(maxsize=65_536)
def _token_hash(folded: str) -> int:
    """The hash lexical features use for a word: digits collapse its form to "#".

    Cached by folded form: the same words recur from sentence to sentence.
    """
    # No character is both a letter and a digit: most words are done with at isalpha.
    digits = not folded.isalpha() and any(ch.isdigit() for ch in folded)
    return stable_hash("#" if digits else folded)


_HASH_START = stable_hash("<s>")
_HASH_END = stable_hash("</s>")
_HASH_TIME = stable_hash("<time>")
_LEFT_INDEX = {name: k for k, name in enumerate(_LEFT)}
_RIGHT_INDEX = {name: k for k, name in enumerate(_RIGHT)}
_COL_KIND = np.asarray([_STATIC_INDEX[f"kind={kind}"] for kind in KINDS], dtype=np.int64)
_BIT_KIND = np.asarray([KIND_BIT[kind] for kind in KINDS], dtype=np.int64)
_COL_LEN = np.asarray([_STATIC_INDEX[f"len={n}"] for n in _LENGTHS], dtype=np.int64)
_COL_LEFT = np.asarray([_STATIC_INDEX[f"left={c}"] for c in _LEFT], dtype=np.int64)
_COL_RIGHT = np.asarray([_STATIC_INDEX[f"right={c}"] for c in _RIGHT], dtype=np.int64)
# Bucket (index into _LENGTHS) of a span of 1, 2, ... words; 7 and more share the last.
_LEN_BUCKET = np.asarray([0, 0, 1, 2, 3, 4, 4, 5], dtype=np.int64)


@dataclass(frozen=True)
class _Words:
    """Per-word facts of one or more sentences (words numbered on from sentence to
    sentence, offsets `base` apart) that the static features of every candidate read."""

    starts: IntArray  # offset of each word, plus its sentence's base
    ends: IntArray
    left: IntArray  # _LEFT class of the words before each word
    right: IntArray  # _RIGHT class of the word after each word
    capital: npt.NDArray[np.bool_]  # `has_capital` of each word's surface
    cum_content: IntArray  # running count of content (non-stop) words, from 0
    cum_lower: IntArray  # running count of content words that are not `has_capital`
    opens_paren: npt.NDArray[np.bool_]  # the text before the word ends with "("
    closes_paren: npt.NDArray[np.bool_]  # the text after the word starts with ")"
    opens_quote: npt.NDArray[np.bool_]  # ... ends with a quote mark
    closes_quote: npt.NDArray[np.bool_]  # ... starts with one
    before_colon: npt.NDArray[np.bool_]  # a ":" between the word and the next (or the end)
    hashes: IntArray  # `_token_hash` of each word
    hash_before: IntArray  # that of the word before (`_HASH_START` for a sentence's first)
    hash_after: IntArray  # that of the word after (`_HASH_END` for a sentence's last)
    stop: npt.NDArray[np.bool_]  # whether each word is a stop word
    pause: npt.NDArray[np.bool_]  # `SentenceTable.pause`, sentence after sentence
    clause: IntArray  # `SentenceTable.clause`, sentence after sentence
    digits: IntArray  # how many `str.isdigit` characters text[:i] holds, at i
    commas: IntArray  # how many ", " start in text[:i], at i
    # A clause break (`spans._breaks`) between the word and the next, or the sentence ends.
    breaks: npt.NDArray[np.bool_]
    code: IntArray  # `_WORD_CODE` of each word plus its stop flag
    # Row `_ROW[kind]`: the text after each word (to the next, or to its sentence's end)
    # holds a character of that `_COUNTED` kind.
    after: npt.NDArray[np.bool_]


def _left_class(folded: str, is_stop: bool) -> str:
    """The `_LEFT` class a word gives the word after it (when only spaces are between)."""
    for name, group in (
        ("det", _DETERMINERS),
        ("prep", _PREPOSITIONS),
        ("be", _BE),
        ("conj", _CONJUNCTIONS),
    ):
        if folded in group:
            return name
    return "stop" if is_stop else "content"


def _right_class(folded: str, is_stop: bool) -> str:
    """The `_RIGHT` class a word gives the word before it (when only spaces are between)."""
    if folded == "of":
        return "of"
    if folded in _PREPOSITIONS:
        return "prep"
    if folded in _CONJUNCTIONS:
        return "conj"
    return "stop" if is_stop else "content"


# Both classes of a word by one look-up: its code is `_WORD_CODE.get(folded, 0) + is_stop`
# (the words the classes name get their own codes; all others share 0 and 1).
_NAMED = sorted(_DETERMINERS | _PREPOSITIONS | _BE | _CONJUNCTIONS)
_WORD_CODE = {folded: 2 * (k + 1) for k, folded in enumerate(_NAMED)}
_LEFT_BY_CODE = np.asarray(
    [_LEFT_INDEX[_left_class(f, s)] for f in ("", *_NAMED) for s in (False, True)], dtype=np.int64
)
_RIGHT_BY_CODE = np.asarray(
    [_RIGHT_INDEX[_right_class(f, s)] for f in ("", *_NAMED) for s in (False, True)],
    dtype=np.int64,
)
_COPULA_BY_CODE = np.asarray([f in _COPULAS for f in ("", *_NAMED) for s in (False, True)])


@dataclass
class _Part:
    """One sentence of a batch: its words and where they start in the batch."""

    sentence: str
    ws: Sequence[Word]
    base: int  # added to the sentence's offsets (sentences never overlap)
    word0: int  # index of its first word in the batch


def _batch(sentences: Sequence[str]) -> list[_Part]:
    """Sentences laid end to end (one character apart: `_joined`) so that their words and
    candidates can be handled by one numpy operation per feature."""
    parts = []
    base = word0 = 0
    for sentence in sentences:
        ws = words(sentence)
        parts.append(_Part(sentence, ws, base, word0))
        base += len(sentence) + 1
        word0 += len(ws)
    return parts


def _joined(parts: Sequence[_Part]) -> str:
    """The batch's sentences as one text, each at its `base`, separated by a NUL: neither a
    space nor a mark that a feature reads, it keeps the look for the nearest mark (below)
    inside each sentence."""
    return "\0".join(p.sentence for p in parts)


# What the per-word facts read of a character, as bits: the kinds counted along the text
# (`_char_counts` rows, in this order) and the marks read next to a word. Every space
# character is below `_CHAR_LIMIT`, and all characters from there on share its last
# entry (not a space, no mark). Upper case letters and digits are only A-Z and 0-9 here:
# `str.isupper` and `str.isdigit` decide for each non-ASCII character of a text.
_COUNTED = (
    "not_space",
    "pause",
    "clause",
    "colon",
    "upper",
    "digit",
    "comma_space",
    "break",
    "open",
    "comma_colon",
    "description_end",
)
_ROW = {kind: k for k, kind in enumerate(_COUNTED)}
_BIT = {
    kind: 1 << k for k, kind in enumerate((*_COUNTED, "dot", "dash", "long_dash", "close", "quote"))
}
_CHAR_LIMIT = 0x3001
_CHAR_BITS = np.full(_CHAR_LIMIT + 1, _BIT["not_space"], dtype=np.uint16)
_CHAR_BITS[[ord(ch) for ch in re.findall(r"\s", "".join(map(chr, range(_CHAR_LIMIT))))]] = 0
for _kind, _marks in (
    ("pause", _PAUSE_MARKS),
    ("clause", _CLAUSE_MARKS),
    ("colon", ":"),
    ("upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("digit", "0123456789"),
    ("comma_space", ","),  # then only if a space follows
    # `spans._CLAUSE_BREAK`: one of these marks, ". " or a dash with a space either side
    ("break", ';:()[]“”"—'),
    ("open", "("),
    ("comma_colon", ",:"),
    # A description's end (`_described`): one of these marks, ". " or a dash of any
    # length between spaces
    ("description_end", ",;:()"),
    ("dot", "."),
    ("dash", "-–"),
    ("long_dash", "—"),
    ("close", ")"),
    ("quote", _QUOTES),
):
    _CHAR_BITS[[ord(ch) for ch in _marks]] |= _BIT[_kind]
_COUNTED_BITS = np.asarray([_BIT[kind] for kind in _COUNTED], dtype=np.uint16)


def _char_counts(text: str) -> tuple[npt.NDArray[np.uint16], IntArray]:
    """The `_CHAR_BITS` of each character of `text`, with a NUL before and after it (at 0
    and len(text) + 1), and how many characters of each `_COUNTED` kind text[:i] holds
    (column i of the row of that kind)."""
    size = len(text)
    chars = np.zeros(size + 2, dtype=np.uint32)
    chars[1:-1] = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    bits = _CHAR_BITS[np.minimum(chars, _CHAR_LIMIT)]
    marks = (bits[None, 1:-1] & _COUNTED_BITS[:, None]) != 0
    marks[_ROW["comma_space"]] &= chars[2:] == ord(" ")  # ", " starts there
    # A clause break (and a description's end) is counted at its last character: the
    # mark, the space of ". ", the second space of a dash between spaces (`\s`; the NULs
    # around the text are not).
    space = (bits & _BIT["not_space"]) == 0
    dot_space = ((bits[1:-1] & _BIT["dot"]) != 0) & space[2:]  # starts there
    spaced = space[:-2] & space[2:]  # the character has a space either side
    spaced_dash = ((bits[1:-1] & _BIT["dash"]) != 0) & spaced  # its dash
    marks[_ROW["break"], 1:] |= dot_space[:-1] | spaced_dash[:-1]
    spaced_dash |= ((bits[1:-1] & _BIT["long_dash"]) != 0) & spaced
    marks[_ROW["description_end"], 1:] |= dot_space[:-1] | spaced_dash[:-1]
    wide = np.flatnonzero(chars[1:-1] > 0x7F).tolist()
    if wide:
        found = [text[k] for k in wide]
        marks[_ROW["upper"], wide] = [ch.isupper() for ch in found]
        marks[_ROW["digit"], wide] = [ch.isdigit() for ch in found]
    counts = np.zeros((len(_COUNTED), size + 1), dtype=np.int64)
    np.cumsum(marks, axis=1, out=counts[:, 1:])
    return bits, counts


def _word_facts(parts: Sequence[_Part]) -> _Words:
    """The per-word facts of every sentence of a batch, computed once for all candidates.

    Python touches each word a few times (offsets, code, hash); the facts read from the
    text around the words are numpy operations over the batch's characters: a Python
    loop over the words costs more per fact than all the characters together.
    """
    sizes = [len(p.ws) for p in parts if p.ws]
    n = sum(sizes)
    bounds = np.cumsum([0, *sizes])
    first, last = bounds[:-1], bounds[1:] - 1  # each sentence's first and last word
    ws = _chain(p.ws for p in parts)
    word_base = np.repeat(np.asarray([p.base for p in parts if p.ws], dtype=np.int64), sizes)
    starts = np.asarray([w.start for w in ws], dtype=np.int64) + word_base
    ends = np.asarray([w.end for w in ws], dtype=np.int64) + word_base
    code = np.asarray([_WORD_CODE.get(w.folded, 0) + w.is_stop for w in ws], dtype=np.int64)
    stop = (code & 1).astype(np.bool_)
    bits, counts = _char_counts(_joined(parts))
    # What the text holds between each word and the one after it (or the sentence's end),
    # hence between each word and the one before it (for a sentence's first word, what
    # follows the previous sentence, or nothing: it is not read). Overlapping words (CJK
    # bigrams) have nothing between them.
    after_to = np.empty(n, dtype=np.int64)
    after_to[:-1] = starts[1:]
    after_to[last] = [p.base + len(p.sentence) for p in parts if p.ws]
    after = (counts[:, after_to] - counts[:, ends]) > 0
    before = np.zeros_like(after)
    before[:, 1:] = after[:, :-1]
    left = np.empty(n, dtype=np.int64)
    left[1:] = _LEFT_BY_CODE[code[:-1]]
    left[before[_ROW["not_space"]]] = _LEFT_INDEX["punct"]
    left[first] = _LEFT_INDEX["start"]
    right = np.empty(n, dtype=np.int64)
    right[:-1] = _RIGHT_BY_CODE[code[1:]]
    right[after[_ROW["not_space"]]] = _RIGHT_INDEX["punct"]
    right[last] = _RIGHT_INDEX["end"]
    # The nearest character that is not a space before each word and after it (a NUL
    # between sentences stops the look): a bracket or a quote mark there is the word's;
    # a word's own characters never are one.
    at = np.arange(len(bits))
    not_space = (bits & _BIT["not_space"]) != 0
    before_mark = bits[np.maximum.accumulate(np.where(not_space, at, 0))[starts]]
    after_mark = bits[
        np.minimum.accumulate(np.where(not_space, at, len(bits))[::-1])[::-1][ends + 1]
    ]
    uppers = counts[_ROW["upper"]]
    capital = uppers[ends] > uppers[starts]  # `has_capital`: an upper-case character
    content = ~stop
    cum_content = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(content, out=cum_content[1:])
    cum_lower = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(content & ~capital, out=cum_lower[1:])
    pause = after[_ROW["pause"]]
    pause[last] = False  # nothing follows a sentence's last word
    clauses = np.cumsum(before[_ROW["clause"]], dtype=np.int64)  # from the first word on
    # A clause break between a word and the next lies wholly in the text between them:
    # that is where its last character is, since a word never ends with a character of
    # one (words end with a letter, a digit or a CJK character).
    breaks = counts[_ROW["break"], np.maximum(after_to, ends)] > counts[_ROW["break"], ends]
    breaks[last] = True
    hashes = np.asarray([_token_hash(w.folded) for w in ws], dtype=np.int64)
    hash_before = np.empty(n, dtype=np.int64)
    hash_before[1:] = hashes[:-1]
    hash_before[first] = _HASH_START
    hash_after = np.empty(n, dtype=np.int64)
    hash_after[:-1] = hashes[1:]
    hash_after[last] = _HASH_END
    return _Words(
        starts=starts,
        ends=ends,
        left=left,
        right=right,
        capital=capital,
        cum_content=cum_content,
        cum_lower=cum_lower,
        opens_paren=(before_mark & _BIT["open"]) != 0,
        closes_paren=(after_mark & _BIT["close"]) != 0,
        opens_quote=(before_mark & _BIT["quote"]) != 0,
        closes_quote=(after_mark & _BIT["quote"]) != 0,
        before_colon=after[_ROW["colon"]],
        hashes=hashes,
        hash_before=hash_before,
        hash_after=hash_after,
        stop=stop,
        pause=pause,
        clause=clauses - np.repeat(clauses[first], sizes),
        digits=counts[_ROW["digit"]],
        commas=counts[_ROW["comma_space"]],
        breaks=breaks,
        code=code,
        after=after,
    )


def _described(parts: Sequence[_Part], f: _Words) -> tuple[IntArray, IntArray]:
    """For each word of a batch's sentences, the words that describe it, if any: "X: D",
    "X, D,", "X (Y), D", "X is D", as first and last word of D in the sentence (-1 when
    none), sentence after sentence.

    D starts after the ":" or "," (after the parenthesis and the mark that follows it),
    or after a copula that only spaces separate from X; it runs to the first word that
    a description's end follows (one of ",;:()", ". " or a dash of any length between
    spaces) or to the sentence's last word, at most 13 words. Numpy over the per-word
    facts; Python only where a "(" follows a word.
    """
    n = len(f.stop)
    sizes = [len(p.ws) for p in parts if p.ws]
    at = np.arange(n)
    word0 = np.repeat(np.asarray([p.word0 for p in parts if p.ws], dtype=np.int64), sizes)
    last = word0 + np.repeat(np.asarray(sizes, dtype=np.int64), sizes) - 1
    after = f.after
    copula_next = np.zeros(n, dtype=np.bool_)
    copula_next[:-1] = _COPULA_BY_CODE[f.code[1:]]
    # "X: D", "X, D": D starts at the next word; "X is D" (only spaces before "is") at the
    # word after the copula.
    first = np.where(
        after[_ROW["comma_colon"]],
        at + 1,
        np.where(copula_next & ~after[_ROW["not_space"]], at + 2, -1),
    )
    for p in np.flatnonzero(after[_ROW["open"]] & (at < last)).tolist():
        part = next(x for x in parts if x.ws and x.word0 <= p < x.word0 + len(x.ws))
        local = _after_parenthesis(part.sentence, part.ws, p - part.word0)
        first[p] = local if local < 0 else part.word0 + local
    described = (first >= 0) & (at < last) & (first <= last)
    ends = after[_ROW["description_end"]] | (at == last)
    end_at = np.minimum.accumulate(np.where(ends, at, n)[::-1])[::-1]
    described_from = np.full(n, -1, dtype=np.int64)
    described_to = np.full(n, -1, dtype=np.int64)
    q = first[described]
    described_from[described] = q - word0[described]
    described_to[described] = np.minimum(end_at[q], q + 12) - word0[described]
    return described_from, described_to


def _phrase_rows(f: _Words) -> tuple[IntArray, IntArray]:
    """Starts and ends (in the batch) of every phrase candidate of the batch's sentences,
    sorted by span: `spans._phrase_columns` of each sentence, one after the other.

    A phrase starts at a content word i and ends at each content word j >= i up to the
    first clause break at or after i, at most `PHRASE_MAX_WORDS` words in all.
    """
    at = np.arange(len(f.stop))
    # The first word at or after each word that a break follows (or its sentence's last).
    first_break = np.minimum.accumulate(np.where(f.breaks, at, len(at))[::-1])[::-1]
    content = np.flatnonzero(~f.stop)
    last = np.minimum(content + PHRASE_MAX_WORDS - 1, first_break[content])
    per_start = f.cum_content[last + 1] - f.cum_content[content]  # content words up to last
    # Row r of start c ends at content word c + (r - first row of c).
    first_row = np.cumsum(per_start) - per_start
    end_word = np.arange(int(per_start.sum())) - np.repeat(
        first_row - np.arange(len(content)), per_start
    )
    return np.repeat(f.starts[content], per_start), f.ends[content[end_word]]


@dataclass(frozen=True)
class _Columns:
    """The candidates of a batch's sentences, sentence after sentence."""

    counts: list[int]  # how many each sentence has
    starts: IntArray  # offsets in the batch
    ends: IntArray
    flags: IntArray
    priors: npt.NDArray[np.float64]


def _columns_of(parts: Sequence[_Part], candidates: Sequence[CandidateList]) -> _Columns:
    """The columns of candidates made already."""
    counts = [len(c) for c in candidates]
    base = np.repeat(np.asarray([p.base for p in parts], dtype=np.int64), counts)
    return _Columns(
        counts=counts,
        starts=np.asarray(_chain(c.starts for c in candidates), dtype=np.int64) + base,
        ends=np.asarray(_chain(c.ends for c in candidates), dtype=np.int64) + base,
        flags=np.asarray(_chain(c.flags for c in candidates), dtype=np.int64),
        priors=np.asarray(_chain(c.priors for c in candidates), dtype=np.float64),
    )


def _candidates(
    parts: Sequence[_Part], f: _Words, anchors: Sequence[dt.date | None]
) -> tuple[list[CandidateList], _Columns]:
    """`spans.candidate_list` of every sentence of the batch, made together: the phrase
    spans from the per-word facts, the typed spans merged into them (one candidate per
    span, in span order), and the columns the static features read."""
    phrase_starts, phrase_ends = _phrase_rows(f)
    # `spans._capitals` of an ASCII sentence's words: those holding any of A-Z, as here.
    capital = f.capital.tolist()
    typed = [
        typed_spans(
            p.sentence,
            anchor,
            capital[p.word0 : p.word0 + len(p.ws)] if p.sentence.isascii() else None,
        )
        for p, anchor in zip(parts, anchors, strict=True)
    ]
    typed_starts = np.asarray(
        [p.base + key[0] for p, spans in zip(parts, typed, strict=True) for key in spans],
        dtype=np.int64,
    )
    typed_ends = np.asarray(
        [p.base + key[1] for p, spans in zip(parts, typed, strict=True) for key in spans],
        dtype=np.int64,
    )
    # Each span as one number, in span order (no offset reaches `scale`).
    scale = sum(len(p.sentence) + 1 for p in parts) + 1
    phrase_keys = phrase_starts * scale + phrase_ends
    typed_keys = typed_starts * scale + typed_ends
    at = np.searchsorted(phrase_keys, typed_keys)
    also_phrase = np.zeros(len(typed_keys), dtype=np.bool_)
    inside = at < len(phrase_keys)
    also_phrase[inside] = phrase_keys[at[inside]] == typed_keys[inside]
    new = ~also_phrase
    keys = np.concatenate([phrase_keys, typed_keys[new]])
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    row = np.empty(len(typed_keys), dtype=np.int64)  # each typed span's row
    row[also_phrase] = rank[at[also_phrase]]
    row[new] = rank[len(phrase_keys) + np.arange(int(new.sum()))]
    starts = np.concatenate([phrase_starts, typed_starts[new]])[order]
    ends = np.concatenate([phrase_ends, typed_ends[new]])[order]
    flags = np.full(len(keys), KIND_BIT["phrase"], dtype=np.int64)
    priors = np.zeros(len(keys), dtype=np.float64)
    made: list[Candidate | None] = [None] * len(keys)
    entries = _chain(spans.items() for spans in typed)
    for r, is_phrase, (key, merged) in zip(
        row.tolist(), also_phrase.tolist(), entries, strict=True
    ):
        made[r] = merged_candidate(key, merged, is_phrase)
    flags[row] = [merged[1] for _, merged in entries]
    priors[row] = [merged[2] for _, merged in entries]
    bases = np.asarray([p.base for p in parts], dtype=np.int64)
    bounds = [*np.searchsorted(starts, bases).tolist(), len(keys)]
    counts = [b - a for a, b in itertools.pairwise(bounds)]
    local_starts = (starts - np.repeat(bases, counts)).tolist()
    local_ends = (ends - np.repeat(bases, counts)).tolist()
    flag_list, prior_list = flags.tolist(), priors.tolist()
    lists = [
        CandidateList(
            p.sentence,
            local_starts[a:b],
            local_ends[a:b],
            flag_list[a:b],
            prior_list[a:b],
            made[a:b],
        )
        for p, a, b in zip(parts, bounds[:-1], bounds[1:], strict=True)
    ]
    return lists, _Columns(counts, starts, ends, flags, priors)


_Rows = tuple[CandidateList, IntArray, IntArray, FloatArray, IntArray]
_T = TypeVar("_T")


def _chain(lists: Iterable[Iterable[_T]]) -> list[_T]:
    """The sequences one after the other, as one list."""
    return list(itertools.chain.from_iterable(lists))


def _static_rows(
    parts: Sequence[_Part], f: _Words, candidates: Sequence[CandidateList], cols: _Columns
) -> list[_Rows]:
    """Word positions, static features and lexical hashes of each sentence's candidates
    (wordless ones dropped), for a whole batch at once.

    Per-word facts are computed once (`_word_facts`); each feature is then one numpy
    operation over all the batch's candidates: integer and boolean operations, an
    element-wise division and casts, so a candidate's row does not depend on the batch.
    """
    counts = cols.counts
    sizes = [len(p.ws) for p in parts]
    c_start, c_end = cols.starts, cols.ends
    word0 = np.repeat(np.asarray([p.word0 for p in parts], dtype=np.int64), counts)
    n_words = np.repeat(np.asarray(sizes, dtype=np.int64), counts)
    first = np.searchsorted(f.starts, c_start, side="left") - word0  # within the sentence
    last = np.searchsorted(f.ends, c_end, side="right") - 1 - word0
    owner = np.repeat(np.arange(len(parts)), counts)  # each row's sentence
    flags, priors = cols.flags, cols.priors
    keep = (first < n_words) & (last >= first)
    kept_rows = np.flatnonzero(keep)
    if len(kept_rows) < len(keep):  # some candidates hold no word (rare): drop them
        first, last, c_start, c_end = first[keep], last[keep], c_start[keep], c_end[keep]
        word0, n_words, owner = word0[keep], n_words[keep], owner[keep]
        flags, priors = flags[keep], priors[keep]
    m = len(first)
    at_first, at_last = word0 + first, word0 + last  # word indexes in the batch
    temporal = (flags & _TEMPORAL) != 0
    rows = np.arange(m)
    static = np.zeros((m, len(STATIC_NAMES)), dtype=np.float32)
    if m:
        length = last - first + 1
        static[rows, _COL_LEN[_LEN_BUCKET[np.minimum(length, 7)]]] = 1.0
        static[rows, _COL_LEFT[f.left[at_first]]] = 1.0
        static[rows, _COL_RIGHT[f.right[at_last]]] = 1.0
        static[:, _STATIC_INDEX["prior"]] = priors
        static[:, _STATIC_INDEX["rel_pos"]] = first / np.maximum(n_words, 1)
        static[:, _COL_KIND] = (flags[:, None] & _BIT_KIND[None, :]) != 0
        static[:, _STATIC_INDEX["cap_first"]] = f.capital[at_first] & ~temporal
        content = f.cum_content[at_last + 1] - f.cum_content[at_first]
        lower = f.cum_lower[at_last + 1] - f.cum_lower[at_first]
        static[:, _STATIC_INDEX["cap_all"]] = (content > 0) & (lower == 0) & ~temporal
        digits = f.digits
        has_digit = digits[c_end] > digits[c_start]
        static[:, _STATIC_INDEX["digit"]] = has_digit & ~temporal
        commas = f.commas
        # ", " starting at p is inside the span when start <= p and p + 2 <= end.
        static[:, _STATIC_INDEX["comma"]] = commas[np.maximum(c_end - 1, c_start)] > commas[c_start]
        paren = f.opens_paren[at_first] & f.closes_paren[at_last]
        static[:, _STATIC_INDEX["paren"]] = paren
        static[:, _STATIC_INDEX["quoted"]] = (
            ~paren & f.opens_quote[at_first] & f.closes_quote[at_last]
        )
        static[:, _STATIC_INDEX["at_start"]] = first == 0
        static[:, _STATIC_INDEX["before_colon"]] = f.before_colon[at_last]
        # How many people the sentence names: a list of them answers "which officials".
        people = np.bincount(owner, weights=(flags & KIND_BIT["person"]) != 0, minlength=len(parts))
        static[:, _STATIC_INDEX["persons"]] = (np.minimum(people, 4) / 4)[owner]
    hashes = f.hashes
    lex = np.empty((m, 4), dtype=np.int64)
    if m:
        lex[:, 0] = f.hash_before[at_first]
        lex[:, 1] = f.hash_after[at_last]
        lex[:, 2] = np.where(temporal, _HASH_TIME, hashes[at_first])
        lex[:, 3] = np.where(temporal, _HASH_TIME, hashes[at_last])
    # Back to one table per sentence.
    out: list[_Rows] = []
    bounds = np.searchsorted(owner, np.arange(len(parts) + 1)).tolist()
    starts_of = np.cumsum([0, *counts]).tolist()
    for j, listed in enumerate(candidates):
        a, b = bounds[j], bounds[j + 1]
        kept = (
            listed
            if b - a == counts[j]  # none dropped
            else listed.take((kept_rows[a:b] - starts_of[j]).tolist())
        )
        out.append((kept, first[a:b], last[a:b], static[a:b], lex[a:b]))
    return out


_TABLES: dict[tuple[str, dt.date | None], SentenceTable] = {}  # least recently used first
_TABLES_MAX = 16_384
# The bot reads several questions at once in threads: the cache's updates are atomic.
_TABLES_LOCK = threading.Lock()


def sentence_table(sentence: str, anchor: dt.date | None) -> SentenceTable:
    """The cached question-independent table of a sentence."""
    return sentence_tables([(sentence, anchor)])[0]


def sentence_tables(items: Sequence[tuple[str, dt.date | None]]) -> list[SentenceTable]:
    """The tables of several sentences; those not cached yet are made together.

    A question reads ~8 sentences it has never met: making their tables in one batch
    pays numpy's per-call cost once per feature instead of once per sentence. Cached,
    the least recently used table leaving first when full (as `functools.lru_cache`).
    """
    found: dict[tuple[str, dt.date | None], SentenceTable] = {}
    missing: list[tuple[str, dt.date | None]] = []
    with _TABLES_LOCK:
        for key in items:
            table = _TABLES.pop(key, None)
            if table is not None:
                _TABLES[key] = table  # now the most recently used
                found[key] = table
            elif key not in found and key not in missing:
                missing.append(key)
    if missing:
        made = _make_tables(missing)  # outside the lock: other questions go on meanwhile
        with _TABLES_LOCK:
            for key, table in zip(missing, made, strict=True):
                found[key] = table
                _TABLES[key] = table
            while len(_TABLES) > _TABLES_MAX:
                del _TABLES[next(iter(_TABLES))]
    return [found[key] for key in items]


def _make_tables(keys: Sequence[tuple[str, dt.date | None]]) -> list[SentenceTable]:
    parts = _batch([sentence for sentence, _ in keys])
    f = _word_facts(parts)
    candidates, cols = _candidates(parts, f, [anchor for _, anchor in keys])
    described_from, described_to = _described(parts, f)
    out = []
    for part, rows in zip(parts, _static_rows(parts, f, candidates, cols), strict=True):
        kept, first, last, static, lex = rows
        at = slice(part.word0, part.word0 + len(part.ws))
        out.append(
            SentenceTable(
                described_from=described_from[at],
                described_to=described_to[at],
                candidates=kept,
                first=first,
                last=last,
                static=static,
                lex=lex,
                terms=tuple([w.term for w in part.ws]),
                stop=f.stop[at],
                pause=f.pause[at],
                clause=f.clause[at],
            )
        )
    return out


def with_extra(table: SentenceTable, sentence: str, extra: Sequence[Candidate]) -> SentenceTable:
    """The table with question-specific candidates (definitions of a subject) appended."""
    if not extra:
        return table
    marked = [replace(c, flags=c.flags | KIND_BIT[c.kind]) for c in extra]
    parts = _batch([sentence])
    candidates = [CandidateList.of(sentence, marked)]
    cols = _columns_of(parts, candidates)
    kept, first, last, static, lex = _static_rows(parts, _word_facts(parts), candidates, cols)[0]
    return replace(
        table,
        candidates=table.candidates + kept,
        first=np.concatenate([table.first, first]),
        last=np.concatenate([table.last, last]),
        static=np.concatenate([table.static, static]),
        lex=np.concatenate([table.lex, lex]),
    )
