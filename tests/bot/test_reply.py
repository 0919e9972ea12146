"""The answer message and its buttons' texts: layout, tiers, limits, escaping."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.render import NO_MENTIONS, embed_problems, length
from bot.reply import render_answer, render_more_context, render_why
from citebot.cite import Answer, Citation
from citebot.context import ContextGroup
from citebot.corpus.articles import Article, Corpus
from citebot.corpus.passages import Sentence
from citebot.pipeline import Asker
from tests.bot.test_render import LONG_TEXT, MENTION, SLOW, TEXT, answers, articles, assert_sendable

QUOTE = "The park opened in Futian on Thursday, marking an effort."
FIRST = Citation(
    n=1, article_id="hksp-2023", title="Park *opens* branch", date="2023-09-07", source=None,
    url=None, quote=QUOTE, start=100, end=100 + len(QUOTE), score=1.0,
)  # fmt: skip
AT = 100 + QUOTE.index("on Thursday")
DATED = Answer(
    question="when did it open?", answered=True, tier="answer", answer="on Thursday",
    quote=QUOTE, citations=[FIRST], answer_start=AT, answer_end=AT + 11,
    normalized="2023-09-07", normalized_text="Thursday, 7 September 2023",
    evidence={"open": 2.0, "park": 1.0},
)  # fmt: skip
CORPUS = Corpus(
    articles=(
        Article(id="hksp-2023", title="Park *opens* branch", body="x", url="https://e.org/p_1"),
        Article(id="seoul", title="Seoul mayor visits Shenzhen", body="y"),
    )
)


def sentences(article_id: str, texts: list[str]) -> list[Sentence]:
    return [
        Sentence(article_id=article_id, index=k, paragraph=0, start=0, end=len(t), text=t)
        for k, t in enumerate(texts)
    ]


@SLOW
@given(answers(), st.lists(articles(), max_size=5), st.one_of(st.none(), LONG_TEXT))
def test_any_answer_fits_one_message_and_pings_nobody(
    answer: Answer, arts: list[Article], note: str | None
) -> None:
    """Whatever the lengths and characters, an answer is 1-2,000 characters with no live mention."""
    assert_sendable(render_answer(answer, Corpus(articles=tuple(arts)), note=note))


@SLOW
@given(answers(), st.floats(0, 1), st.floats(0, 1))
def test_any_why_embed_is_within_embed_limits(answer: Answer, low: float, high: float) -> None:
    """The "Why" embed keeps every embed limit for any evidence, question and words."""
    embed = render_why(answer, threshold=low, answer_threshold=high)
    assert embed_problems(embed) == []
    assert not MENTION.search(str(embed.to_dict()))


@SLOW
@given(st.lists(st.tuples(LONG_TEXT, st.lists(LONG_TEXT, max_size=8)), max_size=6), TEXT)
def test_any_more_context_fits(groups: list[tuple[str, list[str]]], span: str) -> None:
    """More context fits one message whatever the titles, sentences and answer."""
    made = [
        ContextGroup(f"a{i}", title, "2023-09-07", tuple(sentences(f"a{i}", texts)))
        for i, (title, texts) in enumerate(groups)
    ]
    answer = Answer(question="q", answered=True, answer=span or None)
    assert_sendable(render_more_context(made, answer))


def test_an_answer_reads_question_headline_quote_then_one_line_per_article() -> None:
    """The asked question, the resolved value as headline, the span marked in the quote,
    then one subtext line per article: masked link, date in words; no ids, no filler."""
    second = FIRST.model_copy(
        update={"n": 2, "quote": "Second sentence.", "start": 300, "end": 316}
    )  # same article: not listed twice
    other = FIRST.model_copy(
        update={"n": 3, "article_id": "seoul", "title": "Seoul [mayor]", "date": None,
                "source": "Seoul Metropolitan Government", "url": "https://e.org/a_b c"}
    )  # fmt: skip
    text = render_answer(DATED.model_copy(update={"citations": [FIRST, second, other]}), CORPUS)
    assert text.splitlines() == [
        "-# when did it open?",
        "**Thursday, 7 September 2023**",
        "> The park opened in Futian __**on Thursday**__, marking an effort. [1]",
        "-# [1] Park \\*opens\\* branch · 7 September 2023",
        "-# [2] [Seoul (mayor)](<https://e.org/a_b%20c>) · Seoul Metropolitan Government",
    ]
    alone = render_answer(DATED, CORPUS).splitlines()
    assert (
        alone[2].endswith("an effort.")
        and alone[3] == "-# Park \\*opens\\* branch · 7 September 2023"
    )
    assert "hksp-2023" not in text and "source not stated" not in text


def test_a_possible_answer_says_to_check_the_quote() -> None:
    """The middle tier leads with "Possible answer — check the quote:" before the value."""
    text = render_answer(DATED.model_copy(update={"tier": "possible"}), CORPUS)
    assert text.splitlines()[1] == (
        "Possible answer — check the quote: **Thursday, 7 September 2023**"
    )


def test_a_question_read_with_misspelt_words_replaced_says_so_on_its_line() -> None:
    """How each misspelt word was read follows the question (and any note), answered or not."""
    typed = DATED.model_copy(update={"question": "when did it opne?", "read_as": {"opne": "open"}})
    assert render_answer(typed, CORPUS).splitlines()[0] == (
        "-# when did it opne? · read “opne” as “open”"
    )
    assert render_answer(typed, CORPUS, note="searched in Park").splitlines()[0] == (
        "-# when did it opne? · searched in Park · read “opne” as “open”"
    )
    abstained = Answer(
        question="who won the cupp?", answered=False, answer=None, read_as={"cupp": "cup"}
    )
    assert render_answer(abstained, CORPUS).splitlines()[0] == (
        "-# who won the cupp? · read “cupp” as “cup”"
    )


def test_the_question_line_cannot_ping_or_format_and_stays_one_line() -> None:
    """A question with mentions, Markdown and line breaks is shown escaped on one line."""
    question = "@everyone **who** <@123456789012345678>\n# opened " + "it " * 200 + "?"
    text = render_answer(DATED.model_copy(update={"question": question}), CORPUS)
    first = text.splitlines()[0]
    assert first.startswith("-# @\u200beveryone \\*\\*who\\*\\*") and first.endswith("…")
    assert not MENTION.search(text) and length(first) <= 210


def test_an_abstention_says_the_articles_dont_say_and_what_they_cover() -> None:
    """No answer: the missing words, a related article only when suggested, the corpus size."""
    answer = Answer(
        question="who won the cup in Tokyo?", answered=False, answer=None,
        unknown_words=["cup", "Tokyo"], suggestions=["seoul"],
    )  # fmt: skip
    assert render_answer(answer, CORPUS).splitlines() == [
        "-# who won the cup in Tokyo?",
        "The articles don't say. Nothing in them mentions **cup** or **Tokyo**.",
        "-# Closest article: Seoul mayor visits Shenzhen",
        "-# I answer from 2 articles; `/sources` lists them.",
    ]
    bare = render_answer(answer.model_copy(update={"suggestions": []}), CORPUS)
    assert "Closest" not in bare


def test_why_shows_the_words_as_written_the_tier_and_the_article() -> None:
    """Why this answer: the question's own words with their shares, the tier in words, the
    article and date; no stem, no corpus hash, no answer type."""
    answer = DATED.model_copy(
        update={"question": "When did the Parks open?", "evidence": {"open": 3.0, "park": 1.0},
                "corpus_version": "9be1908fb715d061", "answer_type": "person"}
    )  # fmt: skip
    embed = render_why(answer, threshold=0.23, answer_threshold=0.5).to_dict()
    assert embed["title"] == "Why this answer"
    words = {f["name"]: f["value"] for f in embed.get("fields", [])}["Words that counted"]
    assert words == "**open** 75% · **Parks** 25%"
    assert "an answer the articles support well" in embed["description"]
    assert "*Park \\*opens\\* branch*, 7 September 2023" in embed["description"]
    assert not re.search(r"9be1908f|person|\bpark\b", str(embed))


def test_why_no_answer_names_the_words_nothing_mentions() -> None:
    """On an abstention the embed is "Why no answer" and names the unknown words."""
    answer = Answer(question="q", answered=False, answer=None, unknown_words=["Tokyo"])
    embed = render_why(answer, threshold=0.23, answer_threshold=0.5).to_dict()
    assert embed["title"] == "Why no answer"
    assert embed["description"] == "Nothing in the articles mentions **Tokyo**."


def test_quoted_text_cannot_mention_or_break_the_layout() -> None:
    """@everyone, user mentions and Markdown in an article are shown, escaped, not obeyed."""
    quote = "@everyone look at <@123456789012345678> and **this** > that\n# heading"
    cite = Citation(n=1, article_id="x", title="@here **T**", date=None, source=None, url=None,
                    quote=quote, start=0, end=len(quote), score=1.0)  # fmt: skip
    answer = Answer(question="q", answered=True, tier="answer", answer="this", quote=quote,
                    citations=[cite], answer_start=quote.index("this"),
                    answer_end=quote.index("this") + 4)  # fmt: skip
    text = render_answer(answer, CORPUS)
    assert not MENTION.search(text)
    assert "@\u200beveryone" in text and "@\u200bhere" in text
    assert "\\*\\*__**this**__\\*\\*" in text
    assert "\n> \\# heading" in text  # the quote's second line stays inside the block quote
    assert NO_MENTIONS.to_dict() == {"parse": []}


def test_the_fixed_question_set_stays_within_the_phone_budget(asker: Asker) -> None:
    """Over tests/data/reply-questions.txt: median at most 5 lines and 600 characters, none
    over Discord's 2,000 (the layout was a median of 7 lines and 742 characters before)."""
    text = (Path(__file__).parents[1] / "data" / "reply-questions.txt").read_text("utf-8")
    questions = [line.strip() for line in text.splitlines() if line.strip()]
    replies = [render_answer(asker.ask(q), asker.corpus) for q in questions]
    assert len(replies) >= 40
    assert statistics.median(len(r.splitlines()) for r in replies) <= 5
    assert statistics.median(length(r) for r in replies) <= 600
    assert max(length(r) for r in replies) <= 2000
