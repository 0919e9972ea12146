"""The fake Discord world the emulator serves: users, guilds, roles, channels, members.

Everything here is plain data. Build a world with :meth:`World.default` (one guild, two text
channels, an admin, an ordinary member and the bot) or assemble your own with the ``add_*``
helpers, then hand it to :class:`~tests.emulator.DiscordEmulator`.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
#: Every permission bit discord.py 2.7 knows about (``discord.Permissions.all().value``).
ALL_PERMISSIONS = 8866461766385663
#: What @everyone gets in the default world: read, write, react, embed, attach, threads, commands.
DEFAULT_EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | EMBED_LINKS
    | ATTACH_FILES
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

# Channel types.
GUILD_TEXT = 0
DM = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12


class SnowflakeFactory:
    """Produces unique, increasing, time-based snowflakes (so ``snowflake_time`` is sane)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._counter = itertools.count()

    def __call__(self) -> int:
        with self._lock:
            stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
            value = stamp | (1 << 17) | (next(self._counter) & 0xFFF)
            if value <= self._last:
                value = self._last + 1
            self._last = value
            return value


snowflake = SnowflakeFactory()


@dataclass(eq=False)
class FakeUser:
    """A Discord user (humans and the bot alike)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class FakeChannel:
    """A guild text channel, a thread (``parent_id`` set) or a DM channel (``guild_id`` None)."""

    id: int
    name: str
    guild_id: int | None
    type: int = GUILD_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    recipient_id: int | None = None
    nsfw: bool = False

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    locale: str = "en-US"

    @property
    def everyone_role(self) -> FakeRole:
        return next(r for r in self.roles if r.id == self.id)

    @property
    def text_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels if c.type == GUILD_TEXT]

    def add_role(self, name: str, permissions: int = 0) -> FakeRole:
        role = FakeRole(
            id=snowflake(), name=name, permissions=permissions, position=len(self.roles)
        )
        self.roles.append(role)
        return role

    def add_text_channel(self, name: str, *, topic: str | None = None) -> FakeChannel:
        channel = FakeChannel(
            id=snowflake(),
            name=name,
            guild_id=self.id,
            position=len(self.text_channels),
            topic=topic,
        )
        self.channels.append(channel)
        return channel

    def add_member(self, user: FakeUser, roles: list[FakeRole] | None = None) -> FakeMember:
        member = FakeMember(user=user, guild_id=self.id, role_ids=[r.id for r in roles or []])
        self.members.append(member)
        return member

    def get_member(self, user_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def permissions_for(self, member: FakeMember) -> int:
        """Guild-level permissions (no channel overwrites are modelled)."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        value = self.everyone_role.permissions
        for role in self.roles:
            if role.id in member.role_ids:
                value |= role.permissions
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value


@dataclass(eq=False)
class World:
    """The application, its bot user, the guilds it is in and every known user."""

    application_id: int
    bot_user: FakeUser
    application_name: str = "citebot"
    owner: FakeUser | None = None
    guilds: list[FakeGuild] = field(default_factory=list)
    users: list[FakeUser] = field(default_factory=list)
    dm_channels: list[FakeChannel] = field(default_factory=list)
    #: Named members of the default world (``admin``, ``member``); empty for hand-built worlds.
    admin: FakeMember | None = None
    member: FakeMember | None = None

    @classmethod
    def empty(cls, *, bot_name: str = "citebot") -> World:
        app_id = snowflake()
        bot = FakeUser(id=app_id, username=bot_name, bot=True)
        owner = FakeUser(id=snowflake(), username="owner", global_name="App Owner")
        return cls(application_id=app_id, bot_user=bot, owner=owner, users=[bot, owner])

    @classmethod
    def default(cls, *, bot_name: str = "citebot", guild_name: str = "Test Guild") -> World:
        """One guild with ``#general`` and ``#citebot``, an Admin role, and members:

        ``world.owner`` (guild owner), ``world.admin`` (has a role with Administrator),
        ``world.member`` (ordinary, @everyone permissions only) and the bot itself.
        """
        world = cls.empty(bot_name=bot_name)
        assert world.owner is not None
        guild = world.add_guild(guild_name, owner=world.owner)
        admin_role = guild.add_role("Admin", ADMINISTRATOR)
        guild.add_text_channel("general", topic="General chat")
        guild.add_text_channel("citebot", topic="Ask the bot")
        world.admin = world.add_member(guild, world.add_user("alice", "Alice Admin"), [admin_role])
        world.member = world.add_member(guild, world.add_user("bob", "Bob Member"))
        return world

    def add_user(
        self, username: str, global_name: str | None = None, *, bot: bool = False
    ) -> FakeUser:
        user = FakeUser(id=snowflake(), username=username, global_name=global_name, bot=bot)
        self.users.append(user)
        return user

    def add_guild(self, name: str, *, owner: FakeUser | None = None) -> FakeGuild:
        """Add a guild with an @everyone role; the bot and ``owner`` become members."""
        owner = owner or self.owner or self.bot_user
        gid = snowflake()
        guild = FakeGuild(id=gid, name=name, owner_id=owner.id)
        guild.roles.append(
            FakeRole(id=gid, name="@everyone", permissions=DEFAULT_EVERYONE_PERMISSIONS)
        )
        guild.add_member(owner)
        if owner is not self.bot_user:
            guild.add_member(self.bot_user)
        self.guilds.append(guild)
        return guild

    def add_member(
        self, guild: FakeGuild, user: FakeUser, roles: list[FakeRole] | None = None
    ) -> FakeMember:
        if user not in self.users:
            self.users.append(user)
        return guild.add_member(user, roles)

    # lookups -------------------------------------------------------------------------------

    def get_user(self, user_id: int) -> FakeUser | None:
        return next((u for u in self.users if u.id == user_id), None)

    def get_guild(self, guild_id: int) -> FakeGuild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    def get_channel(self, channel_id: int) -> FakeChannel | None:
        for guild in self.guilds:
            channel = guild.get_channel(channel_id)
            if channel is not None:
                return channel
        return next((c for c in self.dm_channels if c.id == channel_id), None)

    def dm_channel_for(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        for channel in self.dm_channels:
            if channel.recipient_id == user.id:
                return channel
        channel = FakeChannel(id=snowflake(), name="", guild_id=None, type=DM, recipient_id=user.id)
        self.dm_channels.append(channel)
        return channel

    def bot_member(self, guild: FakeGuild) -> FakeMember:
        member = guild.get_member(self.bot_user.id)
        if member is None:
            member = guild.add_member(self.bot_user)
        return member
