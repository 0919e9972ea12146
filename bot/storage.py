"""Questions, answers and feedback in one SQLite file, durable before the user hears back.

Durability: WAL journal with `synchronous=FULL`, and every write is its own
transaction, committed (and so fsynced) before the method returns. The bot only
acknowledges a question or a vote after that, so a crash or power cut never loses
something a user was told was recorded.

Privacy: with `log_questions` false (and for every `private` question) the text of a
question is not stored, only a keyed hash of its normalised form: /stats can still
count how often the same unanswered question comes back without being able to show
it. (A hash of a short question can be confirmed by someone who guesses it and holds
the database, key included: this is pseudonymous, not anonymous.)

`Storage` is synchronous and owned by one thread; `AsyncStorage` runs it on a
dedicated single-thread executor so the event loop never waits on the disk.

The bot uses them through `bot.database.Store`, which `PostgresStore` (bot/pgstore.py)
provides as well; the types below are shared by both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from citebot.cite import Answer

P = ParamSpec("P")
R = TypeVar("R")

# Each entry moves the schema from version i to i + 1 (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        asked_at TEXT NOT NULL,
        via TEXT NOT NULL,
        guild_id INTEGER,
        channel_id INTEGER,
        question TEXT,
        question_hash TEXT NOT NULL,
        answered INTEGER NOT NULL,
        confidence REAL NOT NULL,
        answer TEXT,
        article_id TEXT,
        corpus_version TEXT,
        answer_json TEXT NOT NULL
    );
    CREATE INDEX answers_by_outcome ON answers (answered, question_hash);
    CREATE TABLE feedback (
        answer_id INTEGER NOT NULL REFERENCES answers (id),
        user_id INTEGER NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        voted_at TEXT NOT NULL,
        PRIMARY KEY (answer_id, user_id)
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StorageError(Exception):
    """The database cannot be used as it is; the message says what to do."""


class StoreUnavailable(StorageError):
    """The database server cannot be reached right now; the write was not made."""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One question's row: its id (used in button custom ids) and the Answer given."""

    id: int
    via: str
    answer: Answer
    question_logged: bool


@dataclass(frozen=True, slots=True)
class Unanswered:
    """A question that was abstained on, and how often; `question` is None when not logged."""

    question: str | None
    question_hash: str
    count: int


@dataclass(frozen=True, slots=True)
class Stats:
    asked: int
    answered: int
    abstained: int
    helpful: int
    unhelpful: int
    top_unanswered: list[Unanswered]


def normalize_question(question: str) -> str:
    """Case-folded, white space collapsed: what makes two questions "the same" for /stats."""
    return re.sub(r"\s+", " ", question).strip().casefold()


def hash_question(key: bytes, question: str) -> str:
    """The keyed hash that stands for a question whose text is not kept."""
    digest = hmac.new(key, normalize_question(question).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class Storage:
    """The SQLite file; open it with `Storage.open(path)`, use it from one thread."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._key = self._hash_key()

    @classmethod
    def open(cls, path: Path) -> Storage:
        """Open (creating the file, folders and schema when needed) and migrate."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit; every write below opens its own transaction.
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the database {path} ({exc}); set CITEBOT_DB_PATH to a writable file"
            ) from exc
        try:
            db.execute("PRAGMA busy_timeout = 5000")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"{path}: SQLite refused WAL mode (got {mode!r})")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            _migrate(db, path)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StorageError(
                f"{path} is not a citebot database ({exc}); move it away or set CITEBOT_DB_PATH"
            ) from exc
        except BaseException:
            db.close()
            raise
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT: the write is on disk (synchronous=FULL) when this exits."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            # After some errors (a full disk) SQLite has already rolled back, and a second
            # ROLLBACK would raise and hide the real error. A failed COMMIT (busy) may leave
            # the transaction open, and then every later write would be refused.
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _hash_key(self) -> bytes:
        """A random per-database key for question hashes (no cross-database dictionary)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'hash_key'").fetchone()
        if row is not None:
            return bytes.fromhex(row[0])
        key = secrets.token_bytes(32)
        with self._transaction():
            self._db.execute("INSERT INTO meta (key, value) VALUES ('hash_key', ?)", (key.hex(),))
        return key

    def question_hash(self, question: str) -> str:
        return hash_question(self._key, question)

    def record_answer(
        self,
        answer: Answer,
        *,
        via: str,
        log_question: bool,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> StoredAnswer:
        """Store one question and its answer; committed when this returns."""
        kept = answer if log_question else answer.model_copy(update={"question": ""})
        first = answer.citations[0] if answer.citations else None
        with self._transaction():
            cursor = self._db.execute(
                """
                INSERT INTO answers (asked_at, via, guild_id, channel_id, question, question_hash,
                    answered, confidence, answer, article_id, corpus_version, answer_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    _now(),
                    via,
                    guild_id,
                    channel_id,
                    answer.question if log_question else None,
                    self.question_hash(answer.question),
                    int(answer.answered),
                    answer.confidence,
                    answer.answer,
                    first.article_id if first else None,
                    answer.corpus_version,
                    kept.model_dump_json(),
                ),
            )
        row_id = cursor.lastrowid
        assert row_id is not None
        return StoredAnswer(id=row_id, via=via, answer=kept, question_logged=log_question)

    def get_answer(self, answer_id: int) -> StoredAnswer | None:
        row = self._db.execute(
            "SELECT id, via, answer_json, question IS NOT NULL FROM answers WHERE id = ?",
            (answer_id,),
        ).fetchone()
        if row is None:
            return None
        return StoredAnswer(
            id=row[0],
            via=row[1],
            answer=Answer.model_validate_json(row[2]),
            question_logged=bool(row[3]),
        )

    def record_feedback(self, answer_id: int, user_id: int, vote: int) -> bool:
        """Store a 👍 (1) or 👎 (-1); a user's later vote on the same answer replaces theirs.

        Returns False when the answer is not in this database (nothing is written).
        """
        if vote not in (-1, 1):
            raise ValueError(f"vote must be 1 or -1, got {vote}")
        with self._transaction():
            exists = self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone()
            if exists is None:
                return False
            self._db.execute(
                """
                INSERT INTO feedback (answer_id, user_id, vote, voted_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (answer_id, user_id) DO UPDATE SET
                    vote = excluded.vote, voted_at = excluded.voted_at
                """,
                (answer_id, user_id, vote, _now()),
            )
        return True

    def clear_feedback(self, answer_id: int, user_id: int) -> bool:
        """Take back a user's vote on an answer (a second click); False when there was none."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM feedback WHERE answer_id = ? AND user_id = ?", (answer_id, user_id)
            )
        return cursor.rowcount > 0

    def feedback_for(self, answer_id: int) -> list[tuple[int, int]]:
        """(user id, vote) pairs for one answer."""
        rows = self._db.execute(
            "SELECT user_id, vote FROM feedback WHERE answer_id = ? ORDER BY user_id", (answer_id,)
        ).fetchall()
        return [(int(u), int(v)) for u, v in rows]

    def stats(self, top: int = 5) -> Stats:
        asked, answered = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM answers"
        ).fetchone()
        helpful, unhelpful = self._db.execute(
            "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
        ).fetchone()
        rows = self._db.execute(
            """
            SELECT MAX(question), question_hash, COUNT(*) AS n FROM answers
            WHERE answered = 0 GROUP BY question_hash ORDER BY n DESC, MAX(id) DESC LIMIT ?
            """,
            (top,),
        ).fetchall()
        return Stats(
            asked=int(asked),
            answered=int(answered),
            abstained=int(asked) - int(answered),
            helpful=int(helpful),
            unhelpful=int(unhelpful),
            top_unanswered=[Unanswered(q, h, int(n)) for q, h, n in rows],
        )

    def pragma(self, name: str) -> object:
        """The value of a PRAGMA on this connection (for checks and tests)."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        return self._db.execute(f"PRAGMA {name}").fetchone()[0]


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{path} was written by a newer citebot (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade citebot or point CITEBOT_DB_PATH elsewhere"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        # executescript commits first, so run the migration inside an explicit transaction.
        db.executescript(
            f"BEGIN; {MIGRATIONS[target - 1]}; PRAGMA user_version = {target}; COMMIT;"
        )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class AsyncStorage:
    """`Storage` on its own thread: each method awaits the write's commit, off the event loop."""

    def __init__(self, storage: Storage, executor: ThreadPoolExecutor) -> None:
        self.storage = storage
        self.where = str(storage.path)
        self._executor = executor

    @classmethod
    async def open(cls, path: Path) -> AsyncStorage:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citebot-db")
        try:
            storage = await asyncio.get_running_loop().run_in_executor(executor, Storage.open, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(storage, executor)

    async def _run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    async def record_answer(
        self,
        answer: Answer,
        *,
        via: str,
        log_question: bool,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> StoredAnswer:
        return await self._run(
            self.storage.record_answer,
            answer,
            via=via,
            log_question=log_question,
            guild_id=guild_id,
            channel_id=channel_id,
        )

    async def get_answer(self, answer_id: int) -> StoredAnswer | None:
        return await self._run(self.storage.get_answer, answer_id)

    async def record_feedback(self, answer_id: int, user_id: int, vote: int) -> bool:
        return await self._run(self.storage.record_feedback, answer_id, user_id, vote)

    async def clear_feedback(self, answer_id: int, user_id: int) -> bool:
        return await self._run(self.storage.clear_feedback, answer_id, user_id)

    async def feedback_for(self, answer_id: int) -> list[tuple[int, int]]:
        return await self._run(self.storage.feedback_for, answer_id)

    async def stats(self, top: int = 5) -> Stats:
        return await self._run(self.storage.stats, top)

    async def close(self) -> None:
        """Close the connection on its own thread, then stop the thread."""
        try:
            await self._run(self.storage.close)
        finally:
            self._executor.shutdown(wait=True)
