"""Formatting: Discord's limits hold for any input, nothing can ping, Markdown cannot leak."""

from __future__ import annotations

import datetime as dt
import os
import re

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.render import (
    CONTENT_MAX,
    NO_MENTIONS,
    ReloadOutcome,
    StatsView,
    article_choices,
    clip,
    embed_problems,
    highlight,
    length,
    render_answer,
    render_context,
    render_help,
    render_reload,
    render_source,
    render_sources_page,
    render_stats,
    render_why,
)
from citebot.cite import Answer, Citation
from citebot.corpus.articles import Article

# Text that is hostile to a chat layout: Markdown, mentions, newlines, emoji, CJK, RTL.
NASTY = st.sampled_from(
    ["**", "__", "~~", "`", "```", "||", "> ", "# ", "- ", "\\", "[x](https://e.x)", "@everyone",
     "@here", "<@123456789012345678>", "<@&123456789012345678>", "\n", "\n\n", "😀", "香港", "\u202e",
     "https://a_b.example/x_y", " ", "<https://x.y>"]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(max_size=40), NASTY), max_size=60).map("".join)
LONG_TEXT = st.one_of(
    TEXT, st.integers(1000, 9000).map(lambda n: ("word **bold** @everyone " * n)[:n])
)
MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d{17,20}>")


def assert_sendable(content: str) -> None:
    assert 0 < length(content) <= CONTENT_MAX, length(content)
    assert not MENTION.search(content), content


@st.composite
def citations(draw: st.DrawFn, n: int) -> Citation:
    quote = draw(LONG_TEXT.filter(lambda t: t.strip() != ""))
    return Citation(
        n=n,
        article_id=draw(
            st.one_of(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,127}", fullmatch=True), TEXT)
        ),
        title=draw(LONG_TEXT),
        date=draw(st.one_of(st.none(), st.dates().map(dt.date.isoformat), TEXT)),
        source=draw(st.one_of(st.none(), LONG_TEXT)),
        url=draw(
            st.one_of(
                st.none(),
                st.just("https://example.org/a_b?c=d"),
                TEXT.map(lambda t: "https://x.org/" + t),
            )
        ),
        quote=quote,
        start=draw(st.integers(0, 10_000)),
        end=draw(st.integers(0, 10_000)),
        score=1.0,
    )


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    count = draw(st.integers(0, 8))
    cites = [draw(citations(i + 1)) for i in range(count)]
    is_answered = bool(cites) and draw(st.booleans())
    span = None
    start = end = None
    if is_answered:
        quote = cites[0].quote
        a = draw(st.integers(0, len(quote)))
        b = draw(st.integers(a, len(quote)))
        span = quote[a:b] or draw(LONG_TEXT)
        start, end = cites[0].start + a, cites[0].start + b
    return Answer(
        question=draw(LONG_TEXT),
        answered=is_answered,
        answer=span,
        normalized=draw(st.one_of(st.none(), TEXT)),
        normalized_text=draw(st.one_of(st.none(), LONG_TEXT)),
        quote=cites[0].quote if cites else None,
        confidence=draw(st.floats(0, 1)),
        citations=cites if is_answered else [],
        suggestions=draw(st.lists(TEXT, max_size=8)),
        answer_start=start,
        answer_end=end,
        message=draw(st.one_of(st.none(), LONG_TEXT)),
        evidence=draw(st.dictionaries(TEXT, st.floats(-5, 50), max_size=60)),
        answer_type=draw(st.one_of(st.none(), TEXT)),
        corpus_version=draw(st.one_of(st.none(), TEXT)),
    )


@st.composite
def articles(draw: st.DrawFn) -> Article:
    article_id = draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", fullmatch=True))
    return Article(
        id=article_id,
        title=draw(LONG_TEXT.filter(lambda t: t.strip() != "")),
        body=draw(LONG_TEXT.filter(lambda t: t.strip() != "")),
        date=draw(st.one_of(st.none(), st.dates())),
        source=draw(st.one_of(st.none(), LONG_TEXT)),
        url=draw(
            st.one_of(
                st.none(), st.just("https://example.org/" + "a" * 3000), st.just("https://e.org/x")
            )
        ),
    )


# HYPOTHESIS_RENDER_EXAMPLES=5000 for a deep run; 60 keeps the suite quick.
SLOW = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_RENDER_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)


@SLOW
@given(answers(), st.dictionaries(TEXT, LONG_TEXT, max_size=5), st.one_of(st.none(), LONG_TEXT))
def test_any_answer_fits_one_message_and_pings_nobody(
    answer: Answer, titles: dict[str, str], note: str | None
) -> None:
    """Whatever the lengths and characters, an answer is 1-2,000 characters with no live mention."""
    assert_sendable(render_answer(answer, titles, note=note))


@SLOW
@given(answers(), st.floats(0, 1), st.one_of(st.none(), TEXT), st.booleans())
def test_any_why_embed_is_within_embed_limits(
    answer: Answer, threshold: float, version: str | None, logged: bool
) -> None:
    """The "Why this answer" embed keeps every embed limit for any evidence and question."""
    embed = render_why(answer, threshold=threshold, current_version=version, question_logged=logged)
    assert embed_problems(embed) == []
    assert not MENTION.search(str(embed.to_dict()))


@SLOW
@given(LONG_TEXT, TEXT, LONG_TEXT, st.integers(-5, 10_000), st.integers(-5, 10_000), st.booleans())
def test_any_context_fits(
    title: str, article_id: str, text: str, a: int, b: int, changed: bool
) -> None:
    """A context message fits whatever the paragraph's length and the span's offsets."""
    assert_sendable(render_context(title, article_id, text, a, b, changed=changed))


@SLOW
@given(st.lists(articles(), max_size=30), st.integers(-3, 10))
def test_any_sources_page_and_article_embed_fit(arts: list[Article], page: int) -> None:
    """Article list pages and the one-article embed keep every embed limit."""
    embed, shown, pages = render_sources_page(arts, page, version="817c869291649262")
    assert embed_problems(embed) == []
    assert 1 <= shown <= pages
    for article in arts[:3]:
        assert embed_problems(render_source(article, passages=3, sentences=9)) == []


@SLOW
@given(st.lists(articles(), max_size=40), TEXT)
def test_autocomplete_choices_fit_and_are_known_ids(arts: list[Article], typed: str) -> None:
    """At most 25 choices, names of 1-100 characters, values only ids of the given articles."""
    choices = article_choices(arts, typed)
    assert len(choices) <= 25
    ids = {a.id for a in arts}
    for name, value in choices:
        assert 1 <= length(name) <= 100 and value in ids and length(value) <= 100


@SLOW
@given(
    st.lists(st.tuples(LONG_TEXT, LONG_TEXT), max_size=80),
    st.lists(TEXT, max_size=30),
    st.booleans(),
    st.one_of(st.none(), LONG_TEXT),
)
def test_any_reload_report_fits(
    problems: list[tuple[str, str]], ids: list[str], ok: bool, error: str | None
) -> None:
    """The reload report fits one message however many files broke."""
    outcome = ReloadOutcome(
        ok=ok, articles=len(ids), old_version="a", new_version="b", added=ids, removed=ids[::-1],
        problems=problems, error=error,
    )  # fmt: skip
    assert_sendable(render_reload(outcome))


@SLOW
@given(
    st.lists(st.tuples(st.one_of(st.none(), LONG_TEXT), TEXT, st.integers(1, 10**6)), max_size=30)
)
def test_any_stats_embed_fits(top: list[tuple[str | None, str, int]]) -> None:
    """/stats keeps every embed limit whatever the unanswered questions were."""
    embed = render_stats(
        StatsView(asked=10, answered=4, abstained=6, helpful=1, unhelpful=2, top_unanswered=top)
    )
    assert embed_problems(embed) == []


@SLOW
@given(LONG_TEXT, st.integers(1, 3000))
def test_clip_fits_ends_with_an_ellipsis_and_never_splits_an_escape(text: str, limit: int) -> None:
    """A clipped text fits, ends with "…" when shortened, and shows a prefix of the text."""
    shown = clip(text, limit)
    assert length(shown) <= limit
    if shown == render.escape(text) or not shown:
        return
    assert shown.endswith("…")
    body = shown[:-1]
    # an odd run of backslashes at the cut would escape the ellipsis
    trailing = len(body) - len(body.rstrip("\\"))
    assert trailing % 2 == 0
    if not any(c in text for c in ("://", "\u200b", "\r")):  # links stay, ZWSP is ours, \r is \n
        unescaped = re.sub(r"\\(.)", r"\1", body.replace("@\u200b", "@"), flags=re.DOTALL)
        assert text.startswith(unescaped)
        assert render.escape(unescaped) == body


def test_answer_layout_bold_answer_marked_quote_numbered_sources() -> None:
    """The answer is bold with its date, the span is marked inside the quote, sources numbered."""
    quote = "The park opened in Futian on Thursday, marking an effort."
    first = Citation(
        n=1, article_id="hksp-2023", title="Park *opens* branch", date="2023-09-07", source=None,
        url=None, quote=quote, start=100, end=100 + len(quote), score=1.0,
    )  # fmt: skip
    second = first.model_copy(
        update={"n": 2, "article_id": "other", "title": "Other", "source": "China Daily",
                "url": "https://example.org/a_b", "quote": "Second quote."}
    )  # fmt: skip
    answer = Answer(
        question="when did it open?", answered=True, answer="on Thursday", quote=quote,
        citations=[first, second], answer_start=100 + quote.index("on Thursday"),
        answer_end=100 + quote.index("on Thursday") + 11, normalized="2023-09-07",
        normalized_text="Thursday, 7 September 2023",
    )  # fmt: skip
    text = render_answer(answer, {})
    assert text.splitlines()[0] == "**on Thursday** → Thursday, 7 September 2023"
    assert text.splitlines()[1] == (
        "> The park opened in Futian __**on Thursday**__, marking an effort. [1]"
    )
    assert (
        "**[1]** Park \\*opens\\* branch — 7 September 2023 · source not stated · `hksp-2023`"
        in text
    )
    assert (
        "**[2]** Other — 7 September 2023 · China Daily · <https://example.org/a_b> · `other`"
        in text
    )
    assert "> Second quote." in text


def test_abstention_says_not_found_and_names_closest_articles() -> None:
    """An abstention says "not found in the sources" and lists the closest titles with ids."""
    answer = Answer(
        question="q", answered=False, answer=None, message="nothing in the sources mentions Tokyo",
        suggestions=["a-1", "b-2"],
    )  # fmt: skip
    text = render_answer(answer, {"a-1": "First title"})
    assert text.splitlines() == [
        "Not found in the sources: nothing in the sources mentions Tokyo.",
        "Closest articles:",
        "• **First title** (`a-1`)",
        "• `b-2`",
    ]


def test_quoted_text_cannot_mention_or_break_the_layout() -> None:
    """@everyone, user mentions and Markdown in an article are shown, escaped, not obeyed."""
    quote = "@everyone look at <@123456789012345678> and **this** > that\n# heading"
    cite = Citation(n=1, article_id="x", title="@here **T**", date=None, source=None, url=None,
                    quote=quote, start=0, end=len(quote), score=1.0)  # fmt: skip
    answer = Answer(question="q", answered=True, answer="this", quote=quote, citations=[cite],
                    answer_start=quote.index("this"), answer_end=quote.index("this") + 4)  # fmt: skip
    text = render_answer(answer, {})
    assert not MENTION.search(text)
    assert "@\u200beveryone" in text and "@\u200bhere" in text
    assert "\\*\\*__**this**__\\*\\*" in text
    assert "\n> \\# heading" in text  # the quote's second line stays inside the block quote
    assert NO_MENTIONS.to_dict() == {"parse": []}


def test_a_huge_quote_is_cut_around_the_span_at_word_boundaries() -> None:
    """A 20,000-character quote still shows the marked answer, with "…" on both sides."""
    before, after = "alpha beta " * 900, " gamma delta" * 900
    text = before + "ANSWER" + after
    shown = highlight(text, len(before), len(before) + 6, 900)
    assert length(shown) <= 900
    assert "__**ANSWER**__" in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert shown.startswith(("…alpha", "…beta"))


def test_help_embed_lists_the_commands() -> None:
    """/help names every command and the ways to ask."""
    embed = render_help("citebot", auto_answer=True)
    data = str(embed.to_dict())
    for command in ("/ask", "/sources", "/source", "/help", "/reload", "/stats"):
        assert command in data
    assert "Mention citebot" in data and "auto-answer" in data
    assert embed_problems(embed) == []
    assert isinstance(embed, discord.Embed)
