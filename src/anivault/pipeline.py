"""The pipeline: scan → match → plan, the one module that imports all three."""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator

from .match import match_files
from .monitor import Metrics
from .organize import Plan, PlanOptions, plan_organize
from .scan import scan
from .tmdb import TMDBSettings


def with_matches(records: Iterable[Any], *, offline: bool, metrics: Metrics,
                 warn: Callable[[str], None], tmdb: TMDBSettings | None = None,
                 min_confidence: float | None = None) -> tuple[Iterator[tuple[Any, Any, str]], str, int]:
    """``(record, match or None, why not)`` for every record: (the triples, "tmdb" or "cache", how many
    videos went unmatched because TMDB was unavailable).

    ``offline`` answers from the TMDB cache only. Without ``offline`` and without a TMDB
    credential the matcher refuses (the same error as ``anivault match``): nothing is filed
    on a guess, so there is no silent "parsed names only" mode here.
    """
    tmdb = tmdb or TMDBSettings()
    files, _, summary = match_files(records, offline=offline, warn=warn, metrics=metrics, tmdb=tmdb,
                                    min_confidence=min_confidence)
    # TMDB failed to answer (breaker open, or retries exhausted) in an online run: the unmatched
    # files include some it would have placed.
    down = not offline and (summary.cache_only or summary.client.get("unavailable", 0) > 0)
    unavailable = summary.unmatched if down else 0
    if unavailable:
        warn(f"TMDB was unavailable during this run: {unavailable:,} unmatched files are left where they "
             f"are; run again later")
    triples = ((fm.record, fm.match, fm.reason or "") for fm in files)
    return triples, "cache" if offline else "tmdb", unavailable


def scan_and_plan(roots: Iterable[str], options: PlanOptions, *, offline: bool = False,
                  metrics: Metrics | None = None, warn: Callable[[str], None] | None = None,
                  exclude: Iterable[str] = (), recursive: bool = True, use_index: bool = True,
                  on_record: Callable[[], None] | None = None, cache_dir: str | None = None,
                  tmdb: TMDBSettings | None = None, min_confidence: float | None = None) -> Plan:
    """Scan ``roots``, match every file on TMDB (``offline``: its cache only), and plan.

    ``cache_dir`` holds the scan index; ``tmdb`` configures matching (see with_matches); files
    matching cannot place are handled by ``options.unmatched``."""
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    roots = [os.path.abspath(r) for r in roots]
    options = replace(options, sources=tuple(roots))
    run = scan(roots, recursive=recursive, exclude=exclude, use_index=use_index, metrics=metrics,
               on_warning=lambda w: warn(str(w)), cache_dir=cache_dir)
    records: Iterable[Any] = run
    if on_record is not None:
        records = _tapped(run, on_record)
    items, source, unavailable = with_matches(records, offline=offline, metrics=metrics, warn=warn, tmdb=tmdb,
                                              min_confidence=min_confidence)
    plan = plan_organize(items, options, offline=offline, metrics=metrics)
    plan.matching = source
    plan.tmdb_unavailable = unavailable
    return plan


def _tapped(records: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for record in records:
        tick()
        yield record