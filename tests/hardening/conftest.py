"""Fixtures for the hardening suite: the bot tests' fixtures, plus a full log capture."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.bot.conftest import _isolated_environment, asker, corpus_dir, emu, settings
from tests.emulator.fixtures import discord_emulator
from tests.hardening.support import LogCapture, capturing_logs

__all__ = [
    "_isolated_environment",
    "asker",
    "corpus_dir",
    "discord_emulator",
    "emu",
    "settings",
]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Every log record of every logger, DEBUG and up, while the test runs (any thread)."""
    with capturing_logs(logging.DEBUG) as capture:
        yield capture
