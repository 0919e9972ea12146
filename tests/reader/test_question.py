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
    assert q.weights["full"] == q.weights["name"] == 0.0 and q.asks_name


def test_plural_unit_and_entities() -> None:
    """Plural asks for a list; "how many X" keeps X as the unit; capitalised words are names."""
    assert parse_question("Which officials will Mayor Park meet?").plural
    assert parse_question("How many companies are there?").unit == "companies"
    assert parse_question("When did the Seoul mayor visit Tokyo?").entities == ["Seoul", "Tokyo"]


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("What type of resource is used?", {"resourc"}),
        ("Which church did the duke build?", {"church"}),
        ("What is the largest city in California?", {"largest", "citi"}),
        ("What did the duke do?", set()),
        ("When did the duke die?", set()),
    ],
)
def test_focus_is_the_noun_the_question_word_governs(question: str, focus: set[str]) -> None:
    """ "What type of resource": the answer is a resource; "what did" names no noun."""
    assert parse_question(question).focus == focus


@pytest.mark.parametrize(
    ("question", "verb"),
    [
        ("When did the Seoul mayor visit Tokyo?", "visit"),
        ("Which officials will Mayor Park meet in Hong Kong?", "meet"),
        ("Who founded the company?", "found"),
        ("How many companies does the Shenzhen park have?", None),
        ("When was the landslide?", None),
    ],
)
def test_main_verb(question: str, verb: str | None) -> None:
    """The event the question asks about, after a wh-phrase and its auxiliary, or after "who"."""
    assert parse_question(question).verb == verb


def test_full_name_is_told_from_a_plain_name() -> None:
    """ "Full name" asks for a longer name; "the name of" does not."""
    assert parse_question("What is the full name of the Hetao zone?").full_name
    assert parse_question("What is Mayor Park's full name?").full_name
    assert not parse_question("What is the name of the river?").full_name
