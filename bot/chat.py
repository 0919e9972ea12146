"""Reading channel messages and button ids: pure functions, no Discord objects.

Button custom ids carry everything a click needs (an answer's row id in the
database, a page number), so buttons keep working after the bot restarts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# custom_id layouts (Discord allows 100 characters).
ANSWER_BUTTON = r"citebot:answer:(?P<action>context|why|up|down):(?P<answer_id>[0-9]{1,19})"
SOURCES_PAGE = r"citebot:sources:(?P<page>[0-9]{1,6})"
ANSWER_ACTIONS = ("context", "why", "up", "down")

QUESTION_WORDS = frozenset("who whom whose what when where which why how".split())
# "what a day", "how nice": exclamations, not questions.
_EXCLAMATION_START = re.compile(
    r"^(what\s+an?\s|how\s+(nice|cool|great|lovely|sad|funny|awesome|weird|strange)\b)"
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_QUESTION_MARKS = ("?", "？", "؟")


def answer_button_id(action: str, answer_id: int) -> str:
    if action not in ANSWER_ACTIONS:
        raise ValueError(f"unknown answer button action {action!r}; use one of {ANSWER_ACTIONS}")
    return f"citebot:answer:{action}:{answer_id}"


def sources_page_id(page: int) -> str:
    return f"citebot:sources:{page}"


def answer_id_in(custom_ids: Iterable[str]) -> int | None:
    """The answer row id carried by an answer message's buttons, if it has any."""
    for custom_id in custom_ids:
        match = re.fullmatch(ANSWER_BUTTON, custom_id)
        if match:
            return int(match["answer_id"])
    return None


def looks_like_question(text: str) -> bool:
    """Whether a chat message reads as a question: ends with "?" or opens with a question word.

    Commands for other bots ("!play", "/roll"), code blocks and exclamations
    ("what a day!") are not questions; a "?" needs at least one word before it.
    """
    text = text.strip()
    if not text or text.startswith(("!", "/", ".", "```", ">")):
        return False
    words = [w.casefold() for w in _WORD.findall(text)]
    if not words:
        return False
    if text.endswith(_QUESTION_MARKS):
        return True
    if text.endswith("!") or _EXCLAMATION_START.match(text.casefold()):
        return False
    return words[0] in QUESTION_WORDS and len(words) >= 3


def strip_mention(content: str, user_id: int) -> str:
    """The message without `<@user_id>` / `<@!user_id>` mentions, white space collapsed."""
    text = re.sub(rf"<@!?{user_id}>", " ", content)
    return re.sub(r"\s+", " ", text).strip()
