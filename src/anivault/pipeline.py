"""The pipeline: scan → match → plan, the one module that imports all three."""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator

from .match import match_records
from .monitor import Metrics
from .organize import Plan, PlanOptions, plan_organize
from .scan import scan
from .tmdb import TMDBSettings


def matching_source(tmdb: TMDBSettings) -> str:
    """"tmdb" with a TMDB credential, "cache" with only a TMDB cache on disk, else "offline"."""
    if tmdb.has_credentials:
        return "tmdb"
    try:
        if os.stat(tmdb.cache_path).st_size > 0:
            return "cache"
    except OSError:
        pass
    return "offline"


def with_matches(records: Iterable[Any], *, offline: bool, metrics: Metrics,
                 warn: Callable[[str], None], tmdb: TMDBSettings | None = None,
                 min_confidence: float | None = None, order: str | None = None,
                 episode_titles: bool = False, pins: Any = None) -> tuple[Iterable[Any], str]:
    """``(record, match)`` pairs when TMDB (or its cache alone) can answer; else the records as they are.

    Returns the items and how they were matched: "tmdb", "cache" or "offline".
    A file the matcher cannot place keeps its parsed name. ``tmdb`` (default:
    TMDBSettings()) says where the cache is and which credentials to use; ``order``
    ("tmdb", "absolute", "group:<id>"), ``episode_titles`` (fetch TMDB's episode names)
    and ``pins`` (default: the user data dir's) go to the matcher.
    """
    if offline:
        return records, "offline"
    tmdb = tmdb or TMDBSettings()
    source = matching_source(tmdb)
    if source == "offline":
        return records, source
    return match_records(records, offline=source == "cache", warn=warn, metrics=metrics, tmdb=tmdb,
                         min_confidence=min_confidence, order=order, episode_titles=episode_titles,
                         pins=pins), source


def scan_and_plan(roots: Iterable[str], options: PlanOptions, *, offline: bool = False,
                  metrics: Metrics | None = None, warn: Callable[[str], None] | None = None,
                  exclude: Iterable[str] = (), recursive: bool = True, use_index: bool = True,
                  on_record: Callable[[], None] | None = None, cache_dir: str | None = None,
                  tmdb: TMDBSettings | None = None, min_confidence: float | None = None,
                  order: str | None = None, pins: Any = None) -> Plan:
    """Scan ``roots``, match when TMDB is configured (unless ``offline``), and plan.

    ``cache_dir`` holds the scan index; ``tmdb`` configures matching (see with_matches)."""
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    roots = [os.path.abspath(r) for r in roots]
    options = replace(options, sources=tuple(roots))
    run = scan(roots, recursive=recursive, exclude=exclude, use_index=use_index, metrics=metrics,
               on_warning=lambda w: warn(str(w)), cache_dir=cache_dir)
    records: Iterable[Any] = run
    if on_record is not None:
        records = _tapped(run, on_record)
    titles = "{episode_title" in options.template or "{episode_title" in options.movie_template
    items, source = with_matches(records, offline=offline, metrics=metrics, warn=warn, tmdb=tmdb,
                                 min_confidence=min_confidence, order=order, episode_titles=titles, pins=pins)
    plan = plan_organize(items, options, offline=source == "offline", metrics=metrics)
    plan.matching = source
    return plan


def _tapped(records: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for record in records:
        tick()
        yield record