"""The article list, one article and the autocomplete keep Discord's limits for any article."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.listing import article_choices, render_source, render_sources_page
from bot.render import embed_problems, length
from citebot.corpus.articles import Article
from tests.bot.test_render import SLOW, TEXT, articles


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
