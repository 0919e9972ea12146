"""SQuAD files: loading v1.1 and v2.0, the errors of a malformed file, and the official scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citebot.evaluation.squad import (
    SquadFormatError,
    SquadSet,
    best_f1,
    contains_answer,
    exact_match,
    load_squad,
    normalize_answer,
    parse_squad,
    question_scores,
    slugify,
    token_f1,
)
from tests.conftest import SQUAD_MINI


def _write(tmp_path: Path, data: object, name: str = "squad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_normalize_drops_case_punctuation_articles_and_spacing() -> None:
    """Normalisation lower-cases, strips punctuation and a/an/the, and collapses spaces."""
    assert normalize_answer("The Cat!") == "cat"
    assert normalize_answer("  An  apple, a PEAR;\tand the plum. ") == "apple pear and plum"
    assert normalize_answer("theatre anthem") == "theatre anthem"  # articles only as words


def test_exact_match_after_normalisation() -> None:
    """EM is 1 for strings equal after normalisation and 0 otherwise."""
    assert exact_match("The Cat!", "cat") == 1.0
    assert exact_match("cats", "cat") == 0.0


def test_token_f1_of_partial_overlap() -> None:
    """Token F1 is the harmonic mean of token precision and recall, hand-computed."""
    # pred {big, red, barn} vs gold {red, barn, door}: 2 shared, P = R = 2/3.
    assert token_f1("the big red barn", "red barn door") == pytest.approx(2 / 3)
    # pred {red, barn} vs gold {big, red, barn}: P = 1, R = 2/3, F1 = 0.8.
    assert token_f1("red barn", "the big red barn") == pytest.approx(0.8)
    # a repeated token counts as often as it occurs in both: P = 2/3, R = 1.
    assert token_f1("new new york", "New York") == pytest.approx(0.8)
    # {new: 3} vs {new: 2, york: 1}: 2 shared (not 1, as sets would say), P = R = 2/3.
    assert token_f1("new new new", "new new york") == pytest.approx(2 / 3)
    assert token_f1("Paris", "London") == 0.0
    assert token_f1("the", "a") == 1.0  # both normalise to nothing


def test_best_gold_answer_is_taken() -> None:
    """F1 is the maximum over the gold answers."""
    assert best_f1("Mount Teller", ["the northern slopes of Mount Teller", "Mount Teller"]) == 1.0
    assert best_f1("northern slopes", ["the northern slopes of Mount Teller"]) == pytest.approx(
        2 * 1 * (2 / 5) / (1 + 2 / 5)
    )


def test_v2_scoring_of_abstentions() -> None:
    """An unanswerable question scores 1 only for an abstention; an answerable one 0 for it."""
    assert question_scores(None, ()) == (1.0, 1.0)
    assert question_scores("1921", ()) == (0.0, 0.0)
    assert question_scores(None, ("1921",)) == (0.0, 0.0)
    assert question_scores("in 1921", ("1921",)) == (0.0, pytest.approx(2 / 3))


def test_sentence_hit_is_whole_word_containment() -> None:
    """A quote holds an answer when the normalised answer appears in it as whole words."""
    assert contains_answer("The festival moved in 1987.", ["1987"])
    assert contains_answer("It grows on the slopes of Mount Teller.", ["the Mount Teller"])
    assert not contains_answer("The festival moved in 1987.", ["198"])
    assert not contains_answer(None, ["1987"])
    # Punctuation separates words: the answer inside a hyphenated or possessive word
    # is in the sentence, a part of a number or word is not.
    assert contains_answer("Thomas Davis, an 11-year veteran, broke his arm.", ["11"])
    assert contains_answer("During 1983's anniversary special it aired.", ["1983"])
    assert not contains_answer("Davis, a 110-year veteran.", ["11"])
    assert not contains_answer("The festival moved in 1987.", ["", "."])
    # Unicode dashes and quotes separate words as ASCII punctuation does.
    assert contains_answer("whose name was Martin Luther—may his soul", ["Martin Luther"])
    assert contains_answer("John Gallagher (1919–1980) wrote it.", ["1980"])
    assert contains_answer("Kunskapsskolan (“The Knowledge School”)", ["Knowledge School"])
    assert not contains_answer("John Gallagher (1919–1980) wrote it.", ["919"])


def test_load_v2_shape(mini: SquadSet) -> None:
    """A v2 file gives one article per title, paragraphs at their offsets, impossible = no gold."""
    assert mini.version == "v2.0"
    assert [a.id for a in mini.articles] == ["lantern-festival-harbour-town", "glass-orchid"]
    assert mini.articles[0].title == "Lantern Festival (Harbour Town)"
    raw = json.loads(SQUAD_MINI.read_text(encoding="utf-8"))
    for article, entry in zip(mini.articles, raw["data"], strict=True):
        contexts = [p["context"] for p in entry["paragraphs"]]
        assert article.body == "\n\n".join(contexts)
        assert [article.paragraph_text(k) for k in range(len(contexts))] == contexts
    by_id = {q.id: q for q in mini.questions}
    assert by_id["mini-03"].answers == ()
    assert not by_id["mini-03"].answerable
    assert by_id["mini-02"].answers == ("the fishermen of Harbour Town", "fishermen")
    assert (by_id["mini-05"].article, by_id["mini-05"].paragraph) == (0, 1)
    assert len(mini.paragraph_corpus().articles) == 3
    assert mini.paragraph_corpus().articles[1].id == "lantern-festival-harbour-town-p1"


def test_load_v11_shape(tmp_path: Path) -> None:
    """A v1.1 file (no is_impossible) loads with every question answerable."""
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "Tea",
                "paragraphs": [
                    {
                        "context": "Tea came to the island in 1610.",
                        "qas": [
                            {
                                "id": "t1",
                                "question": "When did tea come to the island?",
                                "answers": [
                                    {"text": "1610", "answer_start": 26},
                                    {"text": "in 1610", "answer_start": 23},
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
    squad = load_squad(_write(tmp_path, data))
    assert squad.version == "1.1"
    assert squad.questions[0].answers == ("1610", "in 1610")
    assert squad.questions[0].answerable


def test_is_impossible_wins_over_listed_answers() -> None:
    """A v2 question marked is_impossible is unanswerable even if answers are listed."""
    qa = {"id": "x", "question": "Who?", "answers": [{"text": "Ann"}], "is_impossible": True}
    data = {"data": [{"title": "T", "paragraphs": [{"context": "Ann.", "qas": [qa]}]}]}
    squad = parse_squad(data)
    assert squad.questions[0].answers == ()
    assert squad.version == "v2.0"  # no version key: inferred from is_impossible


def test_answers_that_normalise_to_nothing_are_dropped() -> None:
    """A gold answer of only articles or punctuation does not count (as the official script)."""
    data = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Some text.",
                        "qas": [{"id": "x", "question": "What?", "answers": [{"text": "the"}]}],
                    }
                ],
            }
        ]
    }
    assert parse_squad(data).questions[0].answers == ()


def test_slugs_are_valid_and_unique() -> None:
    """Article ids are slugs of the title, made unique with a numeric suffix."""
    assert slugify("Fresno,_California") == "fresno-california"
    assert slugify("Beyoncé") == "beyonce"
    assert slugify("???") == "article"
    page = {"context": "Text.", "qas": [{"id": "a", "question": "Q?", "answers": []}]}
    other = {"context": "Text.", "qas": [{"id": "b", "question": "Q?", "answers": []}]}
    data = {
        "data": [
            {"title": "Same", "paragraphs": [page]},
            {"title": "Same", "paragraphs": [other]},
        ]
    }
    assert [a.id for a in parse_squad(data).articles] == ["same", "same-2"]


def test_parse_errors_name_the_field() -> None:
    """parse_squad raises SquadFormatError with the path of the offending field."""
    with pytest.raises(SquadFormatError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]\.id"):
        parse_squad(
            {"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": [{"id": 3}]}]}]}
        )
    page = {"context": "C.", "qas": [{"id": "q", "question": "Q?", "answers": []}] * 2}
    with pytest.raises(SquadFormatError, match="used twice"):
        parse_squad({"data": [{"title": "T", "paragraphs": [page]}]})
