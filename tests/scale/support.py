"""Several real bot processes against one emulator, PostgreSQL and Redis (tests and benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import SHIPPED
from tests.emulator import DiscordEmulator
from tests.emulator.gateway import Gateway
from tests.emulator.world import ADMINISTRATOR, FakeChannel, FakeGuild, FakeUser, World
from tests.services import PostgresServer, RedisServer, postgres_server, redis_server

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`python -m bot` with the given environment; its log lines are collected as they come."""

    def __init__(self, name: str, env: Mapping[str, str], cwd: Path) -> None:
        self.name = name
        self.env = dict(env)
        self.cwd = cwd
        self.lines: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        async for raw in self._process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (Linux /proc)."""
        assert self._process is not None
        stat = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")

    def problems(self) -> list[str]:
        """Log lines at ERROR or above, and tracebacks."""
        return [line for line in self.lines if "ERROR" in line or "Traceback" in line]

    def log(self) -> str:
        return "\n".join(self.lines[-40:])

    async def wait_for_log(self, text: str, timeout: float = 30.0, *, count: int = 1) -> None:
        """Until `count` log lines contain `text`; fails with the log when it never comes."""
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.lines) < count:
            if self._process is not None and self._process.returncode is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {text!r}:\n{self.log()}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """SIGINT (as Ctrl-C or systemd would), then kill if it does not stop in 10 s."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(2)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            await self._reader


@dataclass
class Cluster:
    """What the tests drive: the emulator and its two guilds (shard 0, shard 1), the servers."""

    emu: DiscordEmulator
    guilds: list[FakeGuild]
    channels: list[FakeChannel]
    admin: FakeUser  # Administrator in both guilds
    postgres: PostgresServer
    redis: RedisServer
    database_url: str
    corpus_dir: Path
    processes: list[BotProcess] = field(default_factory=list)

    def user(self, name: str) -> FakeUser:
        """A new member of both guilds (each test its own, so cooldowns do not mix)."""
        user = self.emu.world.add_user(name)
        for guild in self.guilds:
            self.emu.world.add_member(guild, user)
        return user


def guilds_on_both_shards(shard_count: int = 2) -> tuple[World, list[FakeGuild]]:
    """The default world plus guilds until one sits on each shard (ids are time-based)."""
    world = World.default()
    by_shard = {Gateway.shard_for_guild(world.guilds[0].id, shard_count): world.guilds[0]}
    while len(by_shard) < shard_count:
        guild = world.add_guild(f"Guild {len(world.guilds)}")
        shard = Gateway.shard_for_guild(guild.id, shard_count)
        if shard in by_shard:
            world.guilds.remove(guild)
            time.sleep(0.002)  # the next id is on the next millisecond
            continue
        role = guild.add_role("Admin", ADMINISTRATOR)
        guild.add_text_channel("general")
        assert world.admin is not None
        world.add_member(guild, world.admin.user, [role])
        by_shard[shard] = guild
    return world, [by_shard[s] for s in range(shard_count)]


def bot_environment(emu: DiscordEmulator, root: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of one bot process: nothing of the developer's, the emulator's URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}
    env.update(
        {
            "DISCORD_TOKEN": "emulated-token",
            "CITEBOT_DISCORD_API_BASE": emu.api_base,
            "CITEBOT_DISCORD_GATEWAY_URL": emu.gateway_url,
            "CITEBOT_CACHE_DIR": str(root / "cache"),
            "XDG_DATA_HOME": str(root / "data"),
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


@contextlib.asynccontextmanager
async def start_cluster(root: Path, *, cooldown_rate: int = 3) -> AsyncIterator[Cluster]:
    """Emulator, PostgreSQL, Redis and one bot process per shard (of 2), all stopped after."""
    world, guilds = guilds_on_both_shards()
    corpus_dir = root / "corpus"
    shutil.copytree(SHIPPED, corpus_dir)
    with postgres_server() as postgres, redis_server() as redis:
        database_url = postgres.create_database("citebot")
        async with DiscordEmulator(world, shard_count=2) as emu:
            assert world.admin is not None
            cluster = Cluster(
                emu=emu,
                guilds=guilds,
                channels=[g.channels[0] for g in guilds],
                admin=world.admin.user,
                postgres=postgres,
                redis=redis,
                database_url=database_url,
                corpus_dir=corpus_dir,
            )
            for shard in range(2):
                env = bot_environment(
                    emu,
                    root,
                    {
                        "CITEBOT_CORPUS_DIR": str(corpus_dir),
                        "CITEBOT_SHARD_COUNT": "2",
                        "CITEBOT_SHARD_IDS": str(shard),
                        "CITEBOT_DATABASE_URL": database_url,
                        "CITEBOT_REDIS_URL": redis.url,
                        "CITEBOT_ASK_COOLDOWN_RATE": str(cooldown_rate),
                        "CITEBOT_ASK_COOLDOWN_SECONDS": "60",
                    },
                )
                cluster.processes.append(BotProcess(f"shard {shard}", env, root))
            try:
                for process in cluster.processes:
                    await process.start()
                for process in cluster.processes:
                    await process.wait_for_log("logged in as", 60)
                yield cluster
            finally:
                for process in cluster.processes:
                    await process.stop()
