"""/help, /stats and /reload: each reply fits Discord whatever it reports."""

from __future__ import annotations

import discord
from hypothesis import given
from hypothesis import strategies as st

from bot.notices import ReloadOutcome, StatsView, render_help, render_reload, render_stats
from bot.render import embed_problems
from tests.bot.test_render import LONG_TEXT, SLOW, TEXT, assert_sendable


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


def test_help_embed_lists_the_commands() -> None:
    """/help names every command and the ways to ask."""
    embed = render_help("citebot", auto_answer=True)
    data = str(embed.to_dict())
    for command in ("/ask", "/sources", "/source", "/help", "/add", "/reload", "/stats"):
        assert command in data
    assert "Mention citebot" in data and "auto-answer" in data
    assert embed_problems(embed) == []
    assert isinstance(embed, discord.Embed)
