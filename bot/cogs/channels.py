"""Questions asked in channels: @mentions, auto-answer channels, and replies to answers.

Follow-ups: replying to one of the bot's answers asks the new question of the
article that answer was quoted from first (`source=` that article), and of every
article only when that finds nothing. Restricting the source, rather than gluing
the earlier question in front of the new one, keeps the new question's own
question word (a "who" after a "when" still wants a person), needs only the
article id, which is stored even when question texts are not, and lets a short
"which district?" be answered from the article the conversation is about.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.chat import answer_id_in, looks_like_question, strip_mention
from bot.cogs.ask import answer_view, load_answer
from bot.errors import UNEXPECTED, BotError, user_message
from bot.render import NO_MENTIONS, render_error, thread_name
from bot.reply import render_answer
from bot.storage import StorageError, StoredAnswer
from citebot.cite import Answer

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)

HINT = "Ask me a question after the mention, e.g. *when did the Hetao park open?*, or use `/ask`."


class Channels(commands.Cog):
    """Answers questions in channels; needs no privileged intent except for auto-answering."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        bot = self.bot
        me = bot.user
        if me is None or message.author.bot or message.webhook_id or message.guild is None:
            return
        text = strip_mention(message.content, me.id)
        mentioned = me.id in message.raw_mentions  # written in the text, not just a reply's ping
        replied, previous = await self._replied_answer(message)
        # A reply to an answer is a follow-up when it asks something ("thanks!" is not).
        if replied and (mentioned or looks_like_question(text)):
            via = "followup"
        elif mentioned:
            via = "mention"
        elif (
            message.channel.id in bot.settings.auto_answer_channel_ids
            and looks_like_question(text)
            and len(text) <= bot.settings.max_question_chars
        ):
            via = "auto"
        else:
            return
        # Auto-answers stay silent on anything but an answer: nobody asked the bot directly.
        speak_up = via != "auto"
        if not text:
            if speak_up and via == "mention":
                await self._send(message, HINT, via)
            return
        cooldown = await bot.take_question(message.author.id)
        if cooldown is not None:
            if speak_up:
                await self._send(message, user_message(cooldown) or UNEXPECTED, via)
            return
        try:
            async with message.channel.typing():
                answer, note = await self._answer(text, previous)
                stored = await bot.record(
                    answer, via=via, guild_id=message.guild.id, channel_id=message.channel.id
                )
        except Exception as exc:
            reply = user_message(exc)
            if reply is None:
                log.error("unexpected error answering message %s", message.id, exc_info=exc)
                reply = UNEXPECTED
            else:
                log.info("message %s: %s", message.id, reply)
            if speak_up:
                await self._send(message, render_error(reply), via)
            return
        content = render_answer(answer, bot.asker.corpus, note=note)
        await self._send(message, content, via, view=answer_view(bot, stored), question=text)

    async def _replied_answer(self, message: discord.Message) -> tuple[bool, StoredAnswer | None]:
        """Whether the message replies to one of our answers, and that answer when it can
        be read (a follow-up on an answer that is gone is answered as a new question)."""
        reference = message.reference
        me = self.bot.user
        if reference is None or me is None:
            return False, None
        # Discord sends the replied-to message with the reply; no extra request is made.
        replied = reference.resolved if isinstance(reference.resolved, discord.Message) else None
        replied = replied or reference.cached_message
        if replied is None or replied.author.id != me.id:
            return False, None
        custom_ids = [
            child.custom_id
            for row in replied.components
            if isinstance(row, discord.ActionRow)
            for child in row.children
            if isinstance(child, discord.Button) and child.custom_id
        ]
        answer_id = answer_id_in(custom_ids)
        if answer_id is None:
            return False, None
        try:
            return True, await load_answer(self.bot, answer_id)
        except (BotError, StorageError) as exc:  # gone, unreadable or the database away:
            # the reply is answered as a new question
            log.info("message %s replies to answer %s: %s", message.id, answer_id, exc)
            return True, None

    async def _answer(self, text: str, previous: StoredAnswer | None) -> tuple[Answer, str | None]:
        """Answer `text`; a follow-up searches the earlier answer's article first."""
        bot = self.bot
        if previous is not None and previous.answer.answered and previous.answer.citations:
            article_id = previous.answer.citations[0].article_id
            article = bot.asker.corpus.get(article_id)
            if article is not None:
                answer = await bot.ask(text, source=article_id)
                if answer.answered:
                    # Raw: the reply escapes and clips it with the question line.
                    return answer, f"following up in “{article.title}”"
        return await bot.ask(text), None

    async def _send(
        self,
        message: discord.Message,
        content: str,
        via: str,
        *,
        view: discord.ui.View | None = None,
        question: str = "",
    ) -> None:
        """Reply to the message (or, for auto-answers with threads on, answer in a thread)."""
        channel = message.channel
        try:
            if (
                via == "auto"
                and self.bot.settings.auto_answer_threads
                and isinstance(channel, discord.TextChannel)
            ):
                try:
                    thread = await message.create_thread(name=thread_name(question))
                except discord.Forbidden:
                    log.warning("cannot create threads in #%s; replying instead", channel)
                else:
                    await thread.send(
                        content, view=view or discord.utils.MISSING, allowed_mentions=NO_MENTIONS
                    )
                    return
            await channel.send(
                content,
                view=view or discord.utils.MISSING,
                # The question may be deleted meanwhile: answer anyway, without the reply link.
                reference=message.to_reference(fail_if_not_exists=False),
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("could not answer message %s in #%s: %s", message.id, channel, exc)


async def setup(bot: CitebotBot) -> None:
    await bot.add_cog(Channels(bot))
