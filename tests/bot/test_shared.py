"""Redis shared by processes: atomic per-user cooldowns, reload announcements, Redis going away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

from bot.client import UserCooldowns
from bot.shared import Shared, SharedError
from tests.services import free_port, redis_missing, redis_server

Connect = Callable[[], Awaitable[Shared]]


@pytest_asyncio.fixture
async def connect(redis_url: str) -> AsyncIterator[Connect]:
    """Opens connections to the test's Redis (one per pretend process); closes them afterwards."""
    opened: list[Shared] = []

    async def one() -> Shared:
        shared = await Shared.connect(redis_url)
        opened.append(shared)
        return shared

    yield one
    for shared in opened:
        await shared.close()


async def test_a_users_questions_are_counted_once_across_processes(connect: Connect) -> None:
    """Thirty questions at the same instant through three processes: exactly `rate` get through,
    the refused ones wait at most the window, and another user's bucket is untouched."""
    processes = [await connect() for _ in range(3)]
    local = UserCooldowns(rate=4, per=60)
    results = await asyncio.gather(*(processes[n % 3].take_question(7, local) for n in range(30)))
    refused = [r for r in results if r is not None]
    assert len(refused) == 26
    assert all(0 < r.retry_after <= 60 for r in refused)
    assert await processes[1].take_question(8, local) is None


async def test_the_window_ends_and_the_user_may_ask_again(connect: Connect) -> None:
    """After `per` seconds the shared bucket is full again."""
    shared = await connect()
    local = UserCooldowns(rate=1, per=0.3)
    assert await shared.take_question(1, local) is None
    assert await shared.take_question(1, local) is not None
    await asyncio.sleep(0.4)
    assert await shared.take_question(1, local) is None


@pytest.mark.skipif(redis_missing() is not None, reason=str(redis_missing()))
async def test_redis_going_away_falls_back_to_the_process_bucket_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis stopped: questions are still limited, by this process's own bucket, with one
    warning for the outage rather than one per question."""
    with redis_server() as server:
        shared = await Shared.connect(server.url)
        try:
            local = UserCooldowns(rate=2, per=60)
            assert await shared.take_question(1, local) is None
            server.stop()
            outcomes = [await shared.take_question(1, local) for _ in range(3)]
        finally:
            await shared.close()
    assert [o is None for o in outcomes] == [True, True, False]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cooldowns are per process" in warnings[0]


async def test_a_reload_is_heard_by_every_other_process_not_by_itself(connect: Connect) -> None:
    """One process announces a reload: the two others are called with its version, it is not."""
    processes = [await connect() for _ in range(3)]
    heard: list[tuple[int, str]] = []
    for n, shared in enumerate(processes):

        async def on_reload(version: str, n: int = n) -> None:
            heard.append((n, version))

        shared.listen_for_reloads(on_reload)
    async with asyncio.timeout(10):
        while await processes[0].announce_reload("v2") < 3:  # until all three are subscribed
            await asyncio.sleep(0.05)
        while len(heard) < 2:
            await asyncio.sleep(0.05)
    assert sorted(set(heard)) == [(1, "v2"), (2, "v2")]


async def test_unreachable_redis_is_one_sentence_without_the_password() -> None:
    """Nothing listening: a SharedError naming the place (password hidden) and what to fix."""
    with pytest.raises(SharedError, match="cannot reach Redis at") as info:
        await Shared.connect(f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    assert "hunter2" not in str(info.value) and "CITEBOT_REDIS_URL" in str(info.value)
