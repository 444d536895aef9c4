"""``anivault match``: the TMDB series or movie, season and episode of every file."""
from __future__ import annotations

import sys
from typing import Any, Callable

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

    # NDJSON streams a line per file as it is matched (nothing per file is held); the tables
    # need only the series, which are per-series state.
    series, summary = match_paths(paths, "matching", offline, settings,
                                  on_files=output.match_window_writer() if as_json else None)
    if not as_json:
        with current_metrics().stage("output", items=len(series)):
            output.render_match_series(series)
    output.render_match_summary(summary, current_metrics().snapshot(), as_json)
    if summary.cache_only and not offline:
        warn("TMDB kept failing: this run answered from the cache only; run again later for the rest")
    if strict and summary.unmatched:
        sys.exit(EXIT_WARNINGS)


def match_paths(paths: tuple[str, ...], label: str, offline: bool, settings: Any,
                on_files: Callable[[Any], None] | None = None) -> tuple[Any, Any]:
    """Scan PATHs and match them, streaming, with a live line: each window's ``(record, match, reason)``
    list goes to ``on_files`` as it is matched; returns (series, MatchSummary)."""
    from ..match import resolve_windows
    from ..pins import Pins, default_path
    from ..scan import scan
    from .context import current_metrics, warn
    from .progress import SeriesProgress
    from .scan import WarningPrinter

    metrics = current_metrics()
    shown = WarningPrinter()
    run = scan(paths, metrics=metrics, on_warning=shown, cache_dir=settings.cache_dir)
    report: dict[str, Any] = {}
    # A live line on the terminal that also shows the NDJSON would be torn by it: none then.
    with SeriesProgress(label, enabled=False if on_files is not None and _stdout_is_tty() else None) as progress:
        windows = resolve_windows(progress.ticking(run.folders()), warn=warn, progress=progress.series_done,
                                  metrics=metrics, offline=offline, min_confidence=settings.min_confidence,
                                  tmdb=settings.tmdb(), order=settings.order,
                                  pins=Pins.load(default_path(settings.data_dir), warn=warn), report=report)
        for files in windows:
            if on_files is not None:
                on_files(files)
    shown.finish()
    return report["series"], report["summary"]


def _stdout_is_tty() -> bool:
    from .output import is_tty

    return is_tty(sys.stdout)
