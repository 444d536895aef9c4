"""``anivault import``: one finished download into the library (download clients' completion hook)."""
from __future__ import annotations

import sys
from typing import Any, Callable, TypeVar

import click

from .handoff import Handoff, handoff_options
from .organize import unmatched_option
from .options import json_option, strict_option, with_settings

F = TypeVar("F", bound=Callable[..., Any])
IMPORT_SETTINGS = ("template", "movie_template", "colon_style", "import_cross_fs", "import_lock_wait")


def import_options(f: F) -> F:
    """What import and watch share: where files go and how (hardlink by default: seeding continues)."""
    for option in reversed([
        click.option("--dest", required=True, type=click.Path(file_okay=False), help="Library root for series."),
        click.option("--movies-dest", type=click.Path(file_okay=False),
                     help="Library root for movies (default: DEST/Movies)."),
        click.option("--action", type=click.Choice(["hardlink", "copy", "symlink", "move"]), default="hardlink",
                     show_default=True, help="hardlink keeps the download seeding; across filesystems the "
                                             "cross-fs setting copies or skips instead."),
        click.option("--duplicates", type=click.Choice(["keep-all", "best", "skip"]), default="keep-all",
                     show_default=True, help="Two releases of one episode."),
        click.option("--conflict", type=click.Choice(["skip", "rename", "fail"]), default="skip",
                     show_default=True, help="A different file already at the destination."),
        click.option("--target", type=click.Choice(["auto", "windows", "posix"]), default="auto",
                     show_default=True, help="Path-length rules: auto detects NTFS/FAT/SMB destinations."),
        click.option("--long-paths", is_flag=True, help="The Windows target has long paths enabled."),
        click.option("--offline", is_flag=True, help="Match from the TMDB cache only; no request is made."),
        unmatched_option,
        handoff_options,
    ]):
        f = option(f)
    return f


def plan_options(kw: dict[str, Any], sources: tuple[str, ...]) -> Any:
    from .organize import _plan_options

    return _plan_options({**kw, "keep_names": False}, sources)


def import_batch(paths: list[str] | tuple[str, ...], kw: dict[str, Any], handoff: Handoff) -> Any:
    """import_paths with the command's options and settings; --notify after it."""
    from ..importer import import_paths
    from .context import current_metrics, warn

    s = kw["settings"]
    report = import_paths(paths, plan_options(kw, tuple(paths)), cross_fs=s.import_cross_fs,
                          lock_wait=s.import_lock_wait, offline=kw["offline"], metrics=current_metrics(),
                          warn=warn, data_dir=s.data_dir, check=handoff.check, nfo=kw["nfo"],
                          tmdb=None if kw["offline"] else s.tmdb(), cache_dir=s.cache_dir,
                          min_confidence=s.min_confidence)
    if report.applied is not None:
        handoff.notify(report.applied.op)
    return report


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@import_options
@json_option("One JSON object.")
@strict_option("Exit 3 when a file failed, was refused (CRC), skipped, or the refresh failed.")
@with_settings(*IMPORT_SETTINGS)
def import_command(paths: tuple[str, ...], **kw: Any) -> None:
    """File one finished download (a file or a folder) into the library: scan, match, plan, apply.

    \b
    qBittorrent, "Run external program on torrent finished":
        anivault import "%F" --dest ~/Anime
    Hard links by default, so the torrent keeps seeding. Several hooks at once
    wait for each other (the import_lock_wait setting), they do not fail.
    """
    from ..organize import CONFLICT
    from . import output
    from .context import current_metrics
    from .organize import warn_failures

    handoff = Handoff(kw)
    report = import_batch(paths, kw, handoff)
    failures = report.applied.failed if report.applied is not None else []
    warn_failures(failures)
    output.render_import(report, current_metrics().snapshot(), kw["as_json"])
    conflicts = report.plan is not None and any(e.status == CONFLICT for e in report.plan.entries)
    if kw["strict"] and (failures or conflicts or report.skipped or handoff.problems):
        sys.exit(3)
