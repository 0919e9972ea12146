"""/help: what the bot does, its commands, and how to ask it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.notices import render_help
from bot.render import NO_MENTIONS

if TYPE_CHECKING:
    from bot.client import CitebotBot


class Help(commands.Cog):
    """Explaining the bot."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """What this bot does, its commands, and how to ask it a question."""
        name = self.bot.user.display_name if self.bot.user else "citebot"
        embed = render_help(name, auto_answer=bool(self.bot.settings.auto_answer_channel_ids))
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Help(bot))
