"""Reader features on a hand-made sentence: each feature means what its name says."""

from __future__ import annotations

import numpy as np
import pytest

from citebot.reader.candidates import sentence_table
from citebot.reader.features import (
    CONFIDENCE_NAMES,
    HASH_DIM,
    HASH_TEMPLATES,
    SHARED_NAMES,
    SentenceEvidence,
    candidate_features,
    hash_indexes,
)
from citebot.reader.question import parse_question

SENTENCE = "In 1066, the duke was charged with undermining the Norman church, said Odo."
EVIDENCE = SentenceEvidence(
    coverage=0.8, context=0.9, density=0.2, passage_score=1.0, coverage_gap=0.0, rank=0
)


def _features(question: str) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    """Features of every candidate, by candidate text, for a question over SENTENCE."""
    q = parse_question(question)
    weights = dict.fromkeys(q.terms, 1.0)
    table = sentence_table(SENTENCE, None)
    dense, hashed = candidate_features(q, weights, table, EVIDENCE, SENTENCE)
    by_text = {
        c.text: dict(zip(SHARED_NAMES, map(float, dense[i]), strict=True))
        for i, c in enumerate(table.candidates)
    }
    return by_text, hashed


def test_shapes_match_the_declared_feature_names() -> None:
    """One dense column per name, one hash index per template, all within the table."""
    by_text, hashed = _features("What was the duke charged with?")
    assert all(len(row) == len(SHARED_NAMES) for row in by_text.values())
    assert hashed.shape == (len(by_text), len(HASH_TEMPLATES))
    assert hashed.min() >= 0 and hashed.max() < HASH_DIM


def test_the_word_before_a_span_being_a_question_word_is_seen() -> None:
    """ "charged with ▸undermining": the span right after the matched verb is flagged."""
    by_text, _ = _features("What was the duke charged with?")
    assert by_text["undermining the Norman church"]["left_matched"] == 1.0
    assert by_text["Odo"]["left_matched"] == 0.0


def test_overlap_with_the_question() -> None:
    """A span made of question words overlaps fully; a new span not at all."""
    by_text, _ = _features("What was the duke charged with?")
    assert by_text["duke"]["overlap_all"] == 1.0
    assert by_text["Odo"]["overlap"] == 0.0


def test_word_classes_around_the_span() -> None:
    """ "In ▸1066," has a preposition on its left and punctuation on its right."""
    by_text, _ = _features("When was the duke charged?")
    assert by_text["1066"]["left=prep"] == 1.0
    assert by_text["1066"]["right=punct"] == 1.0
    assert by_text["Odo"]["right=end"] == 1.0


def test_sentence_evidence_is_copied_to_every_candidate() -> None:
    """Coverage and rank describe the sentence, so every candidate carries them."""
    by_text, _ = _features("When was the duke charged?")
    assert all(row["coverage"] == pytest.approx(0.8) for row in by_text.values())
    assert {row["rank=0"] for row in by_text.values()} == {1.0}


def test_a_span_described_by_the_question_words() -> None:
    """ "Odo, the duke": the words after the comma describe the span and hold the question."""
    q = parse_question("Which duke was charged?")
    text = "Odo, the duke, was charged."
    dense, _ = candidate_features(
        q, dict.fromkeys(q.terms, 1.0), sentence_table(text, None), EVIDENCE, text
    )
    table = sentence_table(text, None)
    col = SHARED_NAMES.index("described")
    by_text = {c.text: float(dense[i, col]) for i, c in enumerate(table.candidates)}
    assert by_text["Odo"] > 0.0
    assert by_text["charged"] == 0.0


def test_counted_noun_after_a_number() -> None:
    """ "how many companies": a number followed by "companies" is flagged."""
    q = parse_question("How many companies does the park have?")
    text = "The park has 16 companies and 31,000 square meters."
    table = sentence_table(text, None)
    dense, _ = candidate_features(q, dict.fromkeys(q.terms, 1.0), table, EVIDENCE, text)
    col = SHARED_NAMES.index("unit_next")
    by_text = {c.text: float(dense[i, col]) for i, c in enumerate(table.candidates)}
    assert by_text["16"] == 1.0 and by_text["31,000"] == 0.0


def test_focus_noun_as_the_span_head() -> None:
    """ "Which church": a span ending in "church" has the focus as its last word."""
    by_text, _ = _features("Which church was the duke charged with undermining?")
    assert by_text["Norman church"]["focus_last"] == 1.0
    assert by_text["Odo"]["focus_last"] == 0.0


def test_hash_indexes_are_deterministic_and_depend_on_the_question() -> None:
    """The same words and key give the same indexes; another key gives others."""
    lex = np.asarray([[1, 2, 3, 4]], dtype=np.int64)
    assert (hash_indexes(lex, 7) == hash_indexes(lex, 7)).all()
    assert (hash_indexes(lex, 7) != hash_indexes(lex, 8)).any()


def test_confidence_names_start_with_the_bias() -> None:
    """The confidence model's first input is the constant 1."""
    assert CONFIDENCE_NAMES[0] == "bias"


def test_the_answer_takes_the_place_of_the_question_word() -> None:
    """ "Who was charged": the span right before "charged" is where the answer to "who" sits;
    "the duke was charged with what": the span right after "with" is."""
    by_text, _ = _features("Who charged the Norman church?")
    assert by_text["duke"]["wh_next_right"] == 1.0
    assert by_text["Odo"]["wh_next_right"] == 0.0
    by_text, _ = _features("The duke was charged with what?")
    assert by_text["undermining the Norman church"]["wh_prev_left"] == 1.0
    assert by_text["1066"]["wh_prev_left"] == 0.0


def test_a_bracket_after_the_span_does_not_hide_its_description() -> None:
    """ "Odo (Eudes), the duke": the description after the bracket still describes Odo."""
    q = parse_question("Which duke was charged?")
    text = "Odo (Eudes), the duke, was charged."
    table = sentence_table(text, None)
    dense, _ = candidate_features(q, dict.fromkeys(q.terms, 1.0), table, EVIDENCE, text)
    col = SHARED_NAMES.index("appos_right")
    by_text = {c.text: float(dense[i, col]) for i, c in enumerate(table.candidates)}
    assert by_text["Odo"] == 1.0


def test_window_templates_see_question_words_not_particular_words() -> None:
    """Two sentences with different words in the same places relative to the question's
    words give the same window hashes."""
    q = parse_question("Who founded the abbey?")
    weights = dict.fromkeys(q.terms, 1.0)
    rows = []
    for text, span in (
        ("Then Odo founded the abbey.", "Odo"),
        ("Then Hugh founded the abbey.", "Hugh"),
    ):
        table = sentence_table(text, None)
        _, hashed = candidate_features(q, weights, table, EVIDENCE, text)
        i = next(k for k, c in enumerate(table.candidates) if c.text == span)
        window = [HASH_TEMPLATES.index(t) for t in ("qkey&L1", "qkey&R2", "wh&L2R2", "qkey&inner")]
        rows.append(hashed[i, window])
    assert (rows[0] == rows[1]).all()


def test_a_bracket_does_not_distance_a_name_from_its_description() -> None:
    """ "Odo (Eudes of Bayeux), the duke": as close to "duke" as in "Odo, the duke"."""
    q = parse_question("Which duke was charged?")
    weights = dict.fromkeys(q.terms, 1.0)
    col = SHARED_NAMES.index("proximity")
    values = []
    for text in ("Odo (Eudes of Bayeux), the duke, was charged.", "Odo, the duke, was charged."):
        table = sentence_table(text, None)
        dense, _ = candidate_features(q, weights, table, EVIDENCE, text)
        i = next(k for k, c in enumerate(table.candidates) if c.text == "Odo")
        values.append(float(dense[i, col]))
    assert values[0] == pytest.approx(values[1]) and values[0] > 0
