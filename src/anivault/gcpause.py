"""Rare cycle collection while streaming millions of short-lived objects.

Scanning and planning make tuples and strings that die young and no reference
cycles of their own, yet each allocation counts towards the next collection of
the youngest generation. Frozen objects (everything that existed before) are
skipped, and the collector runs every ``threshold`` allocations instead of 700.
It still runs: a consumer of the stream may make cycles, which must not pile up
over a million files.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0  # the collector is the process's: only the outermost pause (the scan streams inside planning) acts


@contextmanager
def rare_gc_pauses(threshold: int) -> Iterator[None]:
    """Collect the youngest generation every ``threshold`` allocations (never more often than now)."""
    global _depth
    with _lock:
        _depth += 1
        outermost = _depth == 1
        if outermost:
            before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(before[0], threshold), before[1], before[2])
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if outermost:
                gc.set_threshold(*before)
                gc.unfreeze()
