"""SQuAD files (v1.1 and v2.0): loading them as a corpus, and the official scoring.

A file becomes a `SquadSet`: one article per SQuAD article (id a slug of the
title, body its paragraphs joined by a blank line), each question keeping the
paragraph it was written about and its gold answers; `paragraph_corpus` cuts it
at paragraph boundaries for gold mode. A malformed file is a `SquadFormatError`
naming the file and the field.

Scoring follows the official SQuAD definitions: answers are lower-cased,
stripped of ASCII punctuation and the articles a/an/the, and white space is
collapsed; EM and token F1 take the best gold answer (`citebot.evaluation.evaluate` runs
the questions and reports).
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citebot.corpus.articles import Article, Corpus
from citebot.errors import CitebotError
from citebot.text.tokenizer import bag_f1

_SLUG_MAX = 100  # leaves room for "-2" and "-p1234" under the 128-character id limit


class SquadFormatError(CitebotError):
    """The evaluation file is not a SQuAD file; the message names the file and the field."""


# --------------------------------------------------------------------------------------
# Scoring: pure functions, the official SQuAD definitions in our own words


_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower-case, drop ASCII punctuation and the articles a/an/the, collapse white space."""
    lowered = text.lower()
    no_punct = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    no_articles = _ARTICLES.sub(" ", no_punct)
    return " ".join(no_articles.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 when both normalise to the same string, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of token precision and recall after normalisation (bag of tokens)."""
    return bag_f1(normalize_answer(prediction).split(), normalize_answer(gold).split())


def best_em(prediction: str, golds: Sequence[str]) -> float:
    """EM against the best of the gold answers (0.0 with no gold answer)."""
    return max((exact_match(prediction, g) for g in golds), default=0.0)


def best_f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 against the best of the gold answers (0.0 with no gold answer)."""
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def question_scores(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) of one question, v2 rules: `prediction` None is an abstention.

    No gold answer (unanswerable): 1 for an abstention, 0 for any answer.
    Gold answers: 0 for an abstention, else the best EM and F1.
    """
    if not golds:
        score = float(prediction is None)
        return score, score
    if prediction is None:
        return 0.0, 0.0
    return best_em(prediction, golds), best_f1(prediction, golds)


def contains_answer(quote: str | None, golds: Sequence[str]) -> bool:
    """Whether the quote holds a gold answer as whole words, case, punctuation and the
    articles aside. Punctuation separates words here (SQuAD's normalisation deletes it,
    which would hide "11" in "an 11-year veteran"), and that is any Unicode punctuation:
    Wikipedia joins words with dashes ("Martin Luther—may", "(1919–1980)")."""
    if quote is None or not golds:
        return False
    haystack = f" {_spaced(quote)} "
    return any(f" {needle} " in haystack for g in golds if (needle := _spaced(g)))


def _spaced(text: str) -> str:
    """`normalize_answer` with any punctuation turned into spaces instead of deleted."""
    lowered = "".join(" " if _is_punctuation(ch) else ch for ch in text.lower())
    return " ".join(_ARTICLES.sub(" ", lowered).split())


def _is_punctuation(ch: str) -> bool:
    """ASCII punctuation (the official set) or a Unicode punctuation character (dashes,
    curly quotes)."""
    return ch in _PUNCTUATION or unicodedata.category(ch).startswith("P")


# --------------------------------------------------------------------------------------
# Loading a SQuAD file


@dataclass(frozen=True, slots=True)
class SquadArticle:
    """One SQuAD article: its paragraphs joined by blank lines, with their body offsets."""

    id: str
    title: str
    body: str
    paragraphs: tuple[tuple[int, int], ...]  # (start, end) of each paragraph in `body`

    def paragraph_text(self, k: int) -> str:
        start, end = self.paragraphs[k]
        return self.body[start:end]

    def paragraph_id(self, k: int) -> str:
        """The article id of paragraph k in the gold-mode corpus."""
        return f"{self.id}-p{k}"


@dataclass(frozen=True, slots=True)
class SquadQuestion:
    """A question, where it was asked (article and paragraph indexes) and its gold answers."""

    id: str
    text: str
    article: int
    paragraph: int
    answers: tuple[str, ...]  # empty: unanswerable

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class SquadSet:
    """A loaded SQuAD file."""

    version: str
    articles: tuple[SquadArticle, ...]
    questions: tuple[SquadQuestion, ...]

    def corpus(self) -> Corpus:
        """One Article per SQuAD article (open mode)."""
        return Corpus(
            articles=tuple(Article(id=a.id, title=a.title, body=a.body) for a in self.articles)
        )

    def paragraph_corpus(self) -> Corpus:
        """One Article per paragraph, id `{article}-p{k}` (gold mode)."""
        return Corpus(
            articles=tuple(
                Article(id=a.paragraph_id(k), title=a.title, body=a.paragraph_text(k))
                for a in self.articles
                for k in range(len(a.paragraphs))
            )
        )

    @property
    def paragraph_count(self) -> int:
        return sum(len(a.paragraphs) for a in self.articles)


def slugify(title: str) -> str:
    """A valid article id from a title: ASCII letters and digits, runs of others as '-'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()
    return slug[:_SLUG_MAX].rstrip("-") or "article"


def load_squad(path: Path) -> SquadSet:
    """Read and check a SQuAD v1.1 or v2.0 file; anything wrong is a SquadFormatError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SquadFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SquadFormatError(f"{path}: is a folder, not a SQuAD .json file") from None
    except OSError as exc:
        raise SquadFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SquadFormatError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SquadFormatError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    return parse_squad(data, str(path))


def _expect(value: object, kind: type, where: str, name: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SquadFormatError(
            f"{name}: {where} must be a {_KIND_NAMES[kind]}, not {_describe(value)}"
        )
    return value


_KIND_NAMES: dict[type, str] = {
    dict: "JSON object",
    list: "JSON list",
    str: "string",
    int: "number",
}


def _describe(value: object) -> str:
    if value is None:
        return "null (or missing)"
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    for kind, text in kinds.items():
        if isinstance(value, kind):
            return text
    return f"a {type(value).__name__}" if not isinstance(value, int | float) else "a number"


def parse_squad(data: object, name: str = "<squad>") -> SquadSet:
    """Check the SQuAD shape and build articles and questions from it."""
    top = _expect(data, dict, "the top level", name)
    if "data" not in top:
        raise SquadFormatError(f"{name}: no 'data' key at the top level; is this a SQuAD file?")
    entries = _expect(top["data"], list, "'data'", name)
    if not entries:
        raise SquadFormatError(f"{name}: 'data' is empty; there is nothing to evaluate")
    articles: list[SquadArticle] = []
    questions: list[SquadQuestion] = []
    taken: set[str] = set()
    seen_ids: dict[str, str] = {}
    has_v2_keys = False
    for a, entry in enumerate(entries):
        where = f"data[{a}]"
        title, paragraphs = _entry(entry, where, name)
        contexts: list[str] = []
        for p, paragraph in enumerate(paragraphs):
            p_where = f"{where}.paragraphs[{p}]"
            context, qas = _paragraph(paragraph, p_where, name)
            contexts.append(context)
            for q, qa in enumerate(qas):
                (qid, text, golds), v2 = _question(qa, f"{p_where}.qas[{q}]", name, seen_ids)
                has_v2_keys |= v2
                questions.append(SquadQuestion(qid, text, len(articles), p, golds))
        articles.append(_article(_unique_slug(title, taken), title, contexts))
    if not questions:
        raise SquadFormatError(f"{name}: no questions ('qas') in any paragraph")
    version = top.get("version")
    if not isinstance(version, str) or not version:
        version = "v2.0" if has_v2_keys else "v1.1"
    return SquadSet(version, tuple(articles), tuple(questions))


def _entry(entry: object, where: str, name: str) -> tuple[str, list[Any]]:
    """An article entry's title (underscores read as spaces) and its paragraphs."""
    checked = _expect(entry, dict, where, name)
    title = _expect(checked.get("title"), str, f"{where}.title", name).replace("_", " ").strip()
    if not title:
        raise SquadFormatError(f"{name}: {where}.title is empty")
    paragraphs = _expect(checked.get("paragraphs"), list, f"{where}.paragraphs", name)
    if not paragraphs:
        raise SquadFormatError(f"{name}: {where}.paragraphs is empty")
    return title, paragraphs


def _paragraph(paragraph: object, where: str, name: str) -> tuple[str, list[Any]]:
    """A paragraph's context and its question entries."""
    checked = _expect(paragraph, dict, where, name)
    context = _expect(checked.get("context"), str, f"{where}.context", name)
    if not context.strip():
        raise SquadFormatError(f"{name}: {where}.context is empty")
    return context, _expect(checked.get("qas"), list, f"{where}.qas", name)


def _question(
    qa: object, where: str, name: str, seen_ids: dict[str, str]
) -> tuple[tuple[str, str, tuple[str, ...]], bool]:
    """(id, question, gold answers: none when impossible), and whether it has v2 keys."""
    checked = _expect(qa, dict, where, name)
    qid = _expect(checked.get("id"), str, f"{where}.id", name)
    if qid in seen_ids:
        raise SquadFormatError(
            f"{name}: {where}.id {qid!r} is used twice (also at {seen_ids[qid]})"
        )
    seen_ids[qid] = where
    text = _expect(checked.get("question"), str, f"{where}.question", name)
    impossible = checked.get("is_impossible", False)
    if "is_impossible" in checked and not isinstance(impossible, bool):
        raise SquadFormatError(
            f"{name}: {where}.is_impossible must be true or false, not {_describe(impossible)}"
        )
    golds = _answers(checked.get("answers", []), f"{where}.answers", name)
    return (qid, text, () if impossible else golds), "is_impossible" in checked


def _unique_slug(title: str, taken: set[str]) -> str:
    """The title's slug, numbered when an earlier article took it (`-2`, `-3` ...)."""
    slug = slugify(title)
    unique, n = slug, 2
    while unique in taken:
        unique, n = f"{slug}-{n}", n + 1
    taken.add(unique)
    return unique


def _article(article_id: str, title: str, contexts: list[str]) -> SquadArticle:
    """The article: its paragraphs joined by blank lines, and each one's offsets."""
    offsets: list[tuple[int, int]] = []
    cursor = 0
    for context in contexts:
        offsets.append((cursor, cursor + len(context)))
        cursor += len(context) + 2
    return SquadArticle(article_id, title, "\n\n".join(contexts), tuple(offsets))


def _answers(value: object, where: str, name: str) -> tuple[str, ...]:
    """Gold answer texts; those that normalise to nothing are dropped (as the official script)."""
    items = _expect(value, list, where, name)
    golds: list[str] = []
    for i, item in enumerate(items):
        _expect(item, dict, f"{where}[{i}]", name)
        text = _expect(item.get("text"), str, f"{where}[{i}].text", name)
        if "answer_start" in item:
            _expect(item["answer_start"], int, f"{where}[{i}].answer_start", name)
        if normalize_answer(text):
            golds.append(text)
    return tuple(golds)
