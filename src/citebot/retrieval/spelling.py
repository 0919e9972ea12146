"""Reading a misspelt question word as the corpus word one edit away.

People type fast in a chat: "who purhcased the packages?" finds nothing under
"purhcased", and the passage that says "purchased" loses the word that tells it apart.
A question word is read as another when all of these hold:

* no article uses it, and it is not an English word either (pyspellchecker's list
  of 160,000), so a real word the articles lack ("kinship", "Tokyo") is left alone
  and the reader can still say that nothing mentions it;
* it has MIN_LETTERS to MAX_LETTERS letters, all of them a-z in any case (short words
  have too many neighbours one edit away to pick from; a longer run of letters is no
  word, and its neighbours would only cost time);
* some word one edit away (a letter deleted, inserted, changed, or two neighbours
  swapped) is written in the articles: of those, the one whose term most passages
  use is taken. The word itself must be found in a passage, not only its term: the
  stemmer maps "beyonde" to "beyond", and "Beyonce" is not "beyond".

The question is then read with the word replaced, in the case it was written in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spellchecker import SpellChecker

from citebot.text.tokenizer import run_terms, words

if TYPE_CHECKING:
    from citebot.retrieval.index import Index

MIN_LETTERS = 5
MAX_LETTERS = 30
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LOOKED_AT = 3  # passages searched for a candidate's written form, per term


@dataclass(frozen=True)
class Correction:
    """A word of the question as written, and the word it was read as."""

    written: str
    read_as: str


@functools.cache
def _english() -> SpellChecker:
    return SpellChecker(language="en", distance=1)


def known_word(folded: str) -> bool:
    """Whether a lower-case word is an English word (see the module docstring)."""
    return folded in _english()


def edits(word: str) -> set[str]:
    """Every lower-case a-z word one edit away from `word`."""
    splits = [(word[:k], word[k:]) for k in range(len(word) + 1)]
    deleted = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserted = {a + c + b for a, b in splits for c in _LETTERS}
    return (deleted | swapped | changed | inserted) - {word}


def correct(text: str, index: Index) -> tuple[str, list[Correction]]:
    """`text` with each misspelt word replaced by its reading, and what was replaced."""
    out: list[str] = []
    corrections: list[Correction] = []
    closest: dict[str, str | None] = {}  # each distinct word is looked up once
    end = 0
    for w in words(text):
        written = text[w.start : w.end]
        if (
            w.is_stop
            or not MIN_LETTERS <= len(written) <= MAX_LETTERS
            or not (written.isascii() and written.isalpha())
            or text[w.end : w.end + 1] in ("'", "’")  # "couldn't": a word cut at the apostrophe
            or index.mentions(w.term)
            or known_word(w.folded)
        ):
            continue
        if w.folded not in closest:
            closest[w.folded] = _closest(w.folded, index)
        reading = closest[w.folded]
        if reading is None:
            continue
        read_as = _in_case_of(written, reading)
        out += [text[end : w.start], read_as]
        end = w.end
        corrections.append(Correction(written, read_as))
    return "".join([*out, text[end:]]), corrections


def _closest(folded: str, index: Index) -> str | None:
    """The word one edit from `folded` that the articles write, whose term most passages
    use (None: no such word)."""
    spelled: dict[str, list[str]] = {}  # term -> the candidates with that term
    for candidate in sorted(edits(folded)):
        # run_terms: the uncached tokenizer; a candidate is looked at once
        terms = run_terms(candidate)
        if len(terms) == 1 and index.mentions(terms[0]):
            spelled.setdefault(terms[0], []).append(candidate)
    for term in sorted(spelled, key=index.bm25.document_frequency, reverse=True):
        hits = index.search([term], _LOOKED_AT)
        written = {w.folded for hit in hits for w in words(hit.passage.text)}
        for candidate in spelled[term]:
            if candidate in written:
                return candidate
    return None


def _in_case_of(written: str, word: str) -> str:
    """`word` in the case `written` was typed in: all capitals, a capital first, or lower."""
    if written.isupper() and len(written) > 1:
        return word.upper()
    return word.capitalize() if written[0].isupper() else word
