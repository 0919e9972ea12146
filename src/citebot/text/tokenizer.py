"""The one tokenizer used for articles and questions alike.

Words are Unicode-aware, NFKC-normalised and case-folded, then stemmed with the
Snowball English stemmer so that "open", "opens" and "opened" meet. Stop words are
dropped from index terms but kept as words, because answer extraction needs them.
Han and kana runs have no spaces, so they are cut into overlapping character
bigrams (as Lucene's CJK analyzer does): a question about 大公坊 then shares the
bigrams 大公 and 公坊 with the article, whatever the surrounding text.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import Stemmer

# Han ideographs (with extension A and compatibility forms) and Japanese kana.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff"
# Numbers keep their separators ("16,000", "3.5") so that they stay one term.
# Letters and digits are separate words, so "than16,000" still yields the number.
_WORD_RE = re.compile(rf"\d+(?:[.,]\d+)*|[{_CJK}]+|[^\W\d_{_CJK}]+", re.UNICODE)
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)+")
_CJK_RE = re.compile(rf"[{_CJK}]")
# `_WORD_RE` restricted to ASCII text, where it matches exactly the same runs (its
# letter class is then [A-Za-z], and \d is [0-9]); 2-3x faster, with letters tried first.
_ASCII_WORD_RE = re.compile(r"[A-Za-z]+|[0-9]+(?:[.,][0-9]+)*")
# ASCII characters that often sit at the edges of a whitespace-separated token and are
# never part of a run: "said," "(Reuters)" "park."
_EDGES = "\"'(),.:;?!-"

# A compact English stop list: function words plus the question words, which carry
# the question's type (handled elsewhere) but match almost any passage.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such
    than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom whose
    why will with would you your yours yourself yourselves s t d ll m re ve y us one
    ones may might must shall yet per via within without whether upon onto also
    """.split()
)

# No cache in front of the stemmer, PyStemmer's own off (size 0): the word runs' cache
# `_RUNS` already remembers every word, so the stemmer sees new words, and a cache's
# bookkeeping on a miss (~1.1 us for PyStemmer's, ~1.3 us for an lru_cache) costs more
# than the stemming itself. A run new to `_RUNS` that folds to an already stemmed word
# ("Shares" after "shares") was 1.5% of them over 100 cold questions. The stems are the same.
_stemmer = Stemmer.Stemmer("english", 0)


def stem(word: str) -> str:
    """Snowball stem of an already case-folded word."""
    return str(_stemmer.stemWord(word))


def fold(text: str) -> str:
    """NFKC-normalise and case-fold (the result may differ in length from `text`)."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(slots=True)
class Word:
    """A word of a text: its verbatim offsets, folded form and index term.

    Read-only by contract, not frozen: `words` makes one per word of every sentence it
    reads, setting the slots itself (a frozen dataclass's `__init__`, object.__setattr__
    per field, cost twice a plain one's, and a call of the class more than the five
    assignments). A named tuple is as cheap to make, but its fields are read at twice a
    slot's cost, and the reader reads them far more often than it makes them.
    """

    start: int
    end: int
    folded: str
    term: str
    is_stop: bool


# Kept by speed round 8 (issue 14; benchmarks/README.md): replacing this module's speed
# code (`_RUNS`, `_ascii_runs`, `object.__new__` Words, the run loop of `content_terms`)
# and the date scan's (its cache and cue tables) with plain versions cost +30 % of a
# cold question's instructions together (77.0M -> 104.0M with the rest of the round),
# though each alone cost 0.3-3.7 %; without the lru_caches too, +86 %.
@functools.lru_cache(maxsize=65_536)
def words(text: str) -> tuple[Word, ...]:
    """Every word of `text` with offsets into `text` itself (CJK runs as bigrams).

    Cached: the reader looks at the same retrieved sentences for many questions.
    """
    out: list[Word] = []
    find, end, new = text.find, 0, object.__new__
    for run in _ascii_runs(text) if text.isascii() else _WORD_RE.findall(text):
        # Between two runs lies nothing a run can start with, so the next occurrence of
        # a run's text after the previous run is where the pattern found it.
        start = find(run, end)
        end = start + len(run)
        # A run's folded form, term and stop flag do not depend on where it is.
        known = _RUNS.get(run)
        if known is None:
            if _CJK_RE.match(run):
                out.extend(_cjk_words(run, start))
                continue
            known = _run(run)
        # `Word(start, end, *known)` with the fields set here: calling the class runs its
        # `__init__` in a frame of its own, which costs more than the five assignments.
        w = new(Word)
        w.start, w.end = start, end
        w.folded, w.term, w.is_stop = known
        out.append(w)
    return tuple(out)


def _ascii_runs(text: str) -> list[str]:
    """`_ASCII_WORD_RE.findall(text)` for ASCII text, the cheap way: most whitespace-separated
    tokens are one word, maybe with punctuation at its edges, and are taken whole.

    A run never holds whitespace, so the runs of a text are those of its tokens in turn;
    edge characters are never part of a run, so stripping them leaves a token's runs as
    they were, and a token of letters only is one run. On news sentences the pattern
    costs ~2k instructions per run (a search per match), this loop ~1.2k.
    """
    runs: list[str] = []
    for token in text.split():
        if not token.isalpha():
            token = token.strip(_EDGES)
            if not token.isalpha():  # digits, inner punctuation, or nothing left
                runs += _ASCII_WORD_RE.findall(token)
                continue
        runs.append(token)
    return runs


_RUNS: dict[str, tuple[str, str, bool]] = {}


def _run(run: str) -> tuple[str, str, bool]:
    """(folded, term, is_stop) of a non-CJK word run, remembered for the next time."""
    # NFKC leaves ASCII as it is, and an ASCII casefold is `lower`. Only a number's run
    # holds a separator.
    folded = run.lower() if run.isascii() else fold(run)
    if ("," in run or "." in run) and _NUMBER_RE.fullmatch(run):
        folded = folded.replace(",", "")  # 16,000 and 16000 are one number
        known = (folded, folded, False)
    else:
        known = (folded, _stemmer.stemWord(folded), folded in STOP_WORDS)  # `stem`, inlined
    if len(_RUNS) >= 65_536:
        _RUNS.clear()
    _RUNS[run] = known
    return known


def _cjk_words(run: str, start: int) -> list[Word]:
    """Overlapping bigrams of a Han/kana run; a single character stands alone."""
    folded = unicodedata.normalize("NFKC", run)
    if len(folded) != len(run):  # compatibility forms changed length: keep offsets honest
        folded = run
    if len(run) == 1:
        return [Word(start, start + 1, folded, folded, False)]
    return [
        Word(start + i, start + i + 2, folded[i : i + 2], folded[i : i + 2], False)
        for i in range(len(run) - 1)
    ]


def contains_any(text: str, parts: Sequence[str]) -> bool:
    """Whether any of `parts` occurs in `text`: `any(part in text for part in parts)`, as a
    loop, which costs less than a generator's resumption per part."""
    for part in parts:  # noqa: SIM110 (see above)
        if part in text:
            return True
    return False


def tokenize(text: str) -> list[str]:
    """Index terms of `text`: stemmed, stop words dropped. The same for documents and queries."""
    return [w.term for w in words(text) if not w.is_stop]


def bag_f1(a: Sequence[str], b: Sequence[str]) -> float:
    """Harmonic mean of precision and recall of two bags of tokens (1.0 when both are empty)."""
    if not a or not b:
        return float(len(a) == len(b))
    shared = sum((Counter(a) & Counter(b)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(a), shared / len(b)
    return 2 * precision * recall / (precision + recall)


@functools.lru_cache(maxsize=65_536)
def content_terms(text: str) -> tuple[str, ...]:
    """`tokenize(text)` as a tuple, cached: the re-ranker, the sentence ranker and the
    reader's features read the terms of the same retrieved sentences, most of which the
    reader never reads word by word, so no `Word` is made (the word runs' cache `words`
    uses is shared)."""
    if text.isascii():
        # `_ascii_runs`, each run's term looked up as it comes (no list of runs).
        out: list[str] = []
        for token in text.split():
            if not token.isalpha():
                token = token.strip(_EDGES)
                if not token.isalpha():
                    out += _terms_of(_ASCII_WORD_RE.findall(token))
                    continue
            known = _RUNS.get(token) or _run(token)
            if not known[2]:
                out.append(known[1])
        return tuple(out)
    if _CJK_RE.search(text):  # bigrams: `words` knows how
        return tuple(w.term for w in words(text) if not w.is_stop)
    return tuple(_terms_of(_WORD_RE.findall(text)))


def _terms_of(runs: list[str]) -> list[str]:
    """The index terms of non-CJK word runs, stop words left out."""
    out = []
    for run in runs:
        known = _RUNS.get(run) or _run(run)
        if not known[2]:
            out.append(known[1])
    return out


@functools.lru_cache(maxsize=65_536)
def term_set(text: str) -> frozenset[str]:
    """The distinct index terms of a text (cached)."""
    return frozenset(content_terms(text))


@functools.lru_cache(maxsize=65_536)
def term_pairs(text: str) -> frozenset[tuple[str, str]]:
    """Neighbouring index terms of a text, stop words skipped: "the Norman conquest" -> 1 pair."""
    return frozenset(itertools.pairwise(content_terms(text)))


# Bulk tokenising for the index: `words` builds a `Word` per word (offsets, folded form,
# stem), which the reader needs but indexing does not; over 1M passages that is most of
# a build. `Runs` tokenises each distinct word run once, and every later occurrence is
# a dict lookup done in C, with the same terms as `tokenize` (tests compare them).

# Distinct word forms remembered while tokenising; bounds the build's extra memory.
_MAX_RUNS: Final = 1_000_000


class Runs(dict[str, tuple[str, ...]]):
    """`word run -> its index terms`: `tokenize` once per distinct word, not per occurrence.

    `tokenize(text)` is the terms of each `_WORD_RE` match in turn, and a match's terms
    do not depend on its neighbours, so mapping the matches of a text through this
    table gives `tokenize(text)` (a test checks it) at a fraction of the cost.
    """

    def __missing__(self, run: str) -> tuple[str, ...]:
        if len(self) >= _MAX_RUNS:
            self.clear()
        terms = run_terms(run)
        self[run] = terms
        return terms


def run_terms(run: str) -> tuple[str, ...]:
    """The index terms of one `_WORD_RE` match, as `tokenize` gives them."""
    # words.__wrapped__: the uncached function; single runs would only churn its cache.
    return tuple(w.term for w in words.__wrapped__(run) if not w.is_stop)


def tokenize_fast(text: str, runs: Runs) -> Iterator[str]:
    """`tokenize(text)`, through a table of already tokenised word runs."""
    return itertools.chain.from_iterable(map(runs.__getitem__, _WORD_RE.findall(text)))
