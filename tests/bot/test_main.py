"""Starting the bot: `run()` exit codes and messages, proxies from settings, sharding."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import discord.gateway
import discord.http
import pytest
from discord.ext import commands
from pydantic import SecretStr

from bot.__main__ import run
from bot.client import CitebotBot, create_bot
from bot.settings import BotSettings
from citebot.cli import main as cli_main
from citebot.pipeline import Asker
from tests.bot.support import READY, TEST_TIMEOUT, running
from tests.emulator import DiscordEmulator
from tests.services import free_port


@contextlib.contextmanager
def restored_endpoints() -> Iterator[None]:
    """Put discord.py's REST base and gateway URL back after code that sets them."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def test_run_without_a_token_says_so_in_one_sentence(
    settings: BotSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """No DISCORD_TOKEN: exit code 2 and one line saying where to get it, no traceback."""
    assert run(settings) == 2
    err = capsys.readouterr().err
    assert err.startswith("citebot: DISCORD_TOKEN is not set; copy the bot's token")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_citebot_bot_runs_the_bot_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    """`citebot bot` reaches bot.__main__.run (here: stopping at the missing token)."""
    assert cli_main(["bot"]) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


def test_a_bad_setting_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed bot variable stops `citebot bot` with its name and the problem."""
    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setenv("CITEBOT_GUILD_IDS", "12,general")
    assert cli_main(["bot"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("citebot: bad setting: CITEBOT_GUILD_IDS:")
    assert "'general' is not a Discord id" in err and "Traceback" not in err


async def test_a_rejected_token_ends_with_one_sentence_and_never_shows_the_token(
    settings: BotSettings, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refusing the token: exit code 2, one sentence, the token in no output or log."""
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-value-1234"
    async with DiscordEmulator(token="the-right-token") as emu:
        settings = settings.model_copy(
            update={
                "discord_token": SecretStr(wrong),
                "discord_api_base": emu.api_base,  # run() points discord.py here itself
                "discord_gateway_url": emu.gateway_url,
            }
        )
        with restored_endpoints():
            code = await asyncio.wait_for(asyncio.to_thread(run, settings), TEST_TIMEOUT)
        assert [(c.method, c.path, c.status) for c in emu.calls] == [("GET", "/users/@me", 401)]
        assert emu.unexpected == []
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "citebot: Discord rejected DISCORD_TOKEN; copy the bot's token again from the developer "
        "portal (your application -> Bot -> Reset Token)\n"
    )
    assert wrong not in err and wrong not in caplog.text


async def test_proxy_settings_point_discord_py_at_another_host(
    settings: BotSettings, asker: Asker
) -> None:
    """CITEBOT_DISCORD_API_BASE / _GATEWAY_URL alone get the bot logged in (no test patching)."""
    async with DiscordEmulator() as emu:
        settings = settings.model_copy(
            update={"discord_api_base": emu.api_base, "discord_gateway_url": emu.gateway_url}
        )
        with restored_endpoints():
            bot = create_bot(settings, asker)
            async with (
                asyncio.timeout(TEST_TIMEOUT),
                emu.run_client(bot, guild_ready_timeout=READY, patch=False),
            ):
                assert emu.api_base == discord.http.Route.BASE
        assert len(emu.identifies) == 1
        assert emu.unexpected == [] and emu.error_calls == []


async def test_shard_count_runs_an_autosharded_bot(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """CITEBOT_SHARD_COUNT makes the same bot an AutoShardedBot that identifies every shard."""
    settings = settings.model_copy(update={"shard_count": 2})
    bot = create_bot(settings, asker)
    assert isinstance(bot, CitebotBot) and isinstance(bot, commands.AutoShardedBot)
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        emu.run_client(bot, guild_ready_timeout=READY, skip_identify_delay=True),
    ):
        inter = await emu.send_slash_command("help")
        await inter.wait_for_reply()
    assert sorted(tuple(i["shard"]) for i in emu.identifies) == [(0, 2), (1, 2)]


async def test_plain_bot_is_not_sharded(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """Without CITEBOT_SHARD_COUNT the bot is a plain Bot with one gateway connection."""
    async with running(emu, settings, asker) as bot:
        assert not isinstance(bot, commands.AutoShardedBot)
    assert len(emu.identifies) == 1 and "shard" not in emu.identifies[0]


@pytest.mark.parametrize(
    ("close_code", "expected"),
    [
        (
            4014,
            "citebot: Discord refused the Message Content intent that auto-answer channels need",
        ),
        (4004, "citebot: Discord rejected DISCORD_TOKEN"),
    ],
)
async def test_run_logs_in_and_ends_with_one_sentence_when_the_gateway_refuses(
    settings: BotSettings, capsys: pytest.CaptureFixture[str], close_code: int, expected: str
) -> None:
    """run() starts the real bot (corpus, database, sync, gateway); a fatal close is one sentence."""
    async with DiscordEmulator() as emu:
        settings = settings.model_copy(
            update={
                "discord_token": SecretStr("any-token"),
                "discord_api_base": emu.api_base,
                "discord_gateway_url": emu.gateway_url,
                "auto_answer_channel_ids": [emu.channel.id],
            }
        )
        with restored_endpoints():
            running_bot = asyncio.create_task(asyncio.to_thread(run, settings))
            await emu.wait_until_connected(timeout=TEST_TIMEOUT)
            assert {c["name"] for c in emu.commands[None]} >= {"ask", "reload"}
            await emu.drop_gateway(code=close_code)
            code = await asyncio.wait_for(running_bot, TEST_TIMEOUT)
        assert emu.unexpected == [] and emu.error_calls == []
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1
    assert settings.db_path.exists()


async def test_a_guild_the_bot_is_not_in_stops_it_with_a_sentence(
    settings: BotSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """CITEBOT_GUILD_IDS naming a server the bot cannot register commands in: exit 2, one sentence."""
    async with DiscordEmulator() as emu:
        settings = settings.model_copy(
            update={
                "discord_token": SecretStr("any-token"),
                "discord_api_base": emu.api_base,
                "discord_gateway_url": emu.gateway_url,
                "guild_ids": [12345],
            }
        )
        with restored_endpoints():
            code = await asyncio.wait_for(asyncio.to_thread(run, settings), TEST_TIMEOUT)
        assert emu.unexpected == []
        assert [c.status for c in emu.error_calls] == [403]  # Missing Access, as on Discord
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("citebot: cannot register commands in guild 12345: the bot is not in it")
    assert err.count("\n") == 1


def test_shard_ids_without_a_count_stop_with_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """CITEBOT_SHARD_IDS alone stops `citebot bot` (exit 2) saying that the count is needed."""
    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setenv("CITEBOT_SHARD_IDS", "1")
    assert cli_main(["bot"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("citebot: bad setting: CITEBOT_SHARD_IDS:")
    assert "need CITEBOT_SHARD_COUNT" in err and "Traceback" not in err


async def test_shard_ids_run_only_those_shards(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """CITEBOT_SHARD_IDS=1 of CITEBOT_SHARD_COUNT=2: this process identifies shard 1 only."""
    settings = settings.model_copy(update={"shard_count": 2, "shard_ids": [1]})
    bot = create_bot(settings, asker)
    assert isinstance(bot, commands.AutoShardedBot) and bot.shard_ids == [1]
    async with asyncio.timeout(TEST_TIMEOUT), emu.run_client(bot, guild_ready_timeout=READY):
        pass
    assert [tuple(i["shard"]) for i in emu.identifies] == [(1, 2)]


async def test_an_unreachable_database_or_redis_stops_with_one_sentence(
    settings: BotSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PostgreSQL or Redis URL nothing answers at: exit 2, the place (no password), no traceback."""
    port = free_port()
    for update in (
        {"database_url": SecretStr(f"postgresql://bot:pw@127.0.0.1:{port}/citebot")},
        {"redis_url": SecretStr(f"redis://:pw@127.0.0.1:{port}/0")},
    ):
        async with DiscordEmulator() as emu:
            broken = settings.model_copy(
                update={
                    **update,
                    "discord_token": SecretStr("x"),
                    "discord_api_base": emu.api_base,
                    "discord_gateway_url": emu.gateway_url,
                }
            )
            with restored_endpoints():
                code = await asyncio.wait_for(asyncio.to_thread(run, broken), TEST_TIMEOUT)
        assert code == 2
        err = capsys.readouterr().err
        assert err.startswith("citebot: cannot ") and f"127.0.0.1:{port}" in err, err
        assert ":pw@" not in err and "Traceback" not in err
