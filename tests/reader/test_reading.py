"""Answers on the shipped corpus: the acceptance examples, abstention and confidence."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from citebot.corpus.articles import Corpus
from citebot.pipeline import Asker, read_index, retrieve
from citebot.reader.choice import allowed
from citebot.reader.collect import collect
from citebot.reader.confidence import recommended_min_confidence
from citebot.reader.features import CONFIDENCE_NAMES
from citebot.reader.model import load_model
from citebot.reader.question import parse_question
from citebot.retrieval.index import Index
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


@pytest.fixture(scope="module")
def asker(shipped_corpus: Corpus) -> Asker:
    """The shipped corpus at the threshold chosen for the model on cross-fitted SQuAD readings.

    `recommended_min_confidence()` is the value the pipeline's and the settings'
    `min_confidence` default to; it is read from the shipped model file.
    """
    return Asker(
        Index.build(shipped_corpus), min_confidence=recommended_min_confidence(), reader="linear"
    )


def test_recommended_threshold_is_a_probability() -> None:
    """The shipped model records a threshold strictly between 0 and 1."""
    assert 0.0 < recommended_min_confidence() < 1.0


def test_asker_reads_with_the_model_it_is_given(asker: Asker) -> None:
    """`Asker(model=...)` (how the evaluation passes fold models) replaces the shipped weights."""
    shipped = load_model()
    doubtful = dataclasses.replace(shipped, confidence=shipped.confidence - 20.0)
    other = Asker(asker.index, min_confidence=asker.min_confidence, model=doubtful)
    question = EXAMPLES[0][0]
    assert asker.ask(question).answered
    assert not other.ask(question).answered
    assert other.ask(question).confidence < 1e-4


@pytest.mark.parametrize(("question", "expected", "article_id"), EXAMPLES)
def test_acceptance_examples(asker: Asker, question: str, expected: str, article_id: str) -> None:
    """The issue's examples: the answer holds the value, quoted and cited from the right article."""
    answer = asker.ask(question)
    assert answer.answered, answer.message
    assert expected.casefold() in f"{answer.answer} {answer.normalized}".casefold()
    assert answer.citations[0].article_id == article_id
    assert answer.answer is not None and answer.quote is not None
    assert answer.answer in answer.quote


def test_ingdan_answer_mentions_iot_and_ai(asker: Asker) -> None:
    """IngDan is described as an incubation institute for IoT and AI."""
    answer = asker.ask("What is IngDan?").answer or ""
    assert "IoT" in answer and "AI" in answer


def test_list_answer_names_every_official(asker: Asker) -> None:
    """ "Which officials" is answered with the whole list, read from the sentence after the question's match."""
    answer = asker.ask("Which officials will Mayor Park meet in Hong Kong?")
    text = (answer.answer or "").casefold()
    for name in ("Carrie Lam", "Matthew Cheung Kin-chung", "Teresa Cheng Yeuk-wah"):
        assert name.casefold() in text
    assert answer.citations[0].article_id == SEOUL


def test_relative_date_is_resolved_and_verbatim(asker: Asker) -> None:
    """ "on Thursday" is reported verbatim and resolved to the article's Thursday."""
    answer = asker.ask("when did the Hetao park open?")
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
def test_abstains_outside_the_corpus(asker: Asker, question: str) -> None:
    """Questions the corpus cannot answer abstain and suggest the closest articles."""
    answer = asker.ask(question)
    assert not answer.answered
    assert answer.answer is None and answer.citations == []
    assert answer.message
    assert answer.confidence < asker.min_confidence


def test_confidence_separates_answers_from_abstentions(asker: Asker) -> None:
    """Every acceptance answer is more confident than every out-of-corpus question."""
    answered = [asker.ask(q).confidence for q, _, _ in EXAMPLES]
    abstained = [
        asker.ask(q).confidence
        for q in (
            "What is the GDP of Shenzhen?",
            "Who is the president of France?",
            "When did the Seoul mayor visit Tokyo?",
        )
    ]
    assert min(answered) > max(abstained)
    assert all(0.0 <= c <= 1.0 for c in answered + abstained)


def test_source_restricts_the_answer(asker: Asker) -> None:
    """With a source given, the answer can only come from that article."""
    answer = asker.ask("Who spoke about Hong Kong?", source=HKSP)
    assert {c.article_id for c in answer.citations} <= {HKSP}


def test_number_question_gets_the_counted_number(asker: Asker) -> None:
    """ "How many companies" picks the number of companies, not another number nearby."""
    answer = asker.ask("How many companies does the Shenzhen park have?")
    assert answer.answer is not None and answer.answer.startswith("16")
    assert answer.quote is not None and "16 companies" in answer.quote


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
    asker = Asker(Index.build(corpus), min_confidence=recommended_min_confidence(), reader="linear")
    when = asker.ask("When did the council open the footbridge?")
    assert (when.answer, when.normalized) == ("on Tuesday", "2022-05-03")
    assert asker.ask("How long is the bridge?").answer == "420 meters"
    assert asker.ask("Who is Ana Costa?").answer == "the city engineer"


@pytest.fixture(scope="module")
def bridge_index() -> Index:
    """A one-article corpus about a footbridge, with a date, a number and a person."""
    corpus = Corpus(
        articles=(
            make_article(
                "bridge",
                "LISBON, May 4, 2022 — The city council opened the Tagus footbridge on Tuesday. "
                "The bridge is 420 meters long, said Ana Costa, the city engineer. "
                "The footbridge replaced a ferry that crossed the river.",
                title="Lisbon opens a footbridge",
                date=dt.date(2022, 5, 4),
            ),
        )
    )
    return Index.build(corpus)


def test_spans_made_of_question_words_do_not_compete(bridge_index: Index) -> None:
    """ "What replaced a ferry?": "ferry" (already in the question) is never allowed to answer."""
    question = parse_question("What replaced a ferry?")
    found = collect(question, retrieve(bridge_index, question), bridge_index)
    mask = allowed(question, found.features)
    assert mask is not None
    masks = [mask[a:b] for a, b in itertools.pairwise(found.features.starts)]
    for block, mask in zip(found.blocks, masks, strict=True):
        for candidate, ok in zip(block.table.candidates, mask, strict=True):
            if candidate.text.casefold() in {"ferry", "replaced"}:
                assert not ok


def test_typed_question_keeps_only_its_kind_when_present(bridge_index: Index) -> None:
    """A "when" question lets only temporal expressions compete when the sentences have one."""
    question = parse_question("When did the council open the footbridge?")
    found = collect(question, retrieve(bridge_index, question), bridge_index)
    mask = allowed(question, found.features)
    assert mask is not None
    masks = [mask[a:b] for a, b in itertools.pairwise(found.features.starts)]
    kinds = {
        c.kind
        for block, mask in zip(found.blocks, masks, strict=True)
        for c, ok in zip(block.table.candidates, mask, strict=True)
        if ok
    }
    assert kinds <= {"date", "time"}


def test_typed_question_without_its_kind_still_reads(bridge_index: Index) -> None:
    """With no temporal expression in reach, a "when" question still gets its best span."""
    reading = read_index(
        bridge_index, parse_question("When did a ferry cross the river?"), "bridge", reader="linear"
    )
    assert reading.best is not None and reading.best.span is not None
    assert 0.0 <= reading.confidence <= 1.0


def test_reading_reports_its_evidence(bridge_index: Index) -> None:
    """The confidence model's inputs come with the reading, one per CONFIDENCE_NAMES."""
    reading = read_index(bridge_index, parse_question("Who is Ana Costa?"), reader="linear")
    assert reading.evidence is not None and len(reading.evidence) == len(CONFIDENCE_NAMES)


def _evidence_of(index: Index, question: str) -> dict[str, float]:
    reading = read_index(index, parse_question(question), reader="linear")
    assert reading.evidence is not None
    return dict(zip(CONFIDENCE_NAMES, map(float, reading.evidence), strict=True))


def test_confidence_sees_what_the_sentence_does_not_say(bridge_index: Index) -> None:
    """A negation, a number or a rare word of the question that the answer's sentence
    lacks is evidence against the answer; a question the sentence matches has none."""
    plain = _evidence_of(bridge_index, "When did the council open the Tagus footbridge?")
    assert plain["negation_mismatch"] == plain["number_missing"] == plain["rarest_missing"] == 0.0
    negated = _evidence_of(bridge_index, "When did the council not open the Tagus footbridge?")
    assert negated["negation_mismatch"] == 1.0
    dated = _evidence_of(bridge_index, "When did the council open the Tagus footbridge in 1990?")
    assert dated["number_missing"] == 1.0
    swapped = _evidence_of(bridge_index, "When did the council open the Douro footbridge?")
    assert swapped["rarest_missing"] > 0.5


def test_confidence_sees_a_detail_said_elsewhere_in_the_paragraph() -> None:
    """A question word the answer's sentence lacks counts as "nearby" when its paragraph
    says it (a detail swapped in, as unanswerable questions are made), and as lacking
    "anywhere" when only another paragraph does."""
    corpus = Corpus(
        articles=(
            make_article(
                "bridge",
                "The city council opened the Tagus footbridge on Tuesday. "
                "Ana Costa, the city engineer, designed the deck.\n\n"
                "The mayor praised the ferry crews.",
                title="Lisbon opens a footbridge",
            ),
        )
    )
    index = Index.build(corpus)
    plain = _evidence_of(index, "When did the council open the Tagus footbridge?")
    assert plain["lacking"] == plain["lacking_nearby"] == plain["lacking_anywhere"] == 0.0
    assert plain["question_terms"] == pytest.approx(4 / 15)
    nearby = _evidence_of(index, "When did the engineer open the Tagus footbridge?")
    assert nearby["lacking"] == pytest.approx(1 / 4)
    assert nearby["lacking_nearby"] > 0 and nearby["rarest_nearby"] > 0
    assert nearby["lacking_anywhere"] == 0.0
    elsewhere = _evidence_of(index, "When did the mayor open the Tagus footbridge?")
    assert elsewhere["lacking_nearby"] == elsewhere["rarest_nearby"] == 0.0
    assert elsewhere["lacking_anywhere"] == pytest.approx(1 / 4)


def test_the_default_threshold_is_the_models() -> None:
    """An Asker built without a threshold abstains below the one the model file records."""
    corpus = Corpus(articles=(make_article("a", "The bridge opened on Tuesday."),))
    assert (
        Asker(Index.build(corpus), reader="linear").min_confidence == recommended_min_confidence()
    )


def test_a_list_question_quotes_the_sentence_with_the_whole_list() -> None:
    """The same first name in two sentences: "which ..." is answered where all are listed."""
    corpus = Corpus(
        articles=(
            make_article(
                "visit",
                "The mayor will meet city leaders including Ana Costa and officials.\n\n"
                "The visit was arranged by the council. The mayor will meet three officials. "
                "They include Ana Costa, the city engineer, Rui Lopes, the treasurer, "
                "and Marta Silva, the planner.",
                title="Mayor's visit",
            ),
        )
    )
    asker = Asker(Index.build(corpus), min_confidence=0.0, reader="linear")
    answer = asker.ask("Which officials will the mayor meet?")
    for name in ("Ana Costa", "Rui Lopes", "Marta Silva"):
        assert name in (answer.answer or "")
