"""The regression gate: compare with the baseline, and confirm a regression before reporting it.

A burst of load from another process (another engineer's build, a test
filling memory and evicting the page cache) can cost a stage CPU time too,
for a minute. Slower code is slower every time. So when a metric regresses,
the stages behind it run again (same repeats) and only metrics that regress
in both runs are regressions; each is reported with the smaller of its two
changes, the one the evidence supports for sure.
"""
from __future__ import annotations

from typing import Any, Callable

from .compare import Change, compare
from ..monitor import Metrics
from .library import Library
from .runner import run_bench


def gate(library: Library, result: dict[str, Any], baseline: dict[str, Any], threshold: float,
         progress: Callable[[str], None] | None = None,
         metrics: Metrics | None = None) -> list[Change]:
    """Every compared metric; ``regressed`` only where the rerun agreed. Notes the rerun in
    ``result["compare"]["confirmation"]``."""
    first = compare(result, baseline, threshold)
    suspects = [c for c in first if c.regressed]
    if not suspects:
        return first
    stages = sorted({result["variants"][c.metric.split(".")[0]]["stage"] for c in suspects})
    if progress:
        progress(f"confirming {', '.join(c.metric for c in suspects)}")
    rerun = run_bench(library, repeat=result["config"]["repeat"], stages=stages,
                      progress=progress, metrics=metrics)
    again = {c.metric: c for c in compare(rerun, baseline, threshold)}
    result.setdefault("compare", {})["confirmation"] = {
        "stages": stages,
        "first": [c.to_dict() for c in suspects],
        "rerun": [again[c.metric].to_dict() for c in suspects if c.metric in again],
    }
    return [_confirmed(c, again.get(c.metric)) if c.regressed else c for c in first]


def _confirmed(first: Change, rerun: Change | None) -> Change:
    if rerun is None or not rerun.regressed:
        return _cleared(first, rerun)
    # Both regressed: the one closer to zero is what both runs agree on.
    return min(first, rerun, key=lambda c: abs(c.change_pct))


def _cleared(first: Change, rerun: Change | None) -> Change:
    shown = rerun or first
    return Change(shown.metric, shown.baseline, shown.current, shown.change_pct, False,
                  shown.better, shown.wall_change_pct, shown.raw_change_pct)
