"""Builders for Discord API / gateway JSON payloads (API v10 shapes, as discord.py 2.7 reads them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .records import StoredMessage
from .world import (
    DISCORD_EPOCH_MS,
    DM,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    World,
)

JSON = Any

#: 10 MiB, the default upload limit Discord reports in ``attachment_size_limit``.
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def snowflake_iso(snowflake: int) -> str:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def user_payload(user: FakeUser) -> JSON:
    return {
        "id": str(user.id),
        "username": user.username,
        "global_name": user.global_name,
        "discriminator": "0",
        "avatar": user.avatar,
        "bot": user.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }


def role_payload(role: FakeRole) -> JSON:
    return {
        "id": str(role.id),
        "name": role.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": role.position,
        "permissions": str(role.permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member_payload(
    guild: FakeGuild, member: FakeMember, *, with_user: bool = True, with_permissions: bool = False
) -> JSON:
    data: JSON = {
        "roles": [str(r) for r in member.role_ids],
        "nick": member.nick,
        "avatar": None,
        "banner": None,
        "joined_at": member.joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user_payload(member.user)
    if with_permissions:
        data["permissions"] = str(guild.permissions_for(member))
    return data


def channel_payload(channel: FakeChannel, world: World | None = None) -> JSON:
    if channel.type == DM:
        recipient = world.get_user(channel.recipient_id or 0) if world else None
        return {
            "id": str(channel.id),
            "type": DM,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user_payload(recipient)] if recipient else [],
        }
    data: JSON = {
        "id": str(channel.id),
        "type": channel.type,
        "guild_id": str(channel.guild_id),
        "name": channel.name,
        "position": channel.position,
        "permission_overwrites": [],
        "nsfw": channel.nsfw,
        "topic": channel.topic,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": str(channel.parent_id) if channel.parent_id else None,
        "flags": 0,
    }
    if channel.is_thread:
        data.update(
            {
                "owner_id": str(channel.owner_id),
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": snowflake_iso(channel.id),
                    "locked": False,
                    "invitable": True,
                    "create_timestamp": snowflake_iso(channel.id),
                },
            }
        )
        del data["topic"], data["position"], data["permission_overwrites"]
    return data


def guild_payload(
    guild: FakeGuild, *, full: bool = True, members: list[FakeMember] | None = None
) -> JSON:
    """A guild object; ``full`` adds the GUILD_CREATE-only fields (channels, members, ...).

    ``members`` limits the member list (Discord sends only the bot's own member unless the
    GUILD_MEMBERS intent was requested).
    """
    data: JSON = {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "region": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role_payload(r) for r in guild.roles],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": guild.locale,
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
    }
    if full:
        data.update(
            {
                "joined_at": snowflake_iso(guild.id),
                "large": False,
                "unavailable": False,
                "member_count": len(guild.members),
                "voice_states": [],
                "members": [
                    member_payload(guild, m)
                    for m in (guild.members if members is None else members)
                ],
                "channels": [channel_payload(c) for c in guild.channels if not c.is_thread],
                "threads": [channel_payload(c) for c in guild.channels if c.is_thread],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
    return data


def application_payload(world: World) -> JSON:
    owner = world.owner or world.bot_user
    return {
        "id": str(world.application_id),
        "name": world.application_name,
        "icon": None,
        "description": "Emulated application",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "bot": user_payload(world.bot_user),
        "owner": user_payload(owner),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(world.guilds),
        "integration_types_config": {"0": {}},
    }


def message_payload(
    world: World,
    message: StoredMessage,
    *,
    with_member: bool = False,
    referenced: StoredMessage | None = None,
) -> JSON:
    """A message object. ``with_member`` adds the gateway-only ``member`` fields."""
    guild = world.get_guild(message.guild_id) if message.guild_id else None
    data: JSON = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "type": message.type,
        "author": user_payload(message.author),
        "content": message.content,
        "timestamp": snowflake_iso(message.id),
        "edited_timestamp": now_iso() if message.edited else None,
        "tts": message.tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [str(r) for r in message.mention_role_ids],
        "attachments": message.attachments,
        "embeds": message.embeds,
        "reactions": [
            {
                "emoji": {"id": None, "name": emoji},
                "count": len(users),
                "count_details": {"burst": 0, "normal": len(users)},
                "me": world.bot_user.id in users,
                "me_burst": False,
                "burst_colors": [],
            }
            for emoji, users in message.reactions.items()
            if users
        ],
        "pinned": False,
        "flags": message.flags,
        "components": message.components,
    }
    if guild is not None:
        data["guild_id"] = str(guild.id)
    for user in message.mentions:
        entry = user_payload(user)
        member = guild.get_member(user.id) if guild else None
        if with_member and guild is not None and member is not None:
            entry["member"] = member_payload(guild, member, with_user=False)
        data["mentions"].append(entry)
    if with_member and guild is not None:
        member = guild.get_member(message.author.id)
        if member is not None:
            data["member"] = member_payload(guild, member, with_user=False)
    if message.webhook_id is not None:
        data["webhook_id"] = str(message.webhook_id)
    if message.application_id is not None:
        data["application_id"] = str(message.application_id)
    if message.interaction_metadata is not None:
        data["interaction_metadata"] = message.interaction_metadata
    if message.message_reference is not None:
        data["message_reference"] = message.message_reference
        data["referenced_message"] = (
            message_payload(world, referenced) if referenced is not None else None
        )
    if message.thread_id is not None:
        thread = world.get_channel(message.thread_id)
        if thread is not None:
            data["thread"] = channel_payload(thread)
    if message.poll is not None:
        data["poll"] = message.poll
    return data


def interaction_payload(
    world: World,
    *,
    interaction_id: int,
    token: str,
    type: int,
    data: JSON,
    user: FakeUser,
    channel: FakeChannel,
    message: JSON = None,
    locale: str = "en-US",
) -> JSON:
    """An INTERACTION_CREATE payload from ``user`` in ``channel`` (guild channel or DM)."""
    payload: JSON = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": type,
        "token": token,
        "version": 1,
        "locale": locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if data is not None:
        payload["data"] = data
    if message is not None:
        payload["message"] = message
    guild = world.get_guild(channel.guild_id) if channel.guild_id else None
    if guild is not None:
        member = guild.get_member(user.id)
        if member is None:
            raise ValueError(f"user {user.username!r} is not a member of guild {guild.name!r}")
        payload.update(
            {
                "guild_id": str(guild.id),
                "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
                "guild_locale": guild.locale,
                "channel_id": str(channel.id),
                "channel": channel_payload(channel, world),
                "member": member_payload(guild, member, with_permissions=True),
                "app_permissions": str(guild.permissions_for(world.bot_member(guild))),
                "authorizing_integration_owners": {"0": str(guild.id)},
                "context": 0,
            }
        )
    else:
        payload.update(
            {
                "channel_id": str(channel.id),
                "channel": channel_payload(channel, world),
                "user": user_payload(user),
                "app_permissions": "0",
                "authorizing_integration_owners": {"0": "0", "1": str(user.id)},
                "context": 1,
            }
        )
    return payload
