"""Shortcuts of the reader's cold path give what the plain computation gives.

The sentence table computed in bulk equals its per-candidate definition; the
unit words after a number come from the sentence's words only when the window
would give the same; date patterns skipped for lack of a cue would find nothing.

`spantable` computes every candidate's static features and lexical hashes with a
few numpy operations over per-word facts. Here each feature is written out the
plain way, one candidate at a time (as the table was first computed), and the two
are compared on the shipped corpus, SQuAD sentences and hand-made edge cases:
spans that do not start or end on a word, parentheses and quotes, colons,
non-ASCII digits, candidates with no word. Columns are compared by name, so a new
feature does not break this test; changing what an existing one means does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.corpus.articles import load_corpus
from citebot.reader import candidates as spantable
from citebot.reader.candidates import (
    STATIC_NAMES,
    SentenceTable,
    sentence_table,
    sentence_tables,
    stable_hash,
    with_extra,
)
from citebot.reader.spans import (
    _CLAUSE_BREAK,
    KIND_BIT,
    KINDS,
    Candidate,
    _capitalised,
    _capitals,
    _words_after,
    candidate_list,
    definition_candidates,
    name_candidates,
    number_candidates,
    phrase_candidates,
    sentence_candidates,
    time_candidates,
)
from citebot.text import date_grammar, dates
from citebot.text.dates import find_time_expressions
from citebot.text.tokenizer import Word, words

ROOT = Path(__file__).resolve().parents[2]
_DETERMINERS = set("the a an this that these those his her its their our".split())
_PREPOSITIONS = set(
    """
    in on at by for from to with into onto of as during since until after before between
    through under over about against among around near via within without upon
    """.split()
)
_BE = set("is are was were be been being has have had".split())
_CONJUNCTIONS = {"and", "or", "but", "nor"}
_QUOTES = "“”\"'‘’"
_TEMPORAL = KIND_BIT["date"] | KIND_BIT["time"]

EDGE_CASES = [
    "The park, covering 31,000 square meters, opened on Thursday with 16 companies.",
    "It cost US$ 5 million (about HK$39 million) in 2019: a record.",
    "He called it “Project Blue” and 'Red Line' at the time.",
    "The zone (Hetao) opened; members: Alice Lee, Bob Chan and Carrie Lam.",
    "Prices rose 2.5 percent, then 3² and ٣ more.",
    "iMakerBase (大公坊), Shenzhen's first incubator, is government-approved.",
    "From January 29 through February 2, the mayor visited Seoul.",
    "A.",
    "“Quoted start” ends here:",
    "Growth between 1980 and 2016 was 50–140 cm, said Dr. Park Won-soon.",
]


def _sentences() -> list[str]:
    out = list(EDGE_CASES)
    for article in load_corpus(ROOT / "corpus").articles:
        out += [s for s in re.split(r"(?<=[.!?])\s+|\n+", article.body) if s.strip()]
    squad = json.loads((ROOT / "tests" / "data" / "squad-mini.json").read_text(encoding="utf-8"))
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            out += [s for s in re.split(r"(?<=[.!?])\s+", paragraph["context"]) if s]
    return out


def _capital(surface: str) -> bool:
    return surface[:1].isupper() or any(ch.isupper() for ch in surface[1:])


def _left(sentence: str, ws: Sequence[Word], i: int) -> str:
    if i == 0:
        return "start"
    if sentence[ws[i - 1].end : ws[i].start].strip():
        return "punct"
    prev = ws[i - 1].folded
    for name, group in (("det", _DETERMINERS), ("prep", _PREPOSITIONS), ("be", _BE)):
        if prev in group:
            return name
    if prev in _CONJUNCTIONS:
        return "conj"
    return "stop" if ws[i - 1].is_stop else "content"


def _right(sentence: str, ws: Sequence[Word], j: int) -> str:
    if j + 1 >= len(ws):
        return "end"
    if sentence[ws[j].end : ws[j + 1].start].strip():
        return "punct"
    nxt = ws[j + 1].folded
    if nxt == "of":
        return "of"
    if nxt in _PREPOSITIONS:
        return "prep"
    if nxt in _CONJUNCTIONS:
        return "conj"
    return "stop" if ws[j + 1].is_stop else "content"


def _token(w: Word | None, edge: str) -> int:
    if w is None:
        return stable_hash(edge)
    return stable_hash("#" if any(ch.isdigit() for ch in w.folded) else w.folded)


def _reference(
    sentence: str, candidates: Sequence[Candidate]
) -> list[tuple[Candidate, int, int, dict[str, float], tuple[int, int, int, int]]]:
    """(candidate, first word, last word, static features by name, lexical hashes)."""
    ws = words(sentence)
    starts, ends = [w.start for w in ws], [w.end for w in ws]
    out = []
    for c in candidates:
        i = next((k for k, s in enumerate(starts) if s >= c.start), len(ws))
        j = max((k for k, e in enumerate(ends) if e <= c.end), default=-1)
        if i >= len(ws) or j < i:
            continue
        length = j - i + 1
        bucket = "7+" if length >= 7 else "5-6" if length >= 5 else str(length)
        temporal = bool(c.flags & _TEMPORAL)
        surface = sentence[c.start : c.end]
        content = [w for w in ws[i : j + 1] if not w.is_stop]
        opener = sentence[: ws[i].start].rstrip()[-1:]
        closer = sentence[ws[j].end :].lstrip()[:1]
        after = sentence[ws[j].end : ws[j + 1].start if j + 1 < len(ws) else None]
        f = {
            f"len={bucket}": 1.0,
            f"left={_left(sentence, ws, i)}": 1.0,
            f"right={_right(sentence, ws, j)}": 1.0,
            "prior": c.prior,
            "rel_pos": i / max(len(ws), 1),
            "cap_first": float(_capital(sentence[ws[i].start : ws[i].end]) and not temporal),
            "cap_all": float(
                bool(content)
                and not temporal
                and all(_capital(sentence[w.start : w.end]) for w in content)
            ),
            "digit": float(any(ch.isdigit() for ch in surface) and not temporal),
            "comma": float(", " in surface),
            "paren": float(opener == "(" and closer == ")"),
            "quoted": float(
                opener != "("
                and bool(opener)
                and opener in _QUOTES
                and bool(closer)
                and closer in _QUOTES
            ),
            "at_start": float(i == 0),
            "before_colon": float(":" in after),
        }
        f.update({f"kind={k}": float(bool(c.flags & KIND_BIT[k])) for k in KINDS})
        lex = (
            _token(ws[i - 1] if i > 0 else None, "<s>"),
            _token(ws[j + 1] if j + 1 < len(ws) else None, "</s>"),
            stable_hash("<time>") if temporal else _token(ws[i], ""),
            stable_hash("<time>") if temporal else _token(ws[j], ""),
        )
        out.append((c, i, j, f, lex))
    return out


_DESCRIPTION_END = re.compile(r"[,;:()]|\.\s|\s[-–—]\s")
_COPULAS = {"is", "are", "was", "were"}


def _descriptions(sentence: str, ws: Sequence[Word]) -> tuple[list[int], list[int]]:
    """For each word, the first and last word of the words describing it (-1 when none):
    "X: D", "X, D,", "X (Y), D", "X is D", one word at a time."""
    n = len(ws)
    first, last = [-1] * n, [-1] * n
    gaps = [sentence[a.end : b.start] for a, b in itertools.pairwise(ws)]
    ends = [gap != " " and _DESCRIPTION_END.search(gap) is not None for gap in gaps]
    for p, gap in enumerate(gaps):
        q = p + 1
        if gap == " ":  # only "X is D"
            if ws[q].folded not in _COPULAS:
                continue
            q += 1
        elif "(" in gap:  # "iMakerBase (大公坊), Shenzhen's ...": skip the parenthesis
            close = sentence.find(")", ws[p].end)
            while close >= 0 and q < n and ws[q].start < close:
                q += 1
            if close < 0 or q >= n or not re.search("[,:]", sentence[close + 1 : ws[q].start]):
                continue
        elif not re.search("[,:]", gap):
            if gap.strip() or ws[q].folded not in _COPULAS:
                continue
            q += 1
        r = q
        while r + 1 < n and r - q < 12 and not ends[r]:
            r += 1
        if q < n:
            first[p], last[p] = q, r
    return first, last


def _check_words(sentence: str, table: SentenceTable) -> None:
    """The table's per-word facts are their definitions, word by word."""
    ws = words(sentence)
    gaps = [sentence[a.end : b.start] for a, b in itertools.pairwise(ws)]
    clause = [0]
    for gap in gaps:
        clause.append(clause[-1] + bool(re.search(r"[,;:()–—\"“”]", gap)))
    assert table.terms == tuple(w.term for w in ws)
    assert table.stop.dtype == table.pause.dtype == np.bool_
    assert table.clause.dtype == np.int64
    assert table.stop.tolist() == [w.is_stop for w in ws]
    assert table.pause.tolist() == [bool(re.search(r"[,:(–—]", g)) for g in gaps] + [False] * (
        len(ws) > 0
    )
    assert table.clause.tolist() == clause[: len(ws)]
    assert table.described_from.dtype == table.described_to.dtype == np.int64
    described = _descriptions(sentence, ws)
    assert (table.described_from.tolist(), table.described_to.tolist()) == described


def _check(
    sentence: str, table: SentenceTable, candidates: Sequence[Candidate], rows: slice = slice(None)
) -> None:
    """Rows `rows` of the table are the reference features of `candidates`, and its
    per-word facts are right.

    "persons" counts the people among the candidates the rows were made from.
    """
    _check_words(sentence, table)
    expected = _reference(sentence, candidates)
    assert list(table.candidates[rows]) == [e[0] for e in expected]
    assert table.first.dtype == table.last.dtype == table.lex.dtype == np.int64
    assert table.static.dtype == np.float32
    assert table.static[rows].shape == (len(expected), len(STATIC_NAMES))
    persons = sum(1 for e in expected if e[0].flags & KIND_BIT["person"])
    first, last, lexes, static = (
        a[rows] for a in (table.first, table.last, table.lex, table.static)
    )
    for r, (_, i, j, feats, lex) in enumerate(expected):
        assert (int(first[r]), int(last[r])) == (i, j)
        assert tuple(int(h) for h in lexes[r]) == lex
        row = dict(zip(STATIC_NAMES, static[r].tolist(), strict=True))
        want = dict.fromkeys(row, 0.0) | {"persons": min(persons, 4) / 4}
        want |= {k: v for k, v in feats.items() if v}
        for name, value in want.items():
            assert row[name] == np.float32(value), (sentence, table.candidates[r], name)


@pytest.mark.parametrize("anchor", [None, dt.date(2023, 9, 7)])
def test_table_equals_the_per_candidate_definition(anchor: dt.date | None) -> None:
    for sentence in _sentences():
        _check(sentence, sentence_table(sentence, anchor), sentence_candidates(sentence, anchor))


def test_extra_candidates_get_the_same_features() -> None:
    """Definitions (question-specific, some not on word edges or wordless) are appended.

    The appended rows are computed alone: their "persons" counts only them.
    """
    for sentence in _sentences():
        subject = re.search(r"[A-Z]\w+(?: [A-Z]\w+)?", sentence)
        if subject is None:
            continue
        base = sentence_table(sentence, None)
        extra = definition_candidates(sentence, subject.group())
        extra += [Candidate(0, 0, "", "definition"), Candidate(0, 1, sentence[:1], "definition")]
        table = with_extra(base, sentence, extra)
        marked = [
            Candidate(c.start, c.end, c.text, c.kind, c.value, c.prior, c.flags | KIND_BIT[c.kind])
            for c in extra
        ]
        n = len(base.candidates)
        _check(sentence, table, base.candidates, slice(0, n))
        _check(sentence, table, marked, slice(n, None))


def test_candidates_merge_kinds_in_order() -> None:
    """The first kind to propose a span names it; flags collect all; prior is the highest."""
    for sentence in _sentences():
        merged = sentence_candidates(sentence, None)
        spans = [(c.start, c.end) for c in merged]
        assert spans == sorted(set(spans))
        for c in merged:
            assert sentence[c.start : c.end] == c.text
            assert c.flags & KIND_BIT[c.kind]


def _plain_phrases(sentence: str, max_words: int) -> list[tuple[int, int]]:
    """Spans from each content word to each content word after it, in `max_words` words
    and no clause break (`_CLAUSE_BREAK` in the text between two words) inside."""
    ws = words(sentence)
    gaps = [sentence[a.end : b.start] for a, b in itertools.pairwise(ws)]
    out = []
    for i, first in enumerate(ws):
        for j in range(i, min(len(ws), i + max_words)):
            if j > i and _CLAUSE_BREAK.search(gaps[j - 1]):
                break
            if not first.is_stop and not ws[j].is_stop:
                out.append((first.start, ws[j].end))
    return out


def _merged(sentence: str, anchor: dt.date | None) -> list[Candidate]:
    """The candidates merged the plain way: one per span, in span order, named by the
    first kind (dates, numbers, names, phrases) and flagged by all, the highest prior."""
    by_span: dict[tuple[int, int], tuple[Candidate, int, float]] = {}
    for c in (
        *time_candidates(sentence, anchor),
        *number_candidates(sentence, None),
        *name_candidates(sentence),
        *phrase_candidates(sentence),
    ):
        first, flags, prior = by_span.get((c.start, c.end), (c, 0, c.prior))
        by_span[(c.start, c.end)] = (first, flags | KIND_BIT[c.kind], max(prior, c.prior))
    return [
        Candidate(s, e, c.text, c.kind, c.value, prior, flags)
        for (s, e), (c, flags, prior) in sorted(by_span.items())
    ]


@pytest.mark.parametrize("anchor", [None, dt.date(2023, 9, 7)])
def test_candidate_columns_equal_the_plain_merge(anchor: dt.date | None) -> None:
    """Typed spans that are phrases too are found in the phrase columns; the others are
    put in span order among them."""
    for sentence in _sentences():
        merged = candidate_list(sentence, anchor)
        assert list(merged) == _merged(sentence, anchor)
        assert merged.priors == [c.prior for c in merged]
        assert merged.flags == [c.flags for c in merged]


def test_time_values_follow_the_anchor_whatever_was_asked_before() -> None:
    """Expressions are found once per text; their values still depend on each anchor."""
    text = "From January 29 through February 2 and next year, it will open on Monday."
    for anchor in (None, dt.date(2023, 9, 7), None, dt.date(2019, 1, 1)):
        values = [e.value for e in find_time_expressions(text, anchor)]
        if anchor is None:
            assert values == [None, None, None]
        elif anchor.year == 2023:
            assert values == ["2023-01-29/2023-02-02", "2024", "2023-09-11"]
        else:
            assert values == ["2019-01-29/2019-02-02", "2020", "2019-01-07"]


def test_unit_words_after_a_number_are_the_window_words() -> None:
    """`_words_after` reuses the sentence's words exactly when the 60-character window
    would tokenise the same, including words cut by either end of the window."""
    texts = [
        *EDGE_CASES[:5],
        "Rates fell 5 percentage points and 7 per cent to 31,000 square meters of land.",
        "It had 12 " + "x" * 55 + "longword tail and 9" + "y" * 70 + " more.",
        "约 3 公里 and 16 companies 大公坊 in 2019.",
    ]
    for text in texts:
        ws = words(text)
        starts = [w.start for w in ws]
        for at in range(len(text) + 1):
            expected = [
                (at + w.start, at + w.end, w.folded, w.term, w.is_stop)
                for w in words(text[at : at + 60])[:3]
            ]
            found = [
                (s, e, w.folded, w.term, w.is_stop)
                for s, e, w in _words_after(text, ws, starts, at)
            ]
            assert found == expected, (text, at)


def test_patterns_skipped_by_their_cues_would_have_found_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Skipping the patterns a text has no cue for finds the same expressions."""
    texts = [
        *_sentences(),
        "THREE DAYS AGO and NEXT WEEK, at NOON on MONDAY; the 1990S and the '80s.",
        "two weeKs later (Kelvin sign), Sept. 4, 2001 and 4th century BC, 10:30 p.m.",
        "between 1980 and 2016; from May to June; mid-July; Tuesday, 5 March.",
    ]
    anchor = dt.date(2023, 9, 7)
    found = [find_time_expressions(t, anchor) for t in texts]
    plan = date_grammar.plan({}, date_grammar.ALSO_NEEDS, date_grammar.FIRST_START)
    monkeypatch.setattr(dates, "PLAN", plan)  # the plan `dates._scan` reads
    dates._scan.cache_clear()
    try:
        assert [find_time_expressions(t, anchor) for t in texts] == found
    finally:
        dates._scan.cache_clear()


@pytest.mark.parametrize("anchor", [None, dt.date(2023, 9, 7)])
def test_tables_made_in_one_batch_equal_the_definition(anchor: dt.date | None) -> None:
    """Sentences whose tables are made together (one numpy pass) get the same rows."""
    spantable._TABLES.clear()
    sentences = [*_sentences(), "", "Seoul.", *_sentences()[:3]]  # repeats and wordless ones
    tables = sentence_tables([(s, anchor) for s in sentences])
    for sentence, table in zip(sentences, tables, strict=True):
        _check(sentence, table, sentence_candidates(sentence, anchor))
        assert sentence_table(sentence, anchor) is table


_PIECES = st.sampled_from(
    [
        *"aZ09 ,.:;()[]'\"\u201c\u201d\u2018\u2019-\t—–",
        " (",
        " – ",
        ". ",
        ") ",
        "大公坊",
        "Park",
        "the",
        "in",
        "16,000",
        "May",
        " is ",
        "were",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_tables_of_random_text_equal_the_definition(text: str) -> None:
    """Brackets, quote marks, CJK runs and words glued to punctuation, made in one batch."""
    spantable._TABLES.clear()
    spaced = "It is ( Park ) and “ Big Park ” , ‘ x ’ ( 大公坊 ) here."  # marks apart from words
    sentences = [text, spaced, "Seoul (首尔) is “big”.", f"{text} {spaced}"]
    tables = sentence_tables([(s, None) for s in sentences])
    for sentence, table in zip(sentences, tables, strict=True):
        _check(sentence, table, sentence_candidates(sentence, None))
        assert list(candidate_list(sentence, None)) == _merged(sentence, None)
        for max_words in (1, 3, 10):
            phrases = [(c.start, c.end) for c in phrase_candidates(sentence, max_words)]
            assert phrases == _plain_phrases(sentence, max_words)


def _same_columns(batch: Sequence[str], anchor: dt.date | None) -> None:
    """The candidates made for a batch at once are `candidate_list`'s, column by column,
    typed objects where it has them and phrase objects not made yet."""
    parts = spantable._batch(batch)
    made, cols = spantable._candidates(parts, spantable._word_facts(parts), [anchor] * len(batch))
    assert cols.counts == [len(c) for c in made]
    for sentence, part, found in zip(batch, parts, made, strict=True):
        expected = candidate_list.__wrapped__(sentence, anchor)  # no object made yet
        assert found.sentence == sentence
        assert (found.starts, found.ends) == (expected.starts, expected.ends)
        assert (found.flags, found.priors) == (expected.flags, expected.priors)
        assert [type(x) for x in found.priors] == [type(x) for x in expected.priors]
        assert [c is None for c in found._made] == [c is None for c in expected._made]
        assert list(found) == list(expected)
        rows = slice(part.base, part.base + len(sentence) + 1)
        inside = (cols.starts >= rows.start) & (cols.starts < rows.stop)
        assert (cols.starts[inside] - part.base).tolist() == expected.starts
        assert (cols.ends[inside] - part.base).tolist() == expected.ends
        assert cols.flags[inside].tolist() == expected.flags
        assert cols.priors[inside].tolist() == expected.priors


@pytest.mark.parametrize("anchor", [None, dt.date(2023, 9, 7)])
def test_candidates_made_in_one_batch_equal_candidate_list(anchor: dt.date | None) -> None:
    """Phrase spans from the batch's per-word facts, typed spans merged in by numpy."""
    sentences = _sentences()
    for k in range(0, len(sentences), 9):
        _same_columns([*sentences[k : k + 9], ""], anchor)
    breaks = [  # a break only where the whole pattern lies between two words
        "Big Park- Small Park -Big Park - Small Park – Big Park -- Small Park -\tBig.",
        'Big Park .Small Park. Big Park.Small Park ..Small Park ." Big Park 5.x Small.',
        "Big Park; Small Park (Big Park) [Small Park] “Big” Park—Small Park:Big Park",
        "大公坊 Park 大公坊. Park",
    ]
    _same_columns(breaks, anchor)
    for text in breaks:
        _same_columns([text], anchor)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=40).map("".join), min_size=1, max_size=4))
def test_candidates_of_random_text_made_in_one_batch(texts: list[str]) -> None:
    """Clause breaks (". ", " – ", marks) and overlapping CJK words, sentence after sentence."""
    _same_columns([*texts, "It has 16,000 staff since May 2019 in Park – the . Seoul"], None)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES | st.sampled_from(["iMakerBase", "eBay", "ABC", "x"]), max_size=30))
def test_capitals_found_from_the_upper_case_letters(pieces: list[str]) -> None:
    """Which words are capitalised, from the A-Z of ASCII text: each word's definition."""
    for text in ("".join(pieces), " ".join(pieces), *_sentences()[:50]):
        ws = words(text)
        assert _capitals(text, ws) == [_capitalised(text, w) for w in ws]


def test_the_table_cache_stays_whole_under_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Questions read in threads (the bot's executor) share the cache: tables stay right
    while others are added and the least recently used evicted."""
    from concurrent.futures import ThreadPoolExecutor

    sentences = _sentences()[:40]
    want = {s: tuple(sentence_table(s, None).candidates) for s in sentences}
    monkeypatch.setattr(spantable, "_TABLES_MAX", 5)
    monkeypatch.setattr(spantable, "_TABLES", {})

    def read(k: int) -> None:
        chosen = [sentences[(k + j) % len(sentences)] for j in range(0, 24, 3)]
        tables = sentence_tables([(s, None) for s in chosen])
        for sentence, table in zip(chosen, tables, strict=True):
            assert tuple(table.candidates) == want[sentence]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(read, range(60)))
    assert len(spantable._TABLES) <= 5


def test_character_bits_hold_for_every_character() -> None:
    """The per-word facts read characters through a table: every space character lies
    below its limit (all beyond share one entry, not a space), and no character is both
    a letter and a digit (the lexical hash stops at `str.isalpha`)."""
    limit = spantable._CHAR_LIMIT
    not_space = spantable._BIT["not_space"]
    for code in range(0x110000):
        ch = chr(code)
        if code < limit:
            assert bool(spantable._CHAR_BITS[code] & not_space) == (not ch.isspace()), hex(code)
        else:
            assert not ch.isspace(), hex(code)
        assert not (ch.isalpha() and ch.isdigit()), hex(code)
    assert spantable._CHAR_BITS[limit] == not_space


@pytest.mark.parametrize(
    "text",
    [
        "Ⅻ Park ＡＢＣ ½ ² ٣ x²",  # letters and digits outside ASCII, and numbers in letters
        "\u3000Big\u00a0Park\u2003(Ⅳ)\u2029“Q”",  # spaces outside ASCII, beside marks
        "É ÉCOLE école ǅ ß",  # capitals by `str.isupper`, a title-case letter
        "",
    ],
)
def test_tables_of_non_ascii_text_equal_the_definition(text: str) -> None:
    """Characters beyond ASCII: their case, digits and spaces decide as `str` says."""
    spantable._TABLES.clear()
    sentences = [text, "Seoul (首尔) is “big”: 3 km.", text[::-1]]
    tables = sentence_tables([(s, None) for s in sentences])
    for sentence, table in zip(sentences, tables, strict=True):
        _check(sentence, table, sentence_candidates(sentence, None))
