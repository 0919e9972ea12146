"""Building application-command interaction data (options, subcommands, resolved objects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import payloads
from .world import FakeChannel, FakeMember, FakeRole, FakeUser, World, snowflake

JSON = Any

# Application command option types.
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11


def infer_type(value: object) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, FakeUser | FakeMember):
        return USER
    if isinstance(value, FakeChannel):
        return CHANNEL
    if isinstance(value, FakeRole):
        return ROLE
    return STRING


def find_command(
    commands: dict[int | None, list[JSON]], name: str, guild_id: int | None, ctype: int = 1
) -> JSON | None:
    """A registered command by top-level name and type: the guild's first, then global."""
    for scope in (guild_id, None) if guild_id else (None,):
        for command in commands.get(scope, []):
            if command["name"] == name and command.get("type", 1) == ctype:
                return command
    return None


def command_data(
    world: World,
    commands: dict[int | None, list[JSON]],
    name: str,
    options: Mapping[str, object] | Sequence[JSON] | None,
    channel: FakeChannel,
    *,
    focused: str | None = None,
) -> JSON:
    parts = name.split()
    command = find_command(commands, parts[0], channel.guild_id)
    schema: list[JSON] | None = command["options"] if command else None
    for part in parts[1:]:
        found = next((o for o in schema or [] if o["name"] == part), None)
        schema = found.get("options") if found else None
    resolved: JSON = {}
    if options is None or isinstance(options, Mapping):
        items = list((options or {}).items())
        leaf = []
        for opt_name, value in items:
            spec = next((o for o in schema or [] if o["name"] == opt_name), None)
            option = option_payload(world, opt_name, value, spec, channel, resolved)
            if opt_name == focused:
                option["focused"] = True
            leaf.append(option)
    else:
        leaf = list(options)
    for depth, part in reversed(list(enumerate(parts[1:], start=1))):
        kind = SUB_COMMAND if depth == len(parts) - 1 else SUB_COMMAND_GROUP
        leaf = [{"name": part, "type": kind, "options": leaf}]
    data: JSON = {
        "id": command["id"] if command else str(snowflake()),
        "name": parts[0],
        "type": 1,
        "options": leaf,
    }
    if command is not None and command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def option_payload(
    world: World, name: str, value: object, spec: JSON, channel: FakeChannel, resolved: JSON
) -> JSON:
    """One option value; mentionables (users, channels, roles) are added to ``resolved``."""
    otype = int(spec["type"]) if spec else infer_type(value)
    guild = world.get_guild(channel.guild_id or 0)
    if isinstance(value, FakeUser | FakeMember):
        user = value.user if isinstance(value, FakeMember) else value
        resolved.setdefault("users", {})[str(user.id)] = payloads.user_payload(user)
        member = guild.get_member(user.id) if guild else None
        if guild is not None and member is not None:
            resolved.setdefault("members", {})[str(user.id)] = payloads.member_payload(
                guild, member, with_user=False, with_permissions=True
            )
        value = str(user.id)
    elif isinstance(value, FakeChannel):
        data = payloads.channel_payload(value, world)
        data["permissions"] = str(guild.everyone_role.permissions if guild else 0)
        resolved.setdefault("channels", {})[str(value.id)] = data
        value = str(value.id)
    elif isinstance(value, FakeRole):
        resolved.setdefault("roles", {})[str(value.id)] = payloads.role_payload(value)
        value = str(value.id)
    return {"name": name, "type": otype, "value": value}


def leaf_options(data: JSON) -> list[JSON]:
    options = data.get("options") or []
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        options = options[0].get("options") or []
    return list(options)


def custom_ids(components: list[JSON]) -> set[str]:
    found: set[str] = set()
    for component in components:
        if component.get("custom_id"):
            found.add(component["custom_id"])
        found |= custom_ids(component.get("components") or [])
        if isinstance(component.get("accessory"), dict):
            found |= custom_ids([component["accessory"]])
    return found
