"""The pipeline: scan → match → plan, the one module that imports all three."""
from __future__ import annotations

import itertools
import os
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator

from .match import by_folder, resolve_windows
from .monitor import Metrics
from .organize import Plan, PlanOptions, plan_organize
from .scan import scan
from .tmdb import TMDBSettings


def with_matches(records: Iterable[Any], *, offline: bool, metrics: Metrics,
                 warn: Callable[[str], None], tmdb: TMDBSettings | None = None,
                 min_confidence: float | None = None, order: str | None = None, episode_titles: bool = False,
                 pins: Any = None, report: dict[str, Any] | None = None,
                 folders: Iterable[list[Any]] | None = None) -> tuple[Iterator[tuple[Any, Any, Any]], str]:
    """``(record, match or None, why not or None)`` for every record, streaming, and "tmdb" or "cache".

    ``offline`` answers from the TMDB cache only. Without ``offline`` and without a TMDB
    credential the matcher refuses (the same error as ``anivault match``): nothing is filed
    on a guess, so there is no silent "parsed names only" mode here. ``order``, ``episode_titles``
    and ``pins`` go to the matcher; ``report`` gets the match summary once the triples are consumed
    (see tmdb_unavailable). ``folders`` (the records in lists of one folder each, a scan's
    ``folders()``) replaces ``records``: then no step runs per file between the scan and the planner.
    """
    tmdb = tmdb or TMDBSettings()
    windows = resolve_windows(by_folder(records) if folders is None else folders, offline=offline, warn=warn,
                              metrics=metrics, tmdb=tmdb, min_confidence=min_confidence, order=order,
                              episode_titles=episode_titles, pins=pins, report=report)
    return itertools.chain.from_iterable(windows), "cache" if offline else "tmdb"


def tmdb_unavailable(report: dict[str, Any], offline: bool, warn: Callable[[str], None]) -> int:
    """How many videos went unmatched because TMDB was unavailable (breaker open, retries exhausted)
    in an online run, read from a consumed with_matches report; warns when there are any."""
    summary = report.get("summary")
    down = summary is not None and not offline and (summary.cache_only or summary.client.get("unavailable", 0) > 0)
    unavailable = summary.unmatched if down else 0
    if unavailable:
        warn(f"TMDB was unavailable during this run: {unavailable:,} unmatched files are left where they "
             f"are; run again later")
    return unavailable


def scan_and_plan(roots: Iterable[str], options: PlanOptions, *, offline: bool = False,
                  metrics: Metrics | None = None, warn: Callable[[str], None] | None = None,
                  exclude: Iterable[str] = (), recursive: bool = True, use_index: bool = True,
                  on_record: Callable[[], None] | None = None, on_records: Callable[[int], None] | None = None,
                  cache_dir: str | None = None,
                  tmdb: TMDBSettings | None = None, min_confidence: float | None = None,
                  order: str | None = None, pins: Any = None,
                  tap_items: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> Plan:
    """Scan ``roots``, match every file on TMDB (``offline``: its cache only), and plan.

    ``cache_dir`` holds the scan index; ``tmdb`` configures matching (see with_matches); files
    matching cannot place are handled by ``options.unmatched``. ``tap_items`` sees the
    (record, match, reason) items on their way to the planner (``--nfo``'s collector).
    ``on_records(n)`` is told of each folder's n records as they are scanned (``on_record()``: of each).
    The records go from the scan to the matcher a folder at a time, and from the matcher to the
    planner a window at a time."""
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    roots = [os.path.abspath(r) for r in roots]
    options = replace(options, sources=tuple(roots))
    run = scan(roots, recursive=recursive, exclude=exclude, use_index=use_index, metrics=metrics,
               on_warning=lambda w: warn(str(w)), cache_dir=cache_dir)
    folders: Iterable[list[Any]] = run.folders()
    if on_record is not None or on_records is not None:
        folders = _counted(folders, on_records, on_record)
    titles = "{episode_title" in options.template or "{episode_title" in options.movie_template
    report: dict[str, Any] = {}
    items, source = with_matches((), folders=folders, offline=offline, metrics=metrics, warn=warn, tmdb=tmdb,
                                 min_confidence=min_confidence, order=order, episode_titles=titles, pins=pins,
                                 report=report)
    if tap_items is not None:
        items = tap_items(items)
    plan = plan_organize(items, options, offline=offline, metrics=metrics)
    plan.matching = source
    plan.tmdb_unavailable = tmdb_unavailable(report, offline, warn)
    return plan


def _counted(folders: Iterable[list[Any]], count: Callable[[int], None] | None,
             tick: Callable[[], None] | None) -> Iterator[list[Any]]:
    for records in folders:
        if count is not None:
            count(len(records))
        if tick is not None:
            for _ in records:
                tick()
        yield records