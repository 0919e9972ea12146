"""Bot settings: id lists from the environment, URLs, the intent default, the secret token."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import BotSettings, redacted_url
from citebot.settings import Settings


def from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> BotSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return BotSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,2,3", [1, 2, 3]),
        (" 1, 2 ,3 ", [1, 2, 3]),
        ("1 2", [1, 2]),
        ("[1, 2]", [1, 2]),
        ('["1","2"]', [1, 2]),
        ("123456789012345678", [123456789012345678]),
        ("", []),
        ("[]", []),
    ],
)
def test_id_lists_parse_from_commas_spaces_or_json(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    """CITEBOT_GUILD_IDS and CITEBOT_AUTO_ANSWER_CHANNEL_IDS accept "1,2,3" as well as JSON."""
    settings = from_env(monkeypatch, CITEBOT_GUILD_IDS=raw, CITEBOT_AUTO_ANSWER_CHANNEL_IDS=raw)
    assert settings.guild_ids == expected
    assert settings.auto_answer_channel_ids == expected


def test_a_bad_id_names_the_variable_and_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-number in an id list is refused with the offending value."""
    with pytest.raises(ValidationError, match="'general' is not a Discord id") as info:
        from_env(monkeypatch, CITEBOT_AUTO_ANSWER_CHANNEL_IDS="12,general")
    assert info.value.errors()[0]["loc"] == ("auto_answer_channel_ids",)


def test_message_content_intent_defaults_on_only_with_auto_answer_channels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The privileged intent is requested only when auto-answer channels need it, unless set."""
    assert not from_env(monkeypatch).wants_message_content
    assert from_env(monkeypatch, CITEBOT_AUTO_ANSWER_CHANNEL_IDS="5").wants_message_content
    forced_off = from_env(monkeypatch, CITEBOT_MESSAGE_CONTENT_INTENT="false")
    assert not forced_off.wants_message_content


def test_proxy_urls_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The REST base must be http(s) (trailing slash dropped), the gateway ws(s)."""
    settings = from_env(
        monkeypatch,
        CITEBOT_DISCORD_API_BASE="http://127.0.0.1:9/api/v10/",
        CITEBOT_DISCORD_GATEWAY_URL="ws://127.0.0.1:9/gateway",
    )
    assert settings.discord_api_base == "http://127.0.0.1:9/api/v10"
    with pytest.raises(ValidationError, match="ws:// or wss://"):
        from_env(monkeypatch, CITEBOT_DISCORD_GATEWAY_URL="http://127.0.0.1:9/gateway")
    with pytest.raises(ValidationError, match="http:// or https://"):
        from_env(monkeypatch, CITEBOT_DISCORD_API_BASE="discord.com/api")


def test_token_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """DISCORD_TOKEN is a secret: not in repr, str, JSON or a validation error's text."""
    token = "MTIzNDU2.secret-token-value"
    settings = from_env(monkeypatch, DISCORD_TOKEN=token, CITEBOT_GUILD_IDS="1")
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == token
    for shown in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
    ):
        assert token not in shown
    with pytest.raises(ValidationError) as info:
        from_env(monkeypatch, DISCORD_TOKEN=token, CITEBOT_SHARD_COUNT="none")
    assert token not in str(info.value)


def test_upgrade_keeps_core_values_and_reads_bot_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Core settings (e.g. `citebot bot --corpus DIR`) survive the upgrade to BotSettings."""
    monkeypatch.setenv("DISCORD_TOKEN", "tok")
    monkeypatch.setenv("CITEBOT_GUILD_IDS", "7,8")
    core = Settings(_env_file=None).model_copy(update={"corpus_dir": tmp_path})  # type: ignore[call-arg]
    upgraded = BotSettings.upgrade(core)
    assert upgraded.corpus_dir == tmp_path
    assert upgraded.guild_ids == [7, 8]
    assert upgraded.discord_token is not None
    assert upgraded.discord_token.get_secret_value() == "tok"
    assert BotSettings.upgrade(upgraded) is upgraded


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CITEBOT_SHARD_IDS": "0"}, "shard ids need CITEBOT_SHARD_COUNT"),
        ({"CITEBOT_SHARD_IDS": "1,2", "CITEBOT_SHARD_COUNT": "2"}, "shard 2 does not exist"),
        ({"CITEBOT_SHARD_IDS": "1,1", "CITEBOT_SHARD_COUNT": "2"}, "listed twice"),
        ({"CITEBOT_SHARD_IDS": "one", "CITEBOT_SHARD_COUNT": "2"}, "'one' is not a Discord id"),
        ({"CITEBOT_DATABASE_URL": "mysql://x/y"}, "must start with postgresql://"),
        ({"CITEBOT_REDIS_URL": "http://x"}, "must start with redis://"),
    ],
)
def test_a_bad_scale_out_setting_is_refused_with_a_sentence(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    """Shard ids without a count, out of range or twice, and foreign URLs name what to fix."""
    with pytest.raises(ValidationError, match=message):
        from_env(monkeypatch, **env)


def test_shard_ids_and_urls_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """CITEBOT_SHARD_IDS is sorted; the URLs are secrets (a password never shows); blank is unset."""
    settings = from_env(
        monkeypatch,
        CITEBOT_SHARD_COUNT="4",
        CITEBOT_SHARD_IDS="3,1",
        CITEBOT_DATABASE_URL="postgresql://bot:s3cret@db.example:5432/citebot",
        CITEBOT_REDIS_URL="",
    )
    assert settings.shard_ids == [1, 3]
    assert settings.database_url is not None and settings.redis_url is None
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.model_dump_json()
    assert redacted_url(settings.database_url.get_secret_value()) == (
        "postgresql://bot:***@db.example:5432/citebot"
    )
