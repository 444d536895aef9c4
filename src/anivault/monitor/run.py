"""One command's monitoring: the sampler, the event log, tracemalloc and the profiler.

The CLI group starts a RunMonitor around every command (``--metrics FILE``,
``--profile FILE``, ``--trace-memory``); the library works without one.
The active monitor also feeds the live status line on a TTY.
"""
from __future__ import annotations

import dataclasses
import os
import time
import tracemalloc
from typing import Any

from .events import EventLog
from .leak import LeakReport, SiteTracker, detect_leak
from .metrics import ERRORS, FILES, Metrics
from .profile import Profile
from .sampler import ResourceSampler, Sample

_active: "RunMonitor | None" = None


def active() -> "RunMonitor | None":
    """The monitor of the command in progress, if any."""
    return _active


class RunMonitor:
    def __init__(self, metrics: Metrics, *, events_path: str | os.PathLike[str] | None = None,
                 profile_path: str | os.PathLike[str] | None = None, trace_memory: bool = False,
                 interval: float = 0.1, progress_every: float = 1.0,
                 secrets: tuple[str, ...] = ()) -> None:
        self.metrics = metrics
        self.trace_memory = trace_memory
        self.progress_every = progress_every
        # Opened here so a bad path fails before the command does any work.
        self.events = EventLog(events_path, secrets) if events_path else None
        self.profile = Profile(profile_path) if profile_path else None
        self.sampler = ResourceSampler(metrics, interval, on_sample=self._on_sample)
        self.sites = SiteTracker()
        self.leak: LeakReport | None = None
        self._started_tracing = False
        self._next_progress = 0.0

    def start(self, command: str, **fields: Any) -> "RunMonitor":
        global _active
        if self.trace_memory and not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True
        self.metrics.phase = command
        if self.events is not None:
            self.metrics.subscribe(self.events.write)
        self.metrics.add_section("resources", self.resources)
        self.metrics.emit("start", command=command, pid=os.getpid(), **fields)
        self.sampler.start()
        if self.profile is not None:
            self.profile.start()
        _active = self
        return self

    def finish(self, exit_code: int = 0, error: str | None = None) -> dict[str, Any]:
        """Stop sampling, judge memory, write the profile; the run's report."""
        global _active
        _active = None
        if self.profile is not None:
            self.profile.stop_and_write()
        self.sampler.stop()
        files = self.metrics.counters.get(FILES, 0)
        self.leak = detect_leak(self.sampler.samples)
        if self.leak.flagged:  # the final snapshot is costly: only when there is a leak to name
            self.leak = dataclasses.replace(self.leak, top_sites=tuple(self.sites.top_sites(files)))
        if error:
            self.metrics.count(ERRORS)
            self.metrics.error(error, exit_code=exit_code)
        report = self.metrics.snapshot()
        self.metrics.emit("complete", exit_code=exit_code, **report)
        if self._started_tracing:
            tracemalloc.stop()
        if self.events is not None:
            self.metrics.unsubscribe(self.events.write)
            self.events.close()
        return report

    def resources(self) -> dict[str, Any]:
        summary: dict[str, Any] = dict(self.sampler.summary())
        if tracemalloc.is_tracing():
            current, peak = tracemalloc.get_traced_memory()
            summary.update(traced_bytes=current, traced_peak_bytes=peak)
        if self.leak is not None:
            summary["leak"] = self.leak.to_dict()
        return summary

    def _on_sample(self, sample: Sample) -> None:
        if self.trace_memory:
            self.sites.observe(sample.files)
        if self.events is not None and sample.t >= self._next_progress:
            self._next_progress = sample.t + self.progress_every
            self.metrics.emit("progress", **self._progress_fields(sample))

    def _progress_fields(self, sample: Sample) -> dict[str, Any]:
        m = self.metrics
        done, rate, eta = m.progress()
        fields: dict[str, Any] = {
            "elapsed_s": round(m.elapsed, 3),
            "files": sample.files,
            "rate_per_s": round(self.rate(sample.files), 1),
            "rss": sample.rss,
            "cpu_percent": sample.cpu_percent,
            "read_bytes": sample.read_bytes,
            "write_bytes": sample.write_bytes,
            "counters": dict(m.counters),
        }
        if m.progress_counter != FILES or m.expected is not None:
            # The phase in progress (matching series, moving files, bench runs, …).
            fields["progress"] = {"counter": m.progress_counter, "unit": m.progress_unit,
                                  "done": done, "total": m.expected,
                                  "rate_per_s": round(rate, 1) if rate else 0.0}
        if sample.traced:
            fields["traced_bytes"] = sample.traced
        if eta is not None:
            fields["eta_s"] = round(eta, 1)
        hit_rate = m.hit_rate()
        if hit_rate is not None:
            fields["hit_rate"] = round(hit_rate, 4)
        return fields

    def rate(self, files: int) -> float:
        """Files per second over the whole run."""
        elapsed = self.metrics.elapsed
        return files / elapsed if elapsed > 0 else 0.0

    def eta(self, files: int | None = None) -> float | None:
        """Seconds left in the phase in progress, when it announced its total."""
        return self.metrics.progress()[2]

    def live_status(self, rate: bool = True) -> str:
        """The phase's rate and ETA, RSS and hit rate, for the TTY status line.

        ``rate=False`` when the command's own line already shows a rate."""
        m = self.metrics
        done, per_s, eta = m.progress()
        last = self.sampler.samples[-1] if self.sampler.samples else None
        parts = [f"{_rate(per_s)} {m.progress_unit}/s"] if rate and per_s else []
        if m.expected is not None:
            parts.append(f"{min(done, m.expected):,}/{m.expected:,}")
        if eta is not None:
            parts.append("ETA " + time.strftime("%H:%M:%S" if eta >= 3600 else "%M:%S",
                                                time.gmtime(eta)))
        if last is not None:
            parts.append(f"RSS {human_bytes(last.rss)}")
        rates = m.hit_rates()
        if len(rates) == 1:
            parts.append(f"hits {next(iter(rates.values())) * 100:.0f}%")
        else:
            parts += [f"{kind} hits {r * 100:.0f}%" for kind, r in rates.items()]
        return " · ".join(parts)


def _rate(per_s: float) -> str:
    """1,204 files/s; 0.42 runs/s (a slow phase's rate is not rounded to 0)."""
    return f"{per_s:,.0f}" if per_s >= 10 else f"{per_s:.2g}"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GiB"
