"""The neural reader's tokens and features: what a span may start and end at, what it sees."""

from __future__ import annotations

import numpy as np

from citebot.reader.neural.encode import (
    FEATURES,
    OOV_BUCKETS,
    Vocabulary,
    encode,
    features,
    shape,
    tokens,
)


def test_hyphenated_names_are_one_token_and_digits_leave_letters() -> None:
    """A span can neither cut "Yeuk-wah" nor keep "than" with "16,000"."""
    found = tokens("Cheng Yeuk-wah said more than16,000 (about 3.5 percent) joined.")
    assert found.text == [
        "Cheng",
        "Yeuk-wah",
        "said",
        "more",
        "than",
        "16,000",
        "(",
        "about",
        "3.5",
        "percent",
        ")",
        "joined",
        ".",
    ]


def test_token_offsets_slice_the_text() -> None:
    """Each token's offsets give back its text, so a span's offsets are verbatim."""
    text = "Hong Kong–Shenzhen: 大公坊 opened in 2019, it said."
    found = tokens(text)
    assert [text[s:e] for s, e in zip(found.starts, found.ends, strict=True)] == found.text


def test_unknown_words_hash_to_the_same_bucket_every_time() -> None:
    """Known words get their own row after the buckets; unknown ones a stable bucket."""
    vocab = Vocabulary(("park", "open"))
    ids = vocab.ids(["park", "zzyzx", "zzyzx", "open"])
    assert ids[0] == 1 + OOV_BUCKETS and ids[3] == 2 + OOV_BUCKETS
    assert ids[1] == ids[2] and 1 <= ids[1] <= OOV_BUCKETS
    assert vocab.size == 1 + OOV_BUCKETS + 2


def test_shape_collapses_runs() -> None:
    """Spelling patterns generalise over length: names, numbers, mixed case."""
    assert [shape(t) for t in ("Shenzhen", "16,000", "iPhone", "NASA")] == ["Xx", "d,d", "xXx", "X"]


def test_features_mark_question_words_and_their_neighbourhood() -> None:
    """Exact, folded and stemmed matches, and the share of question words nearby."""
    vocab = Vocabulary(())
    passage = encode("The park Opened on Thursday in Futian .", vocab)
    question = encode("When did the park open ?", vocab)
    x = features(passage, question)
    assert x.shape == (len(passage.tokens), len(FEATURES))
    col = {name: i for i, name in enumerate(FEATURES)}
    park, opened, thursday = 1, 2, 4
    assert x[park, col["exact"]] == 1 and x[opened, col["exact"]] == 0
    assert x[opened, col["stem"]] == 1
    # "park" and "open" are the question's content words; both lie within 5 of Thursday.
    assert x[thursday, col["near"]] == 1.0
    assert x[thursday, col["exact"]] == 0 and x[0, col["stop"]] == 1
    assert np.isfinite(x).all()


def test_a_passage_with_no_tokens_has_no_features() -> None:
    """Punctuation-free emptiness: zero rows, not an error."""
    vocab = Vocabulary(())
    assert features(encode("", vocab), encode("why?", vocab)).shape == (0, len(FEATURES))


def test_head_keeps_the_first_tokens_and_leaves_short_texts_alone() -> None:
    """The network reads a long question's first MAX_QUESTION tokens, in order."""
    from citebot.reader.neural.encode import MAX_QUESTION

    vocab = Vocabulary(())
    long = encode(" ".join(f"w{k}" for k in range(80)), vocab)
    head = long.head(MAX_QUESTION)
    assert len(head.tokens) == MAX_QUESTION == len(head.words) == len(head.spelling)
    assert head.tokens.text == long.tokens.text[:MAX_QUESTION]
    short = encode("when did it open?", vocab)
    assert short.head(MAX_QUESTION) is short
