"""A burst of 500 /ask interactions in 5 seconds: acknowledged in time, answered, bounded.

Discord gives a bot 3 seconds to acknowledge an interaction (the emulator's
`interaction_deadline` answers 10062 "Unknown interaction" after that, as Discord
does); the gateway heartbeat must keep its rhythm while the bot is busy; at most
`max_concurrent_questions` questions are computed at once; memory comes back to
where it was; and a user over the cooldown is told so, never ignored.

The real Asker answers a question in about 2 ms on this machine, so the burst uses
it, wrapped to hold each question 80 ms more (as a slower reader would) and to count
how many run at once. With 4 at a time that is 50 questions a second for 100 arriving:
a queue builds, the last answers come seconds after their question, and only the
immediate "thinking…" acknowledgement keeps them inside Discord's 3 seconds.

The burst runs twice on one bot, each time from 48 fresh users and one spammer: the
first measures time (nothing else slows the loop), the second memory. tracemalloc
slows every allocation, so it traces only the second burst, which is not held to
Discord's 3 seconds; the first burst has filled the bounded caches (yarl's URLs,
CPython's method cache, discord.py's message deque) by then, so what the second
leaves behind is growth.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import itertools
import json
import logging
import time
import tracemalloc

from bot.client import CitebotBot
from bot.settings import BotSettings
from citebot.pipeline import Asker
from tests.bot.support import QUESTION, rows
from tests.emulator import DiscordEmulator, FakeMember, InteractionRecord
from tests.hardening.support import (
    CountingAsker,
    LoopLagSampler,
    assert_cannot_ping,
    capturing_logs,
    is_answer,
    serving,
    summary,
)

BURST = 500
SEND_OVER = 5.0  # seconds over which the timed burst is sent (the brief: within 10)
# The traced burst is sent over the whole 10 s: tracemalloc slows every allocation, and
# a longer queue would only hold more connections open, not test the bot any harder.
TRACED_SEND_OVER = 10.0
USERS = 48  # ordinary askers per burst, each asking RATE times
RATE = 10  # questions per user per cooldown window
SPAMMER_ASKS = BURST - USERS * RATE  # one user asking twice the rate: 20
HOLD = 0.08  # seconds each question is held inside the Asker (timed burst)
TRACED_HOLD = 0.02  # the traced burst measures memory: no need to queue
WORKERS = 4  # max_concurrent_questions
HANG_GUARD = 180  # seconds the whole test may take before it is failed as hung
HEARTBEAT = 0.5  # seconds, announced by the emulator in HELLO (Discord: 41.25)
# A heartbeat may come this much after its interval. Measured late by 0.1-0.3 s while two
# other CPU-bound processes shared the 2 cores; with the Asker on the event loop it is
# seconds late and most interactions expire.
HEARTBEAT_LATE_MAX = 0.5
ACK_DEADLINE = 3.0
# How long the test waits for the last reply. Unloaded, the timed burst is answered in
# ~11 s; on a shared machine with other CPU-bound work, the traced burst (tracemalloc
# slows every allocation) took over 30 s. The wait ends at the last reply, so a long cap
# costs nothing; Discord's 3 seconds are checked on the acknowledgements, not here.
REPLY_WAIT = 120.0
# Bytes the bot may still hold after the second burst (4 KB a question). Measured: 0.3 to
# 0.5 MB on a quiet machine (bounded caches, the new users' cooldown buckets), 1.0 to 1.2 MB
# while two other CPU-bound jobs shared the cores (asyncio handles and transports of the
# last replies still in flight); keeping each Answer alone would add 2.7 MB.
MEMORY_TOLERANCE = 2_000_000
QUESTIONS = [
    QUESTION,
    "who is the mayor of Seoul?",
    "how many companies are in the Shenzhen park?",
    "who won the world cup in Tokyo?",  # abstains
]


@dataclasses.dataclass
class Burst:
    """What one burst came to, kept small: the records themselves are dropped before measuring."""

    sent_in: float
    answered_in: float
    acknowledged: int
    replied: int
    latencies: list[float]  # from each interaction to its acknowledgement
    answer_latencies: list[float]  # from each interaction to its answer (or refusal)
    lags: list[float]
    heartbeats: list[float]  # intervals between the heartbeats received during the burst
    refused: list[tuple[int, str, bool]]  # (user id, content, ephemeral) of cooldown notices
    error_calls: list[tuple[str, str, int]]
    bodies_checked: int
    most_concurrent: int

    def figures(self) -> dict[str, object]:
        late = [i - HEARTBEAT for i in self.heartbeats]
        return {
            "sent_in_s": round(self.sent_in, 2),
            "all_answered_in_s": round(self.answered_in, 2),
            "ack_latency": summary(self.latencies),
            "answer_latency": summary(self.answer_latencies),
            "loop_lag": summary(self.lags),
            "heartbeats": len(self.heartbeats) + 1,
            "heartbeat_late_max_ms": round(max(late, default=0.0) * 1000, 1),
            "most_concurrent": self.most_concurrent,
            "refused_for_cooldown": len(self.refused),
            "bodies_checked": self.bodies_checked,
        }

    def check(self, spammer: FakeMember, *, timed: bool = True) -> None:
        """Every interaction acknowledged and replied to, concurrency bounded, the spammer told;
        when `timed`, also within Discord's 3 seconds and with the heartbeat on time."""
        assert self.error_calls == []  # no 10062 (late acknowledgement), no 400 (bad body)
        assert self.acknowledged == BURST
        # Every question got a visible reply: an answer, an abstention, or the cooldown notice.
        assert self.replied == BURST
        # The spammer is told when to come back, privately; everyone else is answered.
        assert len(self.refused) == SPAMMER_ASKS - RATE
        for user_id, content, ephemeral in self.refused:
            assert user_id == spammer.id and ephemeral
            assert content.startswith("You are asking quickly: you can ask again <t:")
        assert self.most_concurrent <= WORKERS  # concurrency bounded
        if not timed:
            return
        # The bound was reached (so the test can see it), and answers queued past Discord's
        # 3 seconds (so only acknowledging at once kept every interaction alive).
        assert self.most_concurrent == WORKERS
        assert max(self.answer_latencies) > ACK_DEADLINE
        assert self.sent_in < 10.0
        assert max(self.latencies) < ACK_DEADLINE
        # The heartbeat kept its rhythm from the first interaction to after the last reply.
        assert sum(self.heartbeats) >= self.answered_in - HEARTBEAT
        assert max(self.heartbeats) <= HEARTBEAT + HEARTBEAT_LATE_MAX, self.heartbeats


def forget_history(emu: DiscordEmulator) -> None:
    """Drop what the emulator recorded (its own memory, not the bot's) before measuring."""
    emu.calls.clear()
    emu.gateway_log.clear()
    emu._messages.clear()
    emu.interactions.clear()
    emu._interactions_by_token.clear()
    for session in emu.gateway.sessions.values():
        session.frames.clear()


def clear_message_cache(bot: CitebotBot) -> None:
    """Empty discord.py's message cache: bounded by design (max_messages, 1,000), not a leak."""
    messages = bot._connection._messages
    assert messages is not None and messages.maxlen == 1000
    messages.clear()


def held_by_the_bot(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes still allocated, leaving out the emulator, this test and aiohttp's connection buffers.

    Each allocation is charged to the line that made it. aiohttp keeps buffers per open
    keep-alive connection (bounded by the number of connections, on both sides of the
    loopback); the emulator and the test keep their own records.
    """
    excluded = [
        tracemalloc.Filter(False, "*/aiohttp/*"),
        tracemalloc.Filter(False, "*/tests/emulator/*"),
        tracemalloc.Filter(False, "*/tests/hardening/*"),
        tracemalloc.Filter(False, tracemalloc.__file__),
    ]
    return sum(stat.size for stat in snapshot.filter_traces(excluded).statistics("filename"))


def answer_latencies(emu: DiscordEmulator, records: list[InteractionRecord]) -> list[float]:
    """Seconds from each interaction's dispatch to the message that answered it."""
    latencies = []
    for record in records:
        reply = record.reply()
        if reply is not None:
            latencies.append(reply_time(emu, record) - record.dispatched_at)
    return latencies


def reply_time(emu: DiscordEmulator, record: InteractionRecord) -> float:
    """When the answer arrived: the edit of "thinking…", else the callback that carried it."""
    edits = emu.calls_to("PATCH", f"/webhooks/{emu.application_id}/{record.token}/")
    sent = edits or emu.calls_to("POST", f"/interactions/{record.id}/")
    return sent[0].time


def ack_latencies(emu: DiscordEmulator, records: list[InteractionRecord]) -> list[float]:
    """Seconds from each interaction's dispatch to its accepted callback (unacknowledged: none)."""
    callback_at = {
        c.path.split("/")[2]: c.time
        for c in emu.calls_to("POST", "/interactions/")
        if c.status < 400
    }
    return [callback_at[str(r.id)] - r.dispatched_at for r in records if str(r.id) in callback_at]


def users_for_a_burst(emu: DiscordEmulator, name: str) -> tuple[list[FakeMember], FakeMember]:
    """Fresh members (fresh cooldown buckets): USERS askers and one spammer."""
    world = emu.world
    askers = [world.add_member(emu.guild, world.add_user(f"{name}{n}")) for n in range(USERS)]
    return askers, world.add_member(emu.guild, world.add_user(f"{name}-spammer"))


async def burst(
    emu: DiscordEmulator,
    counting: CountingAsker,
    askers: list[FakeMember],
    spammer: FakeMember,
    send_over: float,
) -> Burst:
    """BURST /ask interactions evenly spread over `send_over` seconds, users interleaved; wait
    for every reply (or REPLY_WAIT seconds: then the checks say what went wrong)."""
    plan = [(askers[i % USERS], QUESTIONS[i % len(QUESTIONS)]) for i in range(USERS * RATE)]
    step = len(plan) // SPAMMER_ASKS
    for n in range(SPAMMER_ASKS):  # the spammer's questions spread through the burst
        plan.insert(n * (step + 1), (spammer, QUESTION))
    assert len(plan) == BURST
    counting.most = 0
    beats_before = len(emu.heartbeats)
    loop = asyncio.get_running_loop()
    start = loop.time()
    records = []
    with LoopLagSampler() as lag:
        for i, (user, question) in enumerate(plan):
            delay = start + i * send_over / BURST - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            records.append(await emu.send_slash_command("ask", {"question": question}, user=user))
        sent_in = loop.time() - start
        with contextlib.suppress(TimeoutError):
            await emu.wait_until(
                lambda: all(r.reply() is not None for r in records), REPLY_WAIT, "every reply"
            )
        answered_in = loop.time() - start
        await asyncio.sleep(2 * HEARTBEAT)  # one more heartbeat after the last reply
    beats = emu.heartbeats[beats_before:]
    refused, replied = [], 0
    for record in records:
        reply = record.reply()
        replied += reply is not None and bool(reply.content)
        if reply is not None and record.response_type == 4:  # answered at once: refused
            refused.append((record.user.id, reply.content, reply.ephemeral))
    return Burst(
        sent_in=sent_in,
        answered_in=answered_in,
        acknowledged=sum(r.acknowledged for r in records),
        replied=replied,
        latencies=ack_latencies(emu, records),
        answer_latencies=answer_latencies(emu, records),
        lags=lag.lags,
        heartbeats=[b - a for a, b in itertools.pairwise(beats)],
        refused=refused,
        error_calls=[(c.method, c.path, c.status) for c in emu.error_calls],
        bodies_checked=assert_cannot_ping(emu),
        most_concurrent=counting.most,
    )


async def test_a_burst_of_500_questions_is_acknowledged_in_time_answered_and_bounded(
    settings: BotSettings, asker: Asker
) -> None:
    """500 /ask from 49 users in 5 s, twice: each acknowledged within 3 s and answered, heartbeats
    on time, at most 4 questions computed at once, memory back to baseline, the spammer told."""
    settings = settings.model_copy(
        update={
            "ask_cooldown_rate": RATE,
            "ask_cooldown_seconds": 600,
            "max_concurrent_questions": WORKERS,
        }
    )
    counting = CountingAsker(asker, hold=HOLD)
    with capturing_logs(logging.WARNING) as logs:
        async with DiscordEmulator(heartbeat_interval=HEARTBEAT) as emu:
            first_users, first_spammer = users_for_a_burst(emu, "a")
            second_users, second_spammer = users_for_a_burst(emu, "b")
            # Only a guard against a hang: the time the bot may take is checked per
            # interaction (Discord's 3 s) by `timed.check`. Both bursts took 69-80 s on these
            # 2-core machines, the traced one slowed by tracemalloc: 80 s failed when busy.
            async with serving(emu, settings, counting, timeout=HANG_GUARD) as bot:
                await warm_up(emu)

                timed = await burst(emu, counting, first_users, first_spammer, SEND_OVER)
                timed.check(first_spammer)

                await asyncio.sleep(0.2)  # the gateway echoes of the first burst land
                forget_history(emu)
                clear_message_cache(bot)
                gc.collect()
                rss_before = rss()
                # tracemalloc slows every allocation: this burst is about memory, not time,
                # so Discord's 3-second rule is not enforced on it (the first burst was timed).
                emu.interaction_deadline = None
                counting.hold = TRACED_HOLD
                tracemalloc.start()  # only what is allocated from here on is traced
                traced = await burst(emu, counting, second_users, second_spammer, TRACED_SEND_OVER)
                await asyncio.sleep(0.2)
                before_gc = tracemalloc.get_traced_memory()[0]
                forget_history(emu)
                cached = len(bot.cached_messages)
                clear_message_cache(bot)
                gc.collect()
                everything, peak = tracemalloc.get_traced_memory()
                held = held_by_the_bot(tracemalloc.take_snapshot())
                tracemalloc.stop()
                rss_after = rss()
            stored = rows(settings.db_path, "SELECT COUNT(*) FROM answers")[0][0]

    figures = {
        "burst": BURST,
        "users": USERS + 1,
        "timed_burst": timed.figures(),
        "traced_burst": traced.figures(),
        "memory": {
            "traced_after_burst_before_gc_bytes": before_gc,
            "retained_by_bot_bytes": held,
            "retained_with_connection_buffers_bytes": everything,
            "peak_during_burst_bytes": peak,
            "messages_in_discord_py_cache": cached,
            "rss_before_bytes": rss_before,
            "rss_after_bytes": rss_after,
        },
    }
    print("burst figures:", json.dumps(figures))
    traced.check(second_spammer, timed=False)
    assert logs.errors() == []
    assert stored == len(QUESTIONS) + 2 * (BURST - len(timed.refused))
    assert held < MEMORY_TOLERANCE, held


async def warm_up(emu: DiscordEmulator) -> None:
    """Each question once (imports, caches) before anything is measured."""
    warm = [await emu.send_slash_command("ask", {"question": q}, user=emu.admin) for q in QUESTIONS]
    await emu.wait_until(lambda: all(r.reply() for r in warm), 10, "warm-up")


def rss() -> int:
    """Resident set size of this process in bytes (for the record; RSS rarely shrinks)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * 4096


async def test_one_user_over_the_cooldown_gets_a_polite_reply_not_silence(
    emu: DiscordEmulator, settings: BotSettings, asker: Asker
) -> None:
    """A user asking faster than the rate is answered up to it, then told when to ask again,
    by /ask and by mention alike; another user is not slowed down."""
    settings = settings.model_copy(update={"ask_cooldown_rate": 2, "ask_cooldown_seconds": 60})
    async with serving(emu, settings, asker):
        slash = [
            await emu.send_slash_command("ask", {"question": QUESTION}, user=emu.member)
            for _ in range(4)
        ]
        await emu.wait_until(lambda: all(r.reply() for r in slash), 10, "replies")
        mention = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}", author=emu.member)
        told = await emu.wait_for_bot_message(reply_to=mention)
        other = await emu.send_slash_command("ask", {"question": QUESTION}, user=emu.admin)
        answered = await other.wait_for_reply()
    replies = [r.reply() for r in slash]
    assert [is_answer(r.content) for r in replies if r] == [True, True, False, False]
    for record, reply in zip(slash[2:], replies[2:], strict=True):
        assert record.response_type == 4 and reply is not None and reply.ephemeral
        assert reply.content.startswith("You are asking quickly: you can ask again <t:")
    assert replies[2] is not None
    when = int(replies[2].content.split("<t:")[1].split(":")[0])
    assert 0 < when - time.time() <= 61  # says when, and it is within the window
    assert told.content.startswith("You are asking quickly: you can ask again <t:")
    assert is_answer(answered.content)
    assert_cannot_ping(emu)
