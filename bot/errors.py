"""Small domain errors become short ephemeral replies; anything else is logged with its traceback.

One handler (`report_error`) serves the command tree's `on_error` and the buttons,
so every failure reaches the user the same way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord
from discord import app_commands

from bot.render import NO_MENTIONS, code, escape_line, render_error, sentence
from bot.storage import StoreUnavailable
from citebot.errors import CitebotError, QuestionError, UnknownSourceError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on my side; it has been logged. Please try again later."


class BotError(app_commands.AppCommandError):
    """A request the bot cannot serve, with a message for the user (Markdown-safe)."""


class NotAdmin(app_commands.CheckFailure):
    """The invoking member is not a server administrator."""


class ConfigError(CitebotError):
    """The bot's configuration cannot work (e.g. a guild it is not in); says what to change."""


def user_message(error: BaseException) -> str | None:
    """The short message for an error the user can act on, or None for a bug.

    Only a QuestionError of the core is the asker's to fix; any other CitebotError
    (a missing file, a broken corpus) is the operator's, so it is logged in full.
    """
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.CommandOnCooldown):
        when = int(time.time() + error.retry_after) + 1
        return f"You are asking quickly: you can ask again <t:{when}:R>."
    if isinstance(error, NotAdmin):
        return "Only server administrators can use this command."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    if isinstance(error, app_commands.TransformerError):
        return "One of the options was not understood; check it and try again."
    if isinstance(error, UnknownSourceError):
        return f"No article has the id {code(error.article_id, 120)}; `/sources` lists them."
    if isinstance(error, QuestionError):
        return sentence(escape_line(str(error)))
    if isinstance(error, BotError):
        return str(error)
    if isinstance(error, StoreUnavailable):
        return "The database is out of reach right now, so this was not saved; try again soon."
    return None


# Discord's answers once an interaction can no longer be answered: acknowledged after its
# 3 seconds (10062), or its 15-minute token has expired (50027, 10015).
EXPIRED_CODES = frozenset({10062, 50027, 10015})


def interaction_expired(error: BaseException) -> bool:
    """Whether Discord refused because the interaction can no longer be answered at all."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return isinstance(error, discord.HTTPException) and error.code in EXPIRED_CODES


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user briefly (ephemeral) and log: a traceback for bugs, one line otherwise."""
    where = _describe(interaction)
    if interaction_expired(error):
        # Network weather, not a bug; and any reply would be refused the same way.
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.warning("%s: the interaction expired before it was answered (%s)", where, cause)
        return
    message = user_message(error)
    if message is None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("unexpected error in %s", where, exc_info=cause)
        message = UNEXPECTED
    else:
        log.info("%s: %s", where, message)
    try:
        await send_ephemeral(interaction, render_error(message))
    except discord.HTTPException as exc:  # the interaction expired or was deleted
        log.warning("could not tell the user about an error in %s: %s", where, exc)


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """An ephemeral message, however far the interaction has got."""
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    thinking = interaction.response.type is discord.InteractionResponseType.deferred_channel_message
    if thinking and not interaction.extras.get("replied"):
        # A "thinking…" placeholder would turn the error public: remove it first.
        await interaction.delete_original_response()
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _describe(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    return f"component {custom_id}" if custom_id else f"interaction {interaction.type.name}"
