"""A background thread sampling the process: RSS, CPU %, bytes read and written.

Sampling from a thread keeps the hot loops free of any accounting; a stage
may also call ``sample()`` itself at a point it cares about (a leak check
after every batch, the bench at a stage's edges).
"""
from __future__ import annotations

import sys
import threading
import time
import tracemalloc
from typing import Callable, NamedTuple

import psutil

from .metrics import FILES, Metrics

# Ten samples a second (a few /proc reads each, ~0.1% of a core) give the leak
# check enough points on a 2-second scan. Long runs keep every other sample
# once this many are held: bounded memory, the whole run still covered.
_MAX_SAMPLES = 20_000


class Sample(NamedTuple):
    t: float  # perf_counter seconds
    files: int  # the run's "files" counter when sampled
    rss: int  # bytes
    cpu_percent: float  # since the previous sample; 100 = one core busy
    read_bytes: int  # cumulative, where the platform reports I/O
    write_bytes: int
    traced: int  # tracemalloc's current traced bytes, 0 when not tracing


class ResourceSampler:
    def __init__(self, metrics: Metrics, interval: float = 0.1,
                 on_sample: Callable[[Sample], None] | None = None) -> None:
        self.metrics = metrics
        self.interval = interval
        self.on_sample = on_sample
        self.samples: list[Sample] = []
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # primes the CPU clock: the next call is a real reading
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "ResourceSampler":
        self.sample()
        self._thread = threading.Thread(target=self._run, name="anivault-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> Sample:
        s = self._read()
        with self._lock:
            self.samples.append(s)
            if len(self.samples) > _MAX_SAMPLES:
                self.samples = self.samples[::2]
        if self.on_sample is not None:
            self.on_sample(s)
        return s

    def _read(self) -> Sample:
        p = self._process
        try:
            io = p.io_counters()
            read, written = io.read_bytes, io.write_bytes
        except (AttributeError, psutil.Error):  # not reported on macOS, or not permitted
            read = written = 0
        traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
        return Sample(time.perf_counter(), self.metrics.counters.get(FILES, 0),
                      p.memory_info().rss, p.cpu_percent(None), read, written, traced)

    def window(self, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if start <= s.t <= end]

    def peak_rss(self) -> int:
        """The largest RSS sampled, or the kernel's high-water mark when it is higher."""
        with self._lock:
            sampled = max((s.rss for s in self.samples), default=0)
        return max(sampled, kernel_peak_rss())

    def summary(self) -> dict[str, float | int]:
        with self._lock:
            samples = list(self.samples)
        if not samples:
            return {}
        first, last = samples[0], samples[-1]
        busy = [s.cpu_percent for s in samples[1:]]
        return {
            "peak_rss": self.peak_rss(),
            "rss": last.rss,
            "cpu_percent_avg": round(sum(busy) / len(busy), 1) if busy else 0.0,
            "cpu_percent_max": round(max(busy), 1) if busy else 0.0,
            "read_bytes": last.read_bytes - first.read_bytes,
            "write_bytes": last.write_bytes - first.write_bytes,
            "samples": len(samples),
            "interval_s": self.interval,
        }


def kernel_peak_rss() -> int:
    """The process's peak RSS in bytes as the kernel counts it (0 where unavailable).

    On Linux this is VmHWM, the high-water mark of this program's own memory:
    getrusage's ru_maxrss also counts the parent's size at fork, so a child of
    a large process (the bench) would report its parent's memory as its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows: psutil's peak working set instead
        try:
            return int(getattr(psutil.Process().memory_info(), "peak_wset", 0))
        except psutil.Error:
            return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
