"""Question analysis: the answer type each wording asks for."""

import pytest

from citebot.reader.question import AnswerType, parse_question


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("when did the Hetao park open?", AnswerType.DATE),
        ("In what year did the Normans arrive?", AnswerType.DATE),
        ("How many companies are in the park?", AnswerType.NUMBER),
        ("How big is the Shenzhen park?", AnswerType.NUMBER),
        ("Who founded the company?", AnswerType.PERSON),
        ("Which officials will the mayor meet?", AnswerType.PERSON),
        ("Where is Cyberport?", AnswerType.PLACE),
        ("In which city is the park?", AnswerType.PLACE),
        ("Who is Peter Mok?", AnswerType.DEFINITION),
        ("What is IngDan?", AnswerType.DEFINITION),
        ("What is the full name of the Hetao zone?", AnswerType.ENTITY),
        ("What is Mayor Park's full name?", AnswerType.ENTITY),
        ("Which Shenzhen startup incubator is government approved?", AnswerType.ENTITY),
        ("Why did the mayor travel?", AnswerType.REASON),
        ("What did the mayor say about innovation policy in the city?", AnswerType.PHRASE),
    ],
)
def test_answer_types(question: str, answer_type: AnswerType) -> None:
    """The question word and the noun after it decide the answer type."""
    assert parse_question(question).answer_type == answer_type


def test_verb_weighs_double_and_frame_words_nothing() -> None:
    """The question's verb counts double; "full name" frames the question and counts 0."""
    q = parse_question("When did the Seoul mayor visit Tokyo?")
    assert q.weights["visit"] == 2.0 and q.weights["tokyo"] == 1.0
    q = parse_question("What is the full name of the Hetao zone?")
    assert q.weights["full"] == q.weights["name"] == 0.0


def test_entities() -> None:
    """Capitalised words are names."""
    assert parse_question("When did the Seoul mayor visit Tokyo?").entities == ["Seoul", "Tokyo"]
