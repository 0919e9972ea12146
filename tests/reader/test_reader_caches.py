"""The reader's cached and vectorised paths give exactly what the plain code gives.

The shipped weights are fitted to the features' values, so a speed-up may not move any
of them: each fast path here is compared with the straightforward computation.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.reader import features
from citebot.reader.candidates import sentence_table, stable_hash, with_extra
from citebot.reader.features import SentenceEvidence, candidate_features
from citebot.reader.question import parse_question
from citebot.reader.spans import definition_candidates
from citebot.text.tokenizer import content_terms, term_pairs, term_set, tokenize, words

_ALPHABET = st.sampled_from(
    [*"abcXYZ019 .,;-'\n\t", "大公坊", "ﬁ", "Ⅻ", "3.5", "16,000", "the", "The", "é", "İ", "ß"]
)
SENTENCES = [
    "In 1066, the duke was charged with undermining the Norman church, said Odo.",
    "They include Carrie Lam, Matthew Cheung (張建宗) and Teresa Cheng, officials said.",
    "iMakerBase (大公坊), the government-approved startup incubator, has 16 companies.",
    "On Thursday 7 September 2023 the park opened: 4,120 visitors came, up 2.5 percent.",
    "",
    "Seoul.",
]
QUESTIONS = [
    "When was the duke charged?",
    "Which officials did Carrie Lam meet?",
    "How many companies does iMakerBase have?",
    "Who considers the most Norman church?",
    "What is iMakerBase?",
    "What does ozone absorb in Seoul?",
    "Who opened the park on Thursday?",
    "What is Mayor Park's full name?",
    "What is the name of the startup incubator?",
]
EVIDENCE = SentenceEvidence(
    coverage=0.8, context=0.9, density=0.2, passage_score=1.0, coverage_gap=0.1, rank=1
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_cached_terms_equal_tokenize(text: str) -> None:
    """content_terms, term_set and term_pairs are tokenize's terms, set and neighbours."""
    terms = tokenize(text)
    assert list(content_terms(text)) == terms
    assert term_set(text) == frozenset(terms)
    assert term_pairs(text) == frozenset(itertools.pairwise(terms))


def test_fast_features_equal_the_plain_computation() -> None:
    """Symbols from the sentence cache and the table facts' indexes change nothing."""
    from tests.reference import features_57cdc95 as reference

    for sentence, text in itertools.product(SENTENCES, QUESTIONS):
        question = parse_question(text)
        weights = {t: 1.0 + k for k, t in enumerate(question.terms)}
        table = sentence_table(sentence, None)
        if question.subject:
            table = with_extra(table, sentence, definition_candidates(sentence, question.subject))
        if not table.candidates:
            continue
        symbols = reference._symbols(question, weights, table, reference.sentence_shape(sentence))
        stack = features._stack(question, weights, [(table, EVIDENCE, sentence)])
        assert stack.symbol.tolist() == [stable_hash(s) for s in symbols]
        facts = features._table_facts(table, sentence)
        at = dict(zip(features._AT, facts.at, strict=True))
        flags = dict(zip(features._FLAGS, facts.flags, strict=True))
        matched = np.asarray([t in weights for t in table.terms], dtype=np.bool_)
        padded = np.concatenate([[False, False], matched, [False, False]])
        for edge, step, one, stop_one, two in (
            (table.first, -1, "left_one", "stop_before", "left_two"),
            (table.last, 1, "right_one", "stop_after", "right_two"),
        ):
            assert np.array_equal(
                padded[at[one]] | (flags[stop_one] & padded[at[two]]),
                reference._next_to(matched, table.stop, edge, step),
            )
        for carried in (0.0, 0.4):
            evidence = dataclasses.replace(EVIDENCE, carried=carried)
            dense, hashed = candidate_features(question, weights, table, evidence, sentence)
            again, hashed_again = candidate_features(question, weights, table, evidence, sentence)
            assert np.array_equal(dense, again) and np.array_equal(hashed, hashed_again)
            assert dense.dtype == np.float32 and hashed.dtype == np.int64


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"abc ()", "X (Y)", "(大公坊)", ") ("]), max_size=30).map("".join))
def test_sentence_shape_equals_the_frozen_reference(text: str) -> None:
    """Bracket ends and word places (with or without brackets) are the reference's."""
    from tests.reference import features_57cdc95 as reference

    for sentence in (text, *SENTENCES):
        shape, want = features.sentence_shape(sentence), reference.sentence_shape(sentence)
        assert shape.bracket_end.tolist() == want.bracket_end.tolist()
        assert shape.position.tolist() == want.position.tolist()


def test_sentence_words_are_the_tables_words() -> None:
    """The per-sentence positions index exactly the table's terms."""
    for sentence in SENTENCES:
        table = sentence_table(sentence, None)
        positions = features._sentence_words(sentence).positions
        rebuilt: list[str | None] = [None] * len(table.terms)
        for term, at in positions.items():
            for k in at:
                rebuilt[k] = term
        assert tuple(rebuilt) == table.terms == tuple(w.term for w in words(sentence))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_answer_keys_equal_the_candidates_own_words(text: str) -> None:
    """A candidate's answer key read off the sentence's words is its own text's folded words."""
    from citebot.reader.decoding import _answer_key

    # "xAcme Corp (iMakerBase)": the alias pattern starts inside the word "xAcme".
    for sentence in (text, *SENTENCES, "The xAcme Corp (iMakerBase) grew 大公坊A (iMakerBase)."):
        table = sentence_table(sentence, None)
        table = with_extra(table, sentence, definition_candidates(sentence, "iMakerBase"))
        for i, c in enumerate(table.candidates):
            expected = tuple(w.folded for w in words(c.text))
            assert _answer_key(sentence, table, i) == expected


def _corpus_sentences() -> list[str]:
    """Sentences of the shipped corpus and the mini SQuAD file, plus the hand-made ones."""
    import json
    from pathlib import Path

    from citebot.corpus.passages import sentence_spans

    root = Path(__file__).resolve().parents[2]
    texts = [p.read_text(encoding="utf-8") for p in sorted((root / "corpus").glob("*.md"))]
    squad = json.loads((root / "tests" / "data" / "squad-mini.json").read_text(encoding="utf-8"))
    texts += [p["context"] for a in squad["data"] for p in a["paragraphs"]]
    out = list(SENTENCES)
    for text in texts:
        out += [text[s:e] for s, e, _ in sentence_spans(text)]
    return out[:400]


def test_features_equal_the_frozen_reference() -> None:
    """Dense features and hash indexes, value for value, as the code the model was trained with.

    The reference writes out the answer-type conjunctions too (its DENSE_NAMES); the
    features now stop at the shared columns, which the model's file names first.
    """
    from tests.reference import features_57cdc95 as reference

    shared = len(features.SHARED_NAMES)
    assert reference.DENSE_NAMES == features.DENSE_NAMES
    assert reference.DENSE_NAMES[:shared] == features.SHARED_NAMES

    questions = [*QUESTIONS, "What is the Hetao zone?", "Which officials will the mayor meet?"]
    questions += ["How many companies are in the park?", "When did Mayor Park visit Shenzhen?"]
    questions += ["Who is the Chief Executive?", "What kind of site did he visit in Shenzhen?"]
    parsed = [parse_question(q) for q in questions]
    compared = 0
    sentences = _corpus_sentences()
    # The plain tables' facts made in one batch, as the reader makes them.
    features._FACTS.clear()
    features.prepare_tables([sentence_table(s, None) for s in sentences], sentences)
    for n, sentence in enumerate(sentences):
        for question in parsed[n % 3 :: 3]:
            weights = {t: 0.5 + 0.37 * k for k, t in enumerate(question.terms)}
            table = sentence_table(sentence, None)
            if question.subject:
                extra = definition_candidates(sentence, question.subject)
                table = with_extra(table, sentence, extra)
            if not table.candidates:
                continue
            carried = 0.3 if n % 5 == 0 else 0.0
            evidence = dataclasses.replace(EVIDENCE, carried=carried)
            dense, hashed = candidate_features(question, weights, table, evidence, sentence)
            want_dense, want_hashed = reference.candidate_features(
                question, weights, table, evidence, sentence
            )
            assert dense.dtype == want_dense.dtype and hashed.dtype == want_hashed.dtype
            assert dense.shape == (len(table.candidates), shared)
            assert dense.tobytes() == want_dense[:, :shared].tobytes(), (sentence, question.text)
            assert np.array_equal(hashed, want_hashed), (sentence, question.text)
            compared += 1
    assert compared > 300


def test_features_of_many_sentences_at_once_equal_the_frozen_reference() -> None:
    """`block_features` over a question's sentences gives each one's reference features."""
    from tests.reference import features_57cdc95 as reference

    sentences = _corpus_sentences()
    for k, text in enumerate([*QUESTIONS, "Which officials will the mayor meet?"]):
        question = parse_question(text)
        weights = {t: 0.5 + 0.37 * j for j, t in enumerate(question.terms)}
        chosen = [sentences[(k * 9 + j) % len(sentences)] for j in range(30)]
        blocks = []
        for n, sentence in enumerate(chosen):
            table = sentence_table(sentence, None)
            if question.subject:
                extra = definition_candidates(sentence, question.subject)
                table = with_extra(table, sentence, extra)
            if table.candidates:
                carried = 0.3 if n % 4 == 0 else 0.0
                evidence = dataclasses.replace(EVIDENCE, carried=carried, rank=n)
                blocks.append((table, evidence, sentence))
        made = features.block_features(question, weights, blocks)
        assert len(made.starts) - 1 == len(blocks) > 10
        for j, (table, evidence, sentence) in enumerate(blocks):
            dense, hashed = made.sentence(j)
            want_dense, want_hashed = reference.candidate_features(
                question, weights, table, evidence, sentence
            )
            want = want_dense[:, : len(features.SHARED_NAMES)]
            assert dense.tobytes() == want.tobytes(), (sentence, question.text)
            assert hashed.flags.c_contiguous and np.array_equal(hashed, want_hashed)


def _plain_phrase_spans(sentence: str, max_words: int) -> list[tuple[int, int]]:
    """Every phrase: from each content word to each content word after it, within a
    clause and `max_words` words (the straightforward double loop)."""
    from citebot.reader.spans import _breaks

    ws = words(sentence)
    breaks = _breaks(sentence, ws)
    out = []
    for i in range(len(ws)):
        if ws[i].is_stop:
            continue
        out.append((ws[i].start, ws[i].end))
        for j in range(i + 1, min(len(ws), i + max_words)):
            if breaks[j - 1]:
                break
            if not ws[j].is_stop:
                out.append((ws[i].start, ws[j].end))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join), st.sampled_from([1, 2, 3, 10]))
def test_phrase_spans_equal_the_double_loop(text: str, max_words: int) -> None:
    """Phrase spans found by bisecting the content words are the double loop's."""
    from citebot.reader.spans import _phrase_spans

    for sentence in (text, *SENTENCES):
        assert _phrase_spans(sentence, max_words) == _plain_phrase_spans(sentence, max_words)
