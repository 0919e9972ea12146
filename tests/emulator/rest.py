"""REST side: routing, body parsing, recording, fault injection, and the non-message routes.

Application commands live in :mod:`rest_commands`; messages, channels and threads in
:mod:`rest_messages`; interaction callbacks and webhooks (follow-ups, ``@original``) in
:mod:`rest_interactions`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, hdrs, web

from . import payloads
from .records import RecordedCall, UploadedFile
from .validation import ApiError

if TYPE_CHECKING:
    from .server import DiscordEmulator

JSON = Any
API_PREFIX = re.compile(r"^/api/v\d+(?P<rest>/.*)$")
#: Routes that authenticate with the interaction/webhook token instead of the bot token.
TOKEN_AUTH_PREFIXES = ("/webhooks/", "/interactions/")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    json: JSON
    files: list[UploadedFile]
    params: dict[str, str]
    headers: Any = None

    def int_param(self, name: str) -> int:
        value = self.params[name]
        if not value.isdigit():
            raise ApiError(404, "404: Not Found")
        return int(value)

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")


Result = tuple[int, JSON]
Handler = Callable[[Request], Awaitable[Result]]


@dataclass
class Router:
    routes: list[tuple[str, re.Pattern[str], Handler, str]] = field(default_factory=list)

    def add(self, method: str, template: str, handler: Handler) -> None:
        """``template`` uses ``{name}`` for a path segment; first matching route wins."""
        pattern = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", template)
        self.routes.append((method, re.compile(f"^{pattern}$"), handler, template))

    def templates(self) -> list[tuple[str, str]]:
        return [(method, template) for method, _, _, template in self.routes]


def json_response(status: int, data: JSON, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py only parses JSON when Content-Type is *exactly* ``application/json``.

    ``web.json_response`` and ``web.Response(text=...)`` both append ``; charset=utf-8``,
    so the body is passed as bytes.
    """
    if status == 204:
        return web.Response(status=204, headers=headers)
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )


def bucket_hash(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


class RestApi:
    def __init__(self, emulator: DiscordEmulator) -> None:
        from .rest_commands import CommandRoutes
        from .rest_interactions import InteractionRoutes
        from .rest_messages import MessageRoutes

        self.emu = emulator
        self.router = Router()
        r = self.router.add
        r("GET", "/gateway", self.get_gateway)
        r("GET", "/gateway/bot", self.get_gateway_bot)
        r("GET", "/users/@me", self.get_me)
        r("POST", "/users/@me/channels", self.create_dm)
        r("GET", "/users/{user_id}", self.get_user)
        r("GET", "/oauth2/applications/@me", self.get_application)
        r("GET", "/applications/@me", self.get_application)
        r("GET", "/guilds/{guild_id}", self.get_guild)
        r("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", self.get_guild_roles)
        r("GET", "/guilds/{guild_id}/members", self.list_members)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        CommandRoutes(emulator).register(self.router)
        MessageRoutes(emulator).register(self.router)
        InteractionRoutes(emulator).register(self.router)

    # ------------------------------------------------------------------ plumbing

    async def handle(self, request: web.Request) -> web.StreamResponse:
        match = API_PREFIX.match(request.path)
        path = match.group("rest") if match else request.path
        method = request.method.upper()
        query = dict(request.query)
        body, files = await self._read_body(request)
        emu = self.emu

        delay, rule = emu._take_faults(method, path)
        if delay:
            await asyncio.sleep(delay)
        if rule is not None and rule.status is not None:
            self._record(method, path, query, body, files, rule.status, injected=True)
            return json_response(rule.status, rule.body, rule.headers)

        method_mismatch = False
        for route_method, pattern, handler, template in self.router.routes:
            found = pattern.match(path)
            if found is None:
                continue
            if route_method != method:
                method_mismatch = True
                continue
            req = Request(method, path, query, body, files, found.groupdict(), request.headers)
            try:
                self._check_auth(request, path)
                status, data = await handler(req)
            except ApiError as exc:
                status, data = exc.status, exc.body()
            self._record(method, path, query, body, files, status)
            return json_response(status, data, self._ratelimit_headers(method, template))

        status = 405 if method_mismatch else 404
        call = self._record(method, path, query, body, files, status)
        emu.unexpected.append(call)
        return json_response(status, {"message": f"{status}: Not Found", "code": 0})

    async def _read_body(self, request: web.Request) -> tuple[JSON, list[UploadedFile]]:
        if not request.can_read_body:
            return None, []
        files: list[UploadedFile] = []
        if request.content_type.startswith("multipart/"):
            body: JSON = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    data = await part.read(decode=False)
                    ctype = part.headers.get(hdrs.CONTENT_TYPE)
                    files.append(UploadedFile(part.name or "", part.filename, ctype, bytes(data)))
            return body, files
        text = await request.text()
        if not text:
            return None, []
        try:
            return json.loads(text), []
        except ValueError:
            return text, []

    def _check_auth(self, request: web.Request, path: str) -> None:
        token = self.emu.token
        if token is None or path.startswith(TOKEN_AUTH_PREFIXES):
            return
        if request.headers.get("Authorization") != f"Bot {token}":
            raise ApiError(401, "401: Unauthorized", 0)

    def _record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: JSON,
        files: list[UploadedFile],
        status: int,
        *,
        injected: bool = False,
    ) -> RecordedCall:
        call = RecordedCall(
            method, path, query, body, tuple(files), status, injected, time.monotonic()
        )
        self.emu.calls.append(call)
        self.emu._notify()
        return call

    def _ratelimit_headers(self, method: str, template: str) -> dict[str, str]:
        if not self.emu.ratelimit_headers:
            return {}
        return {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": bucket_hash(f"{method} {template}"),
        }

    # ------------------------------------------------------------------ gateway / users / app

    async def get_gateway(self, req: Request) -> Result:
        return 200, {"url": self.emu.gateway_url}

    async def get_gateway_bot(self, req: Request) -> Result:
        return 200, {
            "url": self.emu.gateway_url,
            "shards": self.emu.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    async def get_me(self, req: Request) -> Result:
        return 200, payloads.user_payload(self.emu.world.bot_user)

    async def get_user(self, req: Request) -> Result:
        user = self.emu.world.get_user(req.int_param("user_id"))
        if user is None:
            raise ApiError(404, "Unknown User", 10013)
        return 200, payloads.user_payload(user)

    async def create_dm(self, req: Request) -> Result:
        user = self.emu.world.get_user(int((req.json or {}).get("recipient_id", 0)))
        if user is None:
            raise ApiError(400, "Invalid Recipient(s)", 50033)
        return 200, payloads.channel_payload(self.emu.world.dm_channel_for(user), self.emu.world)

    async def get_application(self, req: Request) -> Result:
        return 200, payloads.application_payload(self.emu.world)

    # ------------------------------------------------------------------ guilds

    def _guild(self, req: Request) -> Any:
        guild = self.emu.world.get_guild(req.int_param("guild_id"))
        if guild is None:
            raise ApiError(404, "Unknown Guild", 10004)
        return guild

    async def get_guild(self, req: Request) -> Result:
        guild = self._guild(req)
        data = payloads.guild_payload(guild, full=False)
        if req.flag("with_counts"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return 200, data

    async def get_guild_channels(self, req: Request) -> Result:
        guild = self._guild(req)
        return 200, [payloads.channel_payload(c) for c in guild.channels if not c.is_thread]

    async def get_guild_roles(self, req: Request) -> Result:
        return 200, [payloads.role_payload(r) for r in self._guild(req).roles]

    async def list_members(self, req: Request) -> Result:
        guild = self._guild(req)
        limit = int(req.query.get("limit", "1"))
        after = int(req.query.get("after", "0"))
        members = sorted((m for m in guild.members if m.user.id > after), key=lambda m: m.user.id)
        return 200, [payloads.member_payload(guild, m) for m in members[:limit]]

    async def get_member(self, req: Request) -> Result:
        guild = self._guild(req)
        member = guild.get_member(req.int_param("user_id"))
        if member is None:
            raise ApiError(404, "Unknown Member", 10007)
        return 200, payloads.member_payload(guild, member)
