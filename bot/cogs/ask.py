"""/ask and the buttons under every answer: Read the article, More context, Why, 👍 / 👎.

The buttons are `DynamicItem`s: their custom id holds the answer's row id in the
database, and one registered template handles every such button on every message,
including messages sent before the bot restarted. (`bot.add_view` persistent views
need their custom ids known when they are registered, which cannot work for one
button per stored answer.) Views made only of dynamic items and link buttons are not
kept in memory per message by discord.py, so answering for months costs no memory.

A vote updates the answer message itself: the button of each kind of vote given is
coloured and counts its votes, and clicking your own vote again takes it back.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, Self

import discord
import pydantic
from discord import app_commands
from discord.ext import commands

from bot.chat import ANSWER_BUTTON, answer_button_id
from bot.errors import BotError, report_error
from bot.render import NO_MENTIONS, link_text
from bot.reply import render_answer, render_more_context, render_why
from bot.storage import StoredAnswer
from citebot.cite import Answer
from citebot.context import more_context

if TYPE_CHECKING:
    from bot.client import CitebotBot

_BUTTONS: dict[str, tuple[str | None, str | None]] = {
    # action: (label, emoji)
    "context": ("More context", None),
    "why": ("Why this answer", None),
    "up": (None, "👍"),
    "down": (None, "👎"),
}
# The colour a vote button takes once that vote has been given.
_VOTED = {"up": discord.ButtonStyle.success, "down": discord.ButtonStyle.danger}
UNREADABLE = (
    "That answer was saved by an older version of the bot and can no longer be read; "
    "ask the question again."
)


def citebot(interaction: discord.Interaction[Any]) -> CitebotBot:
    """The bot an interaction belongs to, typed."""
    from bot.client import CitebotBot

    client = interaction.client
    if not isinstance(client, CitebotBot):
        raise TypeError(f"expected a CitebotBot, got {type(client).__name__}")
    return client


async def load_answer(bot: CitebotBot, answer_id: int) -> StoredAnswer:
    """The stored answer, or a BotError saying in one sentence why it cannot be had."""
    try:
        stored = await bot.store.get_answer(answer_id)
    except (pydantic.ValidationError, ValueError) as exc:
        # A row written by an older version (e.g. a score stored as null): the bot says
        # so rather than failing; the row itself is left as it is.
        raise BotError(UNREADABLE) from exc
    if stored is None:
        raise BotError("That answer is no longer on record.")
    return stored


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER_BUTTON):
    """One button under an answer; `citebot:answer:<action>:<answer id>`."""

    def __init__(
        self,
        action: str,
        answer_id: int,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        default_label, emoji = _BUTTONS[action]
        super().__init__(
            discord.ui.Button(
                label=label or default_label,
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
            await self._vote(interaction, bot)
            return
        stored = await load_answer(bot, self.answer_id)
        if self.action == "context":
            await interaction.response.send_message(
                context_text(bot, stored.answer), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        embed = render_why(
            stored.answer,
            threshold=bot.asker.min_confidence,
            answer_threshold=bot.asker.answer_confidence,
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def _vote(self, interaction: discord.Interaction[Any], bot: CitebotBot) -> None:
        """Record the vote (or take it back when it is the user's vote already), then show it."""
        vote = 1 if self.action == "up" else -1
        user = interaction.user.id
        store = bot.store
        before = dict(await store.feedback_for(self.answer_id))
        if before.get(user) == vote:
            await store.clear_feedback(self.answer_id, user)
        elif not await store.record_feedback(self.answer_id, user, vote):
            raise BotError("That answer is no longer on record, so the vote was not saved.")
        # Written and committed above, so what the message shows next is never a lie.
        votes = [v for _, v in await store.feedback_for(self.answer_id)]
        try:
            stored = await load_answer(bot, self.answer_id)
        except BotError:  # the vote counts, but the old row's buttons cannot be redrawn
            done = "taken back" if before.get(user) == vote else "recorded"
            await interaction.response.send_message(
                f"Your vote is {done}.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        view = answer_view(bot, stored, votes=(votes.count(1), votes.count(-1)))
        await interaction.response.edit_message(view=view, allowed_mentions=NO_MENTIONS)


def context_text(bot: CitebotBot, answer: Answer) -> str:
    """The sentences around a stored answer's quote, from the article as it is now."""
    if not answer.answered or not answer.citations:
        raise BotError("There is no context to show: that question was not answered.")
    groups = more_context(bot.asker.index, answer)
    if not groups:
        raise BotError(
            "The article this answer quoted has changed or gone since; ask again for an "
            "answer from its current text."
        )
    return render_more_context(groups, answer)


def answer_view(
    bot: CitebotBot, stored: StoredAnswer | None, *, votes: tuple[int, int] = (0, 0)
) -> discord.ui.View | None:
    """The buttons under an answer (no timeout: they work as long as the row exists).

    None when the answer could not be stored: every button but the link needs its row.
    """
    if stored is None:
        return None
    answer = stored.answer
    view = discord.ui.View(timeout=None)
    url = answer.citations[0].url if answer.answered and answer.citations else None
    if url and link_text(url, 512):
        view.add_item(discord.ui.Button(label="Read the article", url=url))
    # "More context" only when it adds text beyond the quote.
    if answer.answered and more_context(bot.asker.index, answer):
        view.add_item(AnswerButton("context", stored.id))
    why = "Why this answer" if answer.answered else "Why no answer"
    view.add_item(AnswerButton("why", stored.id, label=why))
    for action, count in zip(("up", "down"), votes, strict=True):
        style = _VOTED[action] if count else discord.ButtonStyle.secondary
        view.add_item(
            AnswerButton(action, stored.id, label=str(count) if count else None, style=style)
        )
    return view


async def autocomplete_articles(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Article ids whose id or title contains what has been typed."""
    from bot.listing import article_choices

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
        """Ask a question; the answer is quoted word for word from the articles, with its source."""
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
            content=render_answer(answer, self.bot.asker.corpus),
            view=answer_view(self.bot, stored),
            allowed_mentions=NO_MENTIONS,
        )
        interaction.extras["replied"] = True


async def setup(bot: CitebotBot) -> None:
    bot.add_dynamic_items(AnswerButton)
    await bot.add_cog(Ask(bot))
