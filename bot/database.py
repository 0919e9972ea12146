"""The bot's database, whichever backend: the `Store` interface and `open_store`.

`AsyncStorage` (bot/storage.py, SQLite, the default) and `PostgresStore`
(bot/pgstore.py, when CITEBOT_DATABASE_URL is set) both provide `Store`, with the
same rules: every write committed when its await returns, one vote per person and
answer, private questions kept only as a keyed hash. A new operation is one more
method here, on `Storage`/`AsyncStorage` and on `PostgresStore`; the tests in
tests/bot/test_database.py run every test against both backends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.storage import AsyncStorage, Stats, StoredAnswer
from citebot.cite import Answer

if TYPE_CHECKING:
    from bot.settings import BotSettings


class Store(Protocol):
    """The bot's database, whichever backend; every write is committed when its await returns."""

    #: Where the data lives, for log lines (a path, or a URL without its password).
    where: str

    async def record_answer(
        self,
        answer: Answer,
        *,
        via: str,
        log_question: bool,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> StoredAnswer: ...

    async def get_answer(self, answer_id: int) -> StoredAnswer | None: ...

    async def record_feedback(self, answer_id: int, user_id: int, vote: int) -> bool: ...

    async def clear_feedback(self, answer_id: int, user_id: int) -> bool: ...

    async def feedback_for(self, answer_id: int) -> list[tuple[int, int]]: ...

    async def stats(self, top: int = 5) -> Stats: ...

    async def close(self) -> None: ...


async def open_store(settings: BotSettings) -> Store:
    """PostgreSQL when CITEBOT_DATABASE_URL is set, else the SQLite file at CITEBOT_DB_PATH."""
    if settings.database_url is not None:
        # Imported here: asyncpg is loaded only by bots that use it.
        from bot.pgstore import PostgresStore

        return await PostgresStore.open(settings.database_url.get_secret_value())
    return await AsyncStorage.open(settings.db_path)
