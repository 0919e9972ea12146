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
    ReloadOutcome,
    StatsView,
    article_choices,
    clip,
    embed_problems,
    highlight,
    length,
    render_help,
    render_reload,
    render_source,
    render_sources_page,
    render_stats,
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
        tier=draw(st.sampled_from(["answer", "possible"])) if is_answered else "none",
        unknown_words=draw(st.lists(LONG_TEXT, max_size=6)),
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
@given(st.lists(articles(), max_size=30), st.integers(-3, 10))
def test_any_sources_page_and_article_embed_fit(arts: list[Article], page: int) -> None:
    """Article list pages and the one-article embed keep every embed limit."""
    embed, shown, pages = render_sources_page(arts, page)
    assert embed_problems(embed) == []
    assert 1 <= shown <= pages
    for article in arts[:3]:
        assert embed_problems(render_source(article)) == []


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
    for command in ("/ask", "/sources", "/source", "/help", "/add", "/reload", "/stats"):
        assert command in data
    assert "Mention citebot" in data and "auto-answer" in data
    assert embed_problems(embed) == []
    assert isinstance(embed, discord.Embed)
