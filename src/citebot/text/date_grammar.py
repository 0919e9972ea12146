"""The grammar of temporal expressions: the patterns `dates` scans a text with.

Months, weekdays, years, decades, centuries and relative phrases as regular
expressions, tried longest form first. Each pattern also has shortcuts that let a
scan skip it or start late without changing what it finds: the cues it needs in the
text (`NEEDS`, `ALSO_NEEDS`) and the earliest place a match can start
(`FIRST_START`); tests check that the scan finds the same with each table emptied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from citebot.text.tokenizer import contains_any

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

MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
YEAR = r"(?:1\d{3}|20\d{2})"
_UNIT = r"(?:day|week|month|year|decade|century|weekend)"
NUMBER_WORDS = {
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
    ("mdy", re.compile(rf"\b(?:{WEEKDAY},?\s+)?{MONTH}\s+{DAY},?\s+{YEAR}\b")),
    ("dmy", re.compile(rf"\b(?:{WEEKDAY},?\s+)?{DAY}\s+(?:of\s+)?{MONTH},?\s+{YEAR}\b")),
    ("md", re.compile(rf"\b(?:{WEEKDAY},?\s+)?{MONTH}\s+{DAY}\b(?!,?\s*\d)")),
    ("dm", re.compile(rf"\b(?:{WEEKDAY},?\s+)?{DAY}\s+(?:of\s+)?{MONTH}\b")),
    ("my", re.compile(rf"\b{MONTH},?\s+(?:of\s+)?{YEAR}\b")),
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
    ("weekday", re.compile(rf"\b(?:(?:on|last|next|this|coming)\s+)?{WEEKDAY}\b")),
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
    ("year", re.compile(rf"(?<![\d$€£¥.,])\b{YEAR}\b(?![\d,.]\d)")),
]

# What each pattern cannot match without: a digit, a month name (every spelling in
# `MONTH` holds one of these, case-sensitively), a weekday or a unit of time.
# Checked once per text, so that patterns are not run on a text that cannot hold
# them: the expressions found are the same.
DIGIT = re.compile(r"\d")
MONTH_CUE = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
# `_UNIT` matched case-insensitively: every character that re.I matches to one of
# these letters lowercases to exactly that letter (checked over all of Unicode),
# so a lowercased text holds the unit whenever the pattern can match.
UNITS = ("day", "week", "month", "year", "decade", "century")
NEEDS: dict[str, tuple[str, ...]] = {
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
CUE = {"digit": 1, "month": 2, "weekday": 4, "unit": 8}  # each cue's bit


# A second, narrower test of what a pattern cannot match without, made only for the
# patterns the cues above let through: (text, its lowercase) -> may it match? The
# literal "-" and "0s" are looked for in any text; the words of the case-insensitive
# patterns only in ASCII text, where re.I is exactly a comparison of lowercase letters
# (elsewhere the pattern is run).
ALSO_NEEDS: dict[str, Callable[[str, str], bool]] = {
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
# month cue ("Jan", ...: every spelling in `MONTH` starts with one) and "day" are (the
# text's length when it has none): a scan starts there instead of at 0. Python's `re`
# reads the text before that place for lookbehinds and word boundaries, so the matches
# are the same. A weekday name ends with "day" and is at most 9 characters long.
class Firsts(NamedTuple):
    digit: int
    month: int
    day: int


def _month_after_preposition(text: str, firsts: Firsts) -> int:
    """Where a "month" match can start: its month name is at or after the first cue,
    after a dash or spaces (which the cue's capital letter is not) and a preposition of
    at most 6 letters."""
    k = firsts.month
    while k > 0 and (text[k - 1] == "-" or text[k - 1].isspace()):
        k -= 1
    return max(k - 6, 0)


FIRST_START: dict[str, Callable[[str, Firsts], int]] = {
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


class Step(NamedTuple):
    """One pattern of the scan, with its shortcuts."""

    kind: str
    pattern: re.Pattern[str]
    needs: int  # the `CUE` bits of its `NEEDS`
    also: Callable[[str, str], bool] | None  # its `ALSO_NEEDS`
    first: Callable[[str, Firsts], int] | None  # its `FIRST_START`


def plan(
    needs: dict[str, tuple[str, ...]],
    also_needs: dict[str, Callable[[str, str], bool]],
    first_start: dict[str, Callable[[str, Firsts], int]],
) -> tuple[Step, ...]:
    """The patterns in order, each with its shortcuts from these tables (an empty table
    turns that shortcut off)."""
    return tuple(
        Step(
            kind,
            pattern,
            sum(CUE[cue] for cue in needs.get(kind, ())),
            also_needs.get(kind),
            first_start.get(kind),
        )
        for kind, pattern in _PATTERNS
    )


PLAN = plan(NEEDS, ALSO_NEEDS, FIRST_START)

# Words after which a four-digit number is a year even if a noun follows ("in 1990 the").
YEAR_PREPS = frozenset(
    """
    in since by until till before after from early late mid during around circa c.
    through year end spring summer autumn fall winter
    """.split()
)
FUTURE_CUES = re.compile(
    r"\b(?:will|shall|going to|is to|are to|scheduled|expected|plans?|planned|upcoming|"
    r"to be held)\b",
    re.I,
)
RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|to|and|through|till|until)\s*$", re.I)
RANGE_OPEN = re.compile(r"(?:\bfrom|\bbetween)\s+$", re.I)
