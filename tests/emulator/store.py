"""The message store: create/edit bot and user messages like Discord, and echo them to the gateway."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import payloads
from .gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES
from .records import EPHEMERAL, LOADING, StoredMessage, UploadedFile
from .validation import ApiError, field_error, validate_message
from .world import FakeChannel, FakeUser, snowflake

if TYPE_CHECKING:
    from .server import DiscordEmulator

JSON = Any
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
SETTABLE_FLAGS = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
MESSAGE_TYPE_DEFAULT = 0
MESSAGE_TYPE_REPLY = 19
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
FILE_FIELD = re.compile(r"^files\[(\d+)\]$")


def _assign_component_ids(components: list[JSON]) -> list[JSON]:
    """Discord numbers every component that has no ``id`` (depth-first, from 1)."""
    counter = 0

    def walk(nodes: list[JSON]) -> list[JSON]:
        nonlocal counter
        out = []
        for node in nodes:
            node = dict(node)
            counter += 1
            node.setdefault("id", counter)
            for key in ("components", "items"):
                if isinstance(node.get(key), list):
                    node[key] = walk(node[key])
            if isinstance(node.get("accessory"), dict):
                node["accessory"] = walk([node["accessory"]])[0]
            out.append(node)
        return out

    return walk(components or [])


def _attachments(
    emu: DiscordEmulator, channel_id: int, body: JSON, files: list[UploadedFile], keep: list[JSON]
) -> list[JSON]:
    descriptors = {str(d.get("id")): d for d in (body or {}).get("attachments") or []}
    result = list(keep)
    for index, upload in enumerate(files):
        match = FILE_FIELD.match(upload.field_name)
        key = match.group(1) if match else str(index)
        descriptor = descriptors.get(key, {})
        filename = descriptor.get("filename") or upload.filename or f"file{key}"
        attachment_id = snowflake()
        emu._attachment_data[str(attachment_id)] = upload.data
        url = f"{emu.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
        entry: JSON = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(upload.data),
            "url": url,
            "proxy_url": url,
            "content_type": upload.content_type,
        }
        if descriptor.get("description"):
            entry["description"] = descriptor["description"]
        result.append(entry)
    return result


def _mentions(
    emu: DiscordEmulator, content: str, allowed: JSON, referenced: StoredMessage | None
) -> tuple[list[FakeUser], list[int]]:
    """Users/roles actually pinged, honouring ``allowed_mentions`` like Discord does."""
    user_ids = [int(x) for x in USER_MENTION.findall(content)]
    role_ids = [int(x) for x in ROLE_MENTION.findall(content)]
    if allowed is not None:
        parse = allowed.get("parse") or []
        if "users" not in parse:
            explicit = {int(x) for x in allowed.get("users") or []}
            user_ids = [u for u in user_ids if u in explicit]
        if "roles" not in parse:
            explicit = {int(x) for x in allowed.get("roles") or []}
            role_ids = [r for r in role_ids if r in explicit]
    pinged_reply = allowed is None or bool(allowed.get("replied_user"))
    if referenced is not None and pinged_reply and referenced.author.id not in user_ids:
        user_ids.append(referenced.author.id)
    users = [u for u in (emu.world.get_user(i) for i in dict.fromkeys(user_ids)) if u]
    return users, list(dict.fromkeys(role_ids))


def create_message(
    emu: DiscordEmulator,
    channel: FakeChannel,
    author: FakeUser,
    body: JSON,
    files: list[UploadedFile],
    *,
    source: str,
    validate: bool = True,
) -> StoredMessage:
    """Validate ``body`` like Discord would and store the resulting message (no gateway echo)."""
    body = body if isinstance(body, dict) else {}
    if validate:
        validate_message(body, has_files=bool(files))
    ref = body.get("message_reference")
    referenced = None
    if ref:
        ref = {
            "type": int(ref.get("type", 0)),
            "message_id": str(ref["message_id"]),
            "channel_id": str(ref.get("channel_id") or channel.id),
            "guild_id": str(ref.get("guild_id") or channel.guild_id or "") or None,
        }
        referenced = emu.get_message(int(ref["message_id"]))
        fail = (body.get("message_reference") or {}).get("fail_if_not_exists", True)
        if referenced is None and fail:
            error = field_error("MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            raise ApiError(400, "Invalid Form Body", 50035, {"message_reference": error})
        if ref["guild_id"] is None:
            del ref["guild_id"]
    content = str(body.get("content") or "")
    message = StoredMessage(
        id=snowflake(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=content,
        embeds=[{"type": "rich", **e} for e in body.get("embeds") or []],
        components=_assign_component_ids(body.get("components") or []),
        flags=int(body.get("flags") or 0) & SETTABLE_FLAGS,
        type=MESSAGE_TYPE_REPLY if ref and ref["type"] == 0 else MESSAGE_TYPE_DEFAULT,
        tts=bool(body.get("tts")),
        message_reference=ref or None,
        allowed_mentions=body.get("allowed_mentions"),
        poll=body.get("poll"),
        source=source,
        bodies=[body],
        files=list(files),
    )
    message.attachments = _attachments(emu, channel.id, body, files, [])
    message.mentions, message.mention_role_ids = _mentions(
        emu, content, body.get("allowed_mentions"), referenced
    )
    emu._messages[message.id] = message
    emu._notify()
    return message


def edit_message(
    emu: DiscordEmulator, message: StoredMessage, body: JSON, files: list[UploadedFile]
) -> StoredMessage:
    body = body if isinstance(body, dict) else {}
    validate_message(body, partial=True)
    was_loading = message.loading
    content = str(body.get("content") or "") if "content" in body else message.content
    embeds = message.embeds
    if "embeds" in body:
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
    components = message.components
    if "components" in body:
        components = _assign_component_ids(body.get("components") or [])
    attachments = message.attachments
    if "attachments" in body or files:
        keep_ids = {str(a.get("id")) for a in body.get("attachments") or []}
        keep = [a for a in message.attachments if "attachments" not in body or a["id"] in keep_ids]
        attachments = _attachments(emu, message.channel_id, body, files, keep)
    flags = message.flags & ~LOADING
    if body.get("flags") is not None:
        flags = (message.flags & EPHEMERAL) | (int(body["flags"]) & SETTABLE_FLAGS & ~EPHEMERAL)
    if not (content or embeds or components or attachments or message.poll):
        raise ApiError(400, "Cannot send an empty message", 50006)
    message.content, message.embeds, message.components = content, embeds, components
    message.attachments, message.flags = attachments, flags
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    if "content" in body:
        referenced = emu.get_message(message.reference_id) if message.reference_id else None
        message.mentions, message.mention_role_ids = _mentions(
            emu, content, message.allowed_mentions, referenced
        )
    message.edited = message.edited or not was_loading
    message.bodies.append(body)
    message.files.extend(files)
    emu._notify()
    return message


def message_json(emu: DiscordEmulator, message: StoredMessage, *, gateway: bool = False) -> JSON:
    referenced = emu.get_message(message.reference_id) if message.reference_id else None
    return payloads.message_payload(emu.world, message, with_member=gateway, referenced=referenced)


def _intent_for(message: StoredMessage) -> int:
    return INTENT_GUILD_MESSAGES if message.guild_id else INTENT_DIRECT_MESSAGES


def echo_create(emu: DiscordEmulator, message: StoredMessage) -> None:
    if not message.ephemeral:
        data = message_json(emu, message, gateway=True)
        emu._echo("MESSAGE_CREATE", data, message.guild_id, _intent_for(message))


def echo_update(emu: DiscordEmulator, message: StoredMessage) -> None:
    if not message.ephemeral:
        data = message_json(emu, message, gateway=True)
        emu._echo("MESSAGE_UPDATE", data, message.guild_id, _intent_for(message))


def echo_delete(emu: DiscordEmulator, message: StoredMessage) -> None:
    if not message.ephemeral:
        data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id:
            data["guild_id"] = str(message.guild_id)
        emu._echo("MESSAGE_DELETE", data, message.guild_id, _intent_for(message))
