"""``anivault match``: the TMDB series or movie, season and episode of every file."""
from __future__ import annotations

import sys
from typing import Any

import click

from .options import json_option, strict_option, tmdb_options


@click.command("match")
@click.argument("paths", nargs=-1, required=True)
@json_option("NDJSON: one object per file with a `tmdb` object (or null and a reason), then the summary.")
@tmdb_options
@strict_option("Exit 3 when a file with a parsed name stayed unmatched.")
def match_command(paths: tuple[str, ...], as_json: bool, strict: bool, offline: bool, settings: Any) -> None:
    """Find the TMDB series or movie, season and episode of every file under PATH."""
    from ..errors import EXIT_WARNINGS
    from . import output
    from .context import current_metrics, warn

    files, series, summary = match_paths(paths, "matching", offline, settings)
    with current_metrics().stage("output", items=len(files)):
        output.render_match_files(files, series, as_json)
    output.render_match_summary(summary, current_metrics().snapshot(), as_json)
    if summary.cache_only and not offline:
        warn("TMDB kept failing: this run answered from the cache only; run again later for the rest")
    if strict and summary.unmatched:
        sys.exit(EXIT_WARNINGS)


def match_paths(paths: tuple[str, ...], label: str, offline: bool, settings: Any) -> tuple[Any, Any, Any]:
    """Scan PATHs and match them: (files, series, MatchSummary), with a live line."""
    from ..match import match_files
    from ..pins import Pins, default_path
    from ..scan import scan
    from .context import current_metrics, warn
    from .progress import SeriesProgress
    from .scan import WarningPrinter

    metrics = current_metrics()
    shown = WarningPrinter()
    run = scan(paths, metrics=metrics, on_warning=shown, cache_dir=settings.cache_dir)
    with SeriesProgress(label) as progress:
        result = match_files(progress.ticking(run), warn=warn, progress=progress.series_done, metrics=metrics,
                             offline=offline, min_confidence=settings.min_confidence, tmdb=settings.tmdb(),
                             order=settings.order, pins=Pins.load(default_path(settings.data_dir), warn=warn))
    shown.finish()
    return result
