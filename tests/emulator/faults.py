"""Fault injection: REST rules that replace (or delay) normal answers, and gateway faults."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .gateway import CLOSE_UNKNOWN_ERROR, HEARTBEAT, RECONNECT
from .records import InteractionRecord
from .rest import bucket_hash

if TYPE_CHECKING:
    from .gateway import Gateway

JSON = Any


@dataclass(eq=False)
class FaultRule:
    """Applies to the next ``times`` requests matching ``method`` and ``path``.

    ``path`` is either a prefix of the API-relative path (``"/interactions/"``) or a compiled
    regex (searched). ``method`` ``"*"`` matches every method. ``status`` None means "answer
    normally", which together with ``delay`` makes a pure slow-down rule.
    """

    method: str
    path: str | re.Pattern[str]
    times: int = 1
    status: int | None = None
    body: JSON = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: How many requests this rule has answered so far.
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.exhausted:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return path.startswith(self.path)


def error_body(message: str, code: int = 0) -> JSON:
    return {"message": message, "code": code}


def rate_limit_rule(
    method: str,
    path: str | re.Pattern[str],
    *,
    times: int,
    retry_after: float,
    is_global: bool,
    bucket: str,
) -> FaultRule:
    """A 429 exactly as Discord sends it.

    discord.py only honours a 429 that carries a ``Via`` header (otherwise it assumes a
    Cloudflare ban and raises) and a JSON body with ``retry_after`` (and ``global``).
    """
    reset = time.time() + retry_after
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{reset:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    if is_global:
        body["code"] = 0
    return FaultRule(method, path, times=times, status=429, body=body, headers=headers)


class FaultsMixin:
    """Mixed into :class:`DiscordEmulator`: the fault-injection API."""

    if TYPE_CHECKING:
        faults: list[FaultRule]
        interactions: dict[int, InteractionRecord]
        gateway: Gateway

    def _take_faults(self, method: str, path: str) -> tuple[float, FaultRule | None]:
        """Consume the rules for one call: every matching delay-only rule adds its delay; the
        first matching rule with a status decides the answer (None: answer normally)."""
        delay = 0.0
        answer: FaultRule | None = None
        for rule in self.faults:
            if rule.status is not None and answer is not None:
                continue
            if rule.matches(method, path):
                rule.hits += 1
                delay += rule.delay
                if rule.status is not None:
                    answer = rule
        return delay, answer

    def rate_limit(
        self,
        method: str,
        path: str,
        *,
        times: int = 1,
        retry_after: float = 0.2,
        is_global: bool = False,
    ) -> FaultRule:
        """Answer the next ``times`` matching calls with a Discord-shaped 429."""
        rule = rate_limit_rule(
            method,
            path,
            times=times,
            retry_after=retry_after,
            is_global=is_global,
            bucket=bucket_hash(f"{method} {path}"),
        )
        self.faults.append(rule)
        return rule

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        times: int = 1,
        message: str | None = None,
        code: int = 0,
        body: JSON = None,
    ) -> FaultRule:
        """Answer the next ``times`` matching calls with ``status`` and a Discord error body.

        discord.py retries 500/502/504/524 itself (sleeping 1 s, 3 s, ...), so one injected 500
        costs a test about a second.
        """
        payload = body if body is not None else error_body(message or f"{status}: Error", code)
        rule = FaultRule(method, path, times=times, status=status, body=payload)
        self.faults.append(rule)
        return rule

    def delay_next(self, method: str, path: str, seconds: float, *, times: int = 1) -> FaultRule:
        """Hold the next ``times`` matching calls for ``seconds``, then answer normally."""
        rule = FaultRule(method, path, times=times, delay=seconds)
        self.faults.append(rule)
        return rule

    def expire_interaction(self, interaction: InteractionRecord | int) -> None:
        """Its callback now gets 404/10062; its webhook (follow-ups, @original) 401/50027."""
        iid = interaction.id if isinstance(interaction, InteractionRecord) else interaction
        self.interactions[iid].expired = True

    async def drop_gateway(
        self, code: int = CLOSE_UNKNOWN_ERROR, *, invalidate_session: bool = False
    ) -> None:
        """Close the gateway connection(s) with ``code``; the client should RESUME.

        With ``invalidate_session`` the RESUME is answered INVALID_SESSION, forcing a new
        IDENTIFY. Close codes 4004 and 4010-4014 make discord.py give up instead.
        """
        await self.gateway.drop(code, invalidate=invalidate_session)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and RESUMEs."""
        await self.gateway.send_op(RECONNECT, None)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION (``d=resumable``)."""
        await self.gateway.invalidate(resumable)

    def reject_next_resume(self, times: int = 1) -> None:
        """Answer the next ``times`` RESUMEs with INVALID_SESSION(false)."""
        self.gateway.reject_next_resumes += times

    @property
    def ack_heartbeats(self) -> bool:
        """Set False to stop answering HEARTBEAT with HEARTBEAT_ACK (a zombie connection)."""
        return self.gateway.ack_heartbeats

    @ack_heartbeats.setter
    def ack_heartbeats(self, value: bool) -> None:
        self.gateway.ack_heartbeats = value

    async def request_heartbeat(self) -> None:
        """Send op 1 HEARTBEAT: the client must answer with a heartbeat immediately."""
        await self.gateway.send_op(HEARTBEAT, None)
