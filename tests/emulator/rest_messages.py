"""Channel, message, reaction and thread routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import payloads
from .gateway import INTENT_GUILDS
from .records import EPHEMERAL, StoredMessage
from .store import create_message, echo_create, echo_delete, echo_update, edit_message, message_json
from .validation import ApiError, field_error
from .world import (
    ADD_REACTIONS,
    CREATE_PUBLIC_THREADS,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeChannel,
    snowflake,
)

if TYPE_CHECKING:
    from .rest import Request, Result, Router
    from .server import DiscordEmulator

JSON = Any


class MessageRoutes:
    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator

    def register(self, router: Router) -> None:
        r = router.add
        c = "/channels/{channel_id}"
        m = c + "/messages/{message_id}"
        r("GET", c, self.get_channel)
        r("PATCH", c, self.edit_channel)
        r("DELETE", c, self.delete_channel)
        r("GET", c + "/messages", self.list_messages)
        r("POST", c + "/messages", self.post_message)
        r("POST", c + "/messages/bulk-delete", self.bulk_delete)
        r("GET", m, self.get_message)
        r("PATCH", m, self.patch_message)
        r("DELETE", m, self.delete_message)
        r("POST", c + "/typing", self.typing)
        r("POST", c + "/threads", self.start_thread)
        r("POST", m + "/threads", self.start_thread_from_message)
        r("PUT", c + "/thread-members/@me", self.no_content)
        r("DELETE", c + "/thread-members/@me", self.no_content)
        r("PUT", m + "/reactions/{emoji}/@me", self.add_reaction)
        r("DELETE", m + "/reactions/{emoji}/@me", self.remove_own_reaction)
        r("DELETE", m + "/reactions/{emoji}/{user_id}", self.remove_reaction)
        r("GET", m + "/reactions/{emoji}", self.reaction_users)
        r("DELETE", m + "/reactions/{emoji}", self.clear_emoji)
        r("DELETE", m + "/reactions", self.clear_reactions)

    # helpers ------------------------------------------------------------------------------

    def _channel(self, req: Request) -> FakeChannel:
        channel = self.emu.world.get_channel(req.int_param("channel_id"))
        if channel is None:
            raise ApiError(404, "Unknown Channel", 10003)
        return channel

    def _message(self, req: Request, channel: FakeChannel) -> StoredMessage:
        message = self.emu.get_message(req.int_param("message_id"))
        if message is None or message.channel_id != channel.id or message.ephemeral:
            raise ApiError(404, "Unknown Message", 10008)
        return message

    def _require(self, channel: FakeChannel, *bits: int) -> None:
        """403 Missing Permissions unless the bot has every bit in ``channel``'s guild."""
        if channel.guild_id is None:
            return
        guild = self.emu.world.get_guild(channel.guild_id)
        if guild is None:
            return
        have = guild.permissions_for(self.emu.world.bot_member(guild))
        if any(not have & bit for bit in bits):
            raise ApiError(403, "Missing Permissions", 50013)

    # channels -----------------------------------------------------------------------------

    async def get_channel(self, req: Request) -> Result:
        return 200, payloads.channel_payload(self._channel(req), self.emu.world)

    async def edit_channel(self, req: Request) -> Result:
        channel = self._channel(req)
        body = req.json or {}
        if "name" in body:
            channel.name = str(body["name"])
        if "topic" in body:
            channel.topic = body["topic"]
        data = payloads.channel_payload(channel, self.emu.world)
        if channel.is_thread:
            for key in ("archived", "locked"):
                if key in body:
                    data["thread_metadata"][key] = bool(body[key])
        return 200, data

    async def delete_channel(self, req: Request) -> Result:
        channel = self._channel(req)
        guild = self.emu.world.get_guild(channel.guild_id) if channel.guild_id else None
        if guild is not None:
            guild.channels.remove(channel)
        return 200, payloads.channel_payload(channel, self.emu.world)

    async def typing(self, req: Request) -> Result:
        channel = self._channel(req)
        self.emu.typing.append(channel.id)
        return 204, None

    async def no_content(self, req: Request) -> Result:
        self._channel(req)
        return 204, None

    # messages -----------------------------------------------------------------------------

    async def list_messages(self, req: Request) -> Result:
        channel = self._channel(req)
        self._require(channel, VIEW_CHANNEL, READ_MESSAGE_HISTORY)
        limit = max(1, min(100, int(req.query.get("limit", "50"))))
        visible = sorted(
            (m for m in self.emu.messages if m.channel_id == channel.id and not m.ephemeral),
            key=lambda m: m.id,
        )
        visible = [m for m in visible if not m.deleted]
        if "after" in req.query:
            after = int(req.query["after"])
            chosen = [m for m in visible if m.id > after][:limit]
        elif "around" in req.query:
            around = int(req.query["around"])
            older = [m for m in visible if m.id <= around][-(limit // 2 + limit % 2) :]
            newer = [m for m in visible if m.id > around][: limit // 2]
            chosen = older + newer
        else:
            before = int(req.query.get("before", str(1 << 63)))
            chosen = [m for m in visible if m.id < before][-limit:]
        return 200, [message_json(self.emu, m) for m in reversed(chosen)]

    async def post_message(self, req: Request) -> Result:
        channel = self._channel(req)
        if channel.is_thread:
            self._require(channel, VIEW_CHANNEL, SEND_MESSAGES_IN_THREADS)
        else:
            self._require(channel, VIEW_CHANNEL, SEND_MESSAGES)
        body = req.json if isinstance(req.json, dict) else {}
        if body.get("flags") and int(body["flags"]) & EPHEMERAL:
            error = field_error("MESSAGE_FLAGS_INVALID", "Ephemeral messages need an interaction")
            raise ApiError(400, "Invalid Form Body", 50035, {"flags": error})
        message = create_message(
            self.emu, channel, self.emu.world.bot_user, body, req.files, source="channel"
        )
        echo_create(self.emu, message)
        return 200, message_json(self.emu, message)

    async def get_message(self, req: Request) -> Result:
        channel = self._channel(req)
        message = self._message(req, channel)
        if message.deleted:
            raise ApiError(404, "Unknown Message", 10008)
        return 200, message_json(self.emu, message)

    async def patch_message(self, req: Request) -> Result:
        channel = self._channel(req)
        message = self._message(req, channel)
        if message.deleted:
            raise ApiError(404, "Unknown Message", 10008)
        if message.author.id != self.emu.world.bot_user.id or message.webhook_id is not None:
            raise ApiError(403, "Cannot edit a message authored by another user", 50005)
        edit_message(self.emu, message, req.json, req.files)
        echo_update(self.emu, message)
        return 200, message_json(self.emu, message)

    async def delete_message(self, req: Request) -> Result:
        channel = self._channel(req)
        message = self._message(req, channel)
        if message.deleted:
            raise ApiError(404, "Unknown Message", 10008)
        message.deleted = True
        self.emu._notify()
        echo_delete(self.emu, message)
        return 204, None

    async def bulk_delete(self, req: Request) -> Result:
        channel = self._channel(req)
        for raw in (req.json or {}).get("messages") or []:
            message = self.emu.get_message(int(raw))
            if message is not None and message.channel_id == channel.id:
                message.deleted = True
        self.emu._notify()
        return 204, None

    # threads ------------------------------------------------------------------------------

    def _new_thread(self, parent: FakeChannel, body: JSON, thread_id: int | None) -> Result:
        if parent.guild_id is None or parent.is_thread:
            raise ApiError(400, "Cannot execute action on this channel type", 50024)
        self._require(parent, VIEW_CHANNEL, CREATE_PUBLIC_THREADS)
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            error = field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            raise ApiError(400, "Invalid Form Body", 50035, {"name": error})
        guild = self.emu.world.get_guild(parent.guild_id)
        assert guild is not None
        thread = FakeChannel(
            id=thread_id or snowflake(),
            name=name,
            guild_id=parent.guild_id,
            type=PRIVATE_THREAD if body.get("type") == PRIVATE_THREAD else PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=self.emu.world.bot_user.id,
        )
        guild.channels.append(thread)
        data = payloads.channel_payload(thread, self.emu.world)
        if body.get("auto_archive_duration"):
            data["thread_metadata"]["auto_archive_duration"] = int(body["auto_archive_duration"])
        self.emu.threads.append(thread)
        self.emu._echo("THREAD_CREATE", {**data, "newly_created": True}, guild.id, INTENT_GUILDS)
        self.emu._notify()
        return 201, data

    async def start_thread(self, req: Request) -> Result:
        return self._new_thread(self._channel(req), req.json or {}, None)

    async def start_thread_from_message(self, req: Request) -> Result:
        channel = self._channel(req)
        message = self._message(req, channel)
        if message.thread_id is not None:
            raise ApiError(400, "A thread has already been created for this message", 160004)
        status, data = self._new_thread(channel, req.json or {}, message.id)
        message.thread_id = message.id
        return status, data

    # reactions ----------------------------------------------------------------------------

    def _reacted(self, req: Request) -> tuple[StoredMessage, str]:
        channel = self._channel(req)
        return self._message(req, channel), req.params["emoji"]

    async def add_reaction(self, req: Request) -> Result:
        channel = self._channel(req)
        self._require(channel, VIEW_CHANNEL, READ_MESSAGE_HISTORY, ADD_REACTIONS)
        message, emoji = self._reacted(req)
        users = message.reactions.setdefault(emoji, [])
        if self.emu.world.bot_user.id not in users:
            users.append(self.emu.world.bot_user.id)
        self.emu._notify()
        return 204, None

    async def remove_own_reaction(self, req: Request) -> Result:
        message, emoji = self._reacted(req)
        users = message.reactions.get(emoji, [])
        if self.emu.world.bot_user.id in users:
            users.remove(self.emu.world.bot_user.id)
        self.emu._notify()
        return 204, None

    async def remove_reaction(self, req: Request) -> Result:
        message, emoji = self._reacted(req)
        user_id = req.int_param("user_id")
        users = message.reactions.get(emoji, [])
        if user_id in users:
            users.remove(user_id)
        self.emu._notify()
        return 204, None

    async def reaction_users(self, req: Request) -> Result:
        message, emoji = self._reacted(req)
        users = [self.emu.world.get_user(u) for u in message.reactions.get(emoji, [])]
        return 200, [payloads.user_payload(u) for u in users if u is not None]

    async def clear_emoji(self, req: Request) -> Result:
        message, emoji = self._reacted(req)
        message.reactions.pop(emoji, None)
        self.emu._notify()
        return 204, None

    async def clear_reactions(self, req: Request) -> Result:
        message = self._message(req, self._channel(req))
        message.reactions.clear()
        self.emu._notify()
        return 204, None
