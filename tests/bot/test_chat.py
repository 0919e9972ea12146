"""Reading channel messages: what looks like a question, mentions, button ids."""

from __future__ import annotations

import re

import pytest

from bot.chat import (
    ANSWER_BUTTON,
    SOURCES_PAGE,
    answer_button_id,
    answer_id_in,
    looks_like_question,
    sources_page_id,
    strip_mention,
)


@pytest.mark.parametrize(
    "text",
    [
        "when did the Hetao park open?",
        "Who is Peter Mok",
        "how many companies are in the Shenzhen park",
        "WHERE is the new branch located",
        "is the park open?",
        "the park opened when?",
        "Hetao?",
        "what is the Hetao zone？",  # full-width question mark
        "  why did the mayor visit Hong Kong  ",
    ],
)
def test_questions_are_recognised(text: str) -> None:
    """Messages ending in "?" or opening with a question word (and 3+ words) are questions."""
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?",
        "???",
        "nice weather today",
        "lol",
        "what a day",
        "What an opening ceremony",
        "how nice is that",
        "why not!",
        "who knows",  # two words, no question mark
        "!play some music?",
        "/roll 2d6?",
        "```python\nprint('why?')\n```",
        "> quoted: who is this?",
        "I wonder when it opened.",
    ],
)
def test_chatter_is_not_a_question(text: str) -> None:
    """Chatter, exclamations, bot commands, code and quotes are left alone."""
    assert not looks_like_question(text)


def test_strip_mention_removes_only_the_bots_mentions() -> None:
    """Both mention forms of the bot go; other users' mentions stay; spaces collapse."""
    assert strip_mention("<@42> when did it open?", 42) == "when did it open?"
    assert strip_mention("hey <@!42>   who is <@7>?", 42) == "hey who is <@7>?"
    assert strip_mention("<@42>", 42) == ""


def test_button_ids_round_trip_and_fit_discord() -> None:
    """Custom ids match their templates, carry their numbers, and stay within 100 characters."""
    biggest = 2**63 - 1
    for action in ("context", "why", "up", "down"):
        custom_id = answer_button_id(action, biggest)
        match = re.fullmatch(ANSWER_BUTTON, custom_id)
        assert match is not None and int(match["answer_id"]) == biggest
        assert len(custom_id) <= 100
    assert re.fullmatch(SOURCES_PAGE, sources_page_id(3))["page"] == "3"  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown answer button action"):
        answer_button_id("delete", 1)


def test_answer_id_is_found_among_a_messages_custom_ids() -> None:
    """The answer row id is read back from the buttons of an answer message."""
    assert answer_id_in(["citebot:sources:2", "citebot:answer:why:17"]) == 17
    assert answer_id_in(["citebot:sources:2", "something:else"]) is None
    assert answer_id_in(["citebot:answer:why:17:extra"]) is None
