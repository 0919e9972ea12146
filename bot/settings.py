"""The bot's settings: the core's, plus what only a Discord bot needs (env prefix CITEBOT_)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode

from citebot.settings import Settings

# Discord's own endpoints; a proxy in front of them is set with the two URL settings.
DEFAULT_API_BASE = "https://discord.com/api/v10"


def default_db_path() -> Path:
    """$XDG_DATA_HOME/citebot/citebot.sqlite3, or ~/.local/share/citebot/citebot.sqlite3."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "citebot" / "citebot.sqlite3"


IdList = Annotated[list[int], NoDecode]


class BotSettings(Settings):
    """Core settings plus the Discord bot's own; every field reads CITEBOT_<NAME>."""

    guild_ids: IdList = Field(
        default_factory=list,
        description="sync commands to these guilds only (instant); global sync otherwise",
    )
    auto_answer_channel_ids: IdList = Field(
        default_factory=list, description="channels whose question-like messages are answered"
    )
    auto_answer_threads: bool = False
    message_content_intent: bool | None = Field(
        default=None,
        description="request the privileged intent; default: on iff auto-answer channels are set",
    )
    db_path: Path = Field(default_factory=default_db_path)
    log_questions: bool = True
    shard_count: int | None = Field(default=None, ge=1, le=1024)
    shard_ids: IdList = Field(
        default_factory=list,
        description="the shards this process runs (of CITEBOT_SHARD_COUNT); blank: all of them",
    )
    # Secret: a URL may carry a password; logs show `redacted_url(...)` instead.
    database_url: SecretStr | None = Field(
        default=None, description="postgresql://...: store in PostgreSQL instead of db_path"
    )
    redis_url: SecretStr | None = Field(
        default=None, description="redis://...: cooldowns and reloads shared by every process"
    )
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    ask_cooldown_rate: int = Field(default=3, ge=1, le=1000)
    ask_cooldown_seconds: float = Field(default=30.0, gt=0, le=86_400)
    max_concurrent_questions: int = Field(default=4, ge=1, le=64)

    @field_validator("guild_ids", "auto_answer_channel_ids", "shard_ids", mode="before")
    @classmethod
    def _id_list(cls, value: Any) -> Any:
        """Accept "1,2,3", "1 2 3", a JSON list "[1, 2]", or a list; blank means none."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            text = text[1:-1] if text.endswith("]") else text[1:]
        parts = [p.strip().strip("\"'") for p in text.replace(",", " ").split()]
        ids = []
        for part in parts:
            if not part.isdigit():
                raise ValueError(
                    f"{part!r} is not a Discord id; give numbers separated by commas, e.g. 123,456"
                )
            ids.append(int(part))
        return ids

    @field_validator("shard_ids")
    @classmethod
    def _shards_of_the_count(cls, value: list[int], info: ValidationInfo) -> list[int]:
        """Shard ids need the total count, and each must be one of its 0 .. count - 1, once."""
        if not value:
            return value
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError(
                "shard ids need CITEBOT_SHARD_COUNT, the number of shards across all processes"
            )
        wrong = sorted({i for i in value if i >= count})
        if wrong:
            raise ValueError(
                f"shard {wrong[0]} does not exist with CITEBOT_SHARD_COUNT={count}; "
                f"use ids from 0 to {count - 1}"
            )
        if len(set(value)) != len(value):
            raise ValueError(f"a shard id is listed twice in {value}; list each once")
        return sorted(value)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "must start with postgresql:// (leave it unset to use the SQLite file)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("discord_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https:// (got {value!r})")
        return value.rstrip("/") if value else value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError(f"must start with ws:// or wss:// (got {value!r})")
        return value

    @property
    def wants_message_content(self) -> bool:
        """Whether to request the privileged message-content intent."""
        if self.message_content_intent is not None:
            return self.message_content_intent
        return bool(self.auto_answer_channel_ids)

    @classmethod
    def upgrade(cls, settings: Settings) -> BotSettings:
        """Bot settings that keep every core value of `settings` (e.g. a --corpus override)."""
        if isinstance(settings, BotSettings):
            return settings
        core = settings.model_dump(exclude={"discord_token"})
        # The token field is read through its alias (DISCORD_TOKEN); pass it that way.
        return cls(**core, DISCORD_TOKEN=settings.discord_token)


def redacted_url(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
