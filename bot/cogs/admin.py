"""/reload and /stats, for server administrators only.

`default_permissions(administrator=True)` hides the commands from other members by
default, but a server can change who sees a command; the check below asks again,
of the member who actually invoked it, every time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAdmin
from bot.notices import StatsView, render_reload, render_stats
from bot.render import NO_MENTIONS

if TYPE_CHECKING:
    from bot.client import CitebotBot


async def is_admin(interaction: discord.Interaction[Any]) -> bool:
    """The invoking member has Administrator in this channel (else NotAdmin)."""
    if interaction.guild is None or not interaction.permissions.administrator:
        raise NotAdmin("administrator permission required")
    return True


class Admin(commands.Cog):
    """Maintaining the bot: reloading the articles, reading the statistics."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    @app_commands.command(name="reload")
    @app_commands.default_permissions(administrator=True)
    @app_commands.guild_only()
    @app_commands.check(is_admin)
    async def reload(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """Re-read the article folder; files that fail are reported and keep their old version."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        outcome = await self.bot.reload_corpus()
        await interaction.edit_original_response(
            content=render_reload(outcome), allowed_mentions=NO_MENTIONS
        )
        interaction.extras["replied"] = True

    @app_commands.command(name="stats")
    @app_commands.default_permissions(administrator=True)
    @app_commands.guild_only()
    @app_commands.check(is_admin)
    async def stats(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """Questions asked, answered and not, feedback, and the most frequent unanswered ones."""
        stats = await self.bot.store.stats(top=10)
        view = StatsView(
            asked=stats.asked,
            answered=stats.answered,
            abstained=stats.abstained,
            helpful=stats.helpful,
            unhelpful=stats.unhelpful,
            top_unanswered=[(u.question, u.question_hash, u.count) for u in stats.top_unanswered],
            corpus_version=self.bot.asker.index.version,
        )
        await interaction.response.send_message(
            embed=render_stats(view), ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Admin(bot))
