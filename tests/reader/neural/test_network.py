"""The numpy forward pass: a batch reads each passage as if alone; spans obey their limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import citebot
from citebot.reader.neural.encode import FEATURES, SPELLING_BUCKETS, Vocabulary, encode, features
from citebot.reader.neural.network import (
    WEIGHTS,
    Ensemble,
    Gru,
    Network,
    NetworkError,
    average,
    best_span,
    float_weights,
    load_ensemble,
    load_network,
    quantize_rows,
    read_export,
    save_network,
)
from citebot.reader.neural.reader import answer_span


def tiny_network(seed: int = 0, dim: int = 6, spell: int = 2, hidden: int = 4) -> Network:
    """A network of random weights, laid out as the training script exports them."""
    rng = np.random.default_rng(seed)
    vocab = Vocabulary(("the", "park", "opened", "on", "thursday", "when", "did"))

    def m(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    def gru(size: int) -> Gru:
        def direction() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            return (m(3 * hidden, size), m(3 * hidden, hidden), m(3 * hidden), m(3 * hidden))

        return Gru(direction(), direction())

    token = dim + 3 * spell
    width = 4 * hidden
    return Network(
        vocabulary=vocab,
        meta={"layers": 2},
        words=m(vocab.size, dim),
        spelling=m(SPELLING_BUCKETS, spell),
        align=(m(dim, dim), m(dim)),
        passage_rnn=[gru(token + dim + len(FEATURES)), gru(2 * hidden)],
        question_rnn=[gru(token), gru(2 * hidden)],
        pool=(m(1, width), m(1)),
        start=(m(width, width), m(width)),
        end=(m(width, width), m(width)),
        no_answer=(m(2, 3 * width), m(2)),
    )


def test_passages_read_together_score_as_when_read_alone() -> None:
    """Padding never leaks: the backward GRU starts at each passage's own last token."""
    net = tiny_network()
    q = encode("When did the park open?", net.vocabulary)
    texts = ["The park opened on Thursday.", "On Thursday the park in Futian opened to all."]
    passages = [encode(t, net.vocabulary) for t in texts]
    feats = [features(p, q) for p in passages]
    together = net.scores(q, passages, feats)
    for k in range(2):
        [alone] = net.scores(q, [passages[k]], [feats[k]])
        for part, (mixed, single) in enumerate(zip(together[k], alone, strict=True)):
            assert np.allclose(mixed, single, atol=1e-5), part  # start, end, no answer
        assert alone[2].shape == (2,)


def test_an_ensemble_scores_each_token_by_its_members_mean() -> None:
    """Two networks answer as one: every start and end score is the average of theirs."""
    first, second = tiny_network(seed=1), tiny_network(seed=2)
    q = encode("When did the park open?", first.vocabulary)
    passages = [encode(t, first.vocabulary) for t in ["The park opened on Thursday.", "It did."]]
    feats = [features(p, q) for p in passages]
    together = average(Ensemble((first, second)).each(q, passages, feats))
    alone = [first.scores(q, passages, feats), second.scores(q, passages, feats)]
    for k in range(2):
        for part in range(3):  # start, end, no answer
            mean = (alone[0][k][part] + alone[1][k][part]) / 2
            assert np.allclose(together[k][part], mean)
    assert not np.allclose(alone[0][0][0], alone[1][0][0])  # the members do differ


def test_the_shipped_members_share_one_vocabulary() -> None:
    """Every shipped weights file loads into one ensemble (a text is encoded once for all)."""
    assert WEIGHTS
    assert len(load_ensemble().members) == len(WEIGHTS)


def test_members_trained_on_another_vocabulary_are_refused(tmp_path: Path) -> None:
    """Weights whose vocabulary differs cannot join: the error names the file and the fix."""
    with np.load(WEIGHTS[0], allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["vocabulary"] = arrays["vocabulary"][::-1]
    other = tmp_path / "weights-seed9.npz"
    np.savez(other, **arrays)
    with pytest.raises(NetworkError, match=r"weights-seed9\.npz .* --min-count"):
        load_ensemble((WEIGHTS[0], other))
    with pytest.raises(NetworkError, match="train_neural"):
        load_ensemble(())


def test_weights_without_the_no_answer_head_are_refused(tmp_path: Path) -> None:
    """An export from before the head existed is named, with the fix, not half-used."""
    with np.load(WEIGHTS[0], allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if not k.startswith("no_answer.")}
    old = tmp_path / "weights-seed9.npz"
    np.savez(old, **arrays)
    with pytest.raises(NetworkError, match=r"weights-seed9\.npz .*no-answer.*train_neural"):
        load_network(old)


def test_int8_rows_restore_each_value_within_half_a_step() -> None:
    """Each row is scaled so its largest magnitude is 127; restored, every value is within
    half that row's step, and a row of zeros stays zeros."""
    table = np.random.default_rng(3).normal(0, 2, (50, 8)).astype(np.float32)
    table[7] = 0.0
    table[9] *= 100  # rows of very different sizes each get their own step
    values, scale = quantize_rows(table)
    assert values.dtype == np.int8 and scale.dtype == np.float16
    assert int(np.abs(values).max()) == 127
    restored = float_weights({"words.weight.int8": values, "words.weight.scale": scale})
    step = scale.astype(np.float32)[:, None]
    assert list(restored) == ["words.weight"]
    assert np.all(np.abs(restored["words.weight"] - table) <= step / 2 * 1.01)
    assert not restored["words.weight"][7].any()


def test_a_saved_network_reads_as_it_did(tmp_path: Path) -> None:
    """save_network writes what load_network reads: the word table as int8, the rest as
    float16, and the network scores a question as before (within the table's rounding)."""
    shipped = load_network(WEIGHTS[0])
    path = tmp_path / "weights-seed9.npz"
    save_network(path, *read_export(WEIGHTS[0]))
    with np.load(path, allow_pickle=False) as data:
        assert data["words.weight.int8"].dtype == np.int8 and "words.weight" not in data.files
        assert data["start.weight"].dtype == np.float16
    again = load_network(path)
    assert again.vocabulary == shipped.vocabulary and again.meta == shipped.meta
    q = encode("When did the Hong Kong Science Park open its Shenzhen branch?", again.vocabulary)
    p = encode("The Hong Kong Science Park opened a new branch on Thursday.", again.vocabulary)
    for before, after in zip(
        *(n.scores(q, [p], [features(p, q)])[0] for n in (shipped, again)), strict=True
    ):
        assert np.allclose(before, after, atol=0.05)


def test_the_shipped_model_files_fit_in_25_mb() -> None:
    """Everything learned that ships in the package (networks, calibration, re-ranking,
    term vectors) stays within the repository's budget for model files."""
    package = Path(citebot.__file__).parent
    learned = [*package.rglob("*.npz"), *package.rglob("*.json")]
    assert len(learned) >= len(WEIGHTS) + 2
    assert sum(p.stat().st_size for p in learned) <= 25_000_000


def test_best_span_is_the_highest_pair_within_the_length_limit() -> None:
    """start + end is maximised over first <= last < first + longest."""
    start = np.array([0.0, 5.0, 0.0, 0.0, 0.0], dtype=np.float32)
    end = np.array([0.0, 0.0, 0.0, 0.0, 9.0], dtype=np.float32)
    assert best_span(start, end) == (1, 4, 14.0)
    # Too long for two tokens: the best of the short spans (a tie keeps the shorter).
    assert best_span(start, end, longest=2) == (4, 4, 9.0)


def test_a_span_never_crosses_a_sentence() -> None:
    """Tokens of different sentences (groups) are never one answer, though the best pair
    across them (1, 3) would score highest."""
    start = np.array([0.0, 5.0, 0.0, 0.0], dtype=np.float32)
    end = np.array([0.0, 0.0, 0.0, 9.0], dtype=np.float32)
    group = np.array([0, 0, 1, 1])
    first, last, _ = answer_span(start, end, group)
    assert group[first] == group[last]
    assert (first, last) in ((1, 1), (3, 3), (2, 3))


def test_the_answer_comes_from_the_sentence_holding_most_probability() -> None:
    """Three good spans in one sentence outweigh a slightly better lone span in another;
    the answer is then the best span of that sentence."""
    start = np.array([3.0, 2.9, 2.9, -9.0, 3.2, -9.0], dtype=np.float32)
    end = np.array([-9.0, -9.0, 3.0, -9.0, -9.0, 3.0], dtype=np.float32)
    group = np.array([0, 0, 0, 1, 1, 1])
    assert best_span(start, end)[:2] == (4, 5)  # 6.2, alone in sentence 1
    first, last, score = answer_span(start, end, group)
    assert (first, last) == (0, 2)  # sentence 0: spans of 6.0, 5.9 and 5.9
    assert score == pytest.approx(6.0)


def test_a_head_start_can_turn_the_choice_of_sentence() -> None:
    """A sentence given a head start (in log probability) larger than the other's lead
    in mass answers; a smaller one changes nothing."""
    start = np.array([3.0, 2.9, 2.9, -9.0, 3.2, -9.0], dtype=np.float32)
    end = np.array([-9.0, -9.0, 3.0, -9.0, -9.0, 3.0], dtype=np.float32)
    group = np.array([0, 0, 0, 1, 1, 1])
    # Sentence 0 holds about 2.3 times sentence 1's mass: a log lead of about 0.8.
    assert answer_span(start, end, group, np.array([0.0, 0.5]))[:2] == (0, 2)
    assert answer_span(start, end, group, np.array([0.0, 1.5]))[:2] == (4, 5)
    assert answer_span(start, end, group, np.zeros(2)) == answer_span(start, end, group)


def test_a_lone_sentence_keeps_its_best_span() -> None:
    """With one sentence the rule is the plain best span."""
    start = np.array([0.0, 5.0, 0.0, 0.0, 0.0], dtype=np.float32)
    end = np.array([0.0, 0.0, 0.0, 0.0, 9.0], dtype=np.float32)
    group = np.zeros(5, dtype=np.int64)
    assert answer_span(start, end, group) == best_span(start, end) == (1, 4, 14.0)
