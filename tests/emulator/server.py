"""DiscordEmulator: a loopback Discord (REST + gateway) that real discord.py clients log into.

Typical use::

    async with DiscordEmulator() as emu:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default())
        async with emu.run_client(bot, guild_ready_timeout=0.05):
            await bot.tree.sync()
            inter = await emu.send_slash_command("ask", options={"question": "why?"})
            reply = await inter.wait_for_reply()

See README.md next to this file for the full tour.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from aiohttp import web

from .events import EventsMixin
from .faults import FaultRule, FaultsMixin, error_body
from .gateway import IDENTIFY, RESUME, Gateway
from .records import (
    GatewayConnection,
    GatewayFrame,
    InteractionRecord,
    RecordedCall,
    StoredMessage,
)
from .rest import RestApi, json_response
from .world import FakeChannel, FakeGuild, FakeMember, FakeUser, World

JSON = Any
ClientT = TypeVar("ClientT")


class DiscordEmulator(EventsMixin, FaultsMixin):
    """A fake Discord on ``127.0.0.1:<ephemeral port>``; use as ``async with``.

    :param world: the users/guilds/channels to serve (default: :meth:`World.default`).
    :param token: if set, REST calls and IDENTIFY must use this bot token (401 / close 4004).
    :param heartbeat_interval: seconds announced in HELLO (Discord uses 41.25).
    :param shard_count: what ``GET /gateway/bot`` recommends (guilds are split across shards).
    :param ratelimit_headers: send ``X-RateLimit-*`` headers (a roomy bucket) on normal answers.
    :param interaction_deadline: seconds the bot has to answer an interaction callback before
        Discord says 10062 "Unknown interaction" (3 s in reality; None disables the check).
    :param enforce_message_content_intent: blank the content of MESSAGE_CREATEs the bot is not
        entitled to read (no MESSAGE_CONTENT intent, not mentioned, not a DM), like Discord.
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        token: str | None = None,
        heartbeat_interval: float = 41.25,
        shard_count: int = 1,
        ratelimit_headers: bool = True,
        interaction_deadline: float | None = 3.0,
        enforce_message_content_intent: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.world = world or World.default()
        self.token = token
        self.heartbeat_interval_ms = round(heartbeat_interval * 1000)
        self.shard_count = shard_count
        self.ratelimit_headers = ratelimit_headers
        self.interaction_deadline = interaction_deadline
        self.enforce_message_content_intent = enforce_message_content_intent
        self.host = host
        self.port = 0

        #: Every REST call, in completion order.
        self.calls: list[RecordedCall] = []
        #: REST calls to routes the emulator does not know (answered 404/405).
        self.unexpected: list[RecordedCall] = []
        #: Every gateway frame in both directions.
        self.gateway_log: list[GatewayFrame] = []
        self.connections: list[GatewayConnection] = []
        #: ``time.monotonic()`` of every HEARTBEAT received.
        self.heartbeats: list[float] = []
        #: Registered application commands: ``None`` -> global, guild id -> that guild's.
        self.commands: dict[int | None, list[JSON]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self._messages: dict[int, StoredMessage] = {}
        self._attachment_data: dict[str, bytes] = {}
        #: Threads the bot created.
        self.threads: list[FakeChannel] = []
        #: Channel ids the bot sent a typing indicator to, in order.
        self.typing: list[int] = []
        #: Pending REST fault rules (see ``rate_limit`` / ``fail_next`` / ``delay_next``).
        self.faults: list[FaultRule] = []
        #: Events not delivered because the client's intents exclude them: (event, reason).
        self.filtered_events: list[tuple[str, str]] = []

        self.gateway = Gateway(self)
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None
        self._pulse: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> DiscordEmulator:
        self._pulse = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._attachment)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ addresses & world

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` (``CITEBOT_DISCORD_API_BASE``)."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (``CITEBOT_DISCORD_GATEWAY_URL``)."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot_user

    @property
    def guild(self) -> FakeGuild:
        """The first guild."""
        return self.world.guilds[0]

    @property
    def channel(self) -> FakeChannel:
        """The first text channel of the first guild."""
        return self.guild.text_channels[0]

    @property
    def admin(self) -> FakeMember:
        if self.world.admin is None:
            raise LookupError("this world has no admin member (use World.default())")
        return self.world.admin

    @property
    def member(self) -> FakeMember:
        if self.world.member is None:
            raise LookupError("this world has no ordinary member (use World.default())")
        return self.world.member

    def dm_channel(self, user: FakeUser | FakeMember) -> FakeChannel:
        return self.world.dm_channel_for(user.user if isinstance(user, FakeMember) else user)

    # ------------------------------------------------------------------ pointing discord.py here

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py's ``Route.BASE`` and ``DEFAULT_GATEWAY`` here; restore on exit."""
        import discord.gateway
        import discord.http
        import yarl

        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    @contextlib.asynccontextmanager
    async def run_client(
        self,
        client: ClientT,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        guild_ready_timeout: float | None = None,
        skip_identify_delay: bool = False,
        patch: bool = True,
    ) -> AsyncIterator[ClientT]:
        """Run ``client.start(token)`` in a task until ``client.is_ready()``; close it on exit.

        ``guild_ready_timeout`` overrides the client's (discord.py waits that long after the
        last GUILD_CREATE before ``on_ready``; 2 s by default). ``skip_identify_delay``
        replaces ``client.before_identify_hook``, which sleeps 5 s before every IDENTIFY but
        the first (so re-IDENTIFY tests stay fast). ``patch=False`` if the code under test
        points discord.py at the emulator itself.
        """
        import discord

        if not isinstance(client, discord.Client):
            raise TypeError("run_client expects a discord.Client")
        if guild_ready_timeout is not None:
            client._connection.guild_ready_timeout = guild_ready_timeout
        if skip_identify_delay:

            async def no_delay(shard_id: int | None, *, initial: bool = False) -> None:
                return None

            client.before_identify_hook = no_delay  # type: ignore[method-assign]
        cm = self.patch_discord() if patch else contextlib.nullcontext()
        with cm:
            task = asyncio.create_task(client.start(token or self.token or "emulator-token"))
            try:
                await self.wait_until(
                    lambda: client.is_ready() or task.done(), timeout, "the client's on_ready"
                )
                if task.done():
                    task.result()
                    raise RuntimeError("client.start() returned before becoming ready")
                yield client
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), 5.0)
                if not task.done():
                    with contextlib.suppress(BaseException):
                        await asyncio.wait_for(task, 5.0)
                if not task.done():
                    task.cancel()

    # ------------------------------------------------------------------ waiting

    def _notify(self) -> None:
        if self._pulse is not None:
            self._pulse.set()
            self._pulse = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` is truthy, re-checking whenever emulator state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            pulse = self._pulse or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pulse.wait(), min(remaining, 0.05))

    # ------------------------------------------------------------------ REST inspection

    def calls_to(self, method: str, path_prefix: str = "") -> list[RecordedCall]:
        """Recorded calls with this method (``"*"`` = any) whose path starts with the prefix."""
        return [c for c in self.calls if c.matches(method, path_prefix)]

    async def wait_for_call(
        self, method: str, path_prefix: str = "", timeout: float = 5.0, *, count: int = 1
    ) -> RecordedCall:
        """Wait until ``count`` matching calls were made; return the ``count``-th."""
        await self.wait_until(
            lambda: len(self.calls_to(method, path_prefix)) >= count,
            timeout,
            f"{count} call(s) to {method} {path_prefix}",
        )
        return self.calls_to(method, path_prefix)[count - 1]

    @property
    def error_calls(self) -> list[RecordedCall]:
        """Calls answered with status >= 400 that were not injected faults."""
        return [c for c in self.calls if c.status >= 400 and not c.injected]

    # ------------------------------------------------------------------ message store

    @property
    def messages(self) -> list[StoredMessage]:
        """Every message (user and bot, including deleted/ephemeral), oldest first."""
        return list(self._messages.values())

    def get_message(self, message_id: int) -> StoredMessage | None:
        return self._messages.get(message_id)

    def bot_messages(self, channel: FakeChannel | int | None = None) -> list[StoredMessage]:
        """Non-deleted messages authored by the bot (any source), optionally in one channel."""
        cid = channel.id if isinstance(channel, FakeChannel) else channel
        return [
            m
            for m in self._messages.values()
            if m.author.id == self.world.bot_user.id
            and not m.deleted
            and (cid is None or m.channel_id == cid)
        ]

    async def wait_for_bot_message(
        self,
        channel: FakeChannel | int | None = None,
        *,
        reply_to: StoredMessage | int | None = None,
        predicate: Callable[[StoredMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> StoredMessage:
        """First bot message (optionally in ``channel``, replying to ``reply_to``, matching)."""
        ref = reply_to.id if isinstance(reply_to, StoredMessage) else reply_to

        def find() -> StoredMessage | None:
            for message in self.bot_messages(channel):
                if ref is not None and message.reference_id != ref:
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        await self.wait_until(lambda: find() is not None, timeout, "a bot message")
        found = find()
        assert found is not None
        return found

    # ------------------------------------------------------------------ gateway inspection

    def received(self, op: int) -> list[GatewayFrame]:
        """Frames with opcode ``op`` the client sent."""
        return [f for f in self.gateway_log if f.direction == "recv" and f.op == op]

    @property
    def identifies(self) -> list[JSON]:
        """The ``d`` of every IDENTIFY."""
        return [f.d for f in self.received(IDENTIFY)]

    @property
    def resumes(self) -> list[JSON]:
        return [f.d for f in self.received(RESUME)]

    def dispatched(self, event: str) -> list[GatewayFrame]:
        """DISPATCH frames of type ``event`` actually sent to a client."""
        return [f for f in self.gateway_log if f.direction == "send" and f.t == event]

    async def wait_for_gateway(self, op: int, count: int = 1, timeout: float = 5.0) -> GatewayFrame:
        """Wait until the client sent ``count`` frames with opcode ``op``; return the last."""
        await self.wait_until(
            lambda: len(self.received(op)) >= count, timeout, f"{count} gateway op {op}"
        )
        return self.received(op)[count - 1]

    async def wait_until_connected(self, timeout: float = 5.0) -> None:
        """Wait until a gateway session (identified or resumed) has a live connection."""
        await self.wait_until(
            lambda: any(s.live for s in self.gateway.current.values()),
            timeout,
            "a live gateway session",
        )

    def heartbeat_intervals(self) -> list[float]:
        """Seconds between consecutive heartbeats (across reconnects, so check per scenario)."""
        beats = self.heartbeats
        return [b - a for a, b in itertools.pairwise(beats)]

    # ------------------------------------------------------------------ internals

    def _echo(self, event: str, data: JSON, guild_id: int | None, intent: int) -> None:
        """Dispatch a gateway event caused by a REST call, without blocking the response."""

        async def run() -> None:
            with contextlib.suppress(RuntimeError, TimeoutError):
                seq = await self.gateway.dispatch(
                    event, data, guild_id=guild_id, intent=intent, wait=False
                )
                if seq is None:
                    self.filtered_events.append((event, f"intent {intent:#x} not requested"))

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        data = self._attachment_data.get(request.match_info["attachment"])
        if data is None:
            return json_response(404, error_body("404: Not Found"))
        return web.Response(body=data, content_type="application/octet-stream")
