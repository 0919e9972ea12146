"""The token stays secret; admin commands stay the admins'; user input never becomes a path."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

import bot.__main__
from bot.__main__ import run
from bot.client import CitebotBot, create_bot
from bot.settings import BotSettings
from citebot.errors import CitebotError
from citebot.pipeline import Asker
from citebot.settings import Settings
from tests.bot.support import QUESTION, READY, TEST_TIMEOUT
from tests.bot.test_main import restored_endpoints
from tests.emulator import ADMINISTRATOR, ALL_PERMISSIONS, DiscordEmulator
from tests.hardening.support import LogCapture, assert_cannot_ping, is_answer, serving

# Shaped like a real token (base64 id . timestamp . HMAC), so nothing shortens it by accident.
TOKEN = "MTE5ODc2NTQzMjEwOTg3NjU0Mw.GxYzAb.s3cr3t-t0ken-part-that-must-never-show-Q9"
TOKEN_PARTS = TOKEN.split(".")
HKSP = "hksp-shenzhen-branch-2023"
HKSP_FILE = "hksp-shenzhen-branch-2023.md"
ONLY_ADMINS = "Only server administrators can use this command."


def assert_no_token(text: str, where: str) -> None:
    assert TOKEN not in text, where
    for part in TOKEN_PARTS[1:]:  # the id part is public (it is the bot's user id)
        assert part not in text, f"a piece of the token in {where}"


# ---------------------------------------------------------------- the token


class BrokenAsker(Asker):
    """An Asker failing with an unexpected error, so a traceback is logged too."""

    def ask(self, question: str, source: str | None = None) -> Any:
        raise CitebotError("the reader model is missing")


async def test_the_token_is_in_no_log_output_or_error_and_no_form_of_the_settings(
    settings: BotSettings,
    asker: Asker,
    logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A whole run of `citebot bot` with a known token (login, commands, answers, an
    unexpected error, a refused request, a gateway drop and RESUME, shutdown) logged at DEBUG:
    the token is in no record, traceback, or output; nor in str/repr/JSON of the settings."""
    made: list[CitebotBot] = []

    def create(settings: BotSettings) -> CitebotBot:
        made.append(create_bot(settings, BrokenAsker(asker.index)))
        made[-1]._connection.guild_ready_timeout = READY
        return made[-1]

    monkeypatch.setattr(bot.__main__, "create_bot", create)
    async with DiscordEmulator(token=TOKEN) as emu:
        run_settings = settings.model_copy(
            update={
                "discord_token": SecretStr(TOKEN),
                "discord_api_base": emu.api_base,
                "discord_gateway_url": emu.gateway_url,
            }
        )
        with restored_endpoints():
            running = asyncio.create_task(asyncio.to_thread(run, run_settings))
            try:
                await emu.wait_until(lambda: made and made[0].is_ready(), 10, "login")
                await emu.wait_until(lambda: None in emu.commands, 10, "command sync")
                failed = await emu.send_slash_command("ask", {"question": QUESTION})
                await failed.wait_for_reply()
                unknown = await emu.send_slash_command("source", {"article": "no-such"})
                await unknown.wait_for_reply()
                emu.fail_next(
                    "POST", "/interactions/", status=403, code=50001, message="Missing Access"
                )
                refused = await emu.send_slash_command("help")
                await refused.wait_for_reply()
                await emu.drop_gateway()
                await emu.wait_until(lambda: len(emu.resumes) == 1, 10, "RESUME")
                await (await emu.send_slash_command("help")).wait_for_reply()
            finally:
                if made:  # as a stop would: close() ends bot.start(), then run() returns
                    asyncio.run_coroutine_threadsafe(made[0].close(), made[0].loop)
                code = await asyncio.wait_for(running, TEST_TIMEOUT)
        assert code == 0
        assert emu.identifies[0]["token"] == TOKEN and emu.resumes[0]["token"] == TOKEN
    out, err = capfd.readouterr()
    text = logs.text()
    assert "unexpected error in /ask" in text and "Traceback" in text  # the run did log errors
    assert "RESUME" in text.upper() and len(logs.records) > 50
    assert_no_token(text, "the log")
    assert_no_token(out + err, "stdout/stderr")

    # Every way a settings object is shown or exported.
    bot_settings = made[0].settings
    for shown in (
        str(bot_settings),
        repr(bot_settings),
        bot_settings.model_dump_json(),
        str(bot_settings.model_dump()),
        repr(bot_settings.discord_token),
        str(bot_settings.discord_token),
        f"{bot_settings}",
        repr(BotSettings.upgrade(Settings(_env_file=None, DISCORD_TOKEN=TOKEN))),
    ):
        assert_no_token(shown, shown[:80])


def test_the_token_from_the_environment_is_not_in_settings_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With DISCORD_TOKEN set and another setting wrong, neither the validation error nor
    `citebot bot`'s one sentence shows the token."""
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("CITEBOT_MAX_CONCURRENT_QUESTIONS", "many")
    with pytest.raises(ValidationError) as raised:
        BotSettings(_env_file=None)
    assert_no_token(str(raised.value), "the validation error")
    assert_no_token(repr(raised.value.errors()), "the validation error's details")
    assert bot.__main__.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("citebot: bad setting: CITEBOT_MAX_CONCURRENT_QUESTIONS:")
    assert_no_token(err, "stderr")
    monkeypatch.delenv("CITEBOT_MAX_CONCURRENT_QUESTIONS")
    assert_no_token(repr(BotSettings(_env_file=None)), "repr of env settings")


# ---------------------------------------------------------------- admin commands

permissions_without_admin = st.integers(0, ALL_PERMISSIONS).map(lambda p: p & ~ADMINISTRATOR)


async def test_admin_commands_refuse_every_member_without_administrator(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker, corpus_dir: Path
) -> None:
    """/reload and /stats are registered for administrators only, but a guild may show them to
    anyone (the emulator, like such a guild, does not enforce that): whatever permissions a
    member holds short of Administrator, both are refused at run time and nothing happens."""
    async with serving(emu, settings, asker, timeout=60) as bot:
        (corpus_dir / HKSP_FILE).unlink()  # a reload would drop this article: it must not happen
        loop = asyncio.get_running_loop()
        guild, world = emu.guild, emu.world
        refused: list[int] = []

        async def try_as(permissions: int) -> None:
            role = guild.add_role(f"role-{len(guild.roles)}", permissions)
            member = world.add_member(guild, world.add_user(f"user-{len(world.users)}"), [role])
            for name in ("reload", "stats"):
                inter = await emu.send_slash_command(name, user=member)
                reply = await inter.wait_for_reply()
                assert inter.response_type == 4 and reply.ephemeral  # refused at once, privately
                assert reply.content == ONLY_ADMINS and not reply.embeds
            assert bot.asker is asker
            refused.append(permissions)

        @hypothesis_settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(permissions=permissions_without_admin)
        @example(permissions=ALL_PERMISSIONS & ~ADMINISTRATOR)  # everything but Administrator
        @example(permissions=1 << 5)  # Manage Server
        @example(permissions=(1 << 28) | (1 << 4))  # Manage Roles, Manage Channels
        def check(permissions: int) -> None:
            asyncio.run_coroutine_threadsafe(
                asyncio.wait_for(try_as(permissions), 15), loop
            ).result(20)

        await asyncio.to_thread(check)
        commands = {c["name"]: c for c in emu.commands[None]}
        # The owner and an Administrator are allowed (so the refusals above are about rights).
        for user in (emu.world.owner, emu.admin):
            assert user is not None
            stats = await (await emu.send_slash_command("stats", user=user)).wait_for_reply()
            assert stats.embeds and stats.embeds[0]["title"]
    assert len(refused) >= 40
    assert {str(commands[n]["default_member_permissions"]) for n in ("reload", "stats")} == {"8"}


# ---------------------------------------------------------------- article ids, never paths


@contextlib.contextmanager
def opened_paths() -> Iterator[list[str]]:
    """Every path any code opens (builtins.open, os.open, ...) while the block runs."""
    seen: list[str] = []
    _AUDIT.append(seen)
    try:
        yield seen
    finally:
        _AUDIT.remove(seen)


_AUDIT: list[list[str]] = []
_AUDIT_LOCK = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _AUDIT and event in ("open", "os.listdir", "os.scandir", "os.chdir", "shutil.copyfile"):
        with _AUDIT_LOCK:
            for seen in _AUDIT:
                seen.append(str(args[0]) if args else "")


sys.addaudithook(_audit)  # audit hooks cannot be removed; it does nothing outside opened_paths()

PATHS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    f"{HKSP}/../../../etc/passwd",
    f"{HKSP}\x00",
    f"{HKSP}\x00.md",
    f"\x00{HKSP}",
    f"./{HKSP}",
    HKSP_FILE,
    f"corpus/{HKSP_FILE}",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "~/.ssh/id_rsa",
    "file:///etc/passwd",
    HKSP.upper(),
    "*",
    ".",
    "..",
]
hostile_ids = st.one_of(
    st.sampled_from(PATHS),
    st.lists(
        st.sampled_from(["..", "/", "\\", "\x00", "etc", "passwd", HKSP, ".md", "~", "%2f"])
    ).map("".join),
    st.text(max_size=60),
)


async def test_source_and_autocomplete_accept_only_known_article_ids(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker, corpus_dir: Path
) -> None:
    """/source, /ask's source option and autocomplete, given paths (relative, absolute, the
    real file's own path, NUL bytes): only an exact known id is served, never a file, and no
    file is opened while serving them."""
    known = set(asker.corpus.ids)
    absolute = str((corpus_dir / HKSP_FILE).resolve())
    async with serving(emu, settings, asker, timeout=60):
        loop = asyncio.get_running_loop()

        async def try_id(article: str) -> None:
            with opened_paths() as opened:
                shown = await emu.send_slash_command("source", {"article": article})
                reply = await shown.wait_for_reply()
                restricted = await emu.send_slash_command(
                    "ask", {"question": QUESTION, "source": article}
                )
                answer = await restricted.wait_for_reply()
                complete = await emu.send_autocomplete("source", {"article": article})
                choices = await complete.wait_for_choices()
            if article.strip() in known:
                assert reply.embeds  # private by default, like the error below
            else:
                assert reply.ephemeral and not reply.embeds
                assert reply.content.startswith("No article has the id ")
                assert reply.content.endswith("; `/sources` lists them.")
            if article in known:
                assert is_answer(answer.content)
            else:
                assert answer.content.startswith("No article has the id ")
            assert {c["value"] for c in choices} <= known
            # Serving these needs no file at all (a lazy import may read a module).
            assert [p for p in opened if not p.endswith((".py", ".pyc"))] == [], opened

        @hypothesis_settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(article=hostile_ids)
        @example(article=absolute)
        @example(article=HKSP)
        @example(article=f" {HKSP} ")
        def check(article: str) -> None:
            asyncio.run_coroutine_threadsafe(asyncio.wait_for(try_id(article), 15), loop).result(20)

        for article in PATHS:
            await asyncio.wait_for(try_id(article), 15)
        await asyncio.to_thread(check)
    assert emu.unexpected == [] and emu.error_calls == []
    assert_cannot_ping(emu)


def test_the_audit_hook_sees_files_being_opened(tmp_path: Path) -> None:
    """The check above can fail: opening a file named after the input is seen."""
    target = tmp_path / "etc-passwd"
    target.write_text("root:x:0:0", encoding="utf-8")
    with opened_paths() as opened:
        with open(target, encoding="utf-8") as fh:
            fh.read()
        target.read_text(encoding="utf-8")
    assert [p for p in opened if "etc-passwd" in p] == [str(target)] * 2
