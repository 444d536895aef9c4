"""The pipeline: scan → match → plan, the one module that imports all three."""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator

from .match import MatchStream
from .monitor import Metrics
from .organize import Plan, PlanOptions, plan_organize
from .scan import scan
from .tmdb import TMDBSettings


def with_matches(records: Iterable[Any], *, offline: bool, metrics: Metrics, warn: Callable[[str], None],
                 tmdb: TMDBSettings | None = None, min_confidence: float | None = None) -> MatchStream:
    """Every record matched on TMDB (``offline``: from its cache only), streamed: iterate the result
    for ``(record, match or None, why not)``; its ``summary`` is set once it is exhausted.

    Without ``offline`` and without a TMDB credential the matcher refuses (the same error as
    ``anivault match``): nothing is filed on a guess, so there is no silent "parsed names" mode.
    """
    return MatchStream(records, offline=offline, warn=warn, metrics=metrics, tmdb=tmdb or TMDBSettings(),
                       min_confidence=min_confidence)


def unavailable(stream: MatchStream, offline: bool) -> int:
    """Files left unmatched in an online run in which TMDB failed to answer (breaker open or retries
    exhausted): some of them it would have placed."""
    summary = stream.summary
    if offline or summary is None:
        return 0
    return summary.unmatched if summary.cache_only or summary.client.get("unavailable", 0) > 0 else 0


def scan_and_plan(roots: Iterable[str], options: PlanOptions, *, offline: bool = False,
                  metrics: Metrics | None = None, warn: Callable[[str], None] | None = None,
                  exclude: Iterable[str] = (), recursive: bool = True, use_index: bool = True,
                  on_record: Callable[[], None] | None = None, cache_dir: str | None = None,
                  tmdb: TMDBSettings | None = None, min_confidence: float | None = None,
                  tap_items: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> Plan:
    """Scan ``roots``, match every file on TMDB (``offline``: its cache only), and plan.

    ``cache_dir`` holds the scan index; ``tmdb`` configures matching (see with_matches); files
    matching cannot place are handled by ``options.unmatched``. ``tap_items`` sees the
    (record, match) items on their way to the planner (``--nfo``'s collector)."""
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    roots = [os.path.abspath(r) for r in roots]
    options = replace(options, sources=tuple(roots))
    run = scan(roots, recursive=recursive, exclude=exclude, use_index=use_index, metrics=metrics,
               on_warning=lambda w: warn(str(w)), cache_dir=cache_dir)
    records: Iterable[Any] = run
    if on_record is not None:
        records = _tapped(run, on_record)
    stream = with_matches(records, offline=offline, metrics=metrics, warn=warn, tmdb=tmdb,
                          min_confidence=min_confidence)
    items = ((fm.record, fm.match, fm.reason or "") for fm in stream)
    if tap_items is not None:
        items = tap_items(items)
    plan = plan_organize(items, options, offline=offline, metrics=metrics)
    plan.matching = "cache" if offline else "tmdb"
    plan.tmdb_unavailable = unavailable(stream, offline)
    if plan.tmdb_unavailable:
        warn(f"TMDB was unavailable during this run: {plan.tmdb_unavailable:,} unmatched files are left where "
             f"they are; run again later")
    return plan


def _tapped(records: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for record in records:
        tick()
        yield record