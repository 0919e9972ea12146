"""The articles shown to people: the /sources pages, one article for /source, and the
article choices /ask's `source` option autocompletes. Built from `bot.render`'s
primitives, so every rule of that module holds here too."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.render import (
    AUTOCOMPLETE_MAX,
    CHOICE_NAME_MAX,
    CHOICE_VALUE_MAX,
    COLOUR,
    EMBED_TITLE_MAX,
    clip,
    escape_line,
    length,
    link_text,
    long_date,
    plain,
)
from citebot.corpus.articles import Article

SOURCES_PER_PAGE = 10


def page_count(total: int, per_page: int = SOURCES_PER_PAGE) -> int:
    """How many pages `total` articles fill (one, empty, when there are none)."""
    return max(1, -(-total // per_page))


def render_sources_page(articles: Sequence[Article], page: int) -> tuple[discord.Embed, int, int]:
    """One page of the article list (page clamped to what exists): (embed, page, pages)."""
    pages = page_count(len(articles))
    page = max(1, min(page, pages))
    chosen = articles[(page - 1) * SOURCES_PER_PAGE : page * SOURCES_PER_PAGE]
    lines = []
    for n, article in enumerate(chosen, start=(page - 1) * SOURCES_PER_PAGE + 1):
        title = clip(article.title.replace("[", "(").replace("]", ")"), 200, escape_line)
        link = link_text(article.url, 600)
        parts = [f"[{title}]({link})" if link else title]
        if article.date:
            parts.append(long_date(article.date.isoformat()))
        if article.source and article.source.strip():
            parts.append(clip(article.source, 80, escape_line))
        lines.append(f"**{n}.** " + " · ".join(parts))
    description = "\n".join(lines) or "No articles are loaded."
    embed = discord.Embed(title="Sources", description=description, colour=COLOUR)
    footer = f"Page {page} of {pages} · {len(articles)} article{'s' * (len(articles) != 1)}"
    embed.set_footer(text=footer + " · /source shows one")
    return embed, page, pages


def first_paragraph(body: str) -> str:
    """The body's first non-blank paragraph (blocks split at blank lines)."""
    for block in body.replace("\r\n", "\n").split("\n\n"):
        if block.strip():
            return block.strip()
    return body.strip()


def render_source(article: Article) -> discord.Embed:
    """One article: title (linked when a URL is known), its first paragraph, date, source."""
    embed = discord.Embed(
        title=clip(article.title, EMBED_TITLE_MAX, escape_line),
        description=clip(first_paragraph(article.body), 1500),
        colour=COLOUR,
    )
    if article.url and link_text(article.url, 2000):
        embed.url = article.url
    if article.date:
        embed.add_field(name="Date", value=long_date(article.date.isoformat()))
    source = clip(article.source or "", 300, escape_line)
    if source.strip():
        embed.add_field(name="Source", value=source)
    return embed


def article_choices(articles: Sequence[Article], typed: str) -> list[tuple[str, str]]:
    """Autocomplete (name, value) pairs: articles whose id or title contains what was typed."""
    needle = typed.casefold().strip()
    scored = []
    for position, article in enumerate(articles):
        if length(article.id) > CHOICE_VALUE_MAX:
            continue  # Discord refuses longer choice values; the id can still be typed
        haystack_id, haystack_title = article.id.casefold(), article.title.casefold()
        if needle and needle not in haystack_id and needle not in haystack_title:
            continue
        rank = 0 if haystack_id.startswith(needle) else 1 if needle in haystack_id else 2
        scored.append((rank, position, article))
    scored.sort(key=lambda item: (item[0], item[1]))
    choices = []
    for _, _, article in scored[:AUTOCOMPLETE_MAX]:
        suffix = f" ({article.id})"
        room = CHOICE_NAME_MAX - length(suffix)
        if room >= 10:
            name = clip(article.title, room, plain) + suffix
        else:
            name = clip(article.id, CHOICE_NAME_MAX, plain)
        choices.append((name, article.id))
    return choices
