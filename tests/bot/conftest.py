"""Fixtures for the bot's tests: a tmp corpus, tmp database, isolated settings, the emulator."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.settings import BotSettings
from citebot.corpus.folder import load_corpus
from citebot.pipeline import Asker
from citebot.retrieval.index import Index
from tests.conftest import SHIPPED
from tests.emulator import DiscordEmulator
from tests.emulator.fixtures import discord_emulator

__all__ = ["discord_emulator"]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No CITEBOT_* variable, DISCORD_TOKEN or .env of the developer's reaches a test."""
    for name in list(os.environ):
        if name.startswith("CITEBOT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped corpus/ (tests may break or delete files in it)."""
    target = tmp_path / "corpus"
    shutil.copytree(SHIPPED, target)
    return target


@pytest.fixture(scope="session")
def asker() -> Asker:
    """One Asker over the shipped corpus, shared by the bots of every test (no disk cache)."""
    return Asker(Index.build(load_corpus(SHIPPED)))


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> BotSettings:
    """Bot settings for a test: tmp corpus copy, tmp database, a roomy cooldown, no .env."""
    return BotSettings(
        _env_file=None,  # type: ignore[call-arg]
        corpus_dir=corpus_dir,
        cache_dir=tmp_path / "cache",
        use_cache=False,
        db_path=tmp_path / "data" / "citebot.sqlite3",
        ask_cooldown_rate=100,
    )


@pytest_asyncio.fixture
async def emu(
    discord_emulator: DiscordEmulator, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[DiscordEmulator]:
    """The emulator; afterwards no unknown route was called, no call failed, nothing logged an error."""
    caplog.set_level(logging.INFO)
    yield discord_emulator
    assert discord_emulator.unexpected == []
    assert discord_emulator.error_calls == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
