"""/sources (the article list, paged with buttons) and /source (one article).

The Previous/Next buttons are `DynamicItem`s whose custom id is the page they lead
to (`citebot:sources:3`): a click is served from the id alone, by whichever bot
process is running, so the buttons keep working after a restart without keeping a
view per message in memory.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import SOURCES_PAGE, sources_page_id
from bot.cogs.ask import autocomplete_articles, citebot
from bot.errors import report_error
from bot.listing import render_source, render_sources_page
from bot.notices import render_feeds
from bot.render import NO_MENTIONS
from citebot.errors import UnknownSourceError
from citebot.feeds.feeds import feed_states

if TYPE_CHECKING:
    from bot.client import CitebotBot


class SourcesPageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SOURCES_PAGE):
    """Previous / Next under the article list: `citebot:sources:<page it shows>`."""

    def __init__(self, page: int, *, label: str = "Go", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=sources_page_id(page),
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            embed, view = sources_message(citebot(interaction), self.page)
            await interaction.response.edit_message(
                embed=embed, view=view, allowed_mentions=NO_MENTIONS
            )
        except Exception as exc:
            await report_error(interaction, exc)


def sources_message(bot: CitebotBot, page: int) -> tuple[discord.Embed, discord.ui.View | None]:
    """The embed of one page and its Previous/Next buttons (none for a single page)."""
    asker = bot.asker
    embed, page, pages = render_sources_page(asker.corpus.articles, page)
    if pages == 1:
        return embed, None
    view = discord.ui.View(timeout=None)
    # Distinct ids on every page: page-1 and page+1 (a disabled one still needs an id).
    view.add_item(SourcesPageButton(page - 1, label="Previous", disabled=page <= 1))
    view.add_item(SourcesPageButton(page + 1, label="Next", disabled=page >= pages))
    return embed, view


class Sources(commands.Cog):
    """Listing and showing the articles."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    # Both answer privately unless asked to post: a list of articles is something one
    # person looks up, and would otherwise push the channel's conversation out of sight.
    @app_commands.command(name="sources")
    @app_commands.describe(
        page="Which page of the list to show (10 articles a page)",
        public="Post the list in the channel for everyone (by default only you see it)",
    )
    async def sources(
        self,
        interaction: discord.Interaction[CitebotBot],
        page: app_commands.Range[int, 1] = 1,
        public: bool = False,
    ) -> None:
        """List every article the bot answers from: title, date and source."""
        embed, view = sources_message(self.bot, page)
        await interaction.response.send_message(
            embed=embed,
            view=view or discord.utils.MISSING,
            ephemeral=not public,
            allowed_mentions=NO_MENTIONS,
        )
        settings = self.bot.settings
        if settings.feeds and interaction.guild and interaction.permissions.administrator:
            # The feeds' health is the administrators' business: shown to them alone.
            states = await asyncio.to_thread(feed_states, settings.corpus_dir, settings.feeds)
            await interaction.followup.send(
                render_feeds(states), ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    @app_commands.command(name="source")
    @app_commands.describe(
        article="The article (start typing its title to pick one)",
        public="Post the article in the channel for everyone (by default only you see it)",
    )
    @app_commands.autocomplete(article=autocomplete_articles)
    async def source(
        self, interaction: discord.Interaction[CitebotBot], article: str, public: bool = False
    ) -> None:
        """Show one article: title, link, date, source and its first paragraph."""
        asker = self.bot.asker
        found = asker.corpus.get(article.strip())
        if found is None:
            raise UnknownSourceError(article, asker.corpus.ids)
        await interaction.response.send_message(
            embed=render_source(found), ephemeral=not public, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: CitebotBot) -> None:
    bot.add_dynamic_items(SourcesPageButton)
    await bot.add_cog(Sources(bot))
