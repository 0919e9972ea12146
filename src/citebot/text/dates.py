"""Temporal expressions: find them in a sentence and resolve them against a date.

News text says "on Thursday", "next year" or "last week"; a reader needs the
calendar value. Expressions are found with regular expressions over a small
grammar (months, weekdays, years, decades, relative phrases, ranges) and resolved
against the article's publication date, the way TimeML's TIMEX3 values are:
"2023-09-07", "2024", "2023-W35", "2019-01-29/2019-02-02". The span reported is
the verbatim expression; nothing is generated.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from citebot.text.tokenizer import STOP_WORDS, contains_any

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        [
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ]
    )
    for name in names
}

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1\d{3}|20\d{2})"
_UNIT = r"(?:day|week|month|year|decade|century|weekend)"
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_COUNT = r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"

# Each pattern names its kind; order matters: longer forms first, and a match
# claims its characters so that "January 29, 2019" is not also read as "2019".
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
    ("mdy", re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY},?\s+{_YEAR}\b")),
    ("dmy", re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b")),
    ("md", re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_MONTH}\s+{_DAY}\b(?!,?\s*\d)")),
    ("dm", re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}\b")),
    ("my", re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b")),
    (
        "century",
        re.compile(
            r"\b(?:\d{1,2}(?:st|nd|rd|th)(?:\s+and\s+\d{1,2}(?:st|nd|rd|th))?)"
            r"[\s-]+centur(?:y|ies)\b(?:\s+(?:BC|AD|BCE|CE)\b)?",
            re.I,
        ),
    ),
    ("decade", re.compile(r"\b(?:1\d|20)\d0s\b|\b'\d0s\b")),
    ("ago", re.compile(rf"\b{_COUNT}\s+{_UNIT}s?\s+(?:ago|earlier|later)\b", re.I)),
    (
        "relunit",
        re.compile(
            rf"\b(?:(?:earlier|later)\s+)?(?:this|next|last|past|coming|previous|"
            rf"following)\s+{_UNIT}\b",
            re.I,
        ),
    ),
    ("weekday", re.compile(rf"\b(?:(?:on|last|next|this|coming)\s+)?{_WEEKDAY}\b")),
    ("deictic", re.compile(r"\b(?:today|yesterday|tomorrow|tonight)\b", re.I)),
    (
        "month",
        re.compile(
            r"\b(?:in|since|until|by|during|early|late|mid|from|of|last|next|this)"
            r"(?:-|\s+)(?:January|February|March|April|May|June|July|August|"
            r"September|October|November|December)\b"
        ),
    ),
    (
        "time",
        re.compile(
            r"\b(?:[01]?\d|2[0-3])(?::[0-5]\d)?\s?(?:a\.m\.|p\.m\.|am|pm)(?!\w)"
            r"|\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b(?:noon|midnight)\b",
            re.I,
        ),
    ),
    ("year", re.compile(rf"(?<![\d$€£¥.,])\b{_YEAR}\b(?![\d,.]\d)")),
]

# What each pattern cannot match without: a digit, a month name (every spelling in
# `_MONTH` holds one of these, case-sensitively), a weekday or a unit of time.
# Checked once per text, so that patterns are not run on a text that cannot hold
# them: the expressions found are the same.
_DIGIT = re.compile(r"\d")
_MONTH_CUE = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
# `_UNIT` matched case-insensitively: every character that re.I matches to one of
# these letters lowercases to exactly that letter (checked over all of Unicode),
# so a lowercased text holds the unit whenever the pattern can match.
_UNITS = ("day", "week", "month", "year", "decade", "century")
_NEEDS: dict[str, tuple[str, ...]] = {
    "iso": ("digit",),
    "mdy": ("digit", "month"),
    "dmy": ("digit", "month"),
    "md": ("digit", "month"),
    "dm": ("digit", "month"),
    "my": ("digit", "month"),
    "century": ("digit",),
    "decade": ("digit",),
    "ago": ("unit",),
    "relunit": ("unit",),
    "weekday": ("weekday",),
    "month": ("month",),
    "year": ("digit",),
}
_CUE = {"digit": 1, "month": 2, "weekday": 4, "unit": 8}  # each cue's bit


# A second, narrower test of what a pattern cannot match without, made only for the
# patterns the cues above let through: (text, its lowercase) -> may it match? The
# literal "-" and "0s" are looked for in any text; the words of the case-insensitive
# patterns only in ASCII text, where re.I is exactly a comparison of lowercase letters
# (elsewhere the pattern is run).
_ALSO_NEEDS: dict[str, Callable[[str, str], bool]] = {
    "iso": lambda text, low: "-" in text,
    "decade": lambda text, low: "0s" in text,
    "century": lambda text, low: not text.isascii() or "centur" in low,
    "ago": lambda text, low: not text.isascii() or contains_any(low, ("ago", "earlier", "later")),
    "relunit": lambda text, low: (
        not text.isascii()
        or contains_any(low, ("this", "next", "last", "past", "coming", "previous", "following"))
    ),
    "deictic": lambda text, low: (
        not text.isascii() or contains_any(low, ("today", "yesterday", "tomorrow", "tonight"))
    ),
    "time": lambda text, low: (
        not text.isascii()
        or contains_any(low, (":", "am", "pm", "a.m.", "p.m.", "noon", "midnight"))
    ),
}


# The earliest place a match of a pattern can start, from where the text's first digit,
# month cue ("Jan", ...: every spelling in `_MONTH` starts with one) and "day" are (the
# text's length when it has none): a scan starts there instead of at 0. Python's `re`
# reads the text before that place for lookbehinds and word boundaries, so the matches
# are the same. A weekday name ends with "day" and is at most 9 characters long.
class _Firsts(NamedTuple):
    digit: int
    month: int
    day: int


def _month_after_preposition(text: str, firsts: _Firsts) -> int:
    """Where a "month" match can start: its month name is at or after the first cue,
    after a dash or spaces (which the cue's capital letter is not) and a preposition of
    at most 6 letters."""
    k = firsts.month
    while k > 0 and (text[k - 1] == "-" or text[k - 1].isspace()):
        k -= 1
    return max(k - 6, 0)


_FIRST_START: dict[str, Callable[[str, _Firsts], int]] = {
    "iso": lambda text, at: at.digit,
    "mdy": lambda text, at: min(at.day - 6, at.month),  # a weekday or the month first
    "md": lambda text, at: min(at.day - 6, at.month),
    "my": lambda text, at: at.month,
    "dmy": lambda text, at: min(at.day - 6, at.digit),  # a weekday or the day first
    "dm": lambda text, at: min(at.day - 6, at.digit),
    "century": lambda text, at: at.digit,
    "decade": lambda text, at: at.digit - 1,  # "'90s"
    "month": _month_after_preposition,
    "year": lambda text, at: at.digit,
}


class _Step(NamedTuple):
    """One pattern of the scan, with its shortcuts."""

    kind: str
    pattern: re.Pattern[str]
    needs: int  # the `_CUE` bits of its `_NEEDS`
    also: Callable[[str, str], bool] | None  # its `_ALSO_NEEDS`
    first: Callable[[str, _Firsts], int] | None  # its `_FIRST_START`


def _plan(
    needs: dict[str, tuple[str, ...]],
    also_needs: dict[str, Callable[[str, str], bool]],
    first_start: dict[str, Callable[[str, _Firsts], int]],
) -> tuple[_Step, ...]:
    """The patterns in order, each with its shortcuts from these tables (an empty table
    turns that shortcut off)."""
    return tuple(
        _Step(
            kind,
            pattern,
            sum(_CUE[cue] for cue in needs.get(kind, ())),
            also_needs.get(kind),
            first_start.get(kind),
        )
        for kind, pattern in _PATTERNS
    )


_PLAN = _plan(_NEEDS, _ALSO_NEEDS, _FIRST_START)

# Words after which a four-digit number is a year even if a noun follows ("in 1990 the").
_YEAR_PREPS = frozenset(
    """
    in since by until till before after from early late mid during around circa c.
    through year end spring summer autumn fall winter
    """.split()
)
_FUTURE_CUES = re.compile(
    r"\b(?:will|shall|going to|is to|are to|scheduled|expected|plans?|planned|upcoming|"
    r"to be held)\b",
    re.I,
)
_RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|to|and|through|till|until)\s*$", re.I)
_RANGE_OPEN = re.compile(r"(?:\bfrom|\bbetween)\s+$", re.I)


@dataclass(frozen=True, slots=True)
class TimeExpression:
    """A verbatim temporal expression of a text, with its resolved value if known."""

    start: int
    end: int
    text: str
    kind: str
    value: str | None


def find_time_expressions(text: str, anchor: dt.date | None = None) -> list[TimeExpression]:
    """Temporal expressions of `text` in order, resolved against `anchor` when given."""
    found, future = _scan(text)
    out = []
    for start, end, span, kind, parts in found:
        if parts is None:
            value = _resolve(kind, span, anchor, future)
        else:  # a range: its parts' values joined as `_join_ranges` joins them
            value = _resolve(*parts[0], anchor, future)
            for part in parts[1:]:
                right = _resolve(*part, anchor, future)
                value = f"{value}/{right}" if value and right else None
        out.append(TimeExpression(start, end, span, kind, value))
    return out


def expression_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each temporal expression of `text`: where they are does not
    depend on the anchor, only their values do (cached with the scan)."""
    return [(start, end, kind) for start, end, _, kind, _ in _scan(text)[0]]


# (start, end, text, kind, parts): parts is None for a single expression, and the
# (kind, text) of each joined expression for a range.
_Found = tuple[int, int, str, str, tuple[tuple[str, str], ...] | None]


@functools.lru_cache(maxsize=16_384)
def _scan(text: str) -> tuple[tuple[_Found, ...], bool]:
    """Where the expressions of `text` are, whatever the anchor: only values depend on it.

    Also whether the text speaks of the future (weekdays are resolved forwards then;
    False when it names no weekday).
    """
    return _scan_with(text, _PLAN)


def _scan_with(text: str, plan: Sequence[_Step]) -> tuple[tuple[_Found, ...], bool]:
    """`_scan` by these steps."""
    taken = bytearray(len(text))
    found: list[tuple[int, int, str, str]] = []
    low = text.lower()
    size = len(text)
    digit = _DIGIT.search(text)
    month = _MONTH_CUE.search(text)
    day = text.find("day")  # every name in `_WEEKDAY` ends so
    firsts = _Firsts(
        digit.start() if digit else size,
        month.start() if month else size,
        day if day >= 0 else size,
    )
    has = (
        (_CUE["digit"] if digit is not None else 0)
        | (_CUE["month"] if month is not None else 0)
        | (_CUE["weekday"] if day >= 0 else 0)
        | (_CUE["unit"] if contains_any(low, _UNITS) else 0)
    )
    for kind, pattern, needs, also, first in plan:
        if needs & ~has or (also is not None and not also(text, low)):
            continue
        for m in pattern.finditer(text, 0 if first is None else max(first(text, firsts), 0)):
            if taken.find(1, m.start(), m.end()) >= 0:  # a character already claimed
                continue
            if kind == "year" and not _looks_like_year(text, m.start(), m.end()):
                continue
            span = m.group()
            start = m.start()
            if kind == "month":  # the preposition only licensed the month name
                word = re.search(r"[A-Z][a-z]+$", span)
                assert word is not None
                start += word.start()
                span = word.group()
            found.append((start, m.end(), span, kind))
            taken[start : m.end()] = b"\x01" * (m.end() - start)
    if not found:  # most texts
        return (), False
    found.sort(key=lambda e: e[0])
    # Only a weekday's value depends on the tense, and looking for its cues costs about
    # as much as the rest of the scan: a text without a weekday is not looked at.
    weekday = any(kind == "weekday" for _, _, _, kind in found)
    return _join_ranges(text, found), weekday and _FUTURE_CUES.search(text) is not None


def _looks_like_year(text: str, start: int, end: int) -> bool:
    """A bare four-digit number is a year after a temporal preposition or before a non-noun."""
    before = re.findall(r"[\w.]+", text[max(0, start - 12) : start])
    if before and before[-1].lower() in _YEAR_PREPS:
        return True
    after = re.match(r"\s*([A-Za-z]+)", text[end : end + 20])
    # "2012 Mountain Umyeonsan landslide" is a year; "1500 people" is a count.
    return not (after and after.group(1).islower() and after.group(1) not in STOP_WORDS)


def _join_ranges(text: str, found: list[tuple[int, int, str, str]]) -> tuple[_Found, ...]:
    """Merge "from A to B", "between A and B", "A–B" into one range expression."""
    out: list[_Found] = []
    for start, end, span, kind in found:
        prev = out[-1] if out else None
        if prev is not None and _RANGE_JOIN.match(text[prev[1] : start]):
            opener = _RANGE_OPEN.search(text[: prev[0]])
            joined = text[prev[1] : start].strip().lower()
            if (
                opener
                or joined in {"-", "–", "through", "till", "until"}
                or (joined == "to" and prev[3] == kind)
            ):
                first = opener.start() if opener else prev[0]
                parts = (prev[4] or ((prev[3], prev[2]),)) + ((kind, span),)
                out[-1] = (first, end, text[first:end], "range", parts)
                continue
        out.append((start, end, span, kind, None))
    return tuple(out)


def _resolve(kind: str, span: str, anchor: dt.date | None, future: bool) -> str | None:
    """The TIMEX3-style value of one expression, or None when it cannot be pinned down."""
    low = span.lower()
    if kind == "iso":
        return span if parse_iso(span) else None
    if kind in {"mdy", "dmy", "md", "dm", "my"}:
        year_m = re.search(_YEAR, span)
        month = _month_of(low)
        day_m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", re.sub(_YEAR, "", span))
        year = int(year_m.group()) if year_m else (anchor.year if anchor else None)
        if year is None or month is None:
            return None
        if kind == "my" or day_m is None:
            return f"{year:04d}-{month:02d}"
        return _iso(year, month, int(day_m.group(1)))
    if kind == "month":
        month = _month_of(low)
        return f"{anchor.year:04d}-{month:02d}" if anchor and month else None
    if kind == "year":
        return span
    if anchor is None:
        return None
    if kind == "deictic":
        offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[low]
        return (anchor + dt.timedelta(days=offset)).isoformat()
    if kind == "weekday":
        return _resolve_weekday(low, anchor, future).isoformat()
    if kind == "relunit":
        return _resolve_relative_unit(low, anchor)
    if kind == "ago":
        return _resolve_ago(low, anchor)
    return None


def _month_of(low: str) -> int | None:
    for word in re.findall(r"[a-z]+", low):
        if word in MONTHS:
            return MONTHS[word]
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _resolve_weekday(low: str, anchor: dt.date, future: bool) -> dt.date:
    """ "last Monday" is the one before, "next Monday" the one after; a bare weekday in news
    is the nearest one in the direction the sentence's tense points (past by default)."""
    name = low.split()[-1]
    target = WEEKDAYS[name]
    back = (anchor.weekday() - target) % 7
    ahead = (target - anchor.weekday()) % 7
    if low.startswith("last"):
        return anchor - dt.timedelta(days=back or 7)
    if low.startswith(("next", "coming")):
        return anchor + dt.timedelta(days=ahead or 7)
    if future and not low.startswith("this"):
        return anchor + dt.timedelta(days=ahead)
    return anchor - dt.timedelta(days=back)


def _resolve_relative_unit(low: str, anchor: dt.date) -> str | None:
    """ "next year" -> 2024, "last week" -> 2023-W35, "this month" -> 2023-09."""
    words = low.split()
    unit = words[-1]
    step = {
        "this": 0,
        "coming": 1,
        "next": 1,
        "following": 1,
        "last": -1,
        "past": -1,
        "previous": -1,
    }[words[-2]]
    if unit == "year":
        return f"{anchor.year + step:04d}"
    if unit == "month":
        return _shift_month(anchor, step)
    if unit in {"week", "weekend"}:
        year, week, _ = (anchor + dt.timedelta(weeks=step)).isocalendar()
        return f"{year:04d}-W{week:02d}"
    if unit == "decade":
        return f"{(anchor.year // 10 + step) * 10:04d}s"
    if unit == "day":
        return (anchor + dt.timedelta(days=step)).isoformat()
    return None


def _resolve_ago(low: str, anchor: dt.date) -> str | None:
    """ "three years ago" -> 2020 from 2023; "two weeks later" -> that date."""
    count_word, unit, direction = low.split()[:3]
    count = int(count_word) if count_word.isdigit() else _NUMBER_WORDS.get(count_word, 0)
    sign = 1 if direction == "later" else -1
    unit = unit.rstrip("s")
    if unit == "day":
        return (anchor + dt.timedelta(days=sign * count)).isoformat()
    if unit == "week":
        return (anchor + dt.timedelta(weeks=sign * count)).isoformat()
    if unit == "month":
        return _shift_month(anchor, sign * count)
    if unit == "year":
        return f"{anchor.year + sign * count:04d}"
    if unit == "decade":
        return f"{anchor.year + sign * 10 * count:04d}"
    return None


def _shift_month(anchor: dt.date, months: int) -> str:
    index = anchor.year * 12 + anchor.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_iso(text: str) -> dt.date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """A full calendar date written as ISO, "January 29, 2019" or "29 January 2019"."""
    iso = parse_iso(text)
    if iso:
        return iso
    for expr in find_time_expressions(text):
        if expr.value and len(expr.value) == 10 and expr.kind in {"mdy", "dmy"}:
            return parse_iso(expr.value)
    return None


_DATELINE = re.compile(
    rf"^\s*[A-Z][A-Z .,'’-]{{1,60}},\s+(?P<date>{_MONTH}\s+{_DAY},?\s+{_YEAR}|"
    rf"{_DAY}\s+{_MONTH},?\s+{_YEAR})\s*(?:—|–|-|/)",
    re.M,
)


def find_dateline(text: str) -> dt.date | None:
    """The date of a news dateline such as "SEOUL, SOUTH KOREA, January 29, 2019 —"."""
    m = _DATELINE.search(text[:2000])
    return parse_date(m.group("date")) if m else None


def describe(value: str) -> str:
    """A reader-friendly rendering of a day value: 2023-09-07 -> "Thursday, 7 September 2023"."""
    day = parse_iso(value) if len(value) == 10 else None
    if day is None:
        return value
    return f"{day:%A}, {day.day} {day:%B %Y}"
