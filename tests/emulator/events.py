"""Sending things *to* the bot: slash commands, autocomplete, clicks, modals, messages."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import payloads
from .gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    INTENT_MESSAGE_CONTENT,
)
from .options import command_data, custom_ids, find_command, leaf_options, option_payload
from .records import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionRecord,
    StoredMessage,
)
from .store import ROLE_MENTION, USER_MENTION, message_json
from .world import FakeChannel, FakeGuild, FakeMember, FakeUser, World, snowflake

if TYPE_CHECKING:
    from .gateway import Gateway

JSON = Any
UserLike = FakeUser | FakeMember

BUTTON = 2


class EventsMixin:
    """Mixed into :class:`DiscordEmulator`; every ``send_*`` dispatches over the gateway."""

    if TYPE_CHECKING:
        world: World
        gateway: Gateway
        commands: dict[int | None, list[JSON]]
        interactions: dict[int, InteractionRecord]
        _interactions_by_token: dict[str, InteractionRecord]
        _messages: dict[int, StoredMessage]
        enforce_message_content_intent: bool
        filtered_events: list[tuple[str, str]]

        def _notify(self) -> None: ...
        def get_message(self, message_id: int) -> StoredMessage | None: ...
        def bot_messages(self, channel: FakeChannel | int | None = None) -> list[StoredMessage]: ...

    # ------------------------------------------------------------------ defaults

    def _user(self, user: UserLike | None, channel: FakeChannel) -> FakeUser:
        if isinstance(user, FakeMember):
            return user.user
        if user is not None:
            return user
        if self.world.member is not None:
            return self.world.member.user
        guild = self.world.get_guild(channel.guild_id or 0)
        for member in guild.members if guild else []:
            if not member.user.bot:
                return member.user
        raise LookupError("no default user: pass user=")

    def _channel(self, channel: FakeChannel | None, guild: FakeGuild | None = None) -> FakeChannel:
        if channel is not None:
            return channel
        guild = guild or self.world.guilds[0]
        return guild.text_channels[0]

    def find_command(self, name: str, guild_id: int | None = None) -> JSON | None:
        """A registered slash command by top-level name: the guild's first, then global."""
        return find_command(self.commands, name, guild_id)

    # ------------------------------------------------------------------ interactions

    async def _send_interaction(
        self,
        itype: int,
        data: JSON,
        *,
        user: UserLike | None,
        channel: FakeChannel | None,
        guild: FakeGuild | None = None,
        message: JSON = None,
        locale: str = "en-US",
        timeout: float = 5.0,
    ) -> InteractionRecord:
        chan = self._channel(channel, guild)
        who = self._user(user, chan)
        iid = snowflake()
        token = secrets.token_urlsafe(48)
        payload = payloads.interaction_payload(
            self.world,
            interaction_id=iid,
            token=token,
            type=itype,
            data=data,
            user=who,
            channel=chan,
            message=message,
            locale=locale,
        )
        record = InteractionRecord(
            id=iid,
            token=token,
            type=itype,
            payload=payload,
            channel_id=chan.id,
            guild_id=chan.guild_id,
            user=who,
            dispatched_at=time.monotonic(),
            _emulator=self,  # type: ignore[arg-type]
        )
        self.interactions[iid] = record
        self._interactions_by_token[token] = record
        await self.gateway.dispatch(
            "INTERACTION_CREATE", payload, guild_id=chan.guild_id, timeout=timeout
        )
        record.dispatched_at = time.monotonic()
        self._notify()
        return record

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, object] | Sequence[JSON] | None = None,
        *,
        user: UserLike | None = None,
        channel: FakeChannel | None = None,
        guild: FakeGuild | None = None,
        locale: str = "en-US",
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Invoke ``/name`` (``"group sub"`` for subcommands) as ``user`` in ``channel``.

        ``options`` maps option names to values; types come from the registered command (see
        ``tree.sync()``) or are inferred (str, int, float, bool; FakeUser/FakeMember,
        FakeChannel, FakeRole become resolved mentions). A list is sent verbatim. Defaults: the
        ordinary member, the first text channel of ``guild`` (or the first guild).
        """
        chan = self._channel(channel, guild)
        data = command_data(self.world, self.commands, name, options, chan)
        return await self._send_interaction(
            APPLICATION_COMMAND, data, user=user, channel=chan, locale=locale, timeout=timeout
        )

    async def send_autocomplete(
        self,
        name: str,
        options: Mapping[str, object] | Sequence[JSON],
        *,
        focused: str | None = None,
        user: UserLike | None = None,
        channel: FakeChannel | None = None,
        guild: FakeGuild | None = None,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Ask for autocomplete of option ``focused`` (default: the last one) of ``/name``.

        Await ``record.wait_for_choices()`` for the answer.
        """
        chan = self._channel(channel, guild)
        data = command_data(self.world, self.commands, name, options, chan, focused=focused)
        if not any(o.get("focused") for o in leaf_options(data)):
            leaves = leaf_options(data)
            if leaves:
                leaves[-1]["focused"] = True
        return await self._send_interaction(
            AUTOCOMPLETE, data, user=user, channel=chan, timeout=timeout
        )

    async def send_context_menu(
        self,
        name: str,
        target: UserLike | StoredMessage,
        *,
        user: UserLike | None = None,
        channel: FakeChannel | None = None,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Invoke a user (target FakeUser/FakeMember) or message (StoredMessage) context menu."""
        chan = self._channel(channel)
        if isinstance(target, StoredMessage):
            chan = self.world.get_channel(target.channel_id) or chan
            resolved: JSON = {"messages": {str(target.id): message_json(self, target)}}  # type: ignore[arg-type]
            data: JSON = {"name": name, "type": 3, "target_id": str(target.id)}
        else:
            resolved = {}
            option_payload(self.world, "target", target, None, chan, resolved)
            target_id = (target.user if isinstance(target, FakeMember) else target).id
            data = {"name": name, "type": 2, "target_id": str(target_id)}
        command = find_command(self.commands, name, chan.guild_id, data["type"])
        data["id"] = command["id"] if command else str(snowflake())
        if command is not None and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        data["resolved"] = resolved
        return await self._send_interaction(
            APPLICATION_COMMAND, data, user=user, channel=chan, timeout=timeout
        )

    def _clicked_message(
        self, custom_id: str, message: StoredMessage | int | None, channel: FakeChannel | None
    ) -> StoredMessage:
        if isinstance(message, StoredMessage):
            return message
        if message is not None:
            found = self.get_message(message)
            if found is None:
                raise LookupError(f"no stored message {message}")
            return found
        for candidate in reversed(self.bot_messages(channel)):
            if custom_id in custom_ids(candidate.components):
                return candidate
        raise LookupError(f"no bot message has a component {custom_id!r}; pass message= explicitly")

    async def send_component_click(
        self,
        custom_id: str,
        message: StoredMessage | int | None = None,
        *,
        component_type: int = BUTTON,
        values: Sequence[str] | None = None,
        user: UserLike | None = None,
        channel: FakeChannel | None = None,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Click component ``custom_id`` on ``message`` (default: the newest bot message that
        has it). For select menus pass ``component_type`` (3 string select, ...) and ``values``.
        """
        clicked = self._clicked_message(custom_id, message, channel)
        chan = self.world.get_channel(clicked.channel_id)
        assert chan is not None
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return await self._send_interaction(
            MESSAGE_COMPONENT,
            data,
            user=user,
            channel=chan,
            message=message_json(self, clicked),  # type: ignore[arg-type]
            timeout=timeout,
        )

    async def send_modal_submit(
        self,
        custom_id: str,
        values: Mapping[str, str],
        *,
        message: StoredMessage | None = None,
        user: UserLike | None = None,
        channel: FakeChannel | None = None,
        timeout: float = 5.0,
    ) -> InteractionRecord:
        """Submit modal ``custom_id`` with text inputs ``{input_custom_id: value}``."""
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in values.items()
        ]
        data: JSON = {"custom_id": custom_id, "components": rows}
        chan = self.world.get_channel(message.channel_id) if message else None
        return await self._send_interaction(
            MODAL_SUBMIT,
            data,
            user=user,
            channel=chan or channel,
            message=message_json(self, message) if message else None,  # type: ignore[arg-type]
            timeout=timeout,
        )

    # ------------------------------------------------------------------ messages

    async def send_message(
        self,
        content: str,
        *,
        author: UserLike | None = None,
        channel: FakeChannel | None = None,
        mentions: Sequence[UserLike] = (),
        reply_to: StoredMessage | int | None = None,
        reply_ping: bool = True,
        embeds: Sequence[JSON] = (),
        timeout: float = 5.0,
    ) -> StoredMessage:
        """A user posts ``content`` (MESSAGE_CREATE); returns the stored message.

        ``<@id>`` mentions in ``content`` count as mentions, plus ``mentions`` (pass
        ``emu.bot_user`` to ping the bot without writing the markup). ``reply_to`` makes it a
        reply (``message_reference``; with ``reply_ping`` the replied-to author is mentioned).
        Without the MESSAGE_CONTENT intent the bot gets empty content unless it is mentioned or
        it is a DM, as on Discord.
        """
        chan = self._channel(channel)
        who = self._user(author, chan)
        mentioned: list[FakeUser] = []
        for raw in USER_MENTION.findall(content):
            found = self.world.get_user(int(raw))
            if found is not None:
                mentioned.append(found)
        mentioned += [m.user if isinstance(m, FakeMember) else m for m in mentions]
        reference = None
        if reply_to is not None:
            ref_id = reply_to.id if isinstance(reply_to, StoredMessage) else reply_to
            referenced = self.get_message(ref_id)
            reference = {"type": 0, "message_id": str(ref_id), "channel_id": str(chan.id)}
            if chan.guild_id:
                reference["guild_id"] = str(chan.guild_id)
            if reply_ping and referenced is not None:
                mentioned.append(referenced.author)
        message = StoredMessage(
            id=snowflake(),
            channel_id=chan.id,
            guild_id=chan.guild_id,
            author=who,
            content=content,
            embeds=[{"type": "rich", **e} for e in embeds],
            type=19 if reference else 0,
            mentions=list(dict.fromkeys(mentioned)),
            mention_role_ids=[int(r) for r in ROLE_MENTION.findall(content)],
            message_reference=reference,
            source="user",
            bodies=[{"content": content}],
        )
        self._messages[message.id] = message
        self._notify()
        data = message_json(self, message, gateway=True)  # type: ignore[arg-type]
        bot_id = self.world.bot_user.id
        can_read = (
            not self.enforce_message_content_intent
            or chan.guild_id is None
            or who.id == bot_id
            or any(u.id == bot_id for u in message.mentions)
            or self.gateway.has_intent(INTENT_MESSAGE_CONTENT, chan.guild_id)
        )
        if not can_read:
            data.update(content="", embeds=[], attachments=[], components=[])
            data.pop("poll", None)
        intent = INTENT_GUILD_MESSAGES if chan.guild_id else INTENT_DIRECT_MESSAGES
        seq = await self.gateway.dispatch(
            "MESSAGE_CREATE", data, guild_id=chan.guild_id, intent=intent, timeout=timeout
        )
        if seq is None:
            self.filtered_events.append(("MESSAGE_CREATE", f"intent {intent:#x} not requested"))
        return message

    async def dispatch_event(
        self,
        event: str,
        data: JSON,
        *,
        guild_id: int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> int | None:
        """Escape hatch: dispatch any gateway event with a hand-built payload.

        ``wait=False`` does not wait for a live connection: while the client is disconnected
        the event is queued in its session and replayed when it RESUMEs (lost if it
        re-IDENTIFYs), as on Discord.
        """
        return await self.gateway.dispatch(
            event, data, guild_id=guild_id, wait=wait, timeout=timeout
        )
