"""Citations: quotes are verbatim by construction, and the JSON contract holds."""

from __future__ import annotations

import pytest

from citebot.cite import QuoteMismatchError, cite
from citebot.corpus.passages import Sentence
from citebot.pipeline import Asker
from tests.conftest import make_article

CONTRACT = {
    "question",
    "answered",
    "answer",
    "normalized",
    "quote",
    "confidence",
    "citations",
    "suggestions",
}
CITATION_KEYS = {
    "n",
    "article_id",
    "title",
    "date",
    "source",
    "url",
    "quote",
    "start",
    "end",
    "score",
}


def test_a_quote_that_is_not_verbatim_cannot_be_cited() -> None:
    """A sentence whose text differs from body[start:end] raises instead of being shown."""
    article = make_article("a", "The bridge opened on Tuesday.")
    forged = Sentence(article_id="a", index=0, paragraph=0, start=0, end=10, text="The tunnel")
    with pytest.raises(QuoteMismatchError):
        cite(1, article, forged, 1.0)
    real = Sentence(article_id="a", index=0, paragraph=0, start=4, end=10, text="bridge")
    assert cite(1, article, real, 1.0).quote == "bridge"


def test_json_contract_of_an_answer(shipped_asker: Asker) -> None:
    """An answer has the contract's keys; each citation's quote is its article's body slice."""
    answer = shipped_asker.ask("Who is Zhu Jiang?")
    data = answer.model_dump(mode="json")
    assert set(data) >= CONTRACT
    assert data["answered"] is True and isinstance(data["confidence"], float)
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    for c in data["citations"]:
        assert set(c) >= CITATION_KEYS
        body = shipped_asker.corpus.get(c["article_id"]).body  # type: ignore[union-attr]
        assert body[c["start"] : c["end"]] == c["quote"]
    assert data["quote"] == data["citations"][0]["quote"]
    body = shipped_asker.corpus.get(data["citations"][0]["article_id"]).body  # type: ignore[union-attr]
    assert body[data["answer_start"] : data["answer_end"]] == data["answer"]


def test_json_contract_of_an_abstention(shipped_asker: Asker) -> None:
    """An abstention has nulls where the answer would be, and suggestions."""
    data = shipped_asker.ask("Who is the president of France?").model_dump(mode="json")
    assert set(data) >= CONTRACT
    assert (data["answered"], data["answer"], data["quote"], data["citations"]) == (
        False,
        None,
        None,
        [],
    )
    assert isinstance(data["suggestions"], list)


def test_context_is_the_paragraph_around_the_answer(shipped_asker: Asker) -> None:
    """The context of an answer is its paragraph, with the span's offsets inside it."""
    from citebot.pipeline import context_of

    answer = shipped_asker.ask("Which officials will Mayor Park meet in Hong Kong?")
    assert answer.answer_start is not None and answer.answer_end is not None
    ctx = context_of(
        shipped_asker.index, answer.citations[0].article_id, answer.answer_start, answer.answer_end
    )
    assert ctx.text[ctx.highlight_start : ctx.highlight_end] == answer.answer
    body = shipped_asker.index.article(answer.citations[0].article_id).body
    assert ctx.text in [block.strip() for block in body.split("\n\n")]  # one whole paragraph
    # A span in a later sentence of a longer paragraph gets that paragraph from its start.
    article_id, sentences = next(iter(shipped_asker.index.sentences.items()))
    second = next(
        s for k, s in enumerate(sentences[1:], 1) if s.paragraph == sentences[k - 1].paragraph
    )
    ctx = context_of(shipped_asker.index, article_id, second.start, second.start + 3)
    paragraph = [s for s in sentences if s.paragraph == second.paragraph]
    assert ctx.text.startswith(paragraph[0].text) and ctx.text.endswith(paragraph[-1].text)
    assert ctx.text[ctx.highlight_start : ctx.highlight_end] == second.text[:3]
