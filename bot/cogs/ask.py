"""/ask and the buttons under every answer: Show context, Why this answer, 👍 / 👎.

The buttons are `DynamicItem`s: their custom id holds the answer's row id in the
database, and one registered template handles every such button on every message,
including messages sent before the bot restarted. (`bot.add_view` persistent views
need their custom ids known when they are registered, which cannot work for one
button per stored answer.) Views made only of dynamic items are not kept in memory
per message by discord.py, so answering for months costs no memory either.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot.chat import ANSWER_BUTTON, answer_button_id
from bot.errors import BotError, report_error
from bot.render import NO_MENTIONS, render_answer, render_context, render_why
from bot.storage import StoredAnswer
from citebot.errors import CitebotError
from citebot.pipeline import context_of

if TYPE_CHECKING:
    from bot.client import CitebotBot

_BUTTONS: dict[str, tuple[str | None, str | None, discord.ButtonStyle]] = {
    # action: (label, emoji, style)
    "context": ("Show context", None, discord.ButtonStyle.secondary),
    "why": ("Why this answer", None, discord.ButtonStyle.secondary),
    "up": (None, "👍", discord.ButtonStyle.secondary),
    "down": (None, "👎", discord.ButtonStyle.secondary),
}


def citebot(interaction: discord.Interaction[Any]) -> CitebotBot:
    """The bot an interaction belongs to, typed."""
    from bot.client import CitebotBot

    client = interaction.client
    if not isinstance(client, CitebotBot):
        raise TypeError(f"expected a CitebotBot, got {type(client).__name__}")
    return client


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER_BUTTON):
    """One button under an answer; `citebot:answer:<action>:<answer id>`."""

    def __init__(self, action: str, answer_id: int) -> None:
        label, emoji, style = _BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=style,
                custom_id=answer_button_id(action, answer_id),
            )
        )
        self.action = action
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(match["action"], int(match["answer_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # discord.py only logs errors of dynamic items; route them to the user as well.
        try:
            await self._act(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def _act(self, interaction: discord.Interaction[Any]) -> None:
        bot = citebot(interaction)
        if self.action in ("up", "down"):
            vote = 1 if self.action == "up" else -1
            if not await bot.store.record_feedback(self.answer_id, interaction.user.id, vote):
                raise BotError("That answer is no longer on record, so the vote was not saved.")
            # Written and committed above, so the thanks below is never a lie.
            thanks = "Thanks: your 👍 is recorded." if vote > 0 else "Thanks: your 👎 is recorded."
            await interaction.response.send_message(
                thanks, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        stored = await bot.store.get_answer(self.answer_id)
        if stored is None:
            raise BotError("That answer is no longer on record.")
        if self.action == "context":
            text = context_text(bot, stored)
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            embed = render_why(
                stored.answer,
                threshold=bot.asker.min_confidence,
                current_version=bot.asker.index.version,
                question_logged=stored.question_logged,
            )
            await interaction.response.send_message(
                embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
            )


def context_text(bot: CitebotBot, stored: StoredAnswer) -> str:
    """The paragraph around a stored answer, from the article as it is now if it still matches."""
    answer = stored.answer
    if not answer.answered or not answer.citations:
        raise BotError("There is no context to show: that question was not answered.")
    first = answer.citations[0]
    start, end = answer.answer_start, answer.answer_end
    index = bot.asker.index
    article = index.corpus.get(first.article_id)
    if (
        article is not None
        and start is not None
        and end is not None
        and article.body[first.start : first.end] == first.quote
    ):
        try:
            context = context_of(index, first.article_id, start, end)
        except CitebotError:
            context = None
        if context is not None:
            return render_context(
                article.title,
                article.id,
                context.text,
                context.highlight_start,
                context.highlight_end,
            )
    # The article changed or went away since: show what was quoted then.
    offset = (start or first.start) - first.start
    span_end = (end or first.start) - first.start
    return render_context(
        first.title, first.article_id, first.quote, offset, span_end, changed=True
    )


def answer_view(stored: StoredAnswer | None) -> discord.ui.View | None:
    """The buttons under an answer (no timeout: they work as long as the row exists).

    None when the answer could not be stored: every button needs its row.
    """
    if stored is None:
        return None
    view = discord.ui.View(timeout=None)
    actions = ["context", "why", "up", "down"] if stored.answer.answered else ["why", "up", "down"]
    for action in actions:
        view.add_item(AnswerButton(action, stored.id))
    return view


async def autocomplete_articles(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Article ids whose id or title contains what has been typed."""
    from bot.render import article_choices

    articles = citebot(interaction).asker.corpus.articles
    return [
        app_commands.Choice(name=name, value=value)
        for name, value in article_choices(articles, current)
    ]


async def ask_cooldown(interaction: discord.Interaction[Any]) -> bool:
    """Per-user cooldown on asking (raises CommandOnCooldown, answered by on_error)."""
    error = await citebot(interaction).take_question(
        interaction.user.id, interaction.created_at.timestamp()
    )
    if error is not None:
        raise error
    return True


class Ask(commands.Cog):
    """Asking questions with /ask."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        # Discord enforces an option's max_length in the client. discord.py fixes it when the
        # class is defined, but ours comes from settings: replace this copy's parameter.
        params = self.ask._params
        params["question"] = dataclasses.replace(
            params["question"], max_value=bot.settings.max_question_chars
        )

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="What you want to know, e.g. when did the Hetao park open?",
        source="Only search this article (its id; start typing to pick one)",
        private="Show the answer to you only",
    )
    @app_commands.autocomplete(source=autocomplete_articles)
    @app_commands.check(ask_cooldown)
    async def ask(
        self,
        interaction: discord.Interaction[CitebotBot],
        question: str,
        source: str | None = None,
        private: bool = False,
    ) -> None:
        """Ask a question; the answer is quoted word for word from the articles, with sources."""
        # Discord allows 3 seconds for a first response; the answer can take longer.
        await interaction.response.defer(thinking=True, ephemeral=private)
        answer = await self.bot.ask(question, source)
        stored = await self.bot.record(
            answer,
            via="slash",
            private=private,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
        )
        await interaction.edit_original_response(
            content=render_answer(answer, self.bot.titles()),
            view=answer_view(stored),
            allowed_mentions=NO_MENTIONS,
        )
        interaction.extras["replied"] = True


async def setup(bot: CitebotBot) -> None:
    bot.add_dynamic_items(AnswerButton)
    await bot.add_cog(Ask(bot))
