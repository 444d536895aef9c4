"""Run metrics shared by every stage: counters and per-stage timers.

Stages add to plain dict entries from one thread at a time (or merge a
batch under a lock), so accounting costs a dict update, not a lock per file.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator

STAGES = ("walk", "stat", "parse", "hash", "index", "match", "plan", "apply")


class Metrics:
    """Counters (files, bytes, hits, requests, …) and seconds per stage."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.stage_seconds: Counter[str] = Counter()
        self.started = time.perf_counter()
        self._lock = threading.Lock()

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def add_time(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] += seconds

    def merge(self, counters: dict[str, int], stage_seconds: dict[str, float] | None = None) -> None:
        """Fold in a batch accumulated by a worker thread."""
        with self._lock:
            self.counters.update(counters)
            if stage_seconds:
                self.stage_seconds.update(stage_seconds)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] += time.perf_counter() - start

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def snapshot(self) -> dict[str, Any]:
        return {
            "elapsed_s": round(self.elapsed, 6),
            "counters": dict(self.counters),
            "stages_s": {k: round(v, 6) for k, v in self.stage_seconds.items()},
        }
