"""Helpers for the hardening suite: a bot with run options, what it sent, timing, instrumented Askers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import statistics
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from bot.client import CitebotBot, create_bot
from bot.render import length
from bot.settings import BotSettings
from citebot.cite import Answer
from citebot.pipeline import Asker
from tests.bot.support import READY, TEST_TIMEOUT, bodies_in
from tests.emulator import DiscordEmulator, StoredMessage

T = TypeVar("T")

# What Discord turns into a ping when allowed_mentions does not forbid it.
RAW_MENTION = re.compile(r"@(?:everyone|here)\b|<@[!&]?[0-9]+>")
CONTENT_MAX = 2000


@contextlib.asynccontextmanager
async def serving(
    emu: DiscordEmulator,
    settings: BotSettings,
    asker: Asker | None = None,
    *,
    timeout: float = TEST_TIMEOUT,
    **run_options: Any,
) -> AsyncIterator[CitebotBot]:
    """The real bot from `create_bot`, logged into the emulator, the whole block bounded in time."""
    bot = create_bot(settings, asker)
    async with (
        asyncio.timeout(timeout),
        emu.run_client(bot, guild_ready_timeout=READY, **run_options),
    ):
        yield bot


async def bounded(awaitable: Awaitable[T], seconds: float = TEST_TIMEOUT) -> T:
    """`await awaitable`, failing the test instead of hanging after `seconds`."""
    return await asyncio.wait_for(awaitable, seconds)


# ---------------------------------------------------------------- what the bot sent


def texts_of(body: Any) -> list[str]:
    """Every user-visible text of a message body: content and every embed string."""
    texts = [str(body.get("content") or "")]
    for embed in body.get("embeds") or []:
        texts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        texts += [str((embed.get("footer") or {}).get("text") or "")]
        texts += [str((embed.get("author") or {}).get("name") or "")]
        for fld in embed.get("fields") or []:
            texts += [str(fld.get("name") or ""), str(fld.get("value") or "")]
    return [t for t in texts if t]


def assert_cannot_ping(emu: DiscordEmulator, since: int = 0) -> int:
    """Every message body sent (from call `since` on) forbids all mentions and shows none raw.

    Returns how many bodies were checked. Allowed mentions alone would stop the ping;
    the text check makes sure a quoted "@everyone" is also shown defused.
    """
    bodies = bodies_in(emu.calls[since:])
    for body in bodies:
        allowed = body.get("allowed_mentions")
        assert allowed is not None, body
        assert allowed.get("parse") == [], body
        assert not allowed.get("users") and not allowed.get("roles"), body
        assert not allowed.get("replied_user"), body
        for text in texts_of(body):
            assert RAW_MENTION.search(text) is None, text
        content = body.get("content")
        if content is not None:
            assert length(str(content)) <= CONTENT_MAX, len(str(content))
    for message in emu.bot_messages():
        assert message.mentions == [] and message.mention_role_ids == [], message.content
    return len(bodies)


def is_answer(content: str) -> bool:
    """What /ask says when nothing went wrong: an answer with sources, or an abstention.

    Which one a question gets is the reader's business (and changes with it); these
    tests are about the answer arriving, so either will do.
    """
    return is_answered(content) or is_abstention(content)


def is_answered(content: str) -> bool:
    """An answer message: the question line, a headline, the quote, an article line."""
    lines = content.splitlines()
    return (
        len(lines) >= 4
        and lines[0].startswith("-# ")
        and any(line.startswith("> ") for line in lines)
        and lines[-1].startswith("-# ")
    )


def is_abstention(content: str) -> bool:
    return "The articles don't say." in content


def voted(message: StoredMessage, action: str) -> bool:
    """Whether the answer message shows a vote of this kind ("up", "down"): coloured, counted."""
    for row in message.components:
        for item in row.get("components", []):
            if str(item.get("custom_id", "")).split(":")[2:3] == [action]:
                return item["style"] in (3, 4) and bool(item.get("label"))
    raise AssertionError(f"no {action!r} button under {message.content[:60]!r}")


def button(message: StoredMessage, action: str) -> str:
    """The custom id of one of the buttons under an answer ("context", "why", "up", "down")."""
    ids = [str(c["custom_id"]) for row in message.components for c in row.get("components", [])]
    found = [i for i in ids if i.split(":")[2:3] == [action]]
    assert found, f"no {action!r} button under {message.content[:60]!r}: {ids}"
    return found[0]


def assert_clean_run(emu: DiscordEmulator, logs: LogCapture | None = None) -> None:
    """No unknown route, no refused call (400/404/...), and no ERROR record."""
    assert emu.unexpected == []
    assert [(c.method, c.path, c.status, c.json) for c in emu.error_calls] == []
    if logs is not None:
        assert logs.errors() == [], logs.errors()


# ---------------------------------------------------------------- logs


class LogCapture(logging.Handler):
    """Collects log records from every thread (pytest's caplog is per-test and level-bound)."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with self._guard:
            self.records.append(record)

    def errors(self) -> list[str]:
        with self._guard:
            return [self.format(r) for r in self.records if r.levelno >= logging.ERROR]

    def at(self, level: int, logger: str = "") -> list[logging.LogRecord]:
        with self._guard:
            return [r for r in self.records if r.levelno == level and r.name.startswith(logger)]

    def text(self) -> str:
        """Everything logged, formatted the way a handler would write it (tracebacks included)."""
        with self._guard:
            return "\n".join(self.format(r) for r in self.records)


@contextlib.contextmanager
def capturing_logs(level: int = logging.DEBUG) -> Iterator[LogCapture]:
    """Every record of every logger at `level` and up, from any thread, while the block runs."""
    capture = LogCapture(level)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(min(level, old_level) if old_level else level)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)


# ---------------------------------------------------------------- timing


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def summary(values: list[float]) -> dict[str, float]:
    """p50 / p99 / max of a list of seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p99_ms": round(percentile(values, 99) * 1000, 1),
        "max_ms": round(max(values, default=0.0) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else 0.0,
    }


class LoopLagSampler:
    """Sleeps `interval` over and over on the event loop; lag = how late each wake-up was."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, loop.time() - start - self.interval))

    def __enter__(self) -> LoopLagSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


# ---------------------------------------------------------------- instrumented Askers


class CountingAsker(Asker):
    """The real Asker, counting how many questions run at once (optionally holding each one).

    `hold` seconds of sleep inside each call (the GIL is released, as during I/O) make
    questions overlap, so a missing bound on concurrency would show.
    """

    def __init__(self, asker: Asker, *, hold: float = 0.0) -> None:
        super().__init__(
            asker.index,
            min_confidence=asker.min_confidence,
            max_question_chars=asker.max_question_chars,
        )
        self.hold = hold
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls = 0

    def ask(self, question: str, source: str | None = None) -> Answer:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        try:
            if self.hold:
                time.sleep(self.hold)
            return super().ask(question, source)
        finally:
            with self._lock:
                self.running -= 1


class GatedAsker(CountingAsker):
    """A CountingAsker that waits at a gate until the test opens it."""

    def __init__(self, asker: Asker) -> None:
        super().__init__(asker)
        self.gate = threading.Event()

    def ask(self, question: str, source: str | None = None) -> Answer:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        try:
            assert self.gate.wait(TEST_TIMEOUT), "the test never opened the gate"
            return Asker.ask(self, question, source)
        finally:
            with self._lock:
                self.running -= 1


@contextlib.contextmanager
def opened_on_exit(asker: GatedAsker) -> Iterator[GatedAsker]:
    """Never leave a worker thread waiting at the gate, even when the test fails."""
    try:
        yield asker
    finally:
        asker.gate.set()


async def until(predicate: Callable[[], object], what: str, seconds: float = 10.0) -> None:
    """Poll `predicate` on the event loop until it holds (for state outside the emulator)."""
    try:
        async with asyncio.timeout(seconds):
            while not predicate():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds}s waiting for {what}") from None
