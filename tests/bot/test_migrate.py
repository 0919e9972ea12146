"""`citebot db migrate-sqlite FILE`: a bot's SQLite history moved whole into PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.pgstore import PostgresStore
from bot.storage import Storage
from citebot.cli import main as cli_main
from tests.bot.test_storage import abstained, answered


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """A bot's SQLite file with answers (one private question asked twice) and votes."""
    path = tmp_path / "citebot.sqlite3"
    storage = Storage.open(path)
    first = storage.record_answer(answered(), via="slash", log_question=True, guild_id=9)
    storage.record_answer(abstained("Who won in Tokyo?"), via="auto", log_question=False)
    storage.record_answer(abstained("who won in tokyo?"), via="auto", log_question=False)
    storage.record_feedback(first.id, 1, 1)
    storage.record_feedback(first.id, 2, -1)
    storage.close()
    return path


async def test_the_copy_keeps_ids_votes_stats_and_question_hashes(
    sqlite_file: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Everything comes across: answers under their ids, votes, /stats; a private question asked
    again after the move counts with its earlier asks; new ids continue after the copied ones."""
    monkeypatch.setenv("CITEBOT_DATABASE_URL", postgres_url)
    source = Storage.open(sqlite_file)
    expected = source.stats()
    originals = [source.get_answer(i) for i in (1, 2, 3)]
    source.close()
    assert await _cli(["db", "migrate-sqlite", str(sqlite_file)]) == 0
    assert "copied 3 answers and 2 votes" in capsys.readouterr().out

    store = await PostgresStore.open(postgres_url)
    try:
        assert [await store.get_answer(i) for i in (1, 2, 3)] == originals
        assert await store.feedback_for(1) == [(1, 1), (2, -1)]
        assert await store.stats() == expected
        await store.record_answer(abstained("WHO won in Tokyo?"), via="slash", log_question=False)
        after = await store.stats()
        new = await store.record_answer(answered(), via="slash", log_question=True)
    finally:
        await store.close()
    assert after.top_unanswered[0].count == 3
    assert new.id == 5


async def test_copying_twice_or_from_nothing_is_refused_with_a_sentence(
    sqlite_file: Path,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A second copy into a database that has answers, a missing file, a file that is not
    SQLite, or no CITEBOT_DATABASE_URL: exit 2 and one sentence."""
    assert await _cli(["db", "migrate-sqlite", str(sqlite_file)]) == 2
    assert "CITEBOT_DATABASE_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("CITEBOT_DATABASE_URL", postgres_url)
    assert await _cli(["db", "migrate-sqlite", str(sqlite_file)]) == 0
    capsys.readouterr()
    assert await _cli(["db", "migrate-sqlite", str(sqlite_file)]) == 2
    assert "already holds 3 answers; copy into an empty database" in capsys.readouterr().err
    assert await _cli(["db", "migrate-sqlite", str(tmp_path / "missing.sqlite3")]) == 2
    assert "missing.sqlite3 does not exist" in capsys.readouterr().err
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database" * 100)
    assert await _cli(["db", "migrate-sqlite", str(garbage)]) == 2
    assert "is not a citebot database" in capsys.readouterr().err


async def _cli(argv: list[str]) -> int:
    """The command in a thread (it runs its own event loop, as from a shell)."""
    return await asyncio.to_thread(cli_main, argv)
