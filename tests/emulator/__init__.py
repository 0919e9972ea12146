"""A loopback Discord (REST + gateway) for testing real discord.py clients without Discord.

``from tests.emulator import DiscordEmulator`` -- see README.md in this directory.
"""

from .faults import FaultRule
from .records import (
    GatewayConnection,
    GatewayFrame,
    InteractionRecord,
    RecordedCall,
    StoredMessage,
    UploadedFile,
)
from .server import DiscordEmulator
from .validation import ApiError
from .world import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    World,
    snowflake,
)

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "ApiError",
    "DiscordEmulator",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "FaultRule",
    "GatewayConnection",
    "GatewayFrame",
    "InteractionRecord",
    "RecordedCall",
    "StoredMessage",
    "UploadedFile",
    "World",
    "snowflake",
]
