"""Performance monitoring: metrics every stage shares, resource sampling,
NDJSON events, bottleneck and leak reports, profiling.

- ``Metrics`` (metrics.py): counters and per-stage timers, cheap enough for hot loops.
- ``RunMonitor`` (run.py): one command's sampler thread, ``--metrics`` event log,
  ``--trace-memory`` and ``--profile``; its report ends every CLI run.
- ``bottleneck_report`` (bottleneck.py), ``detect_leak`` (leak.py): the judgements.
"""
from __future__ import annotations

from .bottleneck import bottleneck_report, format_report
from .events import EVENTS, EventLog
from .leak import LeakReport, detect_leak
from .metrics import STAGES, Metrics
from .run import RunMonitor, active, human_bytes
from .sampler import ResourceSampler, Sample, kernel_peak_rss

__all__ = [
    "EVENTS", "STAGES", "EventLog", "LeakReport", "Metrics", "ResourceSampler", "RunMonitor",
    "Sample", "active", "bottleneck_report", "detect_leak", "format_report", "human_bytes",
    "kernel_peak_rss",
]
