"""Misspelt question words read as the corpus words one edit away (retrieval.spelling)."""

from __future__ import annotations

import pytest

from citebot.corpus.articles import Corpus
from citebot.pipeline import Asker
from citebot.retrieval.index import Index
from citebot.retrieval.spelling import Correction, correct, edits, known_word
from tests.conftest import make_article


@pytest.fixture(scope="module")
def index() -> Index:
    bodies = [
        "The council purchased twelve packages of seeds from the Mercedes garden.",
        "Beyond the river, the Melanchthon school opened a second building.",
        "The packages were purchased again in spring, and the council approved it.",
    ]
    articles = [make_article(f"a{k}", body) for k, body in enumerate(bodies)]
    return Index.build(Corpus(articles=tuple(articles)))


def test_edits_are_one_deletion_insertion_change_or_swap_away() -> None:
    found = edits("form")
    assert {"frm", "forms", "farm", "from"} <= found
    assert "form" not in found and "farms" not in found  # two edits away
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    ("question", "read_as"),
    [
        ("Who purhcased the seeds?", "Who purchased the seeds?"),  # swapped letters
        ("How many pacakages were bought?", "How many packages were bought?"),  # one too many
        ("What did the councl approve?", "What did the council approve?"),  # one missing
        ("Which garden is the Mercedez garden?", "Which garden is the Mercedes garden?"),
        ("Where is the MELANCHHON school?", "Where is the MELANCHTHON school?"),  # case kept
    ],
)
def test_a_misspelt_word_is_read_as_the_corpus_word_one_edit_away(
    index: Index, question: str, read_as: str
) -> None:
    text, corrections = correct(question, index)
    assert text == read_as
    [correction] = corrections
    assert correction.written in question and correction.read_as in read_as


def test_the_word_most_passages_use_wins_between_two_one_edit_away() -> None:
    bodies = ["The lease was signed.", "They leave at noon.", "We leave soon, they leave late."]
    articles = [make_article(f"b{k}", body) for k, body in enumerate(bodies)]
    index = Index.build(Corpus(articles=tuple(articles)))
    # "leabe" is one edit from both "lease" (one passage) and "leave" (two).
    assert correct("When do they leabe?", index)[0] == "When do they leave?"


@pytest.mark.parametrize(
    "question",
    [
        "What is the kinship of the council?",  # English, only not in these articles
        "Who won the cup in Tokyo?",  # a name no article writes, nothing one edit away
        "Is Beyonce in the garden?",  # "beyonde" stems to "beyond", but no article writes it
        "Who purhcsed the seeds?",  # two edits from "purchased"
        "Who bought the seds?",  # one edit from "seeds", but under five letters
        "Who purchasedpurchasedpurchasedx it?",  # over thirty letters: no word
        "Why couldn't the councl?",  # "couldn" is a piece of "couldn't"; councl is read
    ],
)
def test_words_that_are_english_or_have_no_near_corpus_word_are_left_alone(
    index: Index, question: str
) -> None:
    text, corrections = correct(question, index)
    if "councl" in question:
        assert corrections == [Correction("councl", "council")]
        assert text == question.replace("councl", "council")
    else:
        assert (text, corrections) == (question, [])


def test_the_english_word_list_knows_real_words_and_not_typos() -> None:
    assert all(map(known_word, ["bumped", "kinship", "tokyo", "hopeless"]))
    assert not any(map(known_word, ["purhcased", "goverment", "shenzhen"]))


def test_a_misspelt_question_is_answered_as_the_well_spelt_one(shipped_corpus: Corpus) -> None:
    asker = Asker(Index.build(shipped_corpus))
    right = asker.ask("How many companies are in the Shenzhen park?")
    typed = asker.ask("How many compnaies are in the Shenzen park?")
    assert typed.answer == right.answer == "16"
    assert typed.confidence == right.confidence
    assert typed.question == "How many compnaies are in the Shenzen park?"
