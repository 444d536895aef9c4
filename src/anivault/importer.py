"""Import: one finished download (a file or a folder) through scan → match → plan → apply.

Made for download clients' "run on completion" hooks (``anivault import "%F"
--dest ~/Anime``). The default action is ``hardlink``, so the torrent keeps
seeding from its own folder. A hard link cannot cross filesystems: then the
``cross_fs`` setting chooses ``copy`` or ``skip`` (never a move out of a
seeding folder). Several hooks finishing at once queue on the destination
lock instead of failing, for at most ``lock_wait`` seconds.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Iterable

from .errors import RefusedError, UsageError
from .journal import unfinished
from .monitor import Metrics
from .nfo import Collector, nfo_files
from .tmdb import TMDBSettings
from .organize import ApplyReport, Plan, PlanOptions, apply_plan

CROSS_FS_CHOICES = ("copy", "skip")
DEFAULT_LOCK_WAIT = 600.0  # seconds a hook waits for another run on the same library
_POLL = 0.2


@dataclass
class ImportReport:
    sources: list[str]
    action: str  # what was done: hardlink, copy (across filesystems), or the action asked for
    plan: Plan | None = None
    applied: ApplyReport | None = None
    skipped: str = ""  # why nothing was imported (cross-filesystem skip)
    waited: float = 0.0  # seconds spent queued on the destination lock
    refused: list[Any] = field(default_factory=list)  # verify results of files not filed (CRC mismatch)

    def to_dict(self) -> dict[str, Any]:
        return {"sources": self.sources, "action": self.action, "skipped": self.skipped,
                "waited_s": round(self.waited, 3),
                "plan": self.plan.summary().to_dict() if self.plan else None,
                "applied": self.applied.to_dict() if self.applied else None,
                "refused_crc": len(self.refused)}


def nearest_existing(path: str) -> str:
    """``path`` or its closest existing parent (a destination may not exist yet)."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def same_filesystem(sources: Iterable[str], dests: Iterable[str]) -> bool:
    """Can every source be hard-linked into every destination root (one device for all)?"""
    devices = {os.stat(p).st_dev for p in sources} | {os.stat(nearest_existing(d)).st_dev for d in dests}
    return len(devices) == 1


def choose_action(sources: list[str], options: PlanOptions, cross_fs: str) -> str:
    """The action to use, or "" to skip: a hardlink across filesystems becomes ``cross_fs``."""
    if cross_fs not in CROSS_FS_CHOICES:
        raise UsageError(f"import cross-filesystem setting {cross_fs!r} is not one of "
                         f"{', '.join(CROSS_FS_CHOICES)}", hint="never a move: choose copy or skip")
    if options.action != "hardlink" or same_filesystem(sources, options.roots):
        return options.action
    return "copy" if cross_fs == "copy" else ""


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def wait_for_lock(roots: list[str], deadline: float, data_dir: str | None) -> None:
    """Return once no other run holds the destination lock; RefusedError after ``deadline``."""
    from .journal import DestinationLock

    while True:
        try:
            DestinationLock(roots, "import (waiting)", data_dir).acquire().release()
            return
        except RefusedError as e:
            if time.monotonic() >= deadline:
                raise RefusedError(f"{e.message}; gave up waiting",
                                   hint="another import or organize is still filing into this library; "
                                        "raise the import lock wait or run the hook again later") from e
        _sleep(_POLL)


def import_paths(paths: Iterable[str], options: PlanOptions, *, cross_fs: str = "copy",
                 lock_wait: float = DEFAULT_LOCK_WAIT, offline: bool = False,
                 metrics: Metrics | None = None, warn: Callable[[str], None] | None = None,
                 data_dir: str | None = None,
                 check: Callable[[Plan], list[Any]] | None = None, nfo: bool = False,
                 tmdb: TMDBSettings | None = None, cache_dir: str | None = None,
                 min_confidence: float | None = None) -> ImportReport:
    """Import finished downloads into ``options.dest``; returns what happened.

    ``check`` may set plan entries aside before applying (``--verify``: CRC
    mismatches) and returns what it refused. While another run holds the
    destination lock this waits (re-planning once it is free, since that run
    may have filed the same episodes) for at most ``lock_wait`` seconds.
    ``nfo`` writes the NFOs of matched files (journaled with them). ``tmdb``,
    ``cache_dir`` and ``min_confidence`` go to the pipeline (matching, the scan index).
    """
    from .pipeline import scan_and_plan

    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    sources = [os.path.abspath(p) for p in paths]
    for path in sources:
        if not os.path.exists(path):
            raise UsageError(f"nothing to import at {path}", hint="pass the finished file or folder (qBittorrent: \"%F\")")
    report = ImportReport(sources, options.action)
    action = choose_action(sources, options, cross_fs)
    if not action:
        report.skipped = (f"{options.dest} is on another filesystem than the download: a hard link is impossible "
                          "and the cross-filesystem setting says skip")
        warn(report.skipped)
        return report
    if action != options.action:
        warn(f"{options.dest} is on another filesystem: copying instead of hard-linking (the download keeps seeding)")
    report.action = action
    options = replace(options, action=action)
    started = time.monotonic()
    deadline = started + max(0.0, lock_wait)
    while True:
        wait_for_lock(options.roots, deadline, data_dir)
        report.waited = time.monotonic() - started
        collector = Collector() if nfo else None
        plan = scan_and_plan(sources, options, offline=offline, metrics=metrics, warn=warn, tmdb=tmdb,
                             cache_dir=cache_dir, min_confidence=min_confidence,
                             tap_items=collector.tap if collector else None)
        report.plan = plan
        report.refused = check(plan) if check else []
        try:
            report.applied = apply_plan(plan, metrics=metrics, warn=warn, data_dir=data_dir,
                                        extra_files=partial(nfo_files, collector=collector) if collector else None)
            return report
        except RefusedError:
            # Refused for an interrupted run (resume or undo it first): not ours to wait out.
            # Otherwise another run took the lock between our wait and our apply: queue again.
            if unfinished(options.roots, data_dir) or time.monotonic() >= deadline:
                raise
