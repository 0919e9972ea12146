"""What the emulator remembers: REST calls, gateway frames, messages and interactions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .world import FakeUser

if TYPE_CHECKING:
    from .server import DiscordEmulator

JSON = Any

# Interaction types (what the emulator sends).
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Interaction callback types (what the bot answers).
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

# Message flags.
EPHEMERAL = 1 << 6
LOADING = 1 << 7


@dataclass(frozen=True)
class UploadedFile:
    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class RecordedCall:
    """One REST request as the emulator saw it.

    ``path`` is relative to the API base (``/channels/1/messages``), percent-decoded.
    ``json`` is the JSON body, or the ``payload_json`` part of a multipart body, or None.
    """

    method: str
    path: str
    query: dict[str, str]
    json: JSON
    files: tuple[UploadedFile, ...] = ()
    status: int = 0
    injected: bool = False
    time: float = 0.0

    def matches(self, method: str, path_prefix: str) -> bool:
        return (method == "*" or self.method == method.upper()) and self.path.startswith(
            path_prefix
        )


@dataclass(frozen=True)
class GatewayFrame:
    """One gateway frame. ``direction`` is ``"recv"`` (from the client) or ``"send"``."""

    direction: str
    op: int
    d: JSON
    t: str | None
    s: int | None
    connection: int
    time: float


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection from a client."""

    index: int
    path: str
    query: dict[str, str]
    opened_at: float
    shard_id: int = 0
    session_id: str | None = None
    #: ``"identify"`` or ``"resume"`` once the client said which.
    kind: str | None = None
    closed_at: float | None = None
    #: The close code of whichever side closed first.
    close_code: int | None = None
    closed_by_server: bool = False


@dataclass(eq=False)
class StoredMessage:
    """A message in the emulated world (sent by a user via the emulator or by the bot)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    mentions: list[FakeUser] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    message_reference: JSON = None
    allowed_mentions: JSON = None
    webhook_id: int | None = None
    application_id: int | None = None
    #: Interaction that produced this message (original response or follow-up), if any.
    interaction_id: int | None = None
    interaction_metadata: JSON = None
    thread_id: int | None = None
    poll: JSON = None
    #: How the bot created it: ``"user"`` (sent via the emulator), ``"channel"``,
    #: ``"interaction"`` (original response), ``"followup"``.
    source: str = "user"
    #: The request body that created it, then every edit body, in order.
    bodies: list[JSON] = field(default_factory=list)
    files: list[UploadedFile] = field(default_factory=list)
    #: emoji -> user ids that reacted.
    reactions: dict[str, list[int]] = field(default_factory=dict)
    created_at: float = field(default_factory=time.monotonic)
    edited: bool = False
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def payload(self) -> JSON:
        """The first request body: what created it, or for a deferred "thinking" message the
        edit / follow-up that filled it in. ``bodies`` has every body in order."""
        return self.bodies[0] if self.bodies else None

    @property
    def reference_id(self) -> int | None:
        ref = self.message_reference
        if isinstance(ref, dict) and ref.get("message_id") is not None:
            return int(ref["message_id"])
        return None


@dataclass(eq=False)
class InteractionRecord:
    """An interaction the emulator dispatched, and everything the bot did with it.

    Returned by ``send_slash_command`` / ``send_autocomplete`` / ``send_component_click`` /
    ``send_modal_submit``. Use the ``wait_for_*`` coroutines to await the bot's answer.
    """

    id: int
    token: str
    type: int
    payload: JSON
    channel_id: int | None
    guild_id: int | None
    user: FakeUser
    dispatched_at: float
    #: Every callback body (``{"type": ..., "data": ...}``); the first is the one that counts.
    callbacks: list[JSON] = field(default_factory=list)
    #: The ``@original`` message (created by callback 4/5, or the clicked message for 6/7).
    original: StoredMessage | None = None
    followups: list[StoredMessage] = field(default_factory=list)
    #: Bodies of ``PATCH .../messages/@original``, in order.
    original_edits: list[JSON] = field(default_factory=list)
    original_deleted: bool = False
    expired: bool = False
    _emulator: DiscordEmulator | None = field(default=None, repr=False)

    # convenience ------------------------------------------------------------------------------

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def response(self) -> JSON:
        """The first callback body, or None."""
        return self.callbacks[0] if self.callbacks else None

    @property
    def response_type(self) -> int | None:
        return self.callbacks[0]["type"] if self.callbacks else None

    @property
    def deferred(self) -> bool:
        return self.response_type in (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE)

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices, once the bot answered with callback type 8."""
        for body in self.callbacks:
            if body.get("type") == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
                return list((body.get("data") or {}).get("choices", []))
        return None

    def reply(self) -> StoredMessage | None:
        """The user-visible answer so far, or None while there is none.

        * callback 4 (message): the original message;
        * callback 5 (deferred "thinking"): the original once edited (not loading any more),
          else the first follow-up;
        * callback 6/7 (component update): the updated message when 7 or once edited, else the
          first follow-up.
        """
        rtype = self.response_type
        if rtype is None:
            return None
        if rtype == CHANNEL_MESSAGE_WITH_SOURCE:
            return self.original
        if self.original is not None and (self.original_edits or rtype == UPDATE_MESSAGE):
            return self.original
        return self.followups[0] if self.followups else None

    def _require_emulator(self) -> DiscordEmulator:
        if self._emulator is None:
            raise RuntimeError("InteractionRecord is not attached to an emulator")
        return self._emulator

    async def wait_for_response(self, timeout: float = 5.0) -> JSON:
        """Wait for the interaction callback (``POST /interactions/{id}/{token}/callback``)."""
        emu = self._require_emulator()
        await emu.wait_until(
            lambda: self.acknowledged, timeout, f"callback for interaction {self.id}"
        )
        return self.callbacks[0]

    async def wait_for_reply(self, timeout: float = 5.0) -> StoredMessage:
        """Wait for the user-visible answer (see :meth:`reply`)."""
        emu = self._require_emulator()
        await emu.wait_until(
            lambda: self.reply() is not None, timeout, f"reply to interaction {self.id}"
        )
        reply = self.reply()
        assert reply is not None
        return reply

    async def wait_for_choices(self, timeout: float = 5.0) -> list[JSON]:
        """Wait for autocomplete choices (callback type 8) and return them."""
        emu = self._require_emulator()
        await emu.wait_until(
            lambda: self.choices is not None, timeout, f"autocomplete for {self.id}"
        )
        choices = self.choices
        assert choices is not None
        return choices

    async def wait_for_followups(self, count: int = 1, timeout: float = 5.0) -> list[StoredMessage]:
        emu = self._require_emulator()
        await emu.wait_until(
            lambda: len(self.followups) >= count, timeout, f"{count} follow-up(s) to {self.id}"
        )
        return list(self.followups)
