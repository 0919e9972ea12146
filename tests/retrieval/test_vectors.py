"""Term vectors: learned so that terms used alike are close, stored and loaded safely,
and written by scripts/build_term_vectors.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from citebot.retrieval.vectors import TermVectors, VectorsError, learn, load_term_vectors

ROOT = Path(__file__).resolve().parents[2]
SLICE = ROOT / "tests" / "data" / "squad-slice.json"  # the first 304 questions of SQuAD 2.0 dev

# "start" and "begin" share their contexts (war, race, season ... year), "bake" and
# "cook" theirs (bread, cake, oven): nothing else links the two pairs.
CONTEXTS = [
    ["war", "race", "season", "year", "meet", "game"],
    ["bread", "cake", "oven", "kitchen", "flour", "dough"],
]


def _documents(seed: int = 1) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    documents = []
    for words, context in (("start", 0), ("begin", 0), ("bake", 1), ("cook", 1)):
        for _ in range(40):
            around = rng.choice(CONTEXTS[context], size=4).tolist()
            documents.append([*around[:2], words, *around[2:]])
    return documents


def cosine(vectors: TermVectors, a: str, b: str) -> float:
    return float(vectors.of([a])[0] @ vectors.of([b])[0])


def test_terms_used_alike_are_closer_than_unrelated_ones() -> None:
    """Words that never meet but share their neighbours come out close; across the two
    groups they do not. Rows are unit vectors, and learning again gives the same ones."""
    vectors = learn(_documents(), dims=4, min_count=5, window=2)
    assert cosine(vectors, "start", "begin") > cosine(vectors, "start", "bake") + 0.5
    assert cosine(vectors, "bake", "cook") > cosine(vectors, "cook", "begin") + 0.5
    np.testing.assert_allclose(np.linalg.norm(vectors.matrix, axis=1), 1.0, rtol=1e-5)
    again = learn(_documents(), dims=4, min_count=5, window=2)
    assert again.terms == vectors.terms
    np.testing.assert_array_equal(again.matrix, vectors.matrix)


def test_rare_terms_get_no_vector_and_count_zero() -> None:
    """A term used fewer than min_count times is left out; `of` gives it zeros."""
    documents = [*_documents(), ["start", "zebra", "war"]]
    vectors = learn(documents, dims=4, min_count=5, window=2)
    assert "zebra" not in vectors.terms
    assert not vectors.of(["zebra"]).any()
    with pytest.raises(ValueError, match="too few"):
        learn(documents, dims=4, min_count=1000)


def test_saved_vectors_load_back_and_bad_files_say_how_to_fix(tmp_path: Path) -> None:
    """Saved (float16) and loaded, the vectors keep their terms and, to float16's precision,
    their values; a missing or broken file is a VectorsError naming the file and the fix."""
    vectors = learn(_documents(), dims=4, min_count=5, window=2)
    path = tmp_path / "vectors.npz"
    vectors.save(path)
    loaded = load_term_vectors(path)
    assert loaded.terms == vectors.terms and loaded.meta["dims"] == 4
    np.testing.assert_allclose(loaded.matrix, vectors.matrix, atol=1e-3)
    with pytest.raises(VectorsError, match=r"missing.*build_term_vectors"):
        load_term_vectors(tmp_path / "absent.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a numpy file")
    with pytest.raises(VectorsError, match=r"cannot be read.*build_term_vectors"):
        load_term_vectors(broken)


def test_the_shipped_vectors_are_learned_from_squad_train() -> None:
    """The shipped file loads, says where it was learned, and holds 'begin' near 'start'."""
    vectors = load_term_vectors()
    assert vectors.meta["learned_from"].startswith("squad-train-v1.1.json")
    assert vectors.matrix.shape == (len(vectors.terms), vectors.meta["dims"])
    assert cosine(vectors, "begin", "start") > cosine(vectors, "begin", "cake")


def test_the_script_writes_vectors_from_a_squad_file(tmp_path: Path) -> None:
    """scripts/build_term_vectors.py on a small SQuAD slice writes loadable vectors."""
    out = tmp_path / "vectors.npz"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_term_vectors.py"), str(SLICE),
         "--out", str(out), "--dims", "8", "--min-count", "2"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    vectors = load_term_vectors(out)
    assert vectors.matrix.shape[1] == 8 and len(vectors.terms) > 8
    assert vectors.meta["learned_from"].startswith("squad-slice.json")
