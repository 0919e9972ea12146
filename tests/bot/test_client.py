"""The bot's core plumbing without Discord: bounded off-loop answering, atomic reloads, cooldowns."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import pytest_asyncio

from bot.client import CitebotBot, UserCooldowns, create_bot
from bot.settings import BotSettings
from citebot.cite import Answer
from citebot.pipeline import Asker
from tests.bot.support import QUESTION, TEST_TIMEOUT


class BlockingAsker(Asker):
    """The real Asker, held at a gate so tests can see how many questions run at once."""

    def __init__(self, asker: Asker) -> None:
        super().__init__(asker.index)
        self.gate = threading.Event()
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()

    def ask(self, question: str, source: str | None = None) -> Answer:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            assert self.gate.wait(TEST_TIMEOUT), "the test never opened the gate"
            return super().ask(question, source)
        finally:
            with self._lock:
                self.running -= 1


@pytest_asyncio.fixture
async def blocked_bot(settings: BotSettings, asker: Asker) -> AsyncIterator[CitebotBot]:
    """A bot (never logged in) whose Asker blocks until its gate opens; at most 2 at once."""
    blocking = BlockingAsker(asker)
    bot = create_bot(settings.model_copy(update={"max_concurrent_questions": 2}), blocking)
    try:
        yield bot
    finally:
        blocking.gate.set()  # never leave a worker thread waiting, even when a test fails
        await bot.close()


async def wait_for(predicate: Callable[[], bool], what: str) -> None:
    """Yield to the event loop until `predicate()` holds (bounded by TEST_TIMEOUT)."""
    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def test_questions_run_off_the_event_loop_at_most_n_at_a_time(
    blocked_bot: CitebotBot,
) -> None:
    """Five questions at once: two run on worker threads, three wait, the loop stays free."""
    blocking = blocked_bot.asker
    assert isinstance(blocking, BlockingAsker)
    tasks = [asyncio.create_task(blocked_bot.ask(QUESTION)) for _ in range(5)]
    await wait_for(lambda: blocking.running == 2, "two questions running")
    assert not any(t.done() for t in tasks)  # the event loop runs while they are blocked
    blocking.gate.set()
    answers = await asyncio.wait_for(asyncio.gather(*tasks), TEST_TIMEOUT)
    assert all(a.answered for a in answers)
    assert blocking.most == 2
    assert all(name.startswith("citebot-ask") for name in blocking.threads)


async def test_reload_swaps_the_asker_while_a_question_finishes_on_the_old_one(
    blocked_bot: CitebotBot,
) -> None:
    """A question in flight during /reload is answered by the Asker it started with."""
    old = blocked_bot.asker
    assert isinstance(old, BlockingAsker)
    in_flight = asyncio.create_task(blocked_bot.ask(QUESTION))
    await wait_for(lambda: old.running == 1, "the question to start")
    outcome = await asyncio.wait_for(blocked_bot.reload_corpus(), TEST_TIMEOUT)
    assert outcome.ok and blocked_bot.asker is not old
    assert not in_flight.done()
    old.gate.set()
    answer = await asyncio.wait_for(in_flight, TEST_TIMEOUT)
    assert answer.answered and old.most == 1


def test_cooldown_allows_the_rate_then_says_when_to_retry() -> None:
    """Each user has their own bucket: `rate` questions per `per` seconds, then a retry time."""
    cooldowns = UserCooldowns(rate=2, per=60)
    assert cooldowns.hit(1, now=1000.0) is None
    assert cooldowns.hit(1, now=1001.0) is None
    refused = cooldowns.hit(1, now=1002.0)
    assert refused is not None and 57 < refused.retry_after <= 60
    assert cooldowns.hit(2, now=1002.0) is None
    assert cooldowns.hit(1, now=1061.0) is None
