"""Run metrics shared by every stage: counters and per-stage timers.

Stages add to plain dict entries from one thread at a time (or merge a
batch under a lock), so accounting costs a dict update, not a lock per file.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .bottleneck import bottleneck_report

# What an observer of a run gets: (phase, event, fields) for each event; a section of the
# snapshot is a name and the callable that fills it.
Listener = Callable[[str, str, dict[str, Any]], None]
Section = Callable[[], dict[str, Any]]

STAGES = ("walk", "stat", "parse", "hash", "index", "records", "match", "plan", "apply", "undo", "output")

# Counter names every stage shares, so summaries, the live line and the bench
# read the same figures whoever produced them.
FILES, BYTES = "files", "bytes"
WARNINGS, ERRORS = "warnings", "errors"
REQUESTS, RETRIES = "requests", "retries"
INDEX_HITS, INDEX_MISSES = "index_hits", "index_misses"
CACHE_HITS, CACHE_MISSES = "cache_hits", "cache_misses"


class Metrics:
    """Counters (files, bytes, hits, requests, …) and seconds per stage.

    ``stage_items`` counts what each stage processed, for throughput per stage;
    ``phase`` is the stage (or command) in progress, stamped on events. Metrics knows
    no observer: a monitor subscribes to its events and adds sections to its snapshot.
    """

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.stage_seconds: Counter[str] = Counter()
        self.stage_items: Counter[str] = Counter()
        self.started = time.perf_counter()
        self.phase = "run"
        # What the live line and progress events measure progress by: the counter the
        # phase in progress advances, its unit, and (when known) the total it will reach.
        self.expected: int | None = None
        self.progress_counter = FILES
        self.progress_unit = "files"
        self._progress_start: tuple[int, float] = (0, self.started)
        self._listeners: list[Listener] = []
        self._sections: dict[str, Section] = {}
        self._lock = threading.Lock()

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def add_time(self, stage: str, seconds: float, items: int = 0) -> None:
        self.stage_seconds[stage] += seconds
        if items:
            self.stage_items[stage] += items

    def merge(self, counters: dict[str, int], stage_seconds: dict[str, float] | None = None,
              stage_items: dict[str, int] | None = None) -> None:
        """Fold in a batch accumulated by a worker thread."""
        with self._lock:
            self.counters.update(counters)
            if stage_seconds:
                self.stage_seconds.update(stage_seconds)
            if stage_items:
                self.stage_items.update(stage_items)

    @contextmanager
    def stage(self, name: str, items: int = 0) -> Iterator[None]:
        start = time.perf_counter()
        outer, self.phase = self.phase, name
        try:
            yield
        finally:
            self.phase = outer
            self.add_time(name, time.perf_counter() - start, items)

    def expect(self, total: int | None, counter: str = FILES, unit: str = "files") -> None:
        """The phase now starting advances ``counter`` to ``total`` (None: unknown).

        The live line and progress events then show this phase's rate (``unit``/s,
        counted from now) and, with a total, its ETA. Each long phase (scan, match,
        apply, undo, the bench's runs) announces itself this way.
        """
        self.expected = total
        self.progress_counter = counter
        self.progress_unit = unit
        self._progress_start = (self.counters.get(counter, 0), time.perf_counter())

    def progress(self) -> tuple[int, float | None, float | None]:
        """(done in this phase, rate per second, ETA seconds) for the phase in progress."""
        base, since = self._progress_start
        done = self.counters.get(self.progress_counter, 0) - base
        elapsed = time.perf_counter() - since
        rate = done / elapsed if elapsed > 0 and done > 0 else None
        eta = None
        if self.expected is not None and rate:
            eta = max(0.0, (self.expected - done) / rate)
        return done, rate, eta

    def subscribe(self, listener: Listener) -> None:
        """``listener(phase, event, fields)`` for every event from now on (e.g. an EventLog's write)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def add_section(self, name: str, section: Section) -> None:
        """``snapshot()[name] = section()`` from now on (e.g. a monitor's resources)."""
        self._sections[name] = section

    def emit(self, event: str, **fields: Any) -> None:
        """One event to every subscriber (a no-op without one)."""
        for listener in self._listeners:
            listener(self.phase, event, fields)

    def warning(self, message: str, **fields: Any) -> None:
        """A warning event; the caller still prints and counts it as it always did."""
        self.emit("warning", message=message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        self.emit("error", message=message, **fields)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def hit_rate(self) -> float | None:
        """Index and cache hits over lookups, or None before the first lookup."""
        hits = sum(v for k, v in self.counters.items() if k.endswith("_hits"))
        misses = sum(v for k, v in self.counters.items() if k.endswith("_misses"))
        return hits / (hits + misses) if hits + misses else None

    def hit_rates(self) -> dict[str, float]:
        """The hit rate of each lookup kind (``index``: the scan index, ``cache``: TMDB's)."""
        rates = {}
        for key in sorted(self.counters):
            if key.endswith("_hits"):
                kind = key[:-5]
                hits, misses = self.counters[key], self.counters.get(f"{kind}_misses", 0)
                if hits + misses:
                    rates[kind] = round(hits / (hits + misses), 4)
        return rates

    def snapshot(self) -> dict[str, Any]:
        elapsed = self.elapsed
        snap: dict[str, Any] = {
            "elapsed_s": round(elapsed, 6),
            "counters": dict(self.counters),
            "stages_s": {k: round(v, 6) for k, v in self.stage_seconds.items()},
            "stage_items": dict(self.stage_items),
            "bottleneck": bottleneck_report(self.stage_seconds, self.stage_items, elapsed,
                                            self.counters.get(FILES, 0)),
        }
        rate = self.hit_rate()
        if rate is not None:
            snap["hit_rate"] = round(rate, 4)
            snap["hit_rates"] = self.hit_rates()
        for name, section in self._sections.items():
            snap[name] = section()
        return snap
