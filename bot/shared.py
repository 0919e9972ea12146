"""What the processes of one bot share through Redis: per-user cooldowns and reloads.

Cooldowns: one counter per user and window, incremented and given its expiry by a
Lua script, which Redis runs atomically, so two processes asking at the same instant
cannot both take the last question of a window. The window is the one discord.py's
`Cooldown` uses (it starts with the first question and lasts `per` seconds).

Reloads: a process that reloaded its corpus publishes the new index version on a
channel; every other process reloads too. On one machine they all read the same
corpus folder and memory-map the same index cache files, so the second and later
reloads find the index already written and only map it.

Redis going away never stops the bot: cooldowns fall back to the process's own
buckets (logged once), and the subscription reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import redis.asyncio as redis
from discord import app_commands
from redis.exceptions import RedisError

from bot.settings import redacted_url
from citebot.errors import CitebotError

if TYPE_CHECKING:
    from bot.client import UserCooldowns

log = logging.getLogger(__name__)

RELOAD_CHANNEL = "citebot:reload"
COOLDOWN_PREFIX = "citebot:cooldown:"
# KEYS[1]: the user's counter; ARGV: window in ms, questions per window.
# Returns -1 when the question may be asked, else the ms until the window ends.
TAKE_ONE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n <= tonumber(ARGV[2]) then return -1 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
return left
"""


class SharedError(CitebotError):
    """Redis cannot be used as configured; the message says what to do (`citebot bot` exits 2)."""


class Shared:
    """One Redis connection pool: cooldowns for every process, reload announcements."""

    def __init__(self, client: redis.Redis, where: str) -> None:
        self._client = client
        self.where = where
        #: Tells this process's own announcements apart from the others'.
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._take_one = client.register_script(TAKE_ONE)
        self._listening: asyncio.Task[None] | None = None
        self._warned = False

    @classmethod
    async def connect(cls, url: str) -> Shared:
        """Connect and check with a PING; a SharedError when Redis cannot be reached."""
        where = redacted_url(url)
        try:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        except ValueError as exc:
            raise SharedError(f"CITEBOT_REDIS_URL is not a Redis URL ({exc})") from exc
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            raise SharedError(
                f"cannot reach Redis at {where} ({exc}); start it or fix CITEBOT_REDIS_URL"
            ) from exc
        return cls(client, where)

    async def take_question(
        self, user_id: int, local: UserCooldowns, now: float | None = None
    ) -> app_commands.CommandOnCooldown | None:
        """Take one of the user's questions (at `local`'s rate) from the bucket every process
        shares; the error to raise when it is empty. Without Redis, from `local` instead."""
        try:
            left = await self._take_one(
                keys=[f"{COOLDOWN_PREFIX}{user_id}"],
                args=[max(1, round(local.per * 1000)), local.rate],
            )
        except (RedisError, OSError) as exc:
            if not self._warned:  # once per outage, not once per question
                log.warning(
                    "Redis at %s is unreachable (%s); cooldowns are per process", self.where, exc
                )
                self._warned = True
            return local.hit(user_id, now)
        self._warned = False
        if int(left) < 0:
            return None
        bucket = app_commands.Cooldown(local.rate, local.per)
        return app_commands.CommandOnCooldown(bucket, int(left) / 1000)

    async def announce_reload(self, version: str) -> int:
        """Tell the other processes to reload; how many listeners (this one included) heard it."""
        message = json.dumps({"origin": self.origin, "version": version})
        try:
            return int(await self._client.publish(RELOAD_CHANNEL, message))
        except (RedisError, OSError) as exc:
            log.warning("could not tell the other processes to reload (Redis: %s)", exc)
            return 0

    def listen_for_reloads(self, on_reload: Callable[[str], Awaitable[object]]) -> None:
        """Call `on_reload(version)` for every other process's announcement, until `close`."""
        self._listening = asyncio.get_running_loop().create_task(self._listen(on_reload))

    async def _listen(self, on_reload: Callable[[str], Awaitable[object]]) -> None:
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(RELOAD_CHANNEL)
                    async for message in pubsub.listen():
                        await self._heard(message, on_reload)
            except (RedisError, OSError) as exc:
                log.warning("lost the reload channel on Redis (%s); resubscribing", exc)
                await asyncio.sleep(1.0)

    async def _heard(
        self, message: dict[str, object], on_reload: Callable[[str], Awaitable[object]]
    ) -> None:
        if message.get("type") != "message":
            return
        raw = message.get("data")
        try:
            data = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
            origin, version = str(data["origin"]), str(data["version"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignored a malformed reload announcement (%s)", exc)
            return
        if origin != self.origin:
            log.info("process %s reloaded (version %s); reloading here too", origin, version)
            await on_reload(version)

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        await self._client.aclose()
