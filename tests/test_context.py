"""More context: the sentences around a quote and others carrying the answer, never the quote."""

from __future__ import annotations

from citebot.context import more_context
from citebot.corpus.articles import Corpus
from citebot.pipeline import Asker
from citebot.retrieval.index import Index
from tests.conftest import make_article


def test_more_context_gives_the_neighbours_and_never_the_quote(shipped_asker: Asker) -> None:
    """The sentences either side of the quoted one come first, in the article's order."""
    answer = shipped_asker.ask("How many companies are in the Shenzhen park?")
    groups = more_context(shipped_asker.index, answer)
    first = answer.citations[0]
    own = groups[0]
    assert own.article_id == first.article_id
    starts = [s.start for s in own.sentences]
    assert first.start not in starts and starts == sorted(starts)
    sentences = shipped_asker.index.sentences.get(first.article_id)
    assert sentences is not None
    k = next(s.index for s in sentences if s.start == first.start)
    assert {sentences[k - 1].start, sentences[k + 1].start} <= set(starts)


def test_more_context_adds_other_sentences_holding_the_answer() -> None:
    """A second article saying the answer again is shown as a group of its own."""
    corpus = Corpus(
        articles=(
            make_article("a", "Intro line here.\n\nThe Tagus footbridge opened in 1990.\n"),
            make_article("b", "Lisbon notes.\n\nIn 1990 the Tagus footbridge was opened."),
        )
    )
    asker = Asker(Index.build(corpus), min_confidence=0.0)
    answer = asker.ask("When did the Tagus footbridge open?")
    groups = more_context(asker.index, answer)
    other = {"a": "b", "b": "a"}[answer.citations[0].article_id]
    assert other in [g.article_id for g in groups]


def test_nothing_more_for_a_one_sentence_article_or_a_changed_one(shipped_asker: Asker) -> None:
    """One sentence and no other source: nothing to add. An article edited since: nothing."""
    alone = Asker(Index.build(Corpus(articles=(make_article("x", "The bridge opened in 1990."),))))
    answer = alone.ask("When did the bridge open?")
    assert answer.answered and more_context(alone.index, answer) == []
    stale = shipped_asker.ask("How many companies are in the Shenzhen park?")
    moved = stale.model_copy(
        update={"citations": [stale.citations[0].model_copy(update={"start": 1, "end": 5})]}
    )
    assert more_context(shipped_asker.index, moved) == []
