"""The BM25 index on disk: one checksummed file of its arrays, memory-mapped on load.

One `retrieval.binfile` file -- prelude, JSON header (parameters, array table, payload
CRC32), then 64-byte-aligned raw arrays, memory-mapped on load.  Loading verifies both CRCs
(zlib.crc32: ~4 GB/s, 0.1 s for 457 MB), and then that the header and the arrays agree, so
a corrupt file raises `IndexFormatError` instead of mis-ranking.  The vocabulary is one
UTF-8 blob, "\\n"-joined (tokens may not contain a newline).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.binfile import IndexFormatError, read_arrays, write_arrays

FORMAT_VERSION: Final = 2
_MAGIC: Final = b"CBBM25IX"
_DTYPES: Final[dict[str, tuple[str, ...]]] = {
    "vocab": ("|u1",),
    "idf": ("<f8",),
    "indptr": ("<i8",),
    "doc_ids": ("<i4",),
    "weights": ("<f8",),
    "tf": ("<u2", "<u4"),
    "lengths": ("<i4",),
}


def save(
    path: Path,
    *,
    n_docs: int,
    k1: float,
    b: float,
    delta: float,
    terms: list[str],
    arrays: Mapping[str, npt.NDArray[Any]],
) -> None:
    """Write an index's parameters, vocabulary and arrays (`_DTYPES` but "vocab") atomically."""
    fields = {"n_docs": n_docs, "n_terms": len(terms), "k1": k1, "b": b, "delta": delta}
    write_arrays(
        path, magic=_MAGIC, version=FORMAT_VERSION, fields=fields, arrays=_on_disk(terms, arrays)
    )


def load(
    path: Path, *, mmap: bool = True
) -> tuple[dict[str, float], list[str], dict[str, npt.NDArray[Any]]]:
    """(n_docs, k1, b, delta), the vocabulary and the arrays of a file `save` wrote;
    IndexFormatError naming the file if it is not intact."""
    header, arrays = read_arrays(
        path, magic=_MAGIC, version=FORMAT_VERSION, what="BM25 index", dtypes=_DTYPES, mmap=mmap
    )
    try:
        return _checked(header, arrays)
    except IndexFormatError as e:
        raise IndexFormatError(f"{path}: {e}") from None


def _on_disk(terms: list[str], arrays: Mapping[str, npt.NDArray[Any]]) -> dict[str, Any]:
    """The arrays `save` writes, in their on-disk dtypes and order."""
    blob = "\n".join(terms).encode("utf-8", "surrogatepass")
    tf = arrays["tf"]
    tf_dtype = "<u2" if len(tf) == 0 or int(tf.max()) < 2**16 else "<u4"
    own: dict[str, tuple[npt.NDArray[Any], str]] = {
        "vocab": (np.frombuffer(blob, np.uint8), "|u1"),
        "idf": (arrays["idf"], "<f8"),
        "indptr": (arrays["indptr"], "<i8"),
        "doc_ids": (arrays["doc_ids"], "<i4"),
        "weights": (arrays["weights"], "<f8"),
        "tf": (tf, tf_dtype),
        "lengths": (arrays["lengths"], "<i4"),
    }
    return {k: np.ascontiguousarray(v, dtype=d) for k, (v, d) in own.items()}


def _checked(
    header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
) -> tuple[dict[str, float], list[str], dict[str, npt.NDArray[Any]]]:
    """Check that a verified file's header and arrays agree (zero-copy)."""
    try:
        n_docs, n_terms = int(header["n_docs"]), int(header["n_terms"])
        k1, b, delta = float(header["k1"]), float(header["b"]), float(header["delta"])
    except (ValueError, KeyError, TypeError) as e:
        raise IndexFormatError(f"malformed header: {e}") from None
    if min(n_docs, n_terms) < 0:
        raise IndexFormatError("malformed header: negative count")
    indptr, doc_ids = arrays["indptr"], arrays["doc_ids"]
    try:
        text = bytes(arrays["vocab"]).decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as e:
        raise IndexFormatError(f"corrupt vocabulary: {e}") from None
    terms = text.split("\n") if n_terms else []
    if (
        len(terms) != n_terms
        or len(arrays["idf"]) != n_terms
        or len(indptr) != n_terms + 1
        or indptr[0] != 0
        or indptr[-1] != len(doc_ids)
        or len(arrays["weights"]) != len(doc_ids)
        or len(arrays["tf"]) != len(doc_ids)
        or len(arrays["lengths"]) != n_docs
        or bool(np.any(np.diff(indptr) <= 0))
        or (len(doc_ids) and (doc_ids.min() < 0 or doc_ids.max() >= n_docs))
    ):
        raise IndexFormatError("inconsistent arrays")
    fields = {"n_docs": n_docs, "k1": k1, "b": b, "delta": delta}
    return fields, terms, arrays
