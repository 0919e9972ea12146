"""Checksummed binary files of named numpy arrays: how the index is kept on disk.

Layout: a 32-byte prelude (8-byte magic, format version, header length, header CRC32,
12 reserved zero bytes), a JSON header (the caller's fields, the array table and the
payload's CRC32), then the arrays, raw and 64-byte aligned, so that loading can
memory-map them without copying. Loading verifies both checksums (zlib.crc32 runs at
~4 GB/s: 0.1 s for 457 MB) and that every byte no checksum covers is zero, so a
truncated or corrupt file raises `IndexFormatError` instead of answering wrongly.
Writes are atomic (`citebot.atomic`): a reader sees the old file or the new one, never
half of one.
"""

from __future__ import annotations

import itertools
import json
import mmap as mmap_module
import os
import struct
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from citebot.atomic import write_atomic
from citebot.errors import CitebotError

__all__ = ["IndexFormatError", "read_arrays", "write_arrays"]

# magic, format version, header length, header crc32, 12 reserved bytes (must be zero).
_PRELUDE: Final = struct.Struct("<8sIII12s")
_ALIGN: Final = 64

Arrays = dict[str, npt.NDArray[Any]]


class IndexFormatError(CitebotError, ValueError):
    """A saved index file is truncated, corrupt, or of an unsupported format version."""


def write_arrays(
    path: Path,
    *,
    magic: bytes,
    version: int,
    fields: Mapping[str, Any],
    arrays: Mapping[str, npt.NDArray[Any]],
    fsync: bool = True,
) -> None:
    """Write `fields` (JSON) and `arrays` (in this order) to `path` atomically.

    `fsync=False` skips flushing to the disk: for a file that is only a cache, which a
    crash may then leave empty or torn, and whose checksums make the reader notice.
    """
    path = Path(path)
    layout: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, arr in arrays.items():
        offset = _align(offset)
        layout[name] = {"dtype": arr.dtype.str, "length": len(arr), "offset": offset}
        offset += arr.nbytes
    crc = 0
    for chunk in _payload_chunks(arrays, layout):
        crc = zlib.crc32(chunk, crc)
    header = json.dumps(
        {**fields, "arrays": layout, "payload_size": offset, "payload_crc32": crc},
        sort_keys=True,
    ).encode()
    head = _PRELUDE.pack(magic, version, len(header), zlib.crc32(header), bytes(12)) + header
    head += bytes(_align(len(head)) - len(head))

    write_atomic(path, itertools.chain([head], _payload_chunks(arrays, layout)), fsync=fsync)


def read_arrays(
    path: Path,
    *,
    magic: bytes,
    version: int,
    what: str,
    dtypes: Mapping[str, tuple[str, ...]],
    mmap: bool = True,
) -> tuple[dict[str, Any], Arrays]:
    """The header fields and arrays of a file written by `write_arrays`, verified.

    `dtypes` names every array the file must hold and the dtypes allowed for it;
    `what` names the kind of file in error messages. Arrays are read-only views of
    the memory-mapped file (or of its bytes when `mmap` is false).
    """
    path = Path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _PRELUDE.size:
            raise IndexFormatError(f"{path}: truncated ({size} bytes)")
        buf: mmap_module.mmap | bytes = (
            mmap_module.mmap(f.fileno(), 0, access=mmap_module.ACCESS_READ) if mmap else f.read()
        )
    try:
        return _parse(memoryview(buf), size, magic, version, what, dtypes)
    except IndexFormatError as e:
        raise IndexFormatError(f"{path}: {e}") from None


def _parse(
    buf: memoryview,
    size: int,
    magic: bytes,
    version: int,
    what: str,
    dtypes: Mapping[str, tuple[str, ...]],
) -> tuple[dict[str, Any], Arrays]:
    """Validate the bytes of a saved file and wrap its arrays (zero-copy)."""
    found_magic, found_version, header_len, header_crc, reserved = _PRELUDE.unpack_from(buf, 0)
    if found_magic != magic:
        raise IndexFormatError(f"not a citebot {what} (bad magic bytes)")
    if found_version != version:
        raise IndexFormatError(
            f"unsupported format version {found_version} (this citebot reads version "
            f"{version}); rebuild the index"
        )
    header_end = _PRELUDE.size + header_len
    if header_end > size:
        raise IndexFormatError(f"truncated: header needs {header_end} bytes, file has {size}")
    raw = buf[_PRELUDE.size : header_end]
    if zlib.crc32(raw) != header_crc:
        raise IndexFormatError("corrupt header (checksum mismatch)")
    start = _align(header_end)
    # Bytes no checksum covers must be zero, so that every flipped byte is noticed.
    if any(reserved) or any(buf[header_end : min(start, size)]):
        raise IndexFormatError("corrupt header (non-zero reserved bytes)")
    try:
        header = json.loads(bytes(raw))
        layout = header.pop("arrays")
        payload_size = int(header.pop("payload_size"))
        payload_crc = int(header.pop("payload_crc32"))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise IndexFormatError(f"malformed header: {e}") from None
    if payload_size < 0:
        raise IndexFormatError("malformed header: negative count")
    if size < start + payload_size:
        raise IndexFormatError(f"truncated: expected {start + payload_size} bytes, got {size}")
    if size > start + payload_size:
        raise IndexFormatError(f"{size - start - payload_size} unexpected trailing bytes")
    if zlib.crc32(buf[start:]) != payload_crc:
        raise IndexFormatError("corrupt data (checksum mismatch)")
    arrays: Arrays = {}
    for name, allowed in dtypes.items():
        try:
            spec = layout[name]
            dtype, length = np.dtype(spec["dtype"]), int(spec["length"])
            offset = int(spec["offset"])
        except (KeyError, TypeError, ValueError) as e:
            raise IndexFormatError(f"malformed array table: {e}") from None
        end = offset + length * dtype.itemsize
        if dtype.str not in allowed or min(length, offset) < 0 or end > payload_size:
            raise IndexFormatError(f"bad layout for array {name!r}")
        arrays[name] = np.frombuffer(buf, dtype, length, start + offset)
    return header, arrays


def _align(offset: int) -> int:
    """Round up to the array alignment."""
    return -(-offset // _ALIGN) * _ALIGN


def _payload_chunks(
    arrays: Mapping[str, npt.NDArray[Any]], layout: dict[str, dict[str, Any]]
) -> Iterable[memoryview | bytes]:
    """The payload bytes in file order: each array preceded by its alignment padding."""
    pos = 0
    for name, arr in arrays.items():
        off = layout[name]["offset"]
        if off > pos:
            yield bytes(off - pos)
        data = np.ascontiguousarray(arr).data.cast("B")
        for i in range(0, len(data), 1 << 26):
            yield data[i : i + (1 << 26)]
        pos = off + arr.nbytes
