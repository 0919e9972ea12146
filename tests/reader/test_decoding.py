"""Decoding: evidence aggregation and the answer with the highest expected EM + F1."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from citebot.reader.candidates import sentence_table
from citebot.reader.decoding import most_supported, pairwise_f1
from citebot.text.tokenizer import bag_f1


def _block(sentence: str, probabilities: dict[str, float]) -> tuple[Any, npt.NDArray[np.float32]]:
    """A stand-in for a reader block of `sentence`, and log-probabilities for its candidates
    (those named in `probabilities`; the others get none)."""
    table = sentence_table(sentence, None)
    texts = [table.candidates[i].text for i in range(len(table.candidates))]
    p = np.zeros(len(texts))
    for text, value in probabilities.items():
        p[texts.index(text)] = value
    with np.errstate(divide="ignore"):
        scores = np.log(p).astype(np.float32)
    block = SimpleNamespace(scored=SimpleNamespace(text=sentence))
    block.table = table
    return block, scores


def test_the_answer_expected_to_overlap_most_wins_over_the_single_most_probable() -> None:
    """Probability split between a phrase and its parts: the whole phrase scores best on average."""
    sentence = "A quarter of the city is filled with luxurious parks and royal gardens."
    whole = "luxurious parks and royal gardens"
    block, scores = _block(sentence, {"luxurious parks": 0.4, "royal gardens": 0.3, whole: 0.3})
    k, i = most_supported([block], scores, (0, len(scores)))
    assert (k, block.table.candidates[i].text) == (0, whole)
    # Without the overlap (answers that name one thing), the most probable one.
    k, i = most_supported([block], scores, (0, len(scores)), overlap=False)
    assert block.table.candidates[i].text == "luxurious parks"


def test_an_answer_proposed_twice_sums_its_probability_and_is_quoted_where_most_is() -> None:
    """The same answer in two sentences outweighs a slightly more probable one said once, and
    is quoted from the sentence holding the most probability (here the second)."""
    first, s1 = _block("Cyberport and iMakerBase opened.", {"Cyberport": 0.4, "iMakerBase": 0.1})
    second, s2 = _block("They visited iMakerBase on Monday.", {"iMakerBase": 0.35, "Monday": 0.2})
    starts = (0, len(s1), len(s1) + len(s2))
    k, i = most_supported([first, second], np.concatenate([s1, s2]), starts, overlap=False)
    assert k == 1 and second.table.candidates[i].text == "iMakerBase"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["park", "royal", "gardens", "a", "parks"]), max_size=5)))
def test_pairwise_f1_is_bag_f1_of_every_pair(bags: list[list[str]]) -> None:
    """The matrix the decoding uses holds exactly `bag_f1` of each pair (empty bags too)."""
    expected = np.asarray([[bag_f1(a, b) for b in bags] for a in bags], dtype=np.float64)
    assert pairwise_f1(bags).tobytes() == expected.reshape(len(bags), len(bags)).tobytes()
