"""``anivault scan``: the files under each PATH, with parsed names; NDJSON or tables."""
from __future__ import annotations

import sys
from typing import Any

import click

from .options import json_option, strict_option, with_settings

WARNINGS_SHOWN = 50  # on stderr; the summary has the exact count


@click.command("scan")
@click.argument("paths", nargs=-1, required=True)
@json_option("NDJSON on stdout: one object per file, then the summary.")
@click.option("--no-recursive", is_flag=True, help="Only the files directly in each PATH.")
@click.option("--min-size", default="0", metavar="SIZE", help="Skip files smaller than SIZE (500K, 10M, 1.5G).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files and folders whose name matches (with a '/': the path below PATH). Repeatable.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symlinks (loops are detected and skipped).")
@click.option("--no-cache", is_flag=True, help="Neither read nor update the index.")
@strict_option("Exit 3 when there were warnings.")
@with_settings("cache_dir", "workers")
def scan_command(paths: tuple[str, ...], as_json: bool, no_recursive: bool, min_size: str,
                 exclude: tuple[str, ...], follow_symlinks: bool, no_cache: bool, strict: bool,
                 settings: Any) -> None:
    """List the video, subtitle and other files under each PATH, with parsed names."""
    from ..errors import EXIT_WARNINGS
    from ..scan import parse_size, scan
    from . import output
    from .context import current_metrics

    shown = WarningPrinter()
    run = scan(paths, recursive=not no_recursive, min_size=parse_size(min_size), exclude=exclude,
               follow_symlinks=follow_symlinks, use_index=not no_cache, cache_dir=settings.cache_dir,
               workers=settings.workers, metrics=current_metrics(), on_warning=shown)
    if as_json:
        _ndjson(run)
        if output.is_tty(sys.stderr):
            output.render_scan_summary(run.summary, sys.stderr)
    else:
        output.render_series_table(_series(run))
        output.render_scan_summary(run.summary, sys.stdout)
    shown.finish()
    if strict and run.summary.warning_count:
        sys.exit(EXIT_WARNINGS)


class WarningPrinter:
    """Each warning one line on stderr, the first WARNINGS_SHOWN of them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, warning: Any) -> None:
        from .context import warn

        self.count += 1
        if self.count <= WARNINGS_SHOWN:
            warn(str(warning), counted=True)  # the scan counts its own warnings

    def finish(self) -> None:
        from .context import warn

        if self.count > WARNINGS_SHOWN:
            warn(f"{self.count - WARNINGS_SHOWN} more warnings not shown ({self.count} in all)", counted=True)


def _ndjson(run: Any) -> None:
    """The scan's NDJSON as the render twin makes it, then the summary object."""
    from . import output
    from .progress import scan_progress

    with scan_progress(run) as progress:
        output.write_ndjson(run.ndjson_bytes(), progress.tick)
    summary = _summary(run)
    summary["warning_messages"] = [str(w) for w in run.summary.warnings]
    summary["metrics"] = _snapshot()
    output.json_line({"summary": summary})


def _series(run: Any) -> dict[tuple[str, Any], list[Any]]:
    """(title, season) -> [episodes, videos, subtitles] over the whole scan (per-series state)."""
    from ..parse import series_title
    from .progress import scan_progress

    series: dict[tuple[str, Any], list[Any]] = {}
    with scan_progress(run) as progress:
        for n, record in enumerate(run):
            parsed = record.parsed
            title = series_title(parsed) if parsed is not None else None
            if title:
                entry = series.setdefault((title, parsed.season), [set(), 0, 0])
                if record.kind == "video":
                    entry[1] += 1
                    if parsed.episode is not None and parsed.kind != "extra":  # NCOP1 is no episode 1
                        entry[0].add(parsed.episode)
                else:
                    entry[2] += 1
            if n & 1023 == 0:
                progress.tick()
    return series


def _summary(run: Any) -> dict[str, Any]:
    from ..monitor import kernel_peak_rss

    summary: dict[str, Any] = run.summary.to_dict()
    summary["peak_rss"] = kernel_peak_rss()
    return summary


def _snapshot() -> dict[str, Any]:
    from .context import current_metrics

    return current_metrics().snapshot()
