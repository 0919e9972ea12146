"""Answers on the shipped corpus: the acceptance examples, abstention and confidence."""

from __future__ import annotations

import datetime as dt

import pytest

from citebot.corpus import Corpus
from citebot.index import Index
from citebot.pipeline import Asker
from tests.conftest import make_article

SEOUL = "seoul-mayor-hk-shenzhen-visit-2019"
HKSP = "hksp-shenzhen-branch-2023"

# (question, value the answer or its normalised value must hold, article it must come from)
EXAMPLES = [
    ("when did the Hetao park open?", "2023-09-07", HKSP),
    (
        "Who is Peter Mok?",
        "head of the Greater Bay Area division of the Hong Kong Science Park",
        HKSP,
    ),
    ("What is IngDan?", "startup incubation institute", SEOUL),
    ("Which Shenzhen startup incubator is government approved?", "iMakerBase", SEOUL),
    (
        "What is the full name of the Hetao zone?",
        "Hetao Shenzhen-Hong Kong Science and Technology Innovation Cooperation Zone",
        HKSP,
    ),
    ("When was the Mountain Umyeonsan landslide?", "2012", SEOUL),
    ("Who is Wong Kam-sing?", "then the Secretary for Environment", SEOUL),
    ("Who is Zhu Jiang?", "Vice District Mayor of Shenzhen’s Futian", HKSP),
    ("What is Mayor Park's full name?", "Park Won-Soon", SEOUL),
    ("What is 深圳灣创业廣場?", "Shenzhen Bay Startup Plaza", SEOUL),
]


@pytest.mark.parametrize(("question", "expected", "article_id"), EXAMPLES)
def test_acceptance_examples(
    shipped_asker: Asker, question: str, expected: str, article_id: str
) -> None:
    """The issue's examples: the answer holds the value, quoted and cited from the right article."""
    answer = shipped_asker.ask(question)
    assert answer.answered, answer.message
    assert expected.casefold() in f"{answer.answer} {answer.normalized}".casefold()
    assert answer.citations[0].article_id == article_id
    assert answer.answer is not None and answer.quote is not None
    assert answer.answer in answer.quote


def test_ingdan_answer_mentions_iot_and_ai(shipped_asker: Asker) -> None:
    """IngDan is described as an incubation institute for IoT and AI."""
    answer = shipped_asker.ask("What is IngDan?").answer or ""
    assert "IoT" in answer and "AI" in answer


def test_list_answer_names_every_official(shipped_asker: Asker) -> None:
    """ "Which officials" is answered with the whole list, read from the sentence after the question's match."""
    answer = shipped_asker.ask("Which officials will Mayor Park meet in Hong Kong?")
    text = (answer.answer or "").casefold()
    for name in ("Carrie Lam", "Matthew Cheung Kin-chung", "Teresa Cheng Yeuk-wah"):
        assert name.casefold() in text
    assert answer.citations[0].article_id == SEOUL


def test_relative_date_is_resolved_and_verbatim(shipped_asker: Asker) -> None:
    """ "on Thursday" is reported verbatim and resolved to the article's Thursday."""
    answer = shipped_asker.ask("when did the Hetao park open?")
    assert answer.answer == "on Thursday"
    assert answer.normalized == "2023-09-07"
    assert answer.normalized_text == "Thursday, 7 September 2023"


@pytest.mark.parametrize(
    "question",
    [
        "What is the GDP of Shenzhen?",
        "Who is the president of France?",
        "When did the Seoul mayor visit Tokyo?",
    ],
)
def test_abstains_outside_the_corpus(shipped_asker: Asker, question: str) -> None:
    """Questions the corpus cannot answer abstain and suggest the closest articles."""
    answer = shipped_asker.ask(question)
    assert not answer.answered
    assert answer.answer is None and answer.citations == []
    assert answer.message
    assert answer.confidence < shipped_asker.min_confidence


def test_confidence_separates_answers_from_abstentions(shipped_asker: Asker) -> None:
    """Every acceptance answer is more confident than every out-of-corpus question."""
    answered = [shipped_asker.ask(q).confidence for q, _, _ in EXAMPLES]
    abstained = [
        shipped_asker.ask(q).confidence
        for q in (
            "What is the GDP of Shenzhen?",
            "Who is the president of France?",
            "When did the Seoul mayor visit Tokyo?",
        )
    ]
    assert min(answered) > max(abstained)
    assert all(0.0 <= c <= 1.0 for c in answered + abstained)


def test_source_restricts_the_answer(shipped_asker: Asker) -> None:
    """With a source given, the answer can only come from that article."""
    answer = shipped_asker.ask("Who spoke about Hong Kong?", source=HKSP)
    assert {c.article_id for c in answer.citations} <= {HKSP}


def test_number_question_gets_the_counted_unit(shipped_asker: Asker) -> None:
    """ "How many companies" picks the number of companies, not another number nearby."""
    answer = shipped_asker.ask("How many companies does the Shenzhen park have?")
    assert answer.answer == "16 companies"


def test_no_special_cases_a_fresh_corpus_works() -> None:
    """The same reader answers questions over an unseen, invented article."""
    corpus = Corpus(
        articles=(
            make_article(
                "bridge",
                "LISBON, May 4, 2022 — The city council opened the Tagus footbridge on Tuesday. "
                "The bridge is 420 meters long, said Ana Costa, the city engineer.",
                title="Lisbon opens a footbridge",
                date=dt.date(2022, 5, 4),
            ),
        )
    )
    asker = Asker(Index.build(corpus))
    when = asker.ask("When did the council open the footbridge?")
    assert (when.answer, when.normalized) == ("on Tuesday", "2022-05-03")
    assert asker.ask("How long is the bridge?").answer == "420 meters"
    assert asker.ask("Who is Ana Costa?").answer == "the city engineer"
