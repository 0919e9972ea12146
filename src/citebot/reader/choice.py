"""Which candidate spans may answer a question, and how the chosen one is shown.

The learned span model ranks candidates; this module holds the few rules that
are not learned, because they follow from what the question says rather than
from training data: a "when" question is answered by a temporal expression when
the sentences have one, "the full name of X" by a longer name containing X, and
no question by a span made only of its own words. And the chosen span is shown
whole: every name of a list for "which officials", the temporal expression
"on Thursday" that `dates` resolved.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from citebot.reader.features import SHARED_NAMES, Features
from citebot.reader.question import AnswerType, Question
from citebot.reader.spans import KIND_BIT, Candidate, CandidateList
from citebot.text.tokenizer import words

WANTED = {
    AnswerType.DATE: {"date"},
    AnswerType.TIME: {"time", "date"},
    AnswerType.NUMBER: {"number"},
    AnswerType.PERSON: {"person", "name"},
    AnswerType.PLACE: {"place", "name"},
    AnswerType.ENTITY: {"name", "person", "place"},
    AnswerType.DEFINITION: {"definition"},
}
_LISTABLE = KIND_BIT["name"] | KIND_BIT["person"] | KIND_BIT["place"]
_TEMPORAL = KIND_BIT["date"] | KIND_BIT["time"]
_OVERLAP_ALL = SHARED_NAMES.index("overlap_all")
_EXTENDS = SHARED_NAMES.index("extends_name")


def allowed(question: Question, features: Features) -> npt.NDArray[np.bool_] | None:
    """Which candidates (rows of `features`) may answer: of the kind the question fixes,
    and not only its own words.

    Each restriction applies only when some candidate passes it: a sentence set
    without a date still answers "when", with its best other span. None: all may.
    """
    novel = _novel(question, features)
    typed = _wanted(question, features)
    if typed is not None:
        both = novel & typed
        if both.any():
            return both
    if novel.any():
        return novel
    return None


def gate(
    question: Question, features: Features, scores: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """The scores (of the rows of `features`) with every candidate that may not answer
    set to minus infinity."""
    mask = allowed(question, features)
    if mask is None:
        return scores
    return np.where(mask, scores, -np.inf).astype(np.float32)


def lacks_wanted(question: Question, features: Features) -> bool:
    """Whether the question fixes a kind of answer that no candidate of `features` has."""
    typed = _wanted(question, features)
    return typed is not None and not typed.any()


def _novel(question: Question, features: Features) -> npt.NDArray[np.bool_]:
    """Candidates that add something to the question: not made only of its own words."""
    if question.answer_type == AnswerType.DEFINITION or question.full_name:
        return np.ones(len(features.dense), dtype=np.bool_)
    novel: npt.NDArray[np.bool_] = features.dense[:, _OVERLAP_ALL] == 0
    return novel


def _wanted(question: Question, features: Features) -> npt.NDArray[np.bool_] | None:
    """Which candidates have the kind the question asks for; None when it fixes no kind."""
    kind = question.answer_type
    if question.full_name:
        extends: npt.NDArray[np.bool_] = features.dense[:, _EXTENDS] > 0
        return extends
    if kind in {AnswerType.DATE, AnswerType.TIME, AnswerType.NUMBER, AnswerType.DEFINITION} or (
        kind == AnswerType.PERSON and question.wh in {"which", "what"}
    ):
        bits = 0
        for wanted in WANTED[kind]:
            bits |= KIND_BIT[wanted]
        has: npt.NDArray[np.bool_] = (features.flags & bits) != 0
        return has
    return None


def display(question: Question, span: Candidate, candidates: CandidateList, text: str) -> Candidate:
    """The chosen span as it is shown: whole lists and whole temporal expressions.

    "Which officials" gets every listed name; "Thursday" is shown as the expression
    "on Thursday" that `dates` resolved. A count is shown as the model chose it: "16"
    for "how many companies" (the quote beside it says "16 companies"), as four in
    five SQuAD annotators mark it.
    """
    if question.plural and span.flags & _LISTABLE:
        return _as_list(span, [c for c in candidates if c.flags & _LISTABLE], text)
    if span.flags & _TEMPORAL:
        # The temporal candidates ending where the span ends and starting before it, in
        # order (read off the columns: the other candidates need no object).
        for i in np.flatnonzero(
            ((candidates.flag_array() & _TEMPORAL) != 0)
            & (np.asarray(candidates.ends) == span.end)
            & (np.asarray(candidates.starts) < span.start)
        ).tolist():
            c = candidates[i]
            if all(w.is_stop for w in words(text[c.start : span.start])):
                return c
    return span


def _as_list(best: Candidate, same_kind: list[Candidate], text: str) -> Candidate:
    """For "which officials ...", the span from the first to the last listed item."""
    items = sorted({(c.start, c.end) for c in same_kind} | {(best.start, best.end)})
    chain = [(best.start, best.end)]
    for s, e in items:  # extend to neighbours joined by commas/"and" within a short gap
        if (
            s >= chain[-1][1]
            and s - chain[-1][1] <= 80
            and re.search(r",|\band\b", text[chain[-1][1] : s])
        ):
            chain.append((s, e))
    for s, e in reversed(items):
        if (
            e <= chain[0][0]
            and chain[0][0] - e <= 80
            and re.search(r",|\band\b", text[e : chain[0][0]])
        ):
            chain.insert(0, (s, e))
    start, end = chain[0][0], chain[-1][1]
    return Candidate(start, end, text[start:end], best.kind, best.value, best.prior, best.flags)
