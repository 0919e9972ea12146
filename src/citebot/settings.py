"""Settings, read from the environment and `.env` (pydantic-settings); no config globals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# An editable install or a checkout keeps the shipped corpus two levels above the package.
_SHIPPED_CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def default_corpus_dir() -> Path:
    """The shipped corpus/ of this checkout, else ./corpus."""
    return _SHIPPED_CORPUS if _SHIPPED_CORPUS.is_dir() else Path("corpus")


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/citebot, or ~/.cache/citebot."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citebot"


class Settings(BaseSettings):
    """Core settings; the bot extends them with its own (see bot/settings.py)."""

    model_config = SettingsConfigDict(
        env_prefix="CITEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    corpus_dir: Path = Field(default_factory=default_corpus_dir)
    cache_dir: Path = Field(default_factory=default_cache_dir)
    use_cache: bool = True
    # None: the threshold chosen for the shipped reader (pipeline.reader_thresholds)
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    # None: the reader's answer tier (pipeline.reader_thresholds); below it, a possible answer
    answer_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    max_question_chars: int = Field(default=500, ge=10, le=10_000)
    # RSS/Atom feeds `citebot feeds poll` and the bot read: "url1,url2" or one per line
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feed_interval_minutes: float = Field(default=15.0, ge=1.0, le=7 * 24 * 60)
    # Fetching from loopback, private, link-local or reserved addresses (your own network)
    fetch_allow_private: bool = False
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "CITEBOT_DISCORD_TOKEN")
    )

    @field_validator("feeds", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        """Accept URLs separated by commas, spaces or newlines, or a list; each http(s)."""
        urls = value.replace(",", " ").split() if isinstance(value, str) else value
        for url in urls:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"{url!r} is not a feed address; give http(s) URLs separated by commas"
                )
        return urls
