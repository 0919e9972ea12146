"""Formatting: Discord's limits hold for any input, nothing can ping, Markdown cannot leak."""

from __future__ import annotations

import datetime as dt
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.render import CONTENT_MAX, clip, highlight, length
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
