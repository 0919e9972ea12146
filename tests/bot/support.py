"""Helpers for driving the real bot through the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from bot.client import CitebotBot, create_bot
from bot.settings import BotSettings
from citebot.pipeline import Asker
from tests.emulator import DiscordEmulator, RecordedCall, StoredMessage

READY = 0.05  # guild_ready_timeout: on_ready 50 ms after the last GUILD_CREATE
TEST_TIMEOUT = 120.0  # a guard against hangs, not a speed test: machines here are shared
QUESTION = "When did the Hong Kong Science Park open a branch in Shenzhen?"


@contextlib.asynccontextmanager
async def running(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker | None = None
) -> AsyncIterator[CitebotBot]:
    """The real bot from `create_bot`, logged into the emulator until the block ends."""
    bot = create_bot(settings, asker)
    async with asyncio.timeout(TEST_TIMEOUT), emu.run_client(bot, guild_ready_timeout=READY):
        yield bot


def message_bodies(emu: DiscordEmulator) -> list[Any]:
    """Every request body in which the bot sent or edited a message."""
    return bodies_in(emu.calls)


def bodies_in(calls: Sequence[RecordedCall]) -> list[Any]:
    """The request bodies among `calls` that send or edit a message (interaction callbacks too)."""
    bodies = []
    for call in calls:
        body = call.json
        if not isinstance(body, dict):
            continue
        if call.method == "POST" and call.path.startswith("/interactions/"):
            body = body.get("data") or {}
        if "content" in body or "embeds" in body or "components" in body:
            bodies.append(body)
    return bodies


def assert_never_pings(emu: DiscordEmulator) -> None:
    """Every message the bot sent allows no mentions at all."""
    bodies = message_bodies(emu)
    assert bodies
    for body in bodies:
        allowed = body.get("allowed_mentions")
        assert allowed is not None, body
        assert allowed.get("parse") == [], body
        assert not allowed.get("users") and not allowed.get("roles"), body
        assert not allowed.get("replied_user"), body


def custom_ids(message: StoredMessage) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row.get("components", [])]


def rows(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Query the bot's SQLite file directly (a separate connection, as an operator would)."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return db.execute(sql, args).fetchall()


def headline(asker: Asker, question: str = QUESTION) -> str:
    """The reply's headline line for `question`: the answer's resolved date or span, worded
    by its tier (both come from the shipped model, which retraining moves)."""
    answer = asker.ask(question)
    value = f"**{answer.normalized_text or answer.answer}**"
    return value if answer.tier == "answer" else f"Possible answer — check the quote: {value}"


def marked(asker: Asker, question: str = QUESTION) -> str:
    """The answer's span as the reply marks it inside its quote."""
    return f"__**{asker.ask(question).answer}**__"
