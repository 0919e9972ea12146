"""Application command routes (``/applications/{id}[/guilds/{id}]/commands``) and validation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .validation import ApiError, field_error
from .world import snowflake

if TYPE_CHECKING:
    from .rest import Request, Result, Router
    from .server import DiscordEmulator

JSON = Any


class CommandRoutes:
    """Registered commands live in ``emulator.commands`` (None -> global, guild id -> guild)."""

    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator

    def register(self, router: Router) -> None:
        r = router.add
        for prefix in ("/applications/{app_id}", "/applications/{app_id}/guilds/{guild_id}"):
            r("GET", prefix + "/commands/permissions", self.get_command_permissions)
            r("GET", prefix + "/commands", self.list_commands)
            r("PUT", prefix + "/commands", self.bulk_overwrite_commands)
            r("POST", prefix + "/commands", self.create_command)
            r("GET", prefix + "/commands/{command_id}", self.get_command)
            r("PATCH", prefix + "/commands/{command_id}", self.edit_command)
            r("DELETE", prefix + "/commands/{command_id}", self.delete_command)

    def _command_scope(self, req: Request) -> int | None:
        if req.int_param("app_id") != self.emu.world.application_id:
            raise ApiError(403, "Missing Access", 50001)
        if "guild_id" not in req.params:
            return None
        guild_id = req.int_param("guild_id")
        if self.emu.world.get_guild(guild_id) is None:
            raise ApiError(403, "Missing Access", 50001)
        return guild_id

    def _normalize_command(self, body: JSON, guild_id: int | None, existing: list[JSON]) -> JSON:
        validate_command(body)
        ctype = int(body.get("type", 1))
        old = next((c for c in existing if c["name"] == body["name"] and c["type"] == ctype), None)
        command: JSON = {
            "id": old["id"] if old else str(snowflake()),
            "application_id": str(self.emu.world.application_id),
            "version": str(snowflake()),
            "type": ctype,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", ""),
            "description_localizations": body.get("description_localizations"),
            "options": body.get("options") or [],
            "default_member_permissions": body.get("default_member_permissions"),
            "dm_permission": body.get("dm_permission", True),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    async def list_commands(self, req: Request) -> Result:
        return 200, list(self.emu.commands.get(self._command_scope(req), []))

    async def bulk_overwrite_commands(self, req: Request) -> Result:
        scope = self._command_scope(req)
        if not isinstance(req.json, list):
            raise ApiError(400, "Invalid Form Body", 50035)
        existing = self.emu.commands.get(scope, [])
        new = [self._normalize_command(body, scope, existing) for body in req.json]
        names = [(c["name"], c["type"]) for c in new]
        if len(names) != len(set(names)):
            error = field_error("APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name")
            raise ApiError(400, "Invalid Form Body", 50035, error)
        self.emu.commands[scope] = new
        return 200, new

    async def create_command(self, req: Request) -> Result:
        scope = self._command_scope(req)
        existing = self.emu.commands.setdefault(scope, [])
        command = self._normalize_command(req.json or {}, scope, existing)
        existing[:] = [c for c in existing if c["id"] != command["id"]] + [command]
        return 201, command

    def _find_command(self, req: Request) -> tuple[int | None, JSON]:
        scope = self._command_scope(req)
        wanted = req.params["command_id"]
        for command in self.emu.commands.get(scope, []):
            if command["id"] == wanted:
                return scope, command
        raise ApiError(404, "Unknown application command", 10063)

    async def get_command(self, req: Request) -> Result:
        return 200, self._find_command(req)[1]

    async def edit_command(self, req: Request) -> Result:
        scope, command = self._find_command(req)
        merged = {**command, **(req.json or {})}
        updated = self._normalize_command(merged, scope, self.emu.commands[scope])
        self.emu.commands[scope] = [
            updated if c is command else c for c in self.emu.commands[scope]
        ]
        return 200, updated

    async def delete_command(self, req: Request) -> Result:
        scope, command = self._find_command(req)
        self.emu.commands[scope].remove(command)
        return 204, None

    async def get_command_permissions(self, req: Request) -> Result:
        self._command_scope(req)
        return 200, []


COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def validate_command(body: JSON) -> None:
    """The checks Discord applies that a discord.py app is most likely to trip over."""
    errors: JSON = {}
    _validate_command_node(body, errors, top=True)
    if errors:
        raise ApiError(400, "Invalid Form Body", 50035, errors)


def _validate_command_node(node: JSON, errors: JSON, *, top: bool) -> None:
    name = str(node.get("name", ""))
    ctype = int(node.get("type", 1)) if top else 1
    if ctype == 1 and (not COMMAND_NAME.match(name) or name != name.lower()):
        errors["name"] = field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    description = str(node.get("description", ""))
    if ctype == 1 and not 1 <= len(description) <= 100:
        message = "Must be between 1 and 100 in length."
        errors["description"] = field_error("BASE_TYPE_BAD_LENGTH", message)
    options = node.get("options") or []
    if len(options) > 25:
        errors["options"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    for index, option in enumerate(options):
        sub: JSON = {}
        _validate_command_node(option, sub, top=False)
        if len(option.get("choices") or []) > 25:
            sub["choices"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if option.get("type") not in (1, 2):
            if not option.get("required"):
                seen_optional = True
            elif seen_optional:
                message = "Required options must be placed before non-required options"
                sub["required"] = field_error(
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", message
                )
        if sub:
            errors.setdefault("options", {})[str(index)] = sub
