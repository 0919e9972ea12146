"""Load: questions answered and stored per second, two processes on PostgreSQL beside one on SQLite.

Run from the repository root (about a minute; PostgreSQL and redis-server installed):

    .venv/bin/python benchmarks/bench_scale.py
    .venv/bin/python benchmarks/bench_scale.py --questions 600 --rounds 2

Each set-up is started from nothing, with real processes (`python -m bot`) logged into the
loopback Discord emulator, which holds two guilds on two shards:

  * "1 process, SQLite": one unsharded process, the default SQLite file;
  * "2 processes, PostgreSQL": shard 0 and shard 1 in one process each, one PostgreSQL
    and one Redis (cooldowns go through Redis on every question).

The same `--questions` slash commands (questions about the shipped corpus, from 50 users,
half to each guild) are sent with at most `--in-flight` waiting at once; the clock runs
from the first command to the last reply. "answered and stored" counts replies that carry
the vote buttons, which the bot only adds after the row is committed, and the database
is checked to hold that many rows. Set-ups alternate over `--rounds` rounds, so a
machine whose load changes affects both alike. The emulator runs in this process and
costs CPU too; the CPU seconds of this process ("emulator") and of the bot processes
during the load are printed beside each figure, to show which side was the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SHIPPED  # noqa: E402 - the test helpers start the servers
from tests.emulator import DiscordEmulator  # noqa: E402
from tests.scale.support import BotProcess, bot_environment, guilds_on_both_shards  # noqa: E402
from tests.services import postgres_server, redis_server  # noqa: E402

QUESTIONS = [
    "when did the Hetao park open?",
    "who is the mayor of Seoul?",
    "where is the Hong Kong Science Park branch?",
    "what did the Seoul mayor visit in Shenzhen?",
    "how big is the new park?",
    "when did Park Won-soon visit Hong Kong?",
]


async def load(
    emu: DiscordEmulator, bots: list[BotProcess], questions: int, in_flight: int
) -> tuple[float, int, int]:
    """Send the questions; (seconds, replies with buttons, replies without). Prints CPU use."""
    guilds = list(emu.world.guilds)
    users = [emu.world.add_user(f"user{n}") for n in range(50)]
    for user, guild in itertools.product(users, guilds):
        emu.world.add_member(guild, user)
    slots = asyncio.Semaphore(in_flight)

    async def one(n: int) -> bool:
        async with slots:
            guild = guilds[n % len(guilds)]
            inter = await emu.send_slash_command(
                "ask",
                {"question": QUESTIONS[n % len(QUESTIONS)]},
                user=users[n % len(users)],
                channel=guild.channels[0],
            )
            reply = await inter.wait_for_reply(60)
            return bool(reply.components)

    started, cpu, bots_cpu = time.perf_counter(), time.process_time(), _cpu(bots)
    stored = await asyncio.gather(*(one(n) for n in range(questions)))
    elapsed = time.perf_counter() - started
    print(
        f"    CPU during the load: emulator {time.process_time() - cpu:.1f} s, "
        f"bots {', '.join(f'{b - a:.1f}' for a, b in zip(bots_cpu, _cpu(bots), strict=True))} s"
    )
    return elapsed, sum(stored), questions - sum(stored)


def _cpu(bots: list[BotProcess]) -> list[float]:
    return [bot.cpu_seconds() for bot in bots]


@contextlib.asynccontextmanager
async def processes(
    emu: DiscordEmulator, root: Path, envs: list[dict[str, str]]
) -> AsyncIterator[list[BotProcess]]:
    """One bot process per environment, logged in, stopped afterwards."""
    started = [
        BotProcess(f"bot {n}", bot_environment(emu, root, e), root) for n, e in enumerate(envs)
    ]
    try:
        for process in started:
            await process.start()
        for process in started:
            await process.wait_for_log("logged in as", 120)
        yield started
    finally:
        for process in started:
            await process.stop()


async def one_round(kind: str, args: argparse.Namespace, root: Path) -> float:
    """Start `kind` from nothing, load it, check the database; questions stored per second."""
    root.mkdir()
    corpus = root / "corpus"
    corpus.mkdir()
    for article in SHIPPED.glob("*.md"):
        (corpus / article.name).write_text(article.read_text(encoding="utf-8"), encoding="utf-8")
    common = {
        "CITEBOT_CORPUS_DIR": str(corpus),
        "CITEBOT_ASK_COOLDOWN_RATE": "1000",
        "CITEBOT_LOG_QUESTIONS": "true",
    }
    world, _ = guilds_on_both_shards()
    async with DiscordEmulator(world, shard_count=2) as emu:
        if kind == "sqlite":
            db_path = root / "citebot.sqlite3"
            env = {**common, "CITEBOT_DB_PATH": str(db_path)}
            async with processes(emu, root, [env]) as bots:
                elapsed, stored, unstored = await load(emu, bots, args.questions, args.in_flight)
            with contextlib.closing(sqlite3.connect(db_path)) as db:
                rows = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        else:
            with postgres_server() as postgres, redis_server() as redis:
                url = postgres.create_database("citebot")
                envs = [
                    {
                        **common,
                        "CITEBOT_SHARD_COUNT": "2",
                        "CITEBOT_SHARD_IDS": str(shard),
                        "CITEBOT_DATABASE_URL": url,
                        "CITEBOT_REDIS_URL": redis.url,
                    }
                    for shard in range(2)
                ]
                async with processes(emu, root, envs) as bots:
                    elapsed, stored, unstored = await load(
                        emu, bots, args.questions, args.in_flight
                    )
                db = await asyncpg.connect(url)
                rows = await db.fetchval("SELECT COUNT(*) FROM answers")
                await db.close()
    if rows != stored or unstored:
        raise SystemExit(f"{kind}: {stored} acknowledged, {unstored} without buttons, {rows} rows")
    rate = stored / elapsed
    print(
        f"  {LABELS[kind]:<26} {stored} questions in {elapsed:5.2f} s = {rate:6.1f} /s", flush=True
    )
    return rate


LABELS = {"sqlite": "1 process, SQLite", "postgres": "2 processes, PostgreSQL"}


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=400, help="per set-up and round")
    parser.add_argument("--in-flight", type=int, default=32, help="commands waiting at once")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    rates: dict[str, list[float]] = {kind: [] for kind in LABELS}
    with tempfile.TemporaryDirectory(prefix="citebot-bench-") as tmp:
        for round_no in range(args.rounds):
            print(f"round {round_no + 1}", flush=True)
            for kind in LABELS:
                rates[kind].append(await one_round(kind, args, Path(tmp) / f"{kind}-{round_no}"))
    print("\nmedian questions answered and stored per second:")
    for kind, values in rates.items():
        print(f"  {LABELS[kind]:<26} {statistics.median(values):6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
