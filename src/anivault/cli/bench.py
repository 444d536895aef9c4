"""``anivault bench``: every stage timed on a demo library; --compare gates regressions (exit 4)."""
from __future__ import annotations

from typing import Any

import click

from .options import json_option, with_settings


@click.command("bench")
@click.option("--files", type=click.IntRange(min=1), default=300_000, show_default=True,
              help="Size of the demo library (generated once under the cache dir, then reused).")
@click.option("--repeat", type=click.IntRange(min=1), default=5, show_default=True,
              help="Runs of every stage, interleaved; medians and P95 over them.")
@click.option("--stages", default=None,
              help="Comma list of stages: scan,parse,hash,lru,match,organize (default: all).")
@click.option("--seed", type=int, default=1, show_default=True, help="Demo library seed.")
@click.option("--library", type=click.Path(exists=True, file_okay=False),
              help="Bench this existing tree instead of a demo (it is only read).")
@json_option("The result as one JSON object.")
@click.option("--save", "save_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the result as a baseline (docs/BENCH_FORMAT.md).")
@click.option("--compare", "compare_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Compare with a baseline; exit 4 when a metric regressed beyond --threshold.")
@click.option("--threshold", type=click.FloatRange(min=0), default=10.0, show_default=True,
              metavar="PCT", help="Regression threshold in percent.")
@with_settings("cache_dir")
def bench_command(files: int, repeat: int, stages: str | None, seed: int, library: str | None,
                  as_json: bool, save_file: str | None, compare_file: str | None, threshold: float,
                  settings: Any) -> None:
    """Benchmark every stage; --compare gates regressions (exit 4)."""
    from .. import bench
    from ..errors import RegressionError
    from . import output
    from .context import current_metrics, warn
    from .progress import StepProgress

    baseline = bench.load(compare_file) if compare_file else None  # fail before the long run
    chosen = [s.strip() for s in stages.split(",") if s.strip()] if stages else bench.default_stages()
    metrics = current_metrics()
    with StepProgress("bench", "making the demo library") as progress:
        lib = bench.own_library(library) if library else bench.demo_library(files, seed, settings.cache_dir)
        result = bench.run_bench(lib, repeat=repeat, stages=chosen, progress=progress, metrics=metrics)
        changes = bench.gate(lib, result, baseline, threshold, progress, metrics) if baseline else []
    if baseline is not None:
        result.setdefault("compare", {}).update(
            baseline=compare_file, threshold_pct=threshold, notes=bench.comparable(result, baseline),
            changes=[c.to_dict() for c in changes])
    if save_file:
        bench.save(result, save_file)
    for note in output.render_bench(result, changes, threshold, as_json):
        warn(f"bench: not like for like: {note}")
    regressed = [c for c in changes if c.regressed]
    if regressed:
        raise RegressionError(f"bench: {len(regressed)} metric(s) regressed beyond {threshold:g}%: "
                              + "; ".join(c.sentence() for c in regressed),
                              hint=f"compared with {compare_file}; rerun to rule out noise")
