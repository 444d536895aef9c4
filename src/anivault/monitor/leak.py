"""Memory-leak detection: memory growth per file over the run's steady state.

The first ``warmup`` share of the files is ignored (imports, caches filling,
the allocator's arenas). Over the rest, the growth per file is the Theil–Sen
slope of memory against files processed — the median of the pairwise slopes,
so one step (a cache reaching its size, an arena allocated) does not read as
a leak while steady growth does. A run is flagged when both the slope and the
total growth over the window pass their thresholds. With tracemalloc on, the
traced bytes are judged too and the allocation sites that grew most are named.
"""
from __future__ import annotations

import os
import statistics
import tracemalloc
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from .sampler import Sample

WARMUP = 0.25  # share of the run's files before the steady state starts
BYTES_PER_FILE = 512.0  # a streaming stage keeps nothing per file; a record is ~1 KB
MIN_GROWTH = {"rss": 16 << 20, "traced": 2 << 20}  # RSS moves in arena-sized steps
MIN_FILES = 1000
MIN_SAMPLES = 5
_MAX_POINTS = 200  # Theil–Sen is quadratic: thin long runs to this many samples


@dataclass(frozen=True)
class LeakReport:
    flagged: bool
    sentence: str
    bytes_per_file: dict[str, float] = field(default_factory=dict)  # per measure: rss, traced
    growth_bytes: dict[str, int] = field(default_factory=dict)
    window_files: tuple[int, int] = (0, 0)
    threshold_bytes_per_file: float = BYTES_PER_FILE
    top_sites: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["window_files"] = list(self.window_files)
        d["top_sites"] = list(self.top_sites)
        return d


def threshold_from_env() -> float:
    """ANIVAULT_LEAK_BYTES_PER_FILE overrides the default threshold."""
    try:
        return float(os.environ.get("ANIVAULT_LEAK_BYTES_PER_FILE") or BYTES_PER_FILE)
    except ValueError:
        return BYTES_PER_FILE


def detect_leak(samples: Sequence[Sample], *, threshold: float | None = None,
                warmup: float = WARMUP) -> LeakReport:
    """Judge the samples of one run; quiet (not flagged) when there is too little to judge."""
    threshold = threshold_from_env() if threshold is None else threshold
    total = max((s.files for s in samples), default=0)
    steady = [s for s in samples if s.files >= max(1, warmup * total)]
    if total < MIN_FILES or len({s.files for s in steady}) < MIN_SAMPLES:
        return LeakReport(False, f"too little to judge ({total} files, {len(steady)} samples"
                                 " after warm-up)", threshold_bytes_per_file=threshold)
    window = (steady[0].files, steady[-1].files)
    measures = {"rss": [s.rss for s in steady]}
    if any(s.traced for s in steady):
        measures["traced"] = [s.traced for s in steady]
    files = [s.files for s in steady]
    slopes = {name: _theil_sen(files, values) for name, values in measures.items()}
    growth = {name: int(slope * (window[1] - window[0])) for name, slope in slopes.items()}
    leaking = [name for name in slopes
               if slopes[name] > threshold and growth[name] > MIN_GROWTH[name]]
    return LeakReport(
        flagged=bool(leaking),
        sentence=_sentence(leaking, slopes, window, threshold),
        bytes_per_file={k: round(v, 1) for k, v in slopes.items()},
        growth_bytes=growth,
        window_files=window,
        threshold_bytes_per_file=threshold,
    )


def _sentence(leaking: list[str], slopes: dict[str, float], window: tuple[int, int],
              threshold: float) -> str:
    span = f"files {window[0]:,}..{window[1]:,}"
    if not leaking:
        worst = max(slopes.values())
        return f"no leak: memory grew {worst:,.0f} B/file over {span} (threshold {threshold:,.0f})"
    parts = ", ".join(f"{name} +{slopes[name]:,.0f} B/file" for name in leaking)
    return f"possible memory leak: {parts} over {span} (threshold {threshold:,.0f} B/file)"


def _theil_sen(xs: Sequence[int], ys: Sequence[int]) -> float:
    step = max(1, len(xs) // _MAX_POINTS)
    xs, ys = xs[::step], ys[::step]
    slopes = [(ys[j] - ys[i]) / (xs[j] - xs[i])
              for i in range(len(xs)) for j in range(i + 1, len(xs)) if xs[j] != xs[i]]
    return statistics.median(slopes) if slopes else 0.0


class SiteTracker:
    """Names what grew: a tracemalloc snapshot early in the run, compared with one at the end.

    One early snapshot (once ``first_checkpoint`` files are done, when little is
    alive yet, so it is cheap) and one at the end. Snapshots stop the whole
    process while they copy every live block, so none is taken in between: a
    leaking run would spend its time snapshotting instead of being sampled.
    """

    def __init__(self, first_checkpoint: int = 1000) -> None:
        self._checkpoint = first_checkpoint
        self._base: tuple[int, tracemalloc.Snapshot] | None = None

    def observe(self, files: int) -> None:
        if self._base is None and files >= self._checkpoint and tracemalloc.is_tracing():
            self._base = (files, _snapshot())

    def top_sites(self, total_files: int, limit: int = 5) -> list[str]:
        if self._base is None or not tracemalloc.is_tracing():
            return []
        base_files, base = self._base
        stats = _snapshot().compare_to(base, "lineno")
        grew = [s for s in stats if s.size_diff > 0][:limit]
        files = max(1, total_files - base_files)
        return [f"{s.traceback[0].filename}:{s.traceback[0].lineno}: +{s.size_diff / 1024:,.0f} KiB"
                f" ({s.size_diff / files:,.0f} B/file, +{s.count_diff:,} blocks)" for s in grew]


def _snapshot() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces((
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
        tracemalloc.Filter(False, "<unknown>"),
    ))
