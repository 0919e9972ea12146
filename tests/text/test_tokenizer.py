"""The one tokenizer for documents and questions."""

import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.text.tokenizer import (
    _ASCII_WORD_RE,
    _CJK_RE,
    _NUMBER_RE,
    _WORD_RE,
    STOP_WORDS,
    Runs,
    Word,
    _ascii_runs,
    _run,
    _stemmer,
    contains_any,
    content_terms,
    fold,
    stem,
    tokenize,
    tokenize_fast,
    words,
)

_ASCII = st.lists(
    st.sampled_from(
        [*"abcXYZ019 .,;-'\n\t_()\x1c", "3.5", "16,000", "1.2.3", "the", "The", "A1b", "park."]
    )
    | st.characters(max_codepoint=127),
    max_size=40,
).map("".join)


def test_stems_inflections_together() -> None:
    """ "open", "opens" and "opened" share one term, so a question meets its article."""
    assert tokenize("open") == tokenize("opens") == tokenize("opened")


def test_drops_stop_words_and_question_words() -> None:
    """Function words and question words are not index terms."""
    assert tokenize("When did the park open?") == ["park", "open"]


def test_case_and_width_folded() -> None:
    """Upper case and full-width letters fold to the same term."""
    assert tokenize("ＨＥＴＡＯ Hetao hetao") == ["hetao"] * 3


def test_numbers_stay_whole() -> None:
    """ "16,000" is one term equal to "16000", even glued to a word ("than16,000")."""
    assert tokenize("more than16,000 projects") == [*tokenize("16000 project")[:1], "project"]
    assert "3.5" in tokenize("a 3.5 percent rise")


def test_cjk_runs_become_bigrams() -> None:
    """A Han run is split into overlapping bigrams, so a sub-phrase still matches."""
    assert tokenize("深圳灣创业廣場") == ["深圳", "圳灣", "灣创", "创业", "业廣", "廣場"]
    assert set(tokenize("大公坊")) <= set(tokenize("visit iMakerBase (大公坊), Shenzhen’s"))


def test_word_offsets_are_verbatim() -> None:
    """Every word's offsets slice the original text, whatever its script."""
    text = "Mr. Wong Kam-sing visited 深圳灣 on 7 Sept."
    for w in words(text):
        assert text[w.start : w.end]
        assert len(text[w.start : w.end]) == w.end - w.start
    assert [text[w.start : w.end] for w in words(text)][:4] == ["Mr", "Wong", "Kam", "sing"]


@settings(max_examples=300, deadline=None)
@given(_ASCII)
def test_ascii_text_read_as_the_general_pattern_reads_it(text: str) -> None:
    """words() and content_terms() read ASCII text with a faster pattern: the same runs,
    offsets, folded forms and terms as the general word pattern gives."""
    runs = list(_WORD_RE.finditer(text))
    assert [(w.start, w.end) for w in words(text)] == [m.span() for m in runs]
    known = [_run(m.group()) for m in runs]
    assert [(w.folded, w.term, w.is_stop) for w in words(text)] == known
    assert content_terms(text) == tuple(term for _, term, stop in known if not stop)


@settings(max_examples=300, deadline=None)
@given(_ASCII | st.text(max_size=20))
def test_a_runs_folded_form_and_term_are_the_plain_ones(text: str) -> None:
    """`_run` folds ASCII with `lower` and looks for a number only where a separator is:
    the same folded form, term and stop flag as folding, matching and stemming every run."""
    for run in _WORD_RE.findall(text):
        folded = fold(run)
        if _NUMBER_RE.fullmatch(run):
            plain = (folded.replace(",", ""), folded.replace(",", ""), False)
        else:
            plain = (folded, _stemmer.stemWord(folded), folded in STOP_WORDS)
        assert _run(run) == plain


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20) | st.sampled_from(["running", "generously", "skies", "news"]))
def test_stems_without_the_stemmers_cache_are_its_stems(word: str) -> None:
    """The stemmer runs without PyStemmer's cache; a stem is what the cached one gives."""
    cached = Stemmer.Stemmer("english")
    assert _stemmer.stemWord(word) == cached.stemWord(word) == cached.stemWord(word)
    assert stem(word) == cached.stemWord(word)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["abc", "Ünï", "3.5", "16,000", " ", ".", "-", "_", "\u3000", "深圳灣"])
        | st.characters(),
        max_size=30,
    ).map("".join)
)
def test_word_offsets_are_where_the_pattern_found_each_run(text: str) -> None:
    """words() places each run at the next occurrence of its text: the offsets the word
    pattern reports (a CJK run's bigrams at theirs), in any script."""
    expected = []
    for m in _WORD_RE.finditer(text):
        if _CJK_RE.match(m.group()) and len(m.group()) > 1:
            expected += [(m.start() + i, m.start() + i + 2) for i in range(len(m.group()) - 1)]
        else:
            expected.append(m.span())
    assert [(w.start, w.end) for w in words(text)] == expected


@given(st.text(alphabet="abc ", max_size=12), st.lists(st.text(alphabet="abc", max_size=3)))
def test_contains_any_is_any_part_in_text(text: str, parts: list[str]) -> None:
    """The loop answers as the plain `any` over the parts does."""
    assert contains_any(text, parts) == any(part in text for part in parts)


@settings(max_examples=300, deadline=None)
@given(_ASCII | st.text(max_size=20))
def test_words_are_the_ones_the_class_makes(text: str) -> None:
    """words() sets each Word's fields itself: equal to a Word made by calling the class
    with the run's offsets and `_run` facts (every field set, nothing else differs)."""
    expected = [
        Word(m.start(), m.end(), *_run(m.group()))
        for m in _WORD_RE.finditer(text)
        if not _CJK_RE.match(m.group())
    ]
    made = [w for w in words(text) if not _CJK_RE.match(text[w.start : w.end])]
    assert made == expected
    assert all(type(w) is Word for w in made)


@settings(max_examples=300, deadline=None)
@given(_ASCII | st.text(max_size=20))
def test_content_terms_are_the_words_terms(text: str) -> None:
    """content_terms() reads the runs without making Words: the terms of the content words."""
    assert content_terms(text) == tuple(w.term for w in words(text) if not w.is_stop)


@settings(max_examples=500, deadline=None)
@given(_ASCII)
def test_ascii_runs_are_the_patterns_runs(text: str) -> None:
    """Runs read token by token (edges stripped, letter tokens taken whole) are the runs
    the ASCII word pattern finds in the whole text."""
    assert _ascii_runs(text) == _ASCII_WORD_RE.findall(text)


# The bulk path (`Runs`) the index builds with.
_ALPHABET = st.sampled_from(
    [*"abcXYZ019 .,;-'\n\t", "大公坊", "ﬁ", "Ⅻ", "3.5", "16,000", "the", "The", "é", "İ", "ß"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_fast_tokenize_equals_tokenize(text: str) -> None:
    """Mapping word runs through the run table gives tokenize(text), CJK and numbers included."""
    assert list(tokenize_fast(text, Runs())) == tokenize(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=127), max_size=60))
def test_ascii_word_pattern_equals_the_general_one(text: str) -> None:
    """On ASCII text the fast word pattern finds exactly text._WORD_RE's runs."""
    assert _ASCII_WORD_RE.findall(text) == _WORD_RE.findall(text)
