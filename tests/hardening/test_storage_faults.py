"""Corpus and storage faults: reloads under load, unreadable files, broken caches, a sick database.

Every test runs the real bot through the emulator, except the two that are about the
SQLite file alone (a failing COMMIT, a process killed while writing).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from bot.client import CitebotBot
from bot.settings import BotSettings
from bot.storage import Storage
from citebot.cite import Answer
from citebot.corpus.folder import load_corpus
from citebot.pipeline import Asker
from citebot.retrieval.cache import load_index
from tests.bot.support import QUESTION, rows
from tests.emulator import DiscordEmulator
from tests.hardening.support import (
    GatedAsker,
    LogCapture,
    assert_cannot_ping,
    button,
    is_answer,
    opened_on_exit,
    serving,
    until,
    voted,
)

ROOT = Path(__file__).resolve().parents[2]
HKSP = "hksp-shenzhen-branch-2023"
HKSP_FILE = "hksp-shenzhen-branch-2023.md"
SEOUL_QUESTION = "who is the mayor of Seoul?"


async def ask(emu: DiscordEmulator, question: str = QUESTION, **options: Any) -> str:
    inter = await emu.send_slash_command("ask", {"question": question, **options})
    return (await inter.wait_for_reply(10)).content


# ---------------------------------------------------------------- /reload under load


async def test_reload_with_questions_in_flight_old_ones_finish_on_the_old_index(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker, corpus_dir: Path
) -> None:
    """Three questions in flight (one computing, two waiting for the one slot) when /reload
    swaps the index: those three are answered from the old index, the next from the new one."""
    settings = settings.model_copy(update={"max_concurrent_questions": 1})
    old = GatedAsker(asker)
    with opened_on_exit(old):
        async with serving(emu, settings, old) as bot:
            in_flight = [
                await emu.send_slash_command("ask", {"question": QUESTION}) for _ in range(3)
            ]
            await until(lambda: old.running == 1, "the first question to be computed")
            for record in in_flight:
                await record.wait_for_response()  # all three acknowledged ("thinking…")
            (corpus_dir / "library.md").write_text(
                "---\nid: fresh-library\ntitle: A fresh library\ndate: 2024-05-01\n---\n\n"
                "The fresh library in Riverton opened on Wednesday with two thousand books.\n",
                encoding="utf-8",
            )
            report = await (await emu.send_slash_command("reload", user=emu.admin)).wait_for_reply()
            assert bot.asker is not old
            new_version = bot.asker.index.version
            old.gate.set()
            answers = [(await r.wait_for_reply(10)).content for r in in_flight]
            fresh = await ask(emu, "when did the fresh library in Riverton open?")
    assert "Added: `fresh-library`." in report.content
    assert all(is_answer(a) for a in answers)
    assert "-# A fresh library" in fresh  # cited by title (answers show no ids)
    versions = [v for (v,) in rows(settings.db_path, "SELECT corpus_version FROM answers")]
    assert versions == [old.index.version] * 3 + [new_version]
    assert old.calls == 3  # the waiting two went to the Asker they were asked of


# ---------------------------------------------------------------- an unreadable article file


def reading_is_refused_by_chmod(tmp_path: Path) -> bool:
    """Whether mode 000 stops this process reading a file (not when running as root)."""
    probe = tmp_path / "probe"
    probe.write_text("x", encoding="utf-8")
    probe.chmod(0)
    try:
        probe.read_bytes()
    except PermissionError:
        return True
    finally:
        probe.chmod(0o600)
    return False


@contextlib.contextmanager
def unreadable(path: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make `path` unreadable; yields the reason the report should give.

    "permission": chmod 000, or, where that does not stop this process (root), its read
    raising the PermissionError that chmod 000 gives everyone else. "undecodable": the
    file's bytes replaced by bytes that are not UTF-8.
    """
    if how == "undecodable":
        path.write_bytes(b"caf\xe9 \x80\x81 not UTF-8 \xff")
        yield "not UTF-8 text"
        return
    if reading_is_refused_by_chmod(path.parent.parent):
        path.chmod(0)
        try:
            yield "cannot be read (Permission denied)"
        finally:
            path.chmod(0o644)
        return
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.resolve() == path.resolve():
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    path.chmod(0)  # what the file system sees (its ctime changes), though root still reads
    try:
        with monkeypatch.context() as patch:
            patch.setattr(Path, "read_bytes", read_bytes)
            yield "cannot be read (Permission denied)"
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("how", ["permission", "undecodable"])
async def test_an_article_file_that_turns_unreadable_keeps_serving_its_last_version(
    emu: DiscordEmulator,
    settings: BotSettings,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """/reload names the unreadable file and keeps its article; a bot started with it skips
    that article with a warning and serves the rest."""
    async with serving(emu, settings):  # loads corpus_dir
        with unreadable(corpus_dir / HKSP_FILE, how, monkeypatch) as reason:
            report = await (await emu.send_slash_command("reload", user=emu.admin)).wait_for_reply()
            still = await ask(emu)
        restored = await ask(emu)
    with unreadable(corpus_dir / HKSP_FILE, how, monkeypatch):
        async with serving(emu, settings) as fresh:
            assert fresh.asker.corpus.ids == ["seoul-mayor-hk-shenzhen-visit-2019"]
            seoul = await ask(emu, SEOUL_QUESTION)
            gone = await ask(emu, QUESTION, source=HKSP)
    assert f"• `{HKSP_FILE}`: {reason}" in report.content
    assert "(still serving its previous version)" in report.content
    # Still in the index: cited by its title (answers show no ids).
    title = "Hong Kong Science Park opens branch in Shenzhen"
    assert is_answer(still) and title in still and is_answer(restored) and title in restored
    assert is_answer(seoul)
    assert gone == f"No article has the id `{HKSP}`; `/sources` lists them."
    assert_cannot_ping(emu)


# ---------------------------------------------------------------- a broken index cache


@pytest.mark.parametrize("damage", ["truncated", "emptied"])
async def test_a_damaged_index_cache_is_detected_and_rebuilt_at_start_and_reload(
    emu: DiscordEmulator,
    settings: BotSettings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    """The index cache cut short on disk: the next start and the next /reload notice, rebuild
    it, say so in the log, and answer as before; the rebuilt cache is whole again."""
    settings = settings.model_copy(update={"use_cache": True, "cache_dir": tmp_path / "cache"})

    def damage_cache() -> dict[Path, int]:
        files = {p: p.stat().st_size for p in settings.cache_dir.iterdir() if p.is_file()}
        assert files, "the bot wrote no index cache"
        for path, size in files.items():
            with path.open("r+b") as fh:
                fh.truncate(size // 2 if damage == "truncated" else 0)
        return files

    def cache_warnings() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("citebot")
        ]

    async with serving(emu, settings):
        first = await ask(emu)
    whole = damage_cache()
    caplog.clear()
    async with serving(emu, settings) as bot:
        at_start = cache_warnings()
        second = await ask(emu)
        damage_cache()
        caplog.clear()
        report = await (await emu.send_slash_command("reload", user=emu.admin)).wait_for_reply()
        at_reload = cache_warnings()
        third = await ask(emu)
        version = bot.asker.index.version
    assert is_answer(first) and is_answer(second) and is_answer(third)
    assert report.content.startswith("Reloaded the corpus: 2 articles, unchanged (version ")
    for warnings in (at_start, at_reload):
        assert len(warnings) == 1 and "rebuilding" in warnings[0], warnings
    assert {p: p.stat().st_size for p in whole} == whole  # written whole again
    caplog.clear()
    reloaded = load_index(load_corpus(settings.corpus_dir), settings.cache_dir)
    assert reloaded.version == version and cache_warnings() == []  # and it loads


# ---------------------------------------------------------------- a sick database


async def on_db_thread(bot: CitebotBot, sql: str) -> None:
    """Run one statement on the bot's own connection, on its database thread (test only)."""
    storage = bot.store.storage
    await bot.store._run(lambda: storage._db.execute(sql))


@contextlib.contextmanager
def exclusive_lock(db_path: Path, release_after: float | None = None) -> Iterator[None]:
    """Another connection holding the write lock (BEGIN EXCLUSIVE), optionally for a while only."""
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    timer = None
    if release_after is not None:
        timer = threading.Timer(release_after, lambda: other.execute("COMMIT"))
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def test_a_database_locked_for_a_moment_is_waited_for_and_the_answer_stored(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """Another process holds the write lock for a second: SQLite retries (busy timeout), the
    answer is stored and sent with its buttons."""
    async with serving(emu, settings, asker):
        await ask(emu)
        started = time.monotonic()
        with exclusive_lock(settings.db_path, release_after=1.0):
            inter = await emu.send_slash_command("ask", {"question": QUESTION})
            reply = await inter.wait_for_reply(10)
        waited = time.monotonic() - started
    assert is_answer(reply.content) and button(reply, "up")
    assert waited >= 1.0
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers") == [(2,)]


async def test_a_database_locked_too_long_still_sends_the_answer_and_logs_the_loss(
    discord_emulator: DiscordEmulator, settings: BotSettings, asker: Asker, logs: LogCapture
) -> None:
    """Locked past the busy timeout: answers are sent (without buttons: there is no row to
    point at), a vote gets an apology instead of thanks, each lost write is logged as an
    error, and once the lock is gone the next answer and vote are stored."""
    emu = discord_emulator
    async with serving(emu, settings, asker) as bot:
        earlier = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        up = button(earlier, "up")
        await on_db_thread(bot, "PRAGMA busy_timeout = 300")  # 5 s in production: keep CI fast
        with exclusive_lock(settings.db_path):
            slash = await (
                await emu.send_slash_command("ask", {"question": QUESTION})
            ).wait_for_reply()
            mention = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
            reply = await emu.wait_for_bot_message(reply_to=mention, timeout=10)
            refused_vote = await (await emu.send_component_click(up, earlier)).wait_for_reply()
        after = await (await emu.send_slash_command("ask", {"question": QUESTION})).wait_for_reply()
        thanks = await (await emu.send_component_click(up, earlier)).wait_for_reply()
    assert is_answer(slash.content) and is_answer(reply.content)
    assert slash.components == [] and reply.components == []
    assert refused_vote.ephemeral and refused_vote.content.startswith("Something went wrong")
    errors = logs.errors()
    assert len(errors) == 3 and all("database is locked" in e for e in errors), errors
    assert "could not store a slash answer" in errors[0]
    assert "could not store a mention answer" in errors[1]
    assert errors[2].startswith(
        "ERROR bot.errors: unexpected error in component citebot:answer:up:"
    )
    assert button(after, "up") and thanks.id == earlier.id and voted(thanks, "up")
    assert rows(settings.db_path, "SELECT via FROM answers") == [("slash",), ("slash",)]
    assert rows(settings.db_path, "SELECT COUNT(*) FROM feedback") == [(1,)]
    assert emu.unexpected == [] and emu.error_calls == []


async def fill_the_disk(bot: CitebotBot) -> int:
    """Let the database not grow (max_page_count), then fill what room is left with small
    rows, so that any real answer finds it full; the number of filler rows."""

    def fill() -> int:
        db = bot.store.storage._db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        for n in itertools.count():
            try:
                db.execute(
                    "INSERT INTO answers (asked_at, via, question_hash, answered, confidence, "
                    "answer_json) VALUES ('', 'filler', ?, 0, 0, '{}')",
                    (f"{n:032d}",),
                )
            except sqlite3.OperationalError as exc:
                if "full" not in str(exc):
                    raise
                return n
        raise AssertionError("unreachable")

    return await bot.store._run(fill)


async def test_a_full_disk_still_sends_the_answer_and_reports_the_real_error(
    discord_emulator: DiscordEmulator, settings: BotSettings, asker: Asker, logs: LogCapture
) -> None:
    """The database cannot grow (a full disk, simulated by max_page_count and filler rows): the
    answer is still sent, the failure is logged with SQLite's own reason, and once there is
    room again the next answer is stored (the connection was not left in a broken transaction)."""
    emu = discord_emulator
    async with serving(emu, settings, asker) as bot:
        await ask(emu)
        assert await fill_the_disk(bot) > 0
        full = await emu.send_slash_command("ask", {"question": QUESTION})
        unstored = await full.wait_for_reply()
        await on_db_thread(bot, "PRAGMA max_page_count = 1073741823")
        again = await emu.send_slash_command("ask", {"question": QUESTION})
        stored = await again.wait_for_reply()
    assert is_answer(unstored.content) and unstored.components == []
    assert is_answer(stored.content) and button(stored, "up")
    errors = logs.errors()
    assert len(errors) == 1 and "database or disk is full" in errors[0], errors
    assert "cannot rollback" not in errors[0]  # the real reason, not a masking one
    assert rows(settings.db_path, "SELECT COUNT(*) FROM answers WHERE via = 'slash'") == [(2,)]
    assert emu.unexpected == [] and emu.error_calls == []


class FailingCommit:
    """A sqlite3 connection whose next COMMIT fails (as a full disk or an I/O error can)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.fail_next_commit = False

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.fail_next_commit:
            self.fail_next_commit = False
            raise sqlite3.OperationalError("disk I/O error")
        return self.db.execute(sql, *args)

    def close(self) -> None:
        self.db.close()


def test_a_failed_commit_is_rolled_back_and_the_next_write_succeeds(tmp_path: Path) -> None:
    """A COMMIT that fails is reported to the caller and leaves no transaction open, so the
    database keeps accepting writes (an open one would refuse every later BEGIN)."""
    path = tmp_path / "citebot.sqlite3"
    Storage.open(path).close()
    connection = FailingCommit(sqlite3.connect(path, isolation_level=None))
    storage = Storage(connection, path)  # type: ignore[arg-type]
    answer = Answer(question="q", answered=False, answer=None, message="m")
    connection.fail_next_commit = True
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        storage.record_answer(answer, via="slash", log_question=True)
    assert not connection.in_transaction
    storage.record_answer(answer, via="slash", log_question=True)
    storage.close()
    assert rows(path, "SELECT COUNT(*) FROM answers") == [(1,)]


# ---------------------------------------------------------------- killed while writing

VOTER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.storage import AsyncStorage
    from citebot.cite import Answer

    async def main():
        store = await AsyncStorage.open(Path(sys.argv[1]))
        answer = Answer(question="q", answered=False, answer=None, message="m")
        stored = await store.record_answer(answer, via="slash", log_question=True)
        print("answer", stored.id, flush=True)
        user = 0
        while True:  # votes as fast as the disk allows, each acknowledged once committed
            user += 1
            vote = 1 if user % 3 else -1
            assert await store.record_feedback(stored.id, user, vote)
            print("vote", user, vote, flush=True)

    asyncio.run(main())
    """
)


def read_lines(pipe: IO[bytes], until: Callable[[list[str]], bool], seconds: float) -> list[str]:
    """Lines from a child's pipe until `until(lines)` holds or EOF; never blocks past `seconds`."""
    fd = pipe.fileno()
    lines: list[str] = []
    pending = b""
    deadline = time.monotonic() + seconds
    while not until(lines):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no progress from the child: {lines[-3:]}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        *complete, pending = (pending + chunk).split(b"\n")
        lines += [line.decode() for line in complete]
    return lines


async def test_feedback_acknowledged_before_a_sigkill_is_all_there_after_restart(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A process writing votes in a loop is killed with SIGKILL mid-write: reopened (as the bot
    does at start), the database has every vote it had acknowledged, and the restarted bot
    counts them in /stats and keeps recording."""
    db_path = settings.db_path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    voter = subprocess.Popen(
        [sys.executable, "-c", VOTER, str(db_path)], stdout=subprocess.PIPE, env=env, bufsize=0
    )
    try:
        assert voter.stdout is not None
        lines = read_lines(voter.stdout, lambda seen: len(seen) > 300, 30)
        voter.send_signal(signal.SIGKILL)
        lines += read_lines(voter.stdout, lambda seen: False, 10)  # acknowledged before dying
    finally:
        voter.kill()
        voter.wait(10)
    assert voter.returncode == -signal.SIGKILL
    answer_id = int(lines[0].split()[1])
    acknowledged = {int(u): int(v) for _, u, v in (line.split() for line in lines[1:])}
    assert len(acknowledged) >= 300

    async with serving(emu, settings, asker):  # opens the database the killed process left
        stats = await (await emu.send_slash_command("stats", user=emu.admin)).wait_for_reply()
        answer = await (
            await emu.send_slash_command("ask", {"question": QUESTION})
        ).wait_for_reply()
        thanks = await (
            await emu.send_component_click(button(answer, "up"), answer)
        ).wait_for_reply()
    kept = dict(rows(db_path, "SELECT user_id, vote FROM feedback WHERE answer_id = ?", answer_id))
    assert {u: v for u, v in acknowledged.items() if kept.get(u) != v} == {}
    assert len(kept) - len(acknowledged) <= 1  # at most the vote being written when killed
    up = sum(v == 1 for v in kept.values())
    fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
    assert fields["Feedback"] == f"👍 {up} · 👎 {len(kept) - up}"
    assert thanks.id == answer.id and voted(thanks, "up")
