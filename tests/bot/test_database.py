"""The storage interface, the same on both backends: every test runs on SQLite and on PostgreSQL.

PostgreSQL runs for real (tests/services.py); `opener` opens the test's database
as many times as a test wants, as several bot processes would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.database import Store, open_store
from bot.settings import BotSettings
from bot.storage import AsyncStorage
from tests.bot.test_storage import abstained, answered

Opener = Callable[[], Awaitable[Store]]


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def opener(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the test's database (SQLite file or PostgreSQL database); closes all afterwards."""
    update: dict[str, object] = {"db_path": tmp_path / "data" / "citebot.sqlite3"}
    if request.param == "postgresql":
        update["database_url"] = SecretStr(request.getfixturevalue("postgres_url"))
    settings = BotSettings(_env_file=None).model_copy(update=update)  # type: ignore[call-arg]
    opened: list[Store] = []

    async def open_one() -> Store:
        store = await open_store(settings)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def test_the_backend_follows_the_settings(
    opener: Opener, request: pytest.FixtureRequest
) -> None:
    """SQLite unless CITEBOT_DATABASE_URL is set; `where` names the place without a password."""
    store = await opener()
    if request.node.callspec.params["opener"] == "sqlite":
        assert isinstance(store, AsyncStorage) and store.where.endswith("citebot.sqlite3")
    else:
        assert type(store).__name__ == "PostgresStore"
        assert store.where.startswith("postgresql://citebot@127.0.0.1:")


async def test_an_answer_comes_back_whole_from_another_connection(opener: Opener) -> None:
    """A stored answer is read back equal, by the same and by a second opening of the database."""
    first = await opener()
    stored = await first.record_answer(answered(), via="slash", log_question=True, guild_id=5)
    assert await first.get_answer(stored.id) == stored
    second = await opener()
    again = await second.get_answer(stored.id)
    assert again is not None
    assert again.answer == answered() and again.question_logged and again.via == "slash"
    assert await second.get_answer(stored.id + 1) is None


async def test_unlogged_questions_keep_only_a_hash_that_still_counts_repeats(
    opener: Opener,
) -> None:
    """Without logging only a hash is kept, shared by every connection, and /stats counts repeats."""
    one, two = await opener(), await opener()
    private = await one.record_answer(
        abstained("Who won in Tokyo?"), via="slash", log_question=False
    )
    await two.record_answer(abstained("who  won in TOKYO?"), via="auto", log_question=False)
    await one.record_answer(abstained("what is BM25?"), via="slash", log_question=True)
    await two.record_answer(answered(), via="slash", log_question=True)
    stats = await one.stats()
    assert (stats.asked, stats.answered, stats.abstained) == (4, 1, 3)
    assert [(u.question, u.count) for u in stats.top_unanswered] == [
        (None, 2),
        ("what is BM25?", 1),
    ]
    read_back = await two.get_answer(private.id)
    assert read_back is not None and read_back.answer.question == ""
    assert not read_back.question_logged


async def test_one_vote_per_user_and_answer_whichever_connection_takes_it(opener: Opener) -> None:
    """A user's later vote replaces theirs, through any connection; unknown answers are refused."""
    one, two = await opener(), await opener()
    stored = await one.record_answer(answered(), via="slash", log_question=True)
    assert await one.record_feedback(stored.id, 1, 1)
    assert await two.record_feedback(stored.id, 2, 1)
    assert await two.record_feedback(stored.id, 1, -1)
    assert not await one.record_feedback(stored.id + 100, 1, 1)
    assert await one.feedback_for(stored.id) == [(1, -1), (2, 1)]
    stats = await two.stats()
    assert (stats.helpful, stats.unhelpful) == (1, 1)
    with pytest.raises(ValueError, match="vote must be 1 or -1"):
        await one.record_feedback(stored.id, 1, 0)


async def test_a_vote_taken_back_through_any_connection_is_gone(opener: Opener) -> None:
    """Clearing a vote deletes that user's row only; clearing again reports nothing to clear."""
    one, two = await opener(), await opener()
    stored = await one.record_answer(answered(), via="slash", log_question=True)
    assert await one.record_feedback(stored.id, 1, 1)
    assert await one.record_feedback(stored.id, 2, -1)
    assert await two.clear_feedback(stored.id, 1)
    assert await one.feedback_for(stored.id) == [(2, -1)]
    assert not await one.clear_feedback(stored.id, 1)
    assert not await two.clear_feedback(stored.id + 100, 2)


async def test_concurrent_writers_get_distinct_ids_and_lose_nothing(opener: Opener) -> None:
    """Forty answers written at once through two connections: forty rows, forty distinct ids."""
    one, two = await opener(), await opener()
    writes = [
        (one if n % 2 else two).record_answer(
            answered(f"question {n}?"), via="slash", log_question=True
        )
        for n in range(40)
    ]
    stored = await asyncio.gather(*writes)
    assert len({s.id for s in stored}) == 40
    assert (await one.stats()).asked == 40
    for item in stored:
        back = await two.get_answer(item.id)
        assert back is not None and back.answer.question == item.answer.question


async def test_stats_of_an_empty_database_are_zero(opener: Opener) -> None:
    """A new database reports nothing asked and no unanswered questions."""
    stats = await (await opener()).stats()
    assert (stats.asked, stats.answered, stats.helpful, stats.unhelpful) == (0, 0, 0, 0)
    assert stats.top_unanswered == []
