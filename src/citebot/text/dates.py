"""Temporal expressions: find them in a sentence and resolve them against a date.

News text says "on Thursday", "next year" or "last week"; a reader needs the
calendar value. Expressions are found with regular expressions over a small
grammar (months, weekdays, years, decades, relative phrases, ranges) and resolved
against the article's publication date, the way TimeML's TIMEX3 values are:
"2023-09-07", "2024", "2023-W35", "2019-01-29/2019-02-02". The span reported is
the verbatim expression; nothing is generated. The patterns are `date_grammar`'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from citebot.text.date_grammar import (
    CUE,
    DAY,
    DIGIT,
    FUTURE_CUES,
    MONTH,
    MONTH_CUE,
    MONTHS,
    NUMBER_WORDS,
    PLAN,
    RANGE_JOIN,
    RANGE_OPEN,
    UNITS,
    WEEKDAYS,
    YEAR,
    YEAR_PREPS,
    Firsts,
    Step,
)
from citebot.text.tokenizer import STOP_WORDS, contains_any


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
    return _scan_with(text, PLAN)


def _scan_with(text: str, plan: Sequence[Step]) -> tuple[tuple[_Found, ...], bool]:
    """`_scan` by these steps."""
    taken = bytearray(len(text))
    found: list[tuple[int, int, str, str]] = []
    low = text.lower()
    size = len(text)
    digit = DIGIT.search(text)
    month = MONTH_CUE.search(text)
    day = text.find("day")  # every name in `WEEKDAY` ends so
    firsts = Firsts(
        digit.start() if digit else size,
        month.start() if month else size,
        day if day >= 0 else size,
    )
    has = (
        (CUE["digit"] if digit is not None else 0)
        | (CUE["month"] if month is not None else 0)
        | (CUE["weekday"] if day >= 0 else 0)
        | (CUE["unit"] if contains_any(low, UNITS) else 0)
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
    return _join_ranges(text, found), weekday and FUTURE_CUES.search(text) is not None


def _looks_like_year(text: str, start: int, end: int) -> bool:
    """A bare four-digit number is a year after a temporal preposition or before a non-noun."""
    before = re.findall(r"[\w.]+", text[max(0, start - 12) : start])
    if before and before[-1].lower() in YEAR_PREPS:
        return True
    after = re.match(r"\s*([A-Za-z]+)", text[end : end + 20])
    # "2012 Mountain Umyeonsan landslide" is a year; "1500 people" is a count.
    return not (after and after.group(1).islower() and after.group(1) not in STOP_WORDS)


def _join_ranges(text: str, found: list[tuple[int, int, str, str]]) -> tuple[_Found, ...]:
    """Merge "from A to B", "between A and B", "A–B" into one range expression."""
    out: list[_Found] = []
    for start, end, span, kind in found:
        prev = out[-1] if out else None
        if prev is not None and RANGE_JOIN.match(text[prev[1] : start]):
            opener = RANGE_OPEN.search(text[: prev[0]])
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
        year_m = re.search(YEAR, span)
        month = _month_of(low)
        day_m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", re.sub(YEAR, "", span))
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
    count = int(count_word) if count_word.isdigit() else NUMBER_WORDS.get(count_word, 0)
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
    rf"^\s*[A-Z][A-Z .,'’-]{{1,60}},\s+(?P<date>{MONTH}\s+{DAY},?\s+{YEAR}|"
    rf"{DAY}\s+{MONTH},?\s+{YEAR})\s*(?:—|–|-|/)",
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
