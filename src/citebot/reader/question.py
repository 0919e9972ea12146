"""What a question asks for: its answer type, its terms, and what it names.

The answer type comes from the question word and the noun after it ("when" wants a
date, "how many companies" a number, "which officials" people, "who is
Peter Mok" a description of him). Terms are the same index terms retrieval uses;
the main verb of "when did X open" gets extra weight, because the event a
question asks about is named by its verb and a sentence without it describes a
different event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from citebot.text.tokenizer import Word, words


class AnswerType(StrEnum):
    """The kind of span a question wants."""

    DATE = "date"
    TIME = "time"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"
    ENTITY = "entity"  # a named thing: organisation, programme, name asked for
    DEFINITION = "definition"  # "what is X" / "who is X": a description of X
    REASON = "reason"
    PHRASE = "phrase"


_AUXILIARIES = frozenset(
    """
    did does do will would can could should has have had is are was were may might
    """.split()
)
_PERSON_NOUNS = frozenset(
    """
    person people man woman men women official officials leader leaders minister
    ministers president presidents mayor mayors chief executive executives secretary
    secretaries author authors writer founder founders ceo player players director
    directors actor actress king queen emperor pope scientist scientists member members
    spokesman spokeswoman head heads governor governors chairman chairwoman politician
    politicians composer architect artist artists inventor general commander student
    students teacher teachers astronaut astronauts engineer engineers physicist chemist
    mathematician philosopher poet singer painter explorer saint bishop priest judge lawyer
    economist historian researcher researchers ruler rulers monarch prime
    """.split()
)
_PLACE_NOUNS = frozenset(
    """
    city cities country countries place places location locations region regions
    district districts town towns state states province provinces continent area areas
    island islands county nation nations village street site sites capital venue port
    river mountain
    """.split()
)
_DATE_NOUNS = frozenset(
    ["year", "years", "date", "day", "month", "decade", "century", "era", "period", "season"]
)
_TIME_NOUNS = frozenset(["time", "hour"])
_NUMBER_HEADS = frozenset(
    """
    many much long big large tall high far old wide deep often fast heavy
    """.split()
)
_NAME_NOUNS = frozenset(["name", "names", "title", "called", "term"])
_FRAME_WORDS = frozenset(
    """
    name names full called year date day month decade century time number percentage
    amount exact
    """.split()
)
_TYPE_NOUNS = (
    _PERSON_NOUNS
    | _PLACE_NOUNS
    | _DATE_NOUNS
    | _TIME_NOUNS
    | frozenset({"percentage", "percent", "number", "amount", "population", "size", "cost"})
)
_QUESTION_WORDS = ("when", "where", "who", "whom", "whose", "which", "what", "why", "how")
_DEFINITION_RE = re.compile(
    r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?P<subject>.+?)\s*\??\s*$", re.I
)
_QUOTED_RE = re.compile(r"[\"“](.+?)[\"”]")


@dataclass(frozen=True)
class Question:
    """A parsed question."""

    text: str
    answer_type: AnswerType
    terms: list[str]
    weights: dict[str, float] = field(default_factory=dict)
    subject: str | None = None  # X in "who is X" / "what is X"
    entities: list[str] = field(default_factory=list)  # names the question mentions


def parse_question(text: str) -> Question:
    """Parse a question (any wording, any case) into what answer extraction needs."""
    ws = words(text)
    folded = [w.folded for w in ws]
    wh, wh_index = _question_word(folded)
    following = folded[wh_index + 1 :] if wh_index >= 0 else []
    answer_type = _answer_type(wh, following)
    subject = None
    definition = _DEFINITION_RE.match(text)
    if definition and answer_type in {AnswerType.PERSON, AnswerType.PHRASE, AnswerType.ENTITY}:
        candidate = definition.group("subject").strip()
        if _is_definable(candidate):
            subject = _strip_article(candidate)
            answer_type = AnswerType.DEFINITION
    terms = [w.term for w in ws if not w.is_stop]
    weights = dict.fromkeys(terms, 1.0)
    # Words that frame the question ("full name", "what year") say what is wanted,
    # not what the answer sentence is about.
    for k, w in enumerate(ws):
        after_how = k > 0 and ws[k - 1].folded == "how" and w.folded in _NUMBER_HEADS
        if (w.folded in _FRAME_WORDS or after_how) and w.term in weights:
            weights[w.term] = 0.0
    verb = _main_verb(text, ws, wh_index)
    if verb is not None and verb.term in weights:
        weights[verb.term] = 2.0
    return Question(
        text=text,
        answer_type=answer_type,
        terms=terms,
        weights=weights,
        subject=subject,
        entities=_entities(text, ws),
    )


def _question_word(folded: list[str]) -> tuple[str, int]:
    for i, word in enumerate(folded):
        if word in _QUESTION_WORDS:
            return word, i
    return "", -1


def _answer_type(wh: str, following: list[str]) -> AnswerType:
    """The answer type, from the question word onward."""
    nxt = following[0] if following else ""
    noun = _head_noun(following)
    if not noun and following[:1] and following[0] in {"is", "are", "was", "were"}:
        noun = _head_noun([w for w in following[1:3] if w not in {"the", "a", "an"}])
    if wh in {"what", "which"} and _NAME_NOUNS & set(following) - {"called"}:
        return AnswerType.ENTITY  # "what is the full name of ...", "X's name"
    if wh == "when":
        return AnswerType.DATE
    if wh == "where":
        return AnswerType.PLACE
    if wh in {"who", "whom", "whose"}:
        return AnswerType.PERSON
    if wh == "why":
        return AnswerType.REASON
    if wh == "how":
        if nxt in _NUMBER_HEADS:
            return AnswerType.NUMBER
        return AnswerType.PHRASE
    if wh in {"what", "which"}:
        if noun in _DATE_NOUNS:
            return AnswerType.DATE
        if noun in _TIME_NOUNS:
            return AnswerType.TIME
        if noun in {"percentage", "percent", "number", "amount", "population", "size", "cost"}:
            return AnswerType.NUMBER
        if noun in _PERSON_NOUNS:
            return AnswerType.PERSON
        if noun in _PLACE_NOUNS:
            return AnswerType.PLACE
        if noun in _NAME_NOUNS or (wh == "which" and noun):
            return AnswerType.ENTITY
    return AnswerType.PHRASE


def _head_noun(following: list[str]) -> str:
    """The noun after "what"/"which": a known type noun among the next three words
    ("what NASA astronaut"), else the first word, or "" when a verb comes first."""
    first = ""
    for word in following[:3]:
        if word in _AUXILIARIES or word in {"the", "a", "an", "of"}:
            break
        if word in _TYPE_NOUNS:
            return word
        if not first and word not in {"full", "first", "last", "exact", "official", "main"}:
            first = word
    return first


def _is_definable(subject: str) -> bool:
    """ "What is X" asks for a definition only when X is a name or one or two plain words.

    "Who is Peter Mok", "What is IngDan", "What was telenet" are definitions;
    "Who is the first administrator of X" asks for a person and "What is the atomic
    number of oxygen" for a value.
    """
    subject_words = words(subject)
    if not subject_words or _starts_with_the_type_noun(subject_words):
        return False
    surfaces = [subject[w.start : w.end] for w in subject_words]
    content = [
        (w, s)
        for w, s in zip(subject_words, surfaces, strict=True)
        if w.folded not in {"the", "a", "an"}
    ]
    if not content or len(content) > 6:
        return False
    named = all(
        s[:1].isupper()
        or s[:1].isdigit()
        or "\u3400" <= s[:1] <= "\u9fff"
        or w.is_stop
        or subject[w.start - 1 : w.start] == "-"  # "Kam-sing"
        for w, s in content
    )
    if named and not content[-1][0].is_stop:
        return True
    plain = [w for w, _ in content]
    return (
        len(plain) <= 2
        and not any(w.is_stop for w in plain)
        and not any(w.folded.endswith("est") for w in plain)
        and subject_words[0].folded not in {"the", "a", "an"}
    )


def _starts_with_the_type_noun(subject_words: Sequence[Word]) -> bool:
    """ "what is the name of X" asks for a name, not for a definition of "the name"."""
    content = [w.folded for w in subject_words if w.folded not in {"the", "a", "an"}]
    if _NAME_NOUNS & set(content):
        return True  # "what is Mayor Park's full name" asks for the name itself
    return bool(content) and (
        content[0] in _NAME_NOUNS | _DATE_NOUNS | _PLACE_NOUNS | {"full", "population"}
        or content[0] in {"percentage", "number", "amount"}
    )


def _strip_article(subject: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", subject, flags=re.I)


def _main_verb(text: str, ws: Sequence[Word], wh_index: int) -> Word | None:
    """In "when did the Hetao park open?", the content word at the end after the auxiliary.

    The auxiliary may follow a short wh-phrase: "which officials will Mayor Park meet".
    """
    k = wh_index + 1
    while 0 < k < min(len(ws), wh_index + 4) and ws[k].folded not in _AUXILIARIES:
        if ws[k].is_stop:
            return None
        k += 1
    if wh_index < 0 or k >= len(ws) or ws[k].folded not in _AUXILIARIES:
        return None
    if ws[k].folded in {"is", "are", "was", "were"}:
        return None  # "when was the landslide": no verb to weigh
    if ws[-1].folded in _AUXILIARIES | {"do", "be", "been"}:
        return None  # "how many companies does the park have": the verb is a stop word
    content = [w for w in ws[k + 1 :] if not w.is_stop]
    # "did the Seoul mayor visit Tokyo": the verb is the last lower-case content word
    # after the subject (a trailing capitalised word is the object's name).
    lower = [w for w in content[1:] if text[w.start : w.end].islower()]
    return lower[-1] if lower else None


def _entities(text: str, ws: Sequence[Word]) -> list[str]:
    """Capitalised words not at the start, CJK runs, and quoted phrases: what must be matched."""
    found: list[str] = [m.group(1) for m in _QUOTED_RE.finditer(text)]
    for i, w in enumerate(ws):
        surface = text[w.start : w.end]
        if i == 0 or w.is_stop:
            continue
        if any(ch.isupper() for ch in surface) or "\u3400" <= surface[:1] <= "\u9fff":
            found.append(surface)
    return found
