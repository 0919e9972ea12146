"""/add (a web page by URL, for administrators) and the feed poll every few minutes.

Fetching and writing the articles run on a worker thread (`asyncio.to_thread`): a
slow site never blocks the event loop. When a poll or /add brings anything in, the
corpus is reloaded as /reload does it (`CitebotBot.reload_corpus`: built off the loop,
swapped in one assignment), so questions keep being answered meanwhile; but only the
files it wrote are read, without a scan of the folder (182k files at 1M passages).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.cogs.admin import is_admin
from bot.notices import render_added
from bot.render import NO_MENTIONS
from citebot.corpus.snapshot import Written
from citebot.feeds.feeds import PollResult, add_page, poll_all, written_by
from citebot.feeds.fetch import Fetcher, FetchError, FetchPolicy

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)


class Feeds(commands.Cog):
    """Bringing news in from the web: pages by URL and the configured feeds."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self._poll_lock = asyncio.Lock()

    def fetcher(self) -> Fetcher:
        """A fetcher under the bot's settings (a fresh robots.txt cache per poll)."""
        return Fetcher(FetchPolicy(allow_private=self.bot.settings.fetch_allow_private))

    async def cog_load(self) -> None:
        if self.bot.settings.feeds:
            self.poll_loop.change_interval(minutes=self.bot.settings.feed_interval_minutes)
            self.poll_loop.start()

    async def cog_unload(self) -> None:
        self.poll_loop.cancel()

    @tasks.loop(minutes=15)
    async def poll_loop(self) -> None:
        """Every CITEBOT_FEED_INTERVAL_MINUTES; the first run is right after start-up."""
        try:
            await self.poll()
        except Exception:  # one bad poll must not end the loop: the next one may work
            log.exception("polling the feeds failed")

    async def poll(self) -> list[PollResult]:
        """Poll every feed once (off the loop) and reload when anything came in."""
        settings = self.bot.settings
        async with self._poll_lock:
            results = await asyncio.to_thread(
                poll_all, self.fetcher(), settings.corpus_dir, list(settings.feeds)
            )
            for result in results:
                for failure in result.failures:
                    log.warning("feed %s: %s", result.feed, failure)
            if any(r.added or r.replaced for r in results):
                outcome = await self.bot.reload_corpus(written=written_by(results))
                log.info(
                    "feeds: %d new, %d replaced; now %d articles",
                    sum(len(r.added) for r in results),
                    sum(len(r.replaced) for r in results),
                    outcome.articles,
                )
        return results

    @app_commands.command(name="add")
    @app_commands.describe(url="The web page's address (http or https)")
    @app_commands.default_permissions(administrator=True)
    @app_commands.guild_only()
    @app_commands.check(is_admin)
    async def add(self, interaction: discord.Interaction[CitebotBot], url: str) -> None:
        """Add a news article from the web by its URL; it is answerable right after."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            corpus_dir = self.bot.settings.corpus_dir
            path, article = await asyncio.to_thread(
                add_page, self.fetcher(), corpus_dir, url.strip()
            )
        except (FetchError, OSError) as exc:
            text = render_added(None, url=url.strip(), error=str(getattr(exc, "reason", exc)))
        else:
            written = Written((path.relative_to(corpus_dir).as_posix(),))
            outcome = await self.bot.reload_corpus(written=written)
            text = render_added(article, url=url.strip(), articles=outcome.articles)
        await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
        interaction.extras["replied"] = True


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Feeds(bot))
