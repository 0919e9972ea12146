"""The question's names against the corpus: which it never mentions, which a sentence lacks."""

from __future__ import annotations

from citebot.reader.names import missing_names, names_missing
from citebot.reader.question import parse_question
from citebot.text.tokenizer import term_set
from tests.reader.test_contract import hand_corpus


def test_a_name_no_article_mentions_is_missing() -> None:
    """ "Douro" is in no article: missing; "Tagus" is in one: known."""
    corpus = hand_corpus()
    douro = parse_question("When did the council open the Douro footbridge?")
    tagus = parse_question("When did the council open the Tagus footbridge?")
    assert missing_names(douro, corpus) == ["Douro"]
    assert missing_names(tagus, corpus) == []


def test_a_name_only_another_article_mentions_is_missing_from_the_one_asked() -> None:
    """Asked of the ferry article alone, "Tagus" (said only by the bridge article) is missing."""
    question = parse_question("When did the council open the Tagus footbridge?")
    assert missing_names(question, hand_corpus(), "ferry") == ["Tagus"]
    assert missing_names(question, hand_corpus(), "bridge") == []


def test_names_missing_is_the_share_of_names_the_sentence_lacks() -> None:
    """Ana Costa in the sentence, Rui Lopes not: half the question's names are missing;
    a question without names misses none."""
    question = parse_question("Did Ana Costa meet Rui Lopes?")
    assert names_missing(question, term_set("The engineer Ana Costa spoke.")) == 0.5
    assert names_missing(question, term_set("Ana Costa met Rui Lopes.")) == 0.0
    assert names_missing(parse_question("when did it open?"), frozenset()) == 0.0
