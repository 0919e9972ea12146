"""Pytest fixtures for the emulator. Re-export them from a conftest.py to use them elsewhere::

# tests/some_dir/conftest.py
from tests.emulator.fixtures import discord_emulator  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import DiscordEmulator


@pytest_asyncio.fixture
async def discord_emulator() -> AsyncIterator[DiscordEmulator]:
    """A started emulator (default world) with discord.py pointed at it; stopped afterwards.

    Tests should close their clients before the fixture tears down (``run_client`` does).
    """
    async with DiscordEmulator() as emulator:
        with emulator.patch_discord():
            yield emulator
