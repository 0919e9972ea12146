"""Candidate spans: what each generator proposes, and the merged per-sentence set."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.reader.spans import (
    _NUMBER_RE,
    KIND_BIT,
    _numbers,
    number_candidates,
    phrase_candidates,
    sentence_candidates,
    time_candidates,
)
from citebot.text.tokenizer import words

SENTENCE = "The park, covering 31,000 square meters, opened on Thursday with 16 companies."


def _texts(candidates: tuple[object, ...]) -> set[str]:
    return {c.text for c in candidates}  # type: ignore[attr-defined]


def test_every_candidate_is_a_verbatim_slice() -> None:
    """Offsets and text agree for every merged candidate: sentence[start:end] == text."""
    for c in sentence_candidates(SENTENCE, dt.date(2023, 9, 8)):
        assert SENTENCE[c.start : c.end] == c.text


def test_spans_are_unique_and_kinds_merged() -> None:
    """One candidate per span; "16 companies" is both a number and a phrase."""
    merged = sentence_candidates(SENTENCE, None)
    spans = [(c.start, c.end) for c in merged]
    assert len(spans) == len(set(spans))
    count = next(c for c in merged if c.text == "16 companies")
    assert count.kind == "number"
    assert count.flags & KIND_BIT["number"] and count.flags & KIND_BIT["phrase"]


def test_numbers_come_with_and_without_their_unit() -> None:
    """ "31,000 square meters" and the bare "31,000" are both proposed."""
    found = _texts(number_candidates(SENTENCE, None))
    assert {"31,000 square meters", "31,000", "16 companies", "16"} <= found


def test_weekday_is_proposed_with_and_without_its_preposition() -> None:
    """ "on Thursday" and "Thursday" are both dates resolved to the same day."""
    found = {c.text: c.value for c in time_candidates(SENTENCE, dt.date(2023, 9, 8))}
    assert found["on Thursday"] == found["Thursday"] == "2023-09-07"


def test_phrases_cross_commas_but_not_clause_breaks() -> None:
    """A list "arrows, swords, and leather shields" is one phrase; a semicolon ends it."""
    found = _texts(
        phrase_candidates("They fought with arrows, swords, and leather shields; then fled.")
    )
    assert "arrows, swords, and leather shields" in found
    assert not any(";" in t for t in found)


def test_phrases_neither_start_nor_end_with_a_stop_word() -> None:
    """No phrase candidate begins or ends with "the", "of", "and"..."""
    for c in phrase_candidates(SENTENCE):
        first, last = c.text.split()[0].strip(",").lower(), c.text.split()[-1].lower()
        assert first not in {"the", "of", "and", "with", "on"}
        assert last not in {"the", "of", "and", "with", "on"}


def test_en_dash_range_stays_one_phrase() -> None:
    """ "50–140 cm" (a range, no spaces around the dash) can be one candidate."""
    assert "50–140 cm" in _texts(phrase_candidates("Sea levels rose by 50–140 cm in total."))


_NUMBER_PARTS = st.sampled_from(
    [
        *"$€£¥ ,.-",
        "US",
        "HK",
        "A",
        "S",
        "5",
        "12",
        "3.5",
        "16,000",
        "1998",
        "percent",
        "per cent",
        "%",
        "million",
        "two",
        "Twenty",
        "TEN",
        "often",
        "dozens",
        "hundred-one",
        "ſix",
        "Kelvin",
        "İ",
        "é",
        "大",
        "x",
        "_",
        "ten5",
        "sixty",
        "the",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_NUMBER_PARTS, max_size=16).map("".join))
def test_numbers_are_the_number_pattern_s_matches(text: str) -> None:
    """`_numbers`, which skips what cannot match, finds what `_NUMBER_RE` finds."""
    assert [m.span() for m in _numbers(text, words(text))] == [
        m.span() for m in _NUMBER_RE.finditer(text)
    ]
