"""The emulated gateway: HELLO / IDENTIFY / READY / GUILD_CREATE, heartbeats, RESUME, dispatch.

Frames go out as plain JSON text frames. discord.py asks for ``compress=zlib-stream`` in the
URL but only inflates *binary* frames, so uncompressed text is fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import payloads
from .records import GatewayConnection, GatewayFrame

if TYPE_CHECKING:
    from .server import DiscordEmulator

JSON = Any

# Gateway opcodes.
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intent bits the emulator honours when deciding what to dispatch.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Close codes.
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_AUTHENTICATION_FAILED = 4004


@dataclass(eq=False)
class GatewaySession:
    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    identify: JSON
    seq: int = 0
    #: Every dispatch frame of the session, for RESUME replay.
    frames: list[JSON] = field(default_factory=list)
    connection: _Live | None = None
    invalid: bool = False

    @property
    def live(self) -> bool:
        return self.connection is not None and not self.connection.ws.closed


@dataclass(eq=False)
class _Live:
    record: GatewayConnection
    ws: web.WebSocketResponse
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: GatewaySession | None = None


class Gateway:
    """One per emulator; owns the websocket connections and gateway sessions."""

    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator
        self.sessions: dict[str, GatewaySession] = {}
        #: shard id -> the session most recently identified on that shard.
        self.current: dict[int, GatewaySession] = {}
        self._live: list[_Live] = []
        # fault switches
        self.ack_heartbeats = True
        self.reject_next_resumes = 0

    # ---------------------------------------------------------------- websocket endpoint

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        record = GatewayConnection(
            index=len(self.emu.connections),
            path=request.path,
            query=dict(request.query),
            opened_at=time.monotonic(),
        )
        self.emu.connections.append(record)
        live = _Live(record=record, ws=ws)
        self._live.append(live)
        self.emu._notify()
        try:
            await self._send(live, HELLO, {"heartbeat_interval": self.emu.heartbeat_interval_ms})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(live, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    await self._on_frame(live, json.loads(msg.data.decode()))
                else:
                    break
        finally:
            record.closed_at = time.monotonic()
            if record.close_code is None and ws.close_code is not None:
                record.close_code = int(ws.close_code)
            if live.session is not None and live.session.connection is live:
                live.session.connection = None
            self._live.remove(live)
            self.emu._notify()
        return ws

    async def close_all(self, code: int = 1001) -> None:
        for live in list(self._live):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(live.ws.close(code=code), 2.0)

    # ---------------------------------------------------------------- frames in

    async def _on_frame(self, live: _Live, frame: JSON) -> None:
        op = frame.get("op")
        d = frame.get("d")
        self._log("recv", live, op, d)
        if op == HEARTBEAT:
            self.emu.heartbeats.append(time.monotonic())
            if self.ack_heartbeats:
                await self._send(live, HEARTBEAT_ACK, None)
        elif op == IDENTIFY:
            await self._identify(live, d)
        elif op == RESUME:
            await self._resume(live, d)
        elif op == REQUEST_GUILD_MEMBERS:
            await self._request_members(live, d)
        self.emu._notify()

    async def _identify(self, live: _Live, d: JSON) -> None:
        live.record.kind = "identify"
        if self.emu.token is not None and d.get("token") != self.emu.token:
            live.record.close_code = CLOSE_AUTHENTICATION_FAILED
            live.record.closed_by_server = True
            await live.ws.close(code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        shard = d.get("shard")
        shard_id, shard_count = (int(shard[0]), int(shard[1])) if shard else (0, 1)
        session = GatewaySession(
            session_id=uuid.uuid4().hex,
            shard_id=shard_id,
            shard_count=shard_count,
            intents=int(d.get("intents") or 0),
            identify=d,
        )
        self.sessions[session.session_id] = session
        self.current[shard_id] = session
        session.connection = live
        live.session = session
        live.record.session_id = session.session_id
        live.record.shard_id = shard_id
        world = self.emu.world
        guilds = [g for g in world.guilds if self.shard_for_guild(g.id, shard_count) == shard_id]
        ready: JSON = {
            "v": 10,
            "user": payloads.user_payload(world.bot_user),
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.emu.gateway_url,
            "geo_ordered_rtc_regions": [],
            "application": {"id": str(world.application_id), "flags": 0},
            "_trace": ["citebot-emulator"],
        }
        if shard:
            ready["shard"] = [shard_id, shard_count]
        await self._dispatch_on(session, "READY", ready)
        for guild in guilds:
            members = None
            if not session.intents & INTENT_GUILD_MEMBERS:
                members = [m for m in guild.members if m.user.id == world.bot_user.id]
            data = payloads.guild_payload(guild, members=members)
            await self._dispatch_on(session, "GUILD_CREATE", data)

    async def _resume(self, live: _Live, d: JSON) -> None:
        live.record.kind = "resume"
        session = self.sessions.get(str(d.get("session_id")))
        reject = self.reject_next_resumes > 0
        if reject:
            self.reject_next_resumes -= 1
        if session is None or session.invalid or reject or d.get("token") != self._token(session):
            await self._send(live, INVALID_SESSION, False)
            return
        if session.connection is not None and session.connection is not live:
            with contextlib.suppress(Exception):
                await session.connection.ws.close(code=CLOSE_UNKNOWN_ERROR)
        session.connection = live
        live.session = session
        live.record.session_id = session.session_id
        live.record.shard_id = session.shard_id
        last_seen = int(d.get("seq") or 0)
        for frame in [f for f in session.frames if f["s"] > last_seen]:
            await self._send_raw(live, frame)
        await self._dispatch_on(session, "RESUMED", {"_trace": ["citebot-emulator"]})

    @staticmethod
    def _token(session: GatewaySession) -> Any:
        return session.identify.get("token")

    async def _request_members(self, live: _Live, d: JSON) -> None:
        if live.session is None:
            return
        guild = self.emu.world.get_guild(int(d.get("guild_id", 0)))
        if guild is None:
            return
        members = guild.members
        user_ids = d.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in user_ids}
            members = [m for m in members if m.user.id in wanted]
        query = d.get("query")
        if query:
            members = [m for m in members if m.user.username.lower().startswith(query.lower())]
        limit = int(d.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [payloads.member_payload(guild, m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        await self._dispatch_on(live.session, "GUILD_MEMBERS_CHUNK", chunk)

    # ---------------------------------------------------------------- frames out

    def _log(
        self,
        direction: str,
        live: _Live,
        op: int,
        d: JSON,
        t: str | None = None,
        s: int | None = None,
    ) -> None:
        self.emu.gateway_log.append(
            GatewayFrame(direction, op, d, t, s, live.record.index, time.monotonic())
        )

    async def _send(self, live: _Live, op: int, d: JSON) -> None:
        await self._send_raw(live, {"op": op, "d": d, "s": None, "t": None})

    async def _send_raw(self, live: _Live, frame: JSON) -> None:
        async with live.lock:
            if live.ws.closed:
                return
            try:
                await live.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                return
        self._log("send", live, frame["op"], frame["d"], frame.get("t"), frame.get("s"))

    async def _dispatch_on(self, session: GatewaySession, event: str, data: JSON) -> int:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.frames.append(frame)
        if session.connection is not None:
            await self._send_raw(session.connection, frame)
        return session.seq

    # ---------------------------------------------------------------- public-ish helpers

    @staticmethod
    def shard_for_guild(guild_id: int | None, shard_count: int) -> int:
        if not guild_id:
            return 0
        return (guild_id >> 22) % max(1, shard_count)

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        for session in self.current.values():
            if session.shard_id == self.shard_for_guild(guild_id, session.shard_count):
                return session
        return None

    async def dispatch(
        self,
        event: str,
        data: JSON,
        *,
        guild_id: int | None = None,
        intent: int = 0,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> int | None:
        """Send a DISPATCH to the session owning ``guild_id``'s shard.

        With ``wait`` (default) first waits until that session has a live connection; without
        it the event is queued in the session and replayed when the client RESUMEs. Returns the
        sequence number, or None when the session's intents filter the event out.
        """
        if wait:
            await self.emu.wait_until(
                lambda: (s := self.session_for(guild_id)) is not None and s.live,
                timeout,
                f"a live gateway session to dispatch {event}",
            )
        session = self.session_for(guild_id)
        if session is None:
            raise RuntimeError(f"no gateway session to dispatch {event} to")
        if intent and not session.intents & intent:
            return None
        seq = await self._dispatch_on(session, event, data)
        self.emu._notify()
        return seq

    def has_intent(self, intent: int, guild_id: int | None = None) -> bool:
        session = self.session_for(guild_id)
        return session is not None and bool(session.intents & intent)

    async def drop(self, code: int = CLOSE_UNKNOWN_ERROR, *, invalidate: bool = False) -> int:
        """Close every live connection with ``code``; returns how many were closed."""
        closed = 0
        for live in list(self._live):
            if invalidate and live.session is not None:
                live.session.invalid = True
            live.record.close_code = code
            live.record.closed_by_server = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(live.ws.close(code=code), 5.0)
            closed += 1
        self.emu._notify()
        return closed

    async def send_op(self, op: int, d: JSON) -> None:
        """Send a raw non-dispatch op to every live, identified connection."""
        for live in list(self._live):
            if live.session is not None:
                await self._send(live, op, d)

    async def invalidate(self, resumable: bool = False) -> None:
        for live in list(self._live):
            if live.session is not None:
                if not resumable:
                    live.session.invalid = True
                await self._send(live, INVALID_SESSION, resumable)
