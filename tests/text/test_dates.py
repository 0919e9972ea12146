"""Temporal expressions and their resolution against the article date."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.text import date_grammar, dates
from citebot.text.dates import describe, find_dateline, find_time_expressions, parse_date

ANCHOR = dt.date(2023, 9, 7)  # a Thursday


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("opened a new branch on Thursday, marking", "on Thursday", "2023-09-07"),
        ("the shop opened last Monday", "last Monday", "2023-09-04"),
        ("it will open on Monday", "on Monday", "2023-09-11"),
        ("three buildings completed next year", "next year", "2024"),
        ("announced by the State Council last week.", "last week", "2023-W35"),
        ("a plan made this month", "this month", "2023-09"),
        ("the park was founded three years ago", "three years ago", "2020"),
        ("it happened yesterday", "yesterday", "2023-09-06"),
        ("SEOUL, January 29, 2019 — the mayor", "January 29, 2019", "2019-01-29"),
        ("on 5 March 2001 it began", "5 March 2001", "2001-03-05"),
        (
            "a visit from January 29 through February 2",
            "from January 29 through February 2",
            "2023-01-29/2023-02-02",
        ),
        ("growth between 1980 and 2016", "between 1980 and 2016", "1980/2016"),
        ("after the 2012 Mountain Umyeonsan landslide", "2012", "2012"),
        ("first proposed by Beijing in 2017, it", "2017", "2017"),
    ],
)
def test_expressions_resolve(text: str, span: str, value: str) -> None:
    """Each expression is found verbatim and resolved against 2023-09-07."""
    found = find_time_expressions(text, ANCHOR)
    assert [(e.text, e.value) for e in found] == [(span, value)]
    assert text[found[0].start : found[0].end] == span


def test_counts_are_not_years() -> None:
    """ "1500 people" and "16,000" are quantities, not years."""
    assert find_time_expressions("1500 people and 16,000 projects", ANCHOR) == []


def test_may_the_verb_is_not_a_month() -> None:
    """The modal "may" is not May."""
    assert find_time_expressions("prices may rise", ANCHOR) == []


def test_without_anchor_relative_dates_stay_unresolved() -> None:
    """With no article date, "next year" is found but has no value."""
    (expr,) = find_time_expressions("next year", None)
    assert expr.value is None


def test_dateline_and_dates() -> None:
    """Datelines and written dates parse; garbage does not."""
    assert find_dateline("   SEOUL, SOUTH KOREA, January 29, 2019 — Seoul") == dt.date(2019, 1, 29)
    assert find_dateline("Seoul is a city. January 29, 2019 was a Tuesday.") is None
    assert parse_date("2023-09-07") == ANCHOR
    assert parse_date("7 September 2023") == ANCHOR
    assert parse_date("soon") is None
    assert describe("2023-09-07") == "Thursday, 7 September 2023"


_FRAGMENTS = st.sampled_from(
    [
        *" ,.-:'",
        "today",
        "TODAY",
        "Tonight",
        "yesterday",
        "tomorrow",
        "noon",
        "Midnight",
        "3",
        "12",
        "7:45",
        "10 am",
        "4 P.M.",
        "9pm",
        "a.m.",
        "1990s",
        "'90s",
        "2019-01-02",
        "5th",
        "19th",
        "centuries",
        "Century",
        "CENTURIES",
        "BC",
        "two years ago",
        "ago",
        "three weeks Later",
        "earlier",
        "last week",
        "Previous Month",
        "coming decade",
        "following year",
        "this",
        "next",
        "Thursday",
        "on Monday",
        "May",
        "in March",
        "January 29, 2019",
        "5 March 2001",
        "1998",
        "since",
        "ſ",
        "K",
        "İ",
        "é",
        "–",
        "大",
    ]
)


def _scan_without(text: str, shortcut: str) -> object:
    """`dates._scan` of the text (uncached) with one of its shortcut tables emptied: the
    plain scan that the shortcut must agree with."""
    tables = {
        "NEEDS": date_grammar.NEEDS,
        "ALSO_NEEDS": date_grammar.ALSO_NEEDS,
        "FIRST_START": date_grammar.FIRST_START,
    }
    tables[shortcut] = {}
    return dates._scan_with(text, date_grammar.plan(*tables.values()))


@settings(max_examples=500, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=14).map(" ".join))
def test_narrower_cues_find_the_same_expressions(text: str) -> None:
    """Both tests of what a pattern needs skip only patterns that find nothing: every
    expression (and the future flag) is what running every pattern gives."""
    assert dates._scan.__wrapped__(text) == _scan_without(text, "ALSO_NEEDS")
    assert dates._scan.__wrapped__(text) == _scan_without(text, "NEEDS")


@settings(max_examples=500, deadline=None)
@given(
    st.lists(_FRAGMENTS | st.sampled_from(["will", "plans", "Scheduled"]), max_size=14).map(
        " ".join
    )
)
def test_future_is_looked_for_only_where_it_counts(text: str) -> None:
    """The scan tells the future only when the text names a weekday: every value (at
    any anchor) is the one the future cues of the whole text give."""
    found, future = dates._scan.__wrapped__(text)
    cued = date_grammar.FUTURE_CUES.search(text) is not None
    for anchor in (ANCHOR, dt.date(2020, 2, 29), None):
        for _, _, span, kind, parts in found:
            for part in parts or ((kind, span),):
                assert dates._resolve(*part, anchor, future) == dates._resolve(*part, anchor, cued)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        _FRAGMENTS
        | st.sampled_from(
            ["Wednesday, 5", "Sept.", "Dec", "of", "in-March", "since\t", "1st", "31", "o'90s"]
        ),
        max_size=14,
    ).map(" ".join)
)
def test_scans_start_where_a_match_can(text: str) -> None:
    """Starting each pattern's scan at the first place a match of it can start finds
    every expression that scanning from the text's start finds."""
    assert dates._scan.__wrapped__(text) == _scan_without(text, "FIRST_START")
