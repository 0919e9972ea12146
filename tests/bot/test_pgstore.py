"""PostgreSQL alone: wrong URLs, processes starting together, a server that dies and comes back."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from bot.pgstore import SCHEMA_VERSION, PostgresStore
from bot.storage import StorageError, StoreUnavailable
from tests.bot.test_storage import answered
from tests.services import PostgresServer, free_port, postgres_missing, postgres_server

needs_postgres = pytest.mark.skipif(postgres_missing() is not None, reason=str(postgres_missing()))


async def test_unreachable_server_is_one_sentence_without_the_password() -> None:
    """Nothing listening: a StorageError naming the place (password hidden) and what to check."""
    url = f"postgresql://citebot:hunter2@127.0.0.1:{free_port()}/citebot"
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL at") as info:
        await PostgresStore.open(url)
    assert "hunter2" not in str(info.value) and ":***@127.0.0.1" in str(info.value)
    assert "CITEBOT_DATABASE_URL" in str(info.value)


async def test_a_database_that_does_not_exist_is_refused_with_a_sentence(
    pg_server: PostgresServer,
) -> None:
    """A URL naming a missing database: a StorageError that says so, not a traceback."""
    with pytest.raises(StorageError, match="no_such_db"):
        await PostgresStore.open(pg_server.url("no_such_db"))


async def test_processes_starting_together_migrate_once_and_share_the_hash_key(
    postgres_url: str,
) -> None:
    """Four stores opened at once on an empty database: one schema, one key, equal hashes."""
    stores = await asyncio.gather(*(PostgresStore.open(postgres_url) for _ in range(4)))
    try:
        assert len({s.question_hash("Who won?") for s in stores}) == 1
        versions = await stores[0]._pool.fetch("SELECT version FROM citebot_schema")
        assert [v for (v,) in versions] == [SCHEMA_VERSION]
    finally:
        for store in stores:
            await store.close()


async def test_a_newer_schema_is_refused_with_a_sentence(postgres_url: str) -> None:
    """A database migrated by a newer citebot is not touched: upgrade or point elsewhere."""
    await (await PostgresStore.open(postgres_url)).close()  # creates the schema
    db = await asyncpg.connect(postgres_url)
    await db.execute("UPDATE citebot_schema SET version = version + 1")
    await db.close()
    with pytest.raises(StorageError, match="newer citebot"):
        await PostgresStore.open(postgres_url)


@needs_postgres
async def test_answers_written_while_the_server_is_down_are_kept_and_written_once_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Server killed: writes raise StoreUnavailable and are kept; restarted: each is written
    exactly once, in order, after the rows acknowledged before the crash."""
    caplog.set_level(logging.INFO)
    with postgres_server() as server:
        store = await PostgresStore.open(server.url())
        store.retry_seconds = 0.2
        try:
            before = await store.record_answer(answered("before?"), via="slash", log_question=True)
            server.kill()
            for n in range(3):
                with pytest.raises(StoreUnavailable, match="kept and written when it is back"):
                    await store.record_answer(
                        answered(f"down {n}?"), via="slash", log_question=True
                    )
            with pytest.raises(StoreUnavailable, match="unreachable"):
                await store.stats()
            assert store.pending == 3
            server.start()
            async with asyncio.timeout(20):
                while store.pending:
                    await asyncio.sleep(0.1)
            rows = await store._pool.fetch("SELECT id, question FROM answers ORDER BY id")
        finally:
            await store.close()
    assert [q for _, q in rows] == ["before?", "down 0?", "down 1?", "down 2?"]
    assert rows[0][0] == before.id
    assert any("wrote 3 answers kept while PostgreSQL" in r.getMessage() for r in caplog.records)


@needs_postgres
async def test_closing_with_answers_still_kept_logs_each_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store closed while its server is still down says how many answers are lost, and which."""
    with postgres_server() as server:
        store = await PostgresStore.open(server.url())
        server.kill()
        with pytest.raises(StoreUnavailable):
            await store.record_answer(answered("lost?"), via="slash", log_question=True)
        await store.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "1 answers could not be written" in errors[0]
    assert "lost?" in errors[0]
