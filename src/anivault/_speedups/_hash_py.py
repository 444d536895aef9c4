"""Path hashing (pure-Python twin of _hash_c.pyx).

A path's key is xxh3_64 over its UTF-8 bytes, with surrogateescape so names
that are not valid UTF-8 still hash to the bytes on disk: stable across
processes, machines and platforms.
"""
from __future__ import annotations

import struct
from typing import Iterable

from xxhash import xxh3_64_intdigest

_INT64 = struct.Struct("<qq")


def path_hash(path: str) -> int:
    """xxh3_64 of the path's UTF-8 (surrogateescape) bytes, as an unsigned int."""
    # str.encode, not path.encode: bytes raise TypeError here as in the compiled twin.
    return xxh3_64_intdigest(str.encode(path, "utf-8", "surrogateescape"))


def path_hashes(paths: Iterable[str]) -> list[int]:
    """path_hash of each path, in order."""
    return [xxh3_64_intdigest(str.encode(p, "utf-8", "surrogateescape")) for p in paths]


def change_key(size: int, mtime_ns: int) -> int:
    """xxh3_64 of (size, mtime_ns) as two little-endian int64: changes when the file does."""
    try:
        return xxh3_64_intdigest(_INT64.pack(size, mtime_ns))
    except struct.error as e:
        raise OverflowError(f"size or mtime_ns out of int64 range: {size}, {mtime_ns}") from e
