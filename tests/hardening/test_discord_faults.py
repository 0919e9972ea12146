"""Network weather, injected by the emulator: the bot keeps answering through every fault.

Gateway drops (RESUME, or a new IDENTIFY), REST 429s and 500s, an interaction answered
too late or whose token expired, and an interaction from a guild the bot never saw.
The gateway tests run the bot the way `citebot bot` does (`bot.__main__._serve`, which
points discord.py at the proxy URLs itself), so they hold the shipped entry point to
reconnecting, not a test harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

import bot.__main__
from bot.client import CitebotBot, create_bot
from bot.settings import BotSettings
from citebot.pipeline import Asker
from tests.bot.support import QUESTION, READY, TEST_TIMEOUT, rows
from tests.emulator import DiscordEmulator, FakeGuild, FakeMember, InteractionRecord
from tests.hardening.support import (
    GatedAsker,
    LogCapture,
    assert_cannot_ping,
    bounded,
    button,
    is_answer,
    opened_on_exit,
    serving,
    until,
    voted,
)

TOKEN = "fake-token-for-the-fault-tests"


@contextlib.asynccontextmanager
async def shipped_bot(
    emu: DiscordEmulator,
    settings: BotSettings,
    asker: Asker,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[CitebotBot]:
    """The bot run by `bot.__main__._serve`, as `citebot bot` runs it, logged into the emulator."""
    made: list[CitebotBot] = []

    def create(settings: BotSettings) -> CitebotBot:
        made_bot = create_bot(settings, asker)  # the shared Asker: no corpus load per test
        made_bot._connection.guild_ready_timeout = READY

        async def no_identify_delay(shard_id: int | None, *, initial: bool = False) -> None:
            """discord.py waits 5 s before each IDENTIFY but the first; tests need not."""

        made_bot.before_identify_hook = no_identify_delay  # type: ignore[method-assign]
        made.append(made_bot)
        return made_bot

    monkeypatch.setattr(bot.__main__, "create_bot", create)
    settings = settings.model_copy(
        update={
            "discord_api_base": emu.api_base,
            "discord_gateway_url": emu.gateway_url,
            "discord_token": SecretStr(TOKEN),
        }
    )
    task = asyncio.create_task(bot.__main__._serve(settings, TOKEN))
    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            await emu.wait_until(lambda: (made and made[0].is_ready()) or task.done(), 10, "ready")
            if task.done():
                task.result()
            yield made[0]
    finally:
        if made:
            await bounded(made[0].close(), 5)
        with contextlib.suppress(Exception):
            await bounded(task, 5)
        task.cancel()


async def answered(emu: DiscordEmulator, user: FakeMember | None = None) -> str:
    inter = await emu.send_slash_command("ask", {"question": QUESTION}, user=user)
    return (await inter.wait_for_reply(10)).content


# ---------------------------------------------------------------- the gateway


@pytest.mark.parametrize("invalidate", [False, True], ids=["resume", "re-identify"])
async def test_a_dropped_gateway_mid_question_is_resumed_and_the_next_question_answered(
    emu: DiscordEmulator,
    settings: BotSettings,
    asker: Asker,
    monkeypatch: pytest.MonkeyPatch,
    invalidate: bool,
) -> None:
    """The gateway drops while a question is being answered: that answer still arrives, the bot
    RESUMEs (or IDENTIFYs again when the session is gone), and the next question is answered."""
    gated = GatedAsker(asker)
    with opened_on_exit(gated):
        async with shipped_bot(emu, settings, gated, monkeypatch) as running:
            gated.gate.set()
            assert is_answer(await answered(emu))
            gated.gate.clear()
            in_flight = await emu.send_slash_command("ask", {"question": QUESTION})
            await in_flight.wait_for_response()  # acknowledged ("thinking…"), being computed
            await until(lambda: gated.running == 1, "the question to be computed")
            await emu.drop_gateway(invalidate_session=invalidate)
            gated.gate.set()
            assert is_answer((await in_flight.wait_for_reply(10)).content)
            await emu.wait_until(lambda: running.is_ready() and emu.gateway.current, 10, "back")
            await emu.wait_until_connected(10)
            assert is_answer(await answered(emu))
            mention = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
            assert is_answer((await emu.wait_for_bot_message(reply_to=mention, timeout=10)).content)
    kinds = [c.kind for c in emu.connections]
    # A lost session: RESUME is refused (INVALID_SESSION), then a fresh IDENTIFY.
    assert kinds == (["identify", "resume", "identify"] if invalidate else ["identify", "resume"])
    assert emu.connections[0].closed_by_server and emu.connections[0].close_code == 4000
    assert emu.unexpected == [] and emu.error_calls == []


# ---------------------------------------------------------------- REST faults


async def test_a_429_on_the_acknowledgement_and_on_the_answer_waits_then_answers(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """Discord answers 429 with retry_after to the "thinking…" callback, then to the answer
    and to a channel reply: each is sent again after the wait, within the 3 seconds."""
    async with serving(emu, settings, asker):
        callback_limit = emu.rate_limit("POST", "/interactions/", retry_after=0.6)
        edit_limit = emu.rate_limit("PATCH", f"/webhooks/{emu.application_id}/", retry_after=0.8)
        inter = await emu.send_slash_command("ask", {"question": QUESTION})
        reply = await inter.wait_for_reply(10)
        reply_limit = emu.rate_limit(
            "POST", f"/channels/{emu.channel.id}/messages", retry_after=0.7, is_global=True
        )
        mention = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
        channel_reply = await emu.wait_for_bot_message(reply_to=mention, timeout=10)
    assert is_answer(reply.content) and is_answer(channel_reply.content)
    for rule, path, wait in (
        (callback_limit, "/interactions/", 0.6),
        (edit_limit, f"/webhooks/{emu.application_id}/", 0.8),
        (reply_limit, f"/channels/{emu.channel.id}/messages", 0.7),
    ):
        assert rule.hits == 1
        limited, *after = [c for c in emu.calls if c.path.startswith(path) and c.method != "GET"]
        assert limited.status == 429 and limited.injected
        retried = next(c for c in after if c.status < 300)
        assert retried.time - limited.time >= wait - 0.05  # it waited retry_after
    ack = next(c for c in emu.calls_to("POST", "/interactions/") if c.status < 300)
    assert ack.time - inter.dispatched_at < 3.0
    assert emu.unexpected == [] and emu.error_calls == []
    assert_cannot_ping(emu)


async def test_a_500_once_is_retried_and_the_answer_arrives(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """One 500 on the "thinking…" callback and one on the answer: both retried, answered."""
    async with serving(emu, settings, asker):
        emu.fail_next("POST", "/interactions/", status=500)
        emu.fail_next("PATCH", f"/webhooks/{emu.application_id}/", status=500)
        inter = await emu.send_slash_command("ask", {"question": QUESTION})
        reply = await inter.wait_for_reply(10)
    assert is_answer(reply.content)
    answering = ("/interactions/", "/webhooks/")
    statuses = [(c.method, c.status // 100) for c in emu.calls if c.path.startswith(answering)]
    assert statuses == [("POST", 5), ("POST", 2), ("PATCH", 5), ("PATCH", 2)]
    assert emu.unexpected == [] and emu.error_calls == []


async def test_an_answer_discord_refuses_is_reported_to_the_user_never_left_thinking(
    discord_emulator: DiscordEmulator, settings: BotSettings, asker: Asker, logs: LogCapture
) -> None:
    """When Discord refuses the answer for good (here 400), the "thinking…" message is replaced
    by a private apology and the failure is logged: the interaction never hangs."""
    emu = discord_emulator
    async with serving(emu, settings, asker):
        emu.fail_next("PATCH", f"/webhooks/{emu.application_id}/", status=400, code=50035)
        inter = await emu.send_slash_command("ask", {"question": QUESTION})
        apology = await inter.wait_for_reply(10)
        assert is_answer(await answered(emu))  # and it goes on serving
    assert inter.original_deleted  # "thinking…" is gone
    posted = emu.calls_to("POST", f"/webhooks/{emu.application_id}/{inter.token}")
    assert [c.json["flags"] for c in posted] == [64]
    assert apology.content.startswith("Something went wrong on my side")
    assert [r.getMessage() for r in logs.at(logging.ERROR)] == ["unexpected error in /ask"]
    assert emu.unexpected == [] and emu.error_calls == []


# ---------------------------------------------------------------- expired interactions


async def test_an_interaction_acknowledged_too_late_is_logged_once_and_the_bot_goes_on(
    discord_emulator: DiscordEmulator, settings: BotSettings, asker: Asker, logs: LogCapture
) -> None:
    """The "thinking…" callback reaches Discord after the deadline (10062): one warning, no
    retry storm, no error; the next interactions are served as usual."""
    emu = discord_emulator
    async with serving(emu, settings, asker):
        emu.interaction_deadline = 0.2
        emu.delay_next("POST", "/interactions/", 0.4)
        late = await emu.send_slash_command("ask", {"question": QUESTION})
        await emu.wait_until(lambda: late.expired, 5, "the callback to come too late")
        await asyncio.sleep(0.3)  # time for any (wrong) second attempt to show
        emu.interaction_deadline = 3.0
        replies = [await answered(emu) for _ in range(3)]
    assert all(is_answer(r) for r in replies)
    tries = [c.status for c in emu.calls_to("POST", f"/interactions/{late.id}/")]
    assert tries == [404]  # tried once: a second callback would be refused the same way
    warnings = [r.getMessage() for r in logs.at(logging.WARNING, "bot")]
    assert warnings == [
        "/ask: the interaction expired before it was answered "
        "(404 Not Found (error code: 10062): Unknown interaction)"
    ]
    assert logs.errors() == []
    assert len(emu.connections) == 1  # no reconnect, no crash loop


async def test_an_interaction_whose_token_expired_while_answering_is_logged_and_dropped(
    discord_emulator: DiscordEmulator, settings: BotSettings, asker: Asker, logs: LogCapture
) -> None:
    """The token expires between "thinking…" and the answer (401/50027): one warning, nothing
    else sent for it, the answer is still on record, and the next question is answered."""
    emu = discord_emulator
    gated = GatedAsker(asker)
    with opened_on_exit(gated):
        async with serving(emu, settings, gated) as running:
            slow = await emu.send_slash_command("ask", {"question": QUESTION})
            await slow.wait_for_response()
            await until(lambda: gated.running == 1, "the question to be computed")
            emu.expire_interaction(slow)
            gated.gate.set()
            await emu.wait_until(
                lambda: emu.calls_to("PATCH", f"/webhooks/{emu.application_id}/{slow.token}"),
                5,
                "the answer to be refused",
            )
            await asyncio.sleep(0.3)  # time for any (wrong) follow-up attempt to show
            assert is_answer(await answered(emu))
            assert running.is_ready()
    refused = [c for c in emu.calls if slow.token in c.path and c.method != "POST"]
    assert [(c.method, c.status) for c in refused] == [("PATCH", 401)]
    assert [r.getMessage() for r in logs.at(logging.WARNING, "bot")] == [
        "/ask: the interaction expired before it was answered "
        "(401 Unauthorized (error code: 50027): Invalid Webhook Token)"
    ]
    assert logs.errors() == []
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers") == [(2,)]


# ---------------------------------------------------------------- a guild the bot never saw


def unseen_guild(emu: DiscordEmulator) -> tuple[FakeGuild, FakeMember, FakeMember]:
    """A guild added after the bot's READY (no GUILD_CREATE reached it), with a member and an admin."""
    world = emu.world
    guild = world.add_guild("Never seen")
    guild.add_text_channel("general")
    admin_role = guild.add_role("Admin", 1 << 3)
    member = world.add_member(guild, world.add_user("carol"))
    admin = world.add_member(guild, world.add_user("dave"), [admin_role])
    return guild, member, admin


async def test_interactions_from_a_guild_the_bot_never_saw_are_served(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """/ask, its buttons, /source, autocomplete, /help and the admin commands from an unknown
    guild id: answered (or refused to a non-admin), nothing crashes."""
    async with serving(emu, settings, asker) as running:
        guild, member, admin = unseen_guild(emu)
        assert running.get_guild(guild.id) is None
        channel = guild.text_channels[0]
        ask = await emu.send_slash_command(
            "ask", {"question": QUESTION}, user=member, channel=channel
        )
        answer = await ask.wait_for_reply()
        why = await emu.send_component_click(button(answer, "why"), answer, user=member)
        vote = await emu.send_component_click(button(answer, "up"), answer, user=member)
        results: list[InteractionRecord] = [ask, why, vote]
        for name, options, user in (
            ("source", {"article": "hksp-shenzhen-branch-2023"}, member),
            ("sources", {}, member),
            ("help", {}, member),
            ("stats", {}, member),
            ("stats", {}, admin),
            ("reload", {}, member),
        ):
            results.append(await emu.send_slash_command(name, options, user=user, channel=channel))
        complete = await emu.send_autocomplete(
            "source", {"article": "hksp"}, user=member, channel=channel
        )
        choices = await complete.wait_for_choices()
        replies = [await r.wait_for_reply() for r in results]
    assert is_answer(answer.content)
    assert replies[1].embeds[0]["title"] == "Why this answer"
    assert replies[2].id == answer.id and voted(replies[2], "up")
    assert replies[3].embeds[0]["title"].startswith("Hong Kong Science Park")
    assert (
        replies[6].content
        == replies[8].content
        == "Only server administrators can use this command."
    )
    assert replies[7].embeds and replies[7].ephemeral  # the admin's /stats
    assert [c["value"] for c in choices] == ["hksp-shenzhen-branch-2023"]
    assert rows(settings.db_path, "SELECT guild_id FROM answers") == [(guild.id,)]
    assert_cannot_ping(emu)
