"""Generated files (NFOs): written through the journal like every file AniVault places.

Each is journaled as a ``copy`` whose source is the bytes themselves: size,
mtime_ns, the sampled and full xxh3 of the bytes are in the intent before the
file is touched, so ``undo`` removes it only while it is still what we wrote,
and a crash's settling recognises it. A generated file never replaces an
existing one (the user's own NFO stays).
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterable, NamedTuple

import xxhash


def fingerprint_of(data: bytes) -> str:
    """What :func:`anivault.fileops.fingerprint` gives for a file holding ``data``."""
    from .fileops import FINGERPRINT_BYTES as N

    h = xxhash.xxh3_128(len(data).to_bytes(8, "little"))
    h.update(data[:N])
    if len(data) > 2 * N:
        h.update(data[-N:])
    elif len(data) > N:
        h.update(data[N:])
    return h.hexdigest()


class WriteReport(NamedTuple):
    written: int
    kept: int  # an NFO already there (the user's, or an earlier run's): never replaced
    failed: list[tuple[str, str]]


def write_journaled(journal: Any, op: str, files: Iterable[tuple[str, bytes]], first_index: int,
                    batch: int = 256) -> WriteReport:
    """Write generated files through the journal: intents committed first, then each file appears whole.

    Each is journaled as a ``copy`` (size, mtime_ns, sampled and full xxh3 of
    the bytes), which is what ``undo`` checks before removing it and what a
    crash's settling needs. Indices start at ``first_index`` (after the plan's
    entries).
    """
    written = kept = 0
    failed: list[tuple[str, str]] = []
    chunk: list[tuple[dict[str, Any], bytes]] = []
    i = first_index

    def flush() -> None:
        nonlocal written
        journal.commit()  # write-ahead
        for intent, data in chunk:
            try:
                _write_new(intent, data)
            except OSError as e:
                journal.write({"t": "fail", "i": intent["i"], "error": e.strerror or str(e)})
                failed.append((intent["dst"], e.strerror or str(e)))
                continue
            journal.write({"t": "ok", "i": intent["i"], "hash": xxhash.xxh3_128_hexdigest(data)})
            written += 1
        chunk.clear()

    for path, data in files:
        if os.path.lexists(path):
            kept += 1
            continue
        mtime_ns = time.time_ns() // 1000 * 1000  # microseconds: what every filesystem keeps
        intent = {"t": "do", "i": i, "a": "copy", "src": "", "dst": path,
                  "tmp": os.path.join(os.path.dirname(path), f".anivault-{op[-6:]}-{i}.part"),
                  "size": len(data), "mtime_ns": mtime_ns, "fp": fingerprint_of(data), "generated": True}
        journal.write(intent)
        chunk.append((intent, data))
        i += 1
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    journal.commit()
    return WriteReport(written, kept, failed)


def _write_new(intent: dict[str, Any], data: bytes) -> None:
    """Written under its temporary name, stamped with the journaled mtime, placed without replacing."""
    from .fileops import write_staged

    mtime_ns = intent["mtime_ns"]
    write_staged(intent["tmp"], intent["dst"], lambda f: f.write(data),
                 lambda tmp: os.utime(tmp, ns=(mtime_ns, mtime_ns)))
