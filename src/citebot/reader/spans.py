"""Candidate answer spans inside one sentence, each a verbatim slice with offsets.

The generators depend on the sentence alone (not on the question), so what is
made of them is cached (`spantable`'s tables, `candidate_list`): the reader meets
the same retrieved sentences question after question. The generators themselves
are not: a table, made once per sentence and article date, runs each of them once.

Candidates come in kinds that answer types want: temporal expressions (from
`dates`), numbers with their unit, proper names (runs of capitalised words), the
description of a subject for "what/who is X" (colon, copula, appositive and alias
patterns), and plain phrases for everything else. `sentence_candidates` merges the
question-independent kinds into one candidate per span whose `flags` say every
kind that proposed it. Choosing among them is the reader's job (`features`,
`reading`); this module only proposes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from citebot.text.dates import expression_spans, find_time_expressions
from citebot.text.tokenizer import STOP_WORDS, Word, words


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span of a sentence (offsets relative to the sentence) proposed as an answer."""

    start: int
    end: int
    text: str
    kind: str  # date, time, number, name, person, place, definition, phrase
    value: str | None = None  # resolved value of a temporal expression
    prior: float = 0.0  # how strongly the pattern that found it suggests an answer
    flags: int = 0  # bit KIND_BIT[k] for every kind k that proposed this span


# Every kind a candidate can have; the order is the order of the reader's features.
KINDS = ("date", "time", "number", "name", "person", "place", "phrase", "definition")
KIND_BIT = {kind: 1 << i for i, kind in enumerate(KINDS)}


# A number in digits, with a currency before it (at most 4 characters: "US$ ") and a
# scale after it, or a number in words.
_DIGIT_NUMBER = (
    r"(?:(?:US|HK|NT|A|C|S)?[$€£¥]\s?)?"
    r"(?<![\d.,])\d+(?:[.,]\d+)*(?:\s?(?:%|percent|per\s+cent))?"
    r"(?:\s+(?:hundred|thousand|million|billion|trillion))?"
)
_COUNT_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "sixty|seventy|eighty|ninety|hundred|dozens?|hundreds|thousands|millions|billions"
)
_WORD_NUMBER = (
    rf"\b(?:{_COUNT_WORDS})"
    r"(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine|hundred|thousand|million|billion))*\b"
)
_NUMBER_RE = re.compile(f"{_DIGIT_NUMBER}|{_WORD_NUMBER}", re.I)
_DIGIT_NUMBER_RE = re.compile(_DIGIT_NUMBER, re.I)
# A number in words starts with one of these (in any case), as a whole word.
_COUNT_WORD_SET = frozenset((*_COUNT_WORDS.replace("s?", "").split("|"), "dozens"))
_DIGIT = re.compile(r"\d")


def _numbers(sentence: str, ws: Sequence[Word]) -> Iterator[re.Match[str]]:
    """`_NUMBER_RE.finditer(sentence)`, several times faster on plain text (`ws` are the
    sentence's words).

    In ASCII text, where re.I compares lowercase letters, a number in words starts
    with a whole word (a run of word characters, hence a word of `ws`) in
    `_COUNT_WORD_SET`; a sentence without one has only numbers in digits. Without a "$"
    (the only currency sign in ASCII) such a number starts at a digit that no digit,
    "." or "," precedes: where a word in digits starts (the tokenizer keeps a number's
    "." and "," inside its word). The pattern is tried there only.
    """
    if not sentence.isascii():
        return _NUMBER_RE.finditer(sentence)
    starts = []  # where the words in digits start
    for w in ws:
        if w.folded in _COUNT_WORD_SET:
            return _NUMBER_RE.finditer(sentence)
        if w.folded[0].isdigit():
            starts.append(w.start)
    if "$" in sentence:
        digit = _DIGIT.search(sentence)
        if digit is None:
            return iter(())
        return _DIGIT_NUMBER_RE.finditer(sentence, max(digit.start() - 4, 0))
    return _digit_numbers(sentence, starts)


def _digit_numbers(sentence: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """`_DIGIT_NUMBER_RE.finditer(sentence)` when its matches can start only at `starts`
    (in order): the pattern tried at each one past the last match (its lookbehind
    reads the text before where it is tried)."""
    end = 0
    for start in starts:
        if start >= end:
            m = _DIGIT_NUMBER_RE.match(sentence, start)
            if m is not None:
                yield m
                end = m.end()


_PERCENT_UNITS = frozenset({"percentag", "percent"})  # stems of "percentage", "percent"


def _is_percent(number: str) -> bool:
    return "%" in number or "percent" in number.lower() or "per cent" in number.lower()


# "420 meters long": the dimension word belongs to the question, not to the unit.
_DIMENSIONS = frozenset(
    ["long", "wide", "high", "tall", "deep", "old", "thick", "away", "ago", "later", "earlier"]
)
_CONNECTORS = frozenset({"of", "and", "for", "the", "de", "du", "la", "von", "van", "&"})
ROLE_WORDS = frozenset(
    """
    chief executive secretary mayor minister president director government council
    university park zone program programme authority department bureau office committee
    association company corporation group bank plaza street road city district province
    centre center institute agency commission ministry court party army police station
    hospital school college museum airport region state republic kingdom union
    organisation organization foundation society club league team cooperation innovation
    technology science sar vice deputy head premier governor senator king queen prince
    princess general captain mr mrs ms dr prof sir lord
    """.split()
)
_TITLES = frozenset(
    """
    mr mrs ms dr prof sir mayor president minister secretary chief governor senator
    """.split()
)
_PLACE_PREPS = frozenset({"in", "at", "from", "to", "near", "across", "into", "around", "of"})
# A phrase may cross a comma ("arrows, swords, and leather shields") but not these;
# an en dash between words without spaces is a range ("50–140 cm"), not a break.
_CLAUSE_BREAK = re.compile(r"[;:()\[\]“”\"—]|\s[-–]\s|\.\s")
_VERBISH = re.compile(r"^[a-z]+(?:ed|es)$")


def time_candidates(sentence: str, anchor: dt.date | None) -> tuple[Candidate, ...]:
    """Temporal expressions, resolved against the article date."""
    out = []
    for e in find_time_expressions(sentence, anchor):
        kind = "time" if e.kind == "time" else "date"
        out.append(_fast_candidate(e.start, e.end, e.text, kind, e.value, 1.0, 0))
        # "on Thursday" is also proposed as "Thursday": answers rarely keep the preposition.
        ws = words(e.text)
        if len(ws) > 1 and ws[0].is_stop:
            s = e.start + ws[1].start
            out.append(_fast_candidate(s, e.end, sentence[s : e.end], kind, e.value, 1.0, 0))
    return tuple(out)


def number_candidates(sentence: str, unit: str | None) -> tuple[Candidate, ...]:
    """Numbers with an optional unit of up to three words ("31,000 square meters")."""
    ws = words(sentence)
    found = list(_numbers(sentence, ws))
    if not found:
        return ()
    # Where the dates are (their values do not matter here): `time_candidates` spans of
    # kind "date", of which the shortened variants ("Thursday" of "on Thursday") lie inside.
    taken = [(start, end) for start, end, kind in expression_spans(sentence) if kind != "time"]
    wanted = {w.term for w in words(unit)} if unit else set()
    starts = [w.start for w in ws]
    out = []
    for m in found:
        if any(s <= m.start() < e for s, e in taken):
            continue
        end = m.end()
        # Up to three unit words, joined to the number by spaces only ("31,000 square meters").
        for start, w_end, w in _words_after(sentence, ws, starts, m.end()):
            gap = sentence[end:start]
            if gap.strip() or w.is_stop or w.folded in _DIMENSIONS or not w.folded.isalpha():
                break
            end = w_end
        prior = 1.0
        if wanted:
            unit_terms = {w.term for w in words(sentence[m.end() : end])}
            if wanted & unit_terms or (wanted & _PERCENT_UNITS and _is_percent(m.group())):
                prior = 1.5
        out.append(
            _fast_candidate(m.start(), end, sentence[m.start() : end], "number", None, prior, 0)
        )
        if end > m.end():  # the bare number too: answers often leave the unit to the question
            out.append(_fast_candidate(m.start(), m.end(), m.group(), "number", None, 1.0, 0))
    return tuple(out)


def _words_after(
    sentence: str, ws: Sequence[Word], starts: list[int], at: int
) -> list[tuple[int, int, Word]]:
    """The first three words of `sentence[at : at + 60]`, with offsets in the sentence.

    They are the sentence's own words when none is cut by either end of that window
    (the tokenizer looks neither behind nor ahead); otherwise the window is tokenised.
    """
    k = bisect.bisect_left(starts, at)
    limit = at + 60
    found = [w for w in ws[k : k + 3] if w.start < limit]
    if (k > 0 and ws[k - 1].end > at) or any(w.end > limit for w in found):
        return [(at + w.start, at + w.end, w) for w in words(sentence[at:limit])[:3]]
    return [(w.start, w.end, w) for w in found]


def name_candidates(sentence: str) -> tuple[Candidate, ...]:
    """Runs of capitalised words (with "of", "and", "for" inside), tagged person or place."""
    ws = words(sentence)
    return _names(sentence, ws, _capitals(sentence, ws))


def _names(sentence: str, ws: Sequence[Word], capital: Sequence[bool]) -> tuple[Candidate, ...]:
    """`name_candidates` of the sentence whose words are `ws`, `capital` being their
    `_capitals`."""
    out: list[Candidate] = []
    j = 0  # the first word after the last run
    for i in [k for k, is_capital in enumerate(capital) if is_capital]:
        if i < j or (i == 0 and ws[i].is_stop):
            continue
        j = i + 1
        while j < len(ws):
            gap = sentence[ws[j - 1].end : ws[j].start]
            if gap not in {" ", "-", "’s ", "'s ", " & "}:
                break
            if capital[j]:
                j += 1
            elif (
                ws[j].folded in _CONNECTORS
                and j + 1 < len(ws)
                and capital[j + 1]
                and sentence[ws[j].end : ws[j + 1].start] == " "
                and (ws[j].folded != "and" or _role_run_follows(ws, capital, j + 1))
            ):
                j += 2
            elif gap == "-" and ws[j].folded.isalpha():
                j += 1  # hyphenated given names: "Cheung kin-chung", "Yeuk-wah"
            else:
                break
        start_word = i
        if ws[i].folded in {"the", "a", "an"} and j - i > 1:
            start_word += 1
        surface = sentence[ws[i].start : ws[i].end]
        # A lone capitalised first word ("However", "Many") is capitalised by position,
        # not because it names something; internal capitals ("iMakerBase") still count.
        lone_initial = i == 0 and j == 1 and not any(ch.isupper() for ch in surface[1:])
        if not lone_initial:
            out.extend(_name_variants(sentence, ws, start_word, j))
    return tuple(out)


def _role_run_follows(ws: Sequence[Word], capital: Sequence[bool], k: int) -> bool:
    """ "Science and Technology Zone" is one name; "Administration and Teresa Cheng" is two."""
    while k < len(ws) and capital[k]:
        if ws[k].folded in ROLE_WORDS:
            return True
        k += 1
    return False


_ASCII_UPPER = re.compile("[A-Z]")


def _capitals(sentence: str, ws: Sequence[Word]) -> list[bool]:
    """`_capitalised` of each word. In ASCII text (whose words do not overlap), where a
    word is capitalised when it holds one of A-Z, from where those letters are: most
    words hold none."""
    if not sentence.isascii():
        return [_capitalised(sentence, w) for w in ws]
    out = [False] * len(ws)
    starts = [w.start for w in ws]
    for m in _ASCII_UPPER.finditer(sentence):
        k = bisect.bisect_right(starts, m.start()) - 1  # the last word starting there or before
        if k >= 0 and m.start() < ws[k].end:
            out[k] = True
    return out


def _capitalised(sentence: str, w: Word) -> bool:
    surface = sentence[w.start : w.end]
    if surface.isascii():  # then only A-Z are upper case, and lower() changes only them
        return surface != surface.lower()
    return (
        surface[:1].isupper()
        or any(ch.isupper() for ch in surface[1:])
        or ("\u3400" <= surface[:1] <= "\u9fff")
    )


def _name_variants(sentence: str, ws: Sequence[Word], i: int, j: int) -> list[Candidate]:
    """The whole run, plus the person's name without a leading title ("Mayor Park" -> "Park")."""
    start, end = ws[i].start, ws[j - 1].end
    folded = [w.folded for w in ws[i:j]]
    has_role = any(f in ROLE_WORDS for f in folded)
    before = ws[i - 1].folded if i > 0 else ""
    kind = "place" if before in _PLACE_PREPS and not has_role else "name"
    if not has_role and 2 <= j - i <= 4:
        kind = "person" if before not in _PLACE_PREPS else kind
    out = [_fast_candidate(start, end, sentence[start:end], kind, None, 0.5, 0)]
    k = i
    while k < j - 1 and folded[k - i] in _TITLES:
        k += 1
    rest = folded[k - i :]
    if k > i and not (set(rest) & (ROLE_WORDS | _CONNECTORS)):
        s = ws[k].start
        out.append(_fast_candidate(s, end, sentence[s:end], "person", None, 0.6, 0))
    return out


def definition_candidates(sentence: str, subject: str) -> list[Candidate]:
    """Descriptions of `subject` in the sentence: "X: D", "X is D", "X, D,", "D (X)", "D X"."""
    found = _find_subject(sentence, subject)
    if found is None:
        return []
    s_start, s_end = found
    out: list[Candidate] = []
    rest = sentence[s_end:]
    # Skip a parenthetical right after the subject: "iMakerBase (大公坊), ..."
    paren = re.match(r"\s*\([^)]{1,80}\)", rest)
    after = s_end + (paren.end() if paren else 0)
    tail = sentence[after:]
    colon = re.match(r"\s*:\s*", tail)
    if colon:
        out.append(_until(sentence, after + colon.end(), stop=".;", kind_prior=1.6))
    copula = re.match(r"\s+(?:is|are|was|were)\s+(?!not\b)", tail)
    if copula:
        out.append(_until(sentence, after + copula.end(), stop=".;,(", kind_prior=1.3))
    comma = re.match(r"\s*,\s+", tail)
    if comma:
        cand = _until(sentence, after + comma.end(), stop=".;,()", kind_prior=1.2)
        if not _is_bare_name(cand.text):
            out.append(cand)
    # "Shenzhen Bay Startup Plaza (深圳灣创业廣場)": the name before the parenthesis.
    before = sentence[:s_start]
    alias = re.search(
        r"([A-Z][\w’'&.-]*(?:\s+(?:of\s+|and\s+|for\s+)?[A-Z][\w’'&.-]*)*)\s*\(\s*$", before
    )
    if alias:
        out.append(Candidate(alias.start(1), alias.end(1), alias.group(1), "definition", prior=1.5))
    # "Hong Kong chief executive John Lee Ka-chiu said": a role right before the name.
    role = re.search(
        r"((?:[A-Z][\w’'-]*\s+)*(?:[a-z][\w’'-]*\s+){0,3}"
        r"(?:chief executive|secretary|mayor|minister|president|director|head|"
        r"chairman|spokesman|spokeswoman|governor|founder|professor|officer|"
        r"[Cc]hief [A-Z]\w+|[A-Z]\w+ [Mm]ayor))\s+$",
        before,
    )
    if role:
        out.append(Candidate(role.start(1), role.end(1), role.group(1), "definition", prior=1.0))
    return [c for c in out if c.text.strip()]


def _find_subject(sentence: str, subject: str) -> tuple[int, int] | None:
    """Where the subject's words stand in the sentence, matched by folded word sequence."""
    target = [w.folded for w in words(subject)]
    if not target:
        return None
    ws = words(sentence)
    folded = [w.folded for w in ws]
    for i in range(len(ws) - len(target) + 1):
        if folded[i : i + len(target)] == target:
            return ws[i].start, ws[i + len(target) - 1].end
    return None


def _until(sentence: str, start: int, *, stop: str, kind_prior: float) -> Candidate:
    """From `start` to the first stop character or a past-tense verb after a capitalised word."""
    end = len(sentence)
    for i in range(start, len(sentence)):
        ch = sentence[i]
        if ch in stop and not (ch == "." and i + 1 < len(sentence) and sentence[i + 1].isalnum()):
            end = i
            break
    ws = words(sentence[start:end])
    for a, b in itertools.pairwise(ws):
        surface_a = sentence[start + a.start : start + a.end]
        surface_b = sentence[start + b.start : start + b.end]
        # "then the Secretary for Environment visited Seoul": the verb ends the description.
        if surface_a[:1].isupper() and _VERBISH.match(surface_b) and surface_b not in STOP_WORDS:
            end = start + a.end
            break
    text = sentence[start:end].rstrip(" .")
    return Candidate(start, start + len(text), text, "definition", prior=kind_prior)


def _is_bare_name(text: str) -> bool:
    """True for "IngDan" or "Matthew Cheung": a list item, not a description."""
    ws = text.split()
    return bool(ws) and len(ws) <= 4 and all(w[:1].isupper() for w in ws)


PHRASE_MAX_WORDS = 10  # the most words a phrase candidate has


def _breaks(sentence: str, ws: Sequence[Word]) -> list[bool]:
    """Whether a clause break (`_CLAUSE_BREAK`) separates word k from word k + 1."""
    out = []
    for a, b in itertools.pairwise(ws):
        gap = sentence[a.end : b.start]
        out.append(gap != " " and _CLAUSE_BREAK.search(gap) is not None)
    return out


def _phrase_spans(sentence: str, max_words: int = PHRASE_MAX_WORDS) -> list[tuple[int, int]]:
    """(start, end) of every phrase candidate, in `phrase_candidates` order."""
    starts, ends = _phrase_columns(sentence, max_words)
    return list(zip(starts, ends, strict=True))


def _phrase_columns(
    sentence: str, max_words: int = PHRASE_MAX_WORDS
) -> tuple[list[int], list[int]]:
    """Starts and ends of every phrase candidate, sorted by span.

    A phrase starts at a content word i and ends at each content word j >= i before
    the first clause break at or after i, at most `max_words` words in all.
    """
    ws = words(sentence)
    n = len(ws)
    breaks = _breaks(sentence, ws)
    content = [k for k, w in enumerate(ws) if not w.is_stop]
    content_ends = [ws[k].end for k in content]
    # first_break[k]: the first word at or after k that a clause break follows (or the last).
    first_break = [n - 1] * n
    for k in range(n - 2, -1, -1):
        first_break[k] = k if breaks[k] else first_break[k + 1]
    starts: list[int] = []
    ends: list[int] = []
    for c, i in enumerate(content):
        last = min(i + max_words - 1, first_break[i])
        stop = bisect.bisect_right(content, last, c)
        starts += [ws[i].start] * (stop - c)
        ends += content_ends[c:stop]
    return starts, ends


@functools.lru_cache(maxsize=16_384)
def phrase_candidates(sentence: str, max_words: int = PHRASE_MAX_WORDS) -> tuple[Candidate, ...]:
    """Word n-grams inside a clause that neither start nor end with a stop word."""
    return tuple(
        Candidate(s, e, sentence[s:e], "phrase", prior=0.0)
        for s, e in _phrase_spans(sentence, max_words)
    )


def _slot_setter(name: str) -> Callable[[Candidate, Any], None]:
    setter: Callable[[Candidate, Any], None] = getattr(Candidate, name).__set__
    return setter


_SET_START, _SET_END, _SET_TEXT, _SET_KIND, _SET_VALUE, _SET_PRIOR, _SET_FLAGS = (
    _slot_setter(name) for name in ("start", "end", "text", "kind", "value", "prior", "flags")
)


def _fast_candidate(
    start: int,
    end: int,
    text: str,
    kind: str,
    value: str | None,
    prior: float,
    flags: int,
    *,
    _new: Callable[[type[Candidate]], Candidate] = Candidate.__new__,
    _start: Callable[[Candidate, Any], None] = _SET_START,
    _end: Callable[[Candidate, Any], None] = _SET_END,
    _text: Callable[[Candidate, Any], None] = _SET_TEXT,
    _kind: Callable[[Candidate, Any], None] = _SET_KIND,
    _value: Callable[[Candidate, Any], None] = _SET_VALUE,
    _prior: Callable[[Candidate, Any], None] = _SET_PRIOR,
    _flags: Callable[[Candidate, Any], None] = _SET_FLAGS,
) -> Candidate:
    """`Candidate(start, end, ...)` at half the cost of the frozen dataclass's __init__.

    The slots are set through their descriptors, which is what that __init__ does
    (through object.__setattr__, with more overhead); a sentence has ~50 candidates.
    `Candidate.__new__` is `object.__new__` here, and what a mypyc-compiled class accepts.
    """
    c = _new(Candidate)
    _start(c, start)
    _end(c, end)
    _text(c, text)
    _kind(c, kind)
    _value(c, value)
    _prior(c, prior)
    _flags(c, flags)
    return c


class CandidateList(Sequence[Candidate]):
    """A sentence's candidates as columns; each `Candidate` object is made when first asked for.

    A sentence has ~50 candidates, nearly all plain phrases, and the reader looks at a
    handful of them as objects (the chosen span, its rivals' offsets): the columns are
    what the features and the rules read, so most phrase objects are never made.
    """

    __slots__ = ("_flag_array", "_made", "ends", "flags", "priors", "sentence", "starts")

    def __init__(
        self,
        sentence: str,
        starts: list[int],
        ends: list[int],
        flags: list[int],
        priors: list[float],
        made: list[Candidate | None],
    ) -> None:
        self.sentence = sentence  # a phrase candidate is sentence[start:end]
        self.starts, self.ends, self.flags, self.priors = starts, ends, flags, priors
        self._made = made  # the objects made so far (typed candidates from the start)
        self._flag_array: npt.NDArray[np.int64] | None = None

    @classmethod
    def of(cls, sentence: str, candidates: Sequence[Candidate]) -> CandidateList:
        """Columns of candidates that are objects already."""
        return cls(
            sentence,
            [c.start for c in candidates],
            [c.end for c in candidates],
            [c.flags for c in candidates],
            [c.prior for c in candidates],
            list(candidates),
        )

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, i: int) -> Candidate: ...
    @overload
    def __getitem__(self, i: slice) -> CandidateList: ...
    def __getitem__(self, i: int | slice) -> Candidate | CandidateList:
        if isinstance(i, slice):
            return self.take(range(len(self))[i])
        c = self._made[i]
        if c is None:  # a plain phrase: nothing but its span
            s, e = self.starts[i], self.ends[i]
            c = self._made[i] = _fast_candidate(
                s, e, self.sentence[s:e], "phrase", None, 0.0, self.flags[i]
            )
        return c

    def __iter__(self) -> Iterator[Candidate]:
        return (self[i] for i in range(len(self)))

    def text(self, i: int) -> str:
        """The text of candidate i, without making its object."""
        c = self._made[i]
        return c.text if c is not None else self.sentence[self.starts[i] : self.ends[i]]

    def flag_array(self) -> npt.NDArray[np.int64]:
        """`flags` as an array (made once: the gate and the features ask every question)."""
        if self._flag_array is None:
            self._flag_array = np.asarray(self.flags, dtype=np.int64)
        return self._flag_array

    def take(self, rows: Sequence[int]) -> CandidateList:
        """The candidates at `rows`, in that order."""
        return CandidateList(
            self.sentence,
            [self.starts[i] for i in rows],
            [self.ends[i] for i in rows],
            [self.flags[i] for i in rows],
            [self.priors[i] for i in rows],
            [self._made[i] for i in rows],
        )

    def __add__(self, other: CandidateList) -> CandidateList:
        if other.sentence != self.sentence:
            raise ValueError("candidates of two different sentences cannot be joined")
        return CandidateList(
            self.sentence,
            self.starts + other.starts,
            self.ends + other.ends,
            self.flags + other.flags,
            self.priors + other.priors,
            self._made + other._made,
        )


@functools.lru_cache(maxsize=16_384)
def sentence_candidates(sentence: str, anchor: dt.date | None) -> tuple[Candidate, ...]:
    """Every question-independent candidate of a sentence, one per span, kinds merged.

    The first kind to propose a span names it (dates before numbers before names
    before phrases), and its flags collect every kind that proposed it.
    """
    return tuple(candidate_list(sentence, anchor))


def typed_spans(
    sentence: str, anchor: dt.date | None, capital: Sequence[bool] | None = None
) -> dict[tuple[int, int], list[Any]]:
    """The few typed candidates (dates, numbers, names) by span, each as [first proposer,
    flags, prior]: a new dict each time, for `candidate_list` to merge phrases into.

    `capital` is `_capitals` of the sentence's words, when the caller knows it already.
    """
    typed: dict[tuple[int, int], list[Any]] = {}
    names = (
        name_candidates(sentence) if capital is None else _names(sentence, words(sentence), capital)
    )
    for group in (time_candidates(sentence, anchor), number_candidates(sentence, None), names):
        for c in group:
            key = (c.start, c.end)
            old = typed.get(key)
            if old is None:
                typed[key] = [c, KIND_BIT[c.kind], c.prior]
            else:
                old[1] |= KIND_BIT[c.kind]
                old[2] = max(old[2], c.prior)
    return typed


def merged_candidate(key: tuple[int, int], merged: list[Any], also_phrase: bool) -> Candidate:
    """The candidate of a `typed_spans` entry, flagged a phrase too if it is one (which
    updates the entry)."""
    if also_phrase:
        merged[1] |= KIND_BIT["phrase"]
        merged[2] = max(merged[2], 0.0)
    c, flags, prior = merged
    return _fast_candidate(key[0], key[1], c.text, c.kind, c.value, prior, flags)


@functools.lru_cache(maxsize=16_384)
def candidate_list(sentence: str, anchor: dt.date | None) -> CandidateList:
    """`sentence_candidates` as columns (sorted by span), phrase objects not made yet."""
    typed = typed_spans(sentence, anchor)
    phrase = KIND_BIT["phrase"]
    starts, ends = _phrase_columns(sentence)  # sorted by span, each once
    n = len(starts)
    flags = [phrase] * n
    priors = [0.0] * n
    made: list[Candidate | None] = [None] * n
    for key, old in typed.items():
        # Where the span is, or would be, in span order: the columns stay sorted.
        lo = bisect.bisect_left(starts, key[0])
        hi = bisect.bisect_right(starts, key[0], lo)
        k = bisect.bisect_left(ends, key[1], lo, hi)
        also_phrase = k < hi and ends[k] == key[1]
        if not also_phrase:
            starts.insert(k, key[0])
            ends.insert(k, key[1])
            flags.insert(k, 0)
            priors.insert(k, 0.0)
            made.insert(k, None)
        made[k] = merged_candidate(key, old, also_phrase)
        _, flags[k], priors[k] = old
    return CandidateList(sentence, starts, ends, flags, priors, made)
