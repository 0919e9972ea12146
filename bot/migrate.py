"""`citebot db migrate-sqlite FILE`: a bot's SQLite file copied into CITEBOT_DATABASE_URL.

Everything is copied in one transaction, so a failed copy leaves PostgreSQL as it was:
the answers with their ids (the buttons under old messages carry them), the votes, and
the key of the question hashes (so private questions asked before and after the move
still count as the same question in /stats). It only copies into a database that holds
no answers yet: merging two histories would renumber one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import ValidationError

from bot.pgstore import PostgresStore
from bot.settings import BotSettings
from bot.storage import SCHEMA_VERSION, StorageError
from citebot.settings import Settings

ANSWER_COLUMNS = (
    "id, asked_at, via, guild_id, channel_id, question, question_hash, answered, confidence, "
    "answer, article_id, corpus_version, answer_json"
)
FEEDBACK_COLUMNS = "answer_id, user_id, vote, voted_at"
BATCH = 5_000


def command(settings: Settings, argv: Sequence[str]) -> int:
    """`citebot db migrate-sqlite FILE` (the entry point of `citebot db`); the exit code."""
    parser = argparse.ArgumentParser(prog="citebot db", description="the bot's database")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = sub.add_parser(
        "migrate-sqlite", help="copy a SQLite file into PostgreSQL (CITEBOT_DATABASE_URL)"
    )
    copy.add_argument("file", type=Path, help="the bot's SQLite file (CITEBOT_DB_PATH)")
    args = parser.parse_args(list(argv))
    try:
        return run(args.file, BotSettings.upgrade(settings))
    except ValidationError as exc:
        print(f"citebot: bad setting: {exc.errors()[0]['msg']}", file=sys.stderr)
    except StorageError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
    return 2


def run(path: Path, settings: BotSettings) -> int:
    """Copy `path` into the database of CITEBOT_DATABASE_URL; prints what was copied."""
    if settings.database_url is None:
        raise StorageError(
            "CITEBOT_DATABASE_URL is not set; set it to the PostgreSQL database to copy into"
        )
    answers, votes = asyncio.run(copy_sqlite(path, settings.database_url.get_secret_value()))
    print(f"copied {answers} answers and {votes} votes from {path}")
    return 0


async def copy_sqlite(path: Path, url: str) -> tuple[int, int]:
    """Copy the answers, votes and hash key of SQLite file `path`; (answers, votes) copied."""
    with _read_only(path) as source:
        store = await PostgresStore.open(url)
        try:
            async with store._pool.acquire() as db, db.transaction():
                held = await db.fetchval("SELECT COUNT(*) FROM answers")
                if held:
                    raise StorageError(
                        f"PostgreSQL at {store.where} already holds {held} answers; copy into "
                        "an empty database (the copy keeps the answer ids old buttons carry)"
                    )
                key = source.execute("SELECT value FROM meta WHERE key = 'hash_key'").fetchone()
                if key is not None:
                    await db.execute("UPDATE meta SET value = $1 WHERE key = 'hash_key'", key[0])
                answers = await _copy(db, source, "answers", ANSWER_COLUMNS, _answer)
                votes = await _copy(db, source, "feedback", FEEDBACK_COLUMNS, _vote)
                # New answers continue after the copied ids.
                await db.execute(
                    "SELECT setval(pg_get_serial_sequence('answers', 'id'), "
                    "GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM answers"
                )
        finally:
            await store.close()
    return answers, votes


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite file opened read-only, after checking it is a citebot database of this version."""
    if not path.is_file():
        raise StorageError(f"{path} does not exist; give the bot's SQLite file (CITEBOT_DB_PATH)")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path} ({exc})") from exc
    try:
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path} is not a citebot database ({exc})") from exc
        if version != SCHEMA_VERSION or not {"answers", "feedback", "meta"} <= tables:
            raise StorageError(
                f"{path} is not a citebot database of schema {SCHEMA_VERSION} (it has "
                f"{version}); start this citebot's bot on it once, then copy it"
            )
        yield db
    finally:
        db.close()


async def _copy(
    db: asyncpg.pool.PoolConnectionProxy[Any],
    source: sqlite3.Connection,
    table: str,
    columns: str,
    convert: Callable[[tuple[Any, ...]], tuple[Any, ...]],
) -> int:
    """Every row of `table` from SQLite into PostgreSQL (COPY, in batches); how many."""
    names = [c.strip() for c in columns.split(",")]
    cursor = source.execute(f"SELECT {columns} FROM {table}")
    copied = 0
    while batch := cursor.fetchmany(BATCH):
        await db.copy_records_to_table(table, records=[convert(r) for r in batch], columns=names)
        copied += len(batch)
    return copied


def _when(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _answer(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A SQLite answers row as PostgreSQL's columns want it (a time, a boolean)."""
    return (row[0], _when(row[1]), *row[2:7], bool(row[7]), *row[8:])


def _vote(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row[:3], _when(row[3]))
