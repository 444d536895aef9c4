"""Runs the bench: every stage's variants, interleaved, K times, each gated run beside a calibration.

Interleaving (repeat 1: scan, parse, …; repeat 2: scan, parse, …) spreads a
burst of load from another process over every stage instead of one. Each
gated run is bracketed by calibration runs (three before, three after); its
*score* is its throughput in units of the calibration's (their median), and
a variant's score is the median over the repeats. ``ANIVAULT_BENCH_INJECT_SLOWDOWN=0.25`` (test-only)
makes every gated run 25% slower by busy work inside its timing.
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from typing import Any, Callable, Sequence

from .. import __version__, _speedups
from ..errors import UsageError
from ..monitor import Metrics, ResourceSampler, kernel_peak_rss
from .calibrate import ROUNDS, bracket, calibrate
from .library import Library
from .measure import Outcome, spin
from .stages import BUILDERS, Context, Stage, Variant
from .stats import median, percentile

FORMAT = "anivault-bench/1"
DEFAULT_STAGES = ("scan", "parse", "hash", "lru", "match", "organize")
INJECT_ENV = "ANIVAULT_BENCH_INJECT_SLOWDOWN"


def injected_slowdown() -> float:
    try:
        return max(0.0, float(os.environ.get(INJECT_ENV) or 0))
    except ValueError as e:
        raise UsageError(f"{INJECT_ENV}={os.environ[INJECT_ENV]!r} is not a number",
                         hint="e.g. 0.25 for 25% slower") from e


def run_bench(library: Library, *, repeat: int = 5, stages: Sequence[str] = DEFAULT_STAGES,
              progress: Callable[[str], None] | None = None,
              metrics: Metrics | None = None) -> dict[str, Any]:
    """Benchmark ``stages`` on ``library``; the result in the documented baseline format.

    ``metrics`` (the command's shared Metrics) follows the timed runs: their total, one
    ``bench_runs`` count per run (the live line's rate and ETA) and the stage in progress."""
    unknown = [s for s in stages if s not in BUILDERS]
    if unknown:
        raise UsageError(f"bench: unknown stage {', '.join(unknown)}",
                         hint="choose from " + ",".join(BUILDERS))
    if repeat < 1:
        raise UsageError(f"bench: --repeat must be >= 1, not {repeat}", hint="e.g. --repeat 5")
    inject = injected_slowdown()
    sampler = ResourceSampler(Metrics(), interval=0.02).start()
    started = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="anivault-bench-") as workdir:
            ctx = Context(library, workdir, _window_peak(sampler))
            try:
                built = []
                for name in stages:
                    if progress:
                        progress(f"preparing {name}")
                    built.append(BUILDERS[name](ctx))
                runs = _repeat(built, repeat, inject, progress, metrics)
            finally:
                for stop in ctx.cleanup:
                    stop()
    finally:
        sampler.stop()
    result = _result(library, built, runs, repeat, inject, started)
    result["notes"] = ctx.notes
    return result


def _window_peak(sampler: ResourceSampler) -> Callable[[float, float], int]:
    def peak(start: float, end: float) -> int:
        sampler.sample()
        return max((s.rss for s in sampler.window(start, end + 1)), default=0)

    return peak


BENCH_RUNS = "bench_runs"  # timed runs done: the bench's progress counter


def _repeat(stages: list[Stage], repeat: int, inject: float,
            progress: Callable[[str], None] | None,
            metrics: Metrics | None = None) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {v.key: [] for s in stages for v in s.variants}
    if metrics is not None:
        metrics.expect(repeat * len(runs), BENCH_RUNS, "runs")
    outer = metrics.phase if metrics is not None else ""
    try:
        for r in range(repeat):
            for stage in stages:
                if metrics is not None:
                    metrics.phase = stage.name  # stamped on --metrics progress events
                for variant in stage.variants:
                    if progress:
                        progress(f"repeat {r + 1}/{repeat}: {stage.name}: {variant.label}")
                    runs[variant.key].append(_one_run(variant, inject))
                    if metrics is not None:
                        metrics.count(BENCH_RUNS)
    finally:
        if metrics is not None:
            metrics.phase = outer
            metrics.expect(None)
    return runs


def _one_run(variant: Variant, inject: float) -> dict[str, Any]:
    calib_wall = calib_cpu = None
    if variant.setup is not None:
        variant.setup()
    before = calibrate() if variant.gated else []
    outcome = variant.run()
    if variant.gated and inject:
        # inject × the run's own CPU work, as busy work: what slower code would cost.
        wall, cpu = time.perf_counter(), time.process_time()
        spin(inject * outcome.cpu_s)
        outcome.wall_s += time.perf_counter() - wall
        outcome.cpu_s += time.process_time() - cpu
    if variant.gated:
        calib_wall, calib_cpu = bracket(before + calibrate())
    if variant.teardown is not None:
        variant.teardown()
    return _run_record(outcome, calib_wall, calib_cpu)


def _run_record(o: Outcome, calib_wall: float | None, calib_cpu: float | None) -> dict[str, Any]:
    record: dict[str, Any] = {"items": o.items, "wall_s": round(o.wall_s, 6),
                              "cpu_s": round(o.cpu_s, 6), "peak_rss": o.peak_rss}
    if o.passes > 1:
        record["passes"] = o.passes
    if calib_wall is not None and calib_cpu is not None:
        record.update(calib_wall_s=round(calib_wall, 6), calib_cpu_s=round(calib_cpu, 6))
    if o.counters:
        record["counters"] = o.counters
    if o.bottleneck:
        record["bottleneck"] = o.bottleneck
    return record


def _result(library: Library, stages: list[Stage], runs: dict[str, list[dict[str, Any]]],
            repeat: int, inject: float, started: float) -> dict[str, Any]:
    variants = {v.key: _summarize(stage.name, v, runs[v.key]) for stage in stages
                for v in stage.variants}
    ratios = {r.name: _ratio(r.of, runs[r.numerator], runs[r.denominator])
              for stage in stages for r in stage.ratios}
    return {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "anivault": __version__,
        "backend": _speedups.BACKEND,
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "config": {"files": library.files, "repeat": repeat, "stages": [s.name for s in stages],
                   "library": library.root, "generated": library.generated,
                   "seed": library.seed, "inject_slowdown": inject,
                   "calibration_rounds": ROUNDS},
        "variants": variants,
        "ratios": ratios,
        "metrics": _gate_metrics(variants),
        "calibration": _calibration(runs),
        "peak_rss": kernel_peak_rss(),
        "command": " ".join(["anivault", *sys.argv[1:]]) if sys.argv else "",
    }


def _summarize(stage: str, variant: Variant, runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["items"] / r["wall_s"] for r in runs]
    summary: dict[str, Any] = {
        "stage": stage, "label": variant.label, "unit": variant.unit,
        "gated": variant.gated, "peer": variant.peer,
        "items": runs[0]["items"] // runs[0].get("passes", 1),
        "median_s": round(median([r["wall_s"] for r in runs]), 6),
        "median_per_min": round(median(rates) * 60),
        # P95 throughput: the rate 95% of the runs reached or beat (the slow tail).
        "p95_per_min": round(percentile(rates, 5) * 60),
        "peak_rss": max(r["peak_rss"] for r in runs),
        "runs": runs,
    }
    if variant.gated:
        summary["score"] = round(median([_score(r, "wall_s", "calib_wall_s") for r in runs]), 6)
        summary["cpu_score"] = round(median([_score(r, "cpu_s", "calib_cpu_s") for r in runs]), 6)
        summary["cpu_per_s"] = round(median([r["items"] / max(r["cpu_s"], 1e-9) for r in runs]), 3)
    hit_rate = _hit_rate(runs[-1].get("counters", {}))
    if hit_rate is not None:
        summary["hit_rate"] = hit_rate
    if "bottleneck" in runs[-1]:
        summary["bottleneck"] = runs[-1]["bottleneck"]["sentence"]
    return summary


def _score(run: dict[str, Any], seconds: str, calib_seconds: str) -> float:
    """Items per second in calibration rounds per second: machine speed cancels out."""
    return (run["items"] / max(run[seconds], 1e-9)) / (ROUNDS / run[calib_seconds])


def _hit_rate(counters: dict[str, int]) -> float | None:
    """The TMDB cache's hit rate where the run used it, else the scan index's."""
    for prefix in ("cache", "index"):
        hits, misses = counters.get(f"{prefix}_hits", 0), counters.get(f"{prefix}_misses", 0)
        if hits + misses:
            return round(hits / (hits + misses), 4)
    return None


def _ratio(of: str, top: list[dict[str, Any]], bottom: list[dict[str, Any]]) -> dict[str, Any]:
    if of == "time":
        values = [a["wall_s"] / b["wall_s"] for a, b in zip(top, bottom)]
    else:
        values = [(a["items"] / a["wall_s"]) / (b["items"] / b["wall_s"])
                  for a, b in zip(top, bottom)]
    return {"of": of, "median": round(median(values), 4), "p95": round(percentile(values, 95), 4),
            "values": [round(v, 4) for v in values]}


def _calibration(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The machine's speed as the calibration saw it: ``min_cpu_s`` (its quietest moment)
    tells whether two results come from machines of one speed; see compare.py."""
    cpu = [r["calib_cpu_s"] for rs in runs.values() for r in rs if "calib_cpu_s" in r]
    if not cpu:
        return {}
    return {"rounds": ROUNDS, "min_cpu_s": round(min(cpu), 6), "median_cpu_s": round(median(cpu), 6)}


def _gate_metrics(variants: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The figures --compare judges: each gated variant's scores, and the peak RSS of
    those run as their own process (an in-process figure includes the bench itself)."""
    metrics: dict[str, dict[str, Any]] = {}
    for key, v in variants.items():
        if not v["gated"]:
            continue
        # Judged on CPU time (other processes' load hardly moves it), confirmed on wall time.
        metrics[f"{key}.throughput"] = {"value": v["cpu_score"], "wall_value": v["score"],
                                        "cpu_value": v["cpu_per_s"], "better": "higher",
                                        "unit": f"{v['unit']} per calibration round"}
        if v["peak_rss"] and v.get("runs") and "counters" in v["runs"][-1]:
            metrics[f"{key}.peak_rss"] = {"value": v["peak_rss"], "better": "lower",
                                          "unit": "bytes"}
    return metrics
