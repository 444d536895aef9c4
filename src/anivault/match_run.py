"""Matching runs: the library's entry points over a Matcher (match.py), and the run's summary.

resolve_windows streams records through one Matcher and one TMDB client (made from the
settings with the persistent cache, unless given), keeps the metrics' request and cache
counters live, and reports the series and a MatchSummary at the end. Import these names
from anivault.match (this module imports the matcher from there).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .match import DEFAULT_MIN_CONFIDENCE, FileMatch, Match, Matcher, by_folder
from .monitor import Metrics
from .monitor.metrics import CACHE_HITS, CACHE_MISSES, REQUESTS, RETRIES
from .numbering import check_order
from .search import Series
from .tmdb import TMDBClient, TMDBSettings


def match_records(records: Iterable[Any], **kw: Any) -> Iterator[tuple[Any, Match | None]]:
    """(record, Match or None) for every record, in order, streaming (see resolve_records)."""
    for fm in resolve_records(records, **kw):
        yield fm.record, fm.match


def match_files(records: Iterable[Any], **kw: Any) -> tuple[list[FileMatch], list[Series], MatchSummary]:
    """Match every record: (files with reasons, the series, the run summary). Holds every file:
    for `anivault match`'s report; pipelines use resolve_records."""
    report: dict[str, Any] = {}
    files = list(resolve_records(records, report=report, **kw))
    return files, report["series"], report["summary"]


def resolve_records(records: Iterable[Any], **kw: Any) -> Iterator[FileMatch]:
    """Every record as a FileMatch (its Match, or the reason it has none), in order, streaming
    (resolve_windows' keywords)."""
    make = FileMatch._make
    for files in resolve_windows(by_folder(records), **kw):
        yield from map(make, files)


def resolve_windows(folders: Iterable[list[Any]], *, client: TMDBClient | None = None, offline: bool = False,
                    min_confidence: float | None = None, warn: Callable[[str], None] | None = None,
                    progress: Callable[[Series], None] | None = None, metrics: Metrics | None = None,
                    pins: Any = None, order: str | None = None, episode_titles: bool = False,
                    report: dict[str, Any] | None = None, window: int = 2000,
                    tmdb: TMDBSettings | None = None) -> Iterator[list[tuple[Any, Match | None, str | None]]]:
    """Every record's ``(record, match, reason)``, in order, streaming: one list per window.

    ``folders`` are lists of records of one folder each (a scan's ``folders()``, or by_folder).
    Records are read ``window`` at a time: the series new in a window are
    resolved in parallel, then its files are placed; only per-series state
    is kept. Without ``client``, one is made from ``tmdb`` (default:
    TMDBSettings()) with the persistent cache, and closed at the end.
    ``pins`` defaults to the default data dir's pins (pins.Pins); ``order``
    to "tmdb"; a pin's own order wins over it. ``metrics`` gets the request and cache counters and the "match"
    stage time (the matcher's own time, not the scan's that feeds it).
    At the end ``report`` (when given) gets "series" and "summary".
    """
    from .pins import Pins

    threshold = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
    order = check_order(order or "tmdb")
    pins = Pins.load(warn=warn) if pins is None else pins
    own = client is None
    if own:
        tmdb = tmdb or TMDBSettings()
        cache = tmdb.open_cache()
        try:
            client = TMDBClient.from_settings(tmdb, offline=offline, cache=cache, warn=warn)
        except BaseException:
            cache.close()
            raise
        for w in cache.warnings:
            (warn or (lambda m: None))(w)
    try:
        matcher = Matcher(client, min_confidence=threshold, pins=pins, order=order,
                          episode_titles=episode_titles)
        live = _LiveCounters(client, metrics)

        def announce(n: int) -> None:
            if metrics is not None:
                metrics.expect(n, SERIES_DONE, "series")

        def resolved(series: Series) -> None:
            live.sync(series_done=1)
            if progress:
                progress(series)

        yield from matcher.windows(folders, resolved, announce, window=window)
        tally = _Tally(matcher.files, matcher.candidates, matcher.matched)
        summary = tally.summary(client, matcher.series)
        if metrics is not None:
            metrics.add_time("match", matcher.busy_s, tally.files)
            live.sync(final=True)
            metrics.expect(None)
            metrics.merge({"matched": summary.matched, "unmatched": summary.unmatched})
        if own and client.cache is not None:
            client.cache.record_run(summary.requests, summary.cache_hits, summary.cache_misses)
        if report is not None:
            report.update(series=matcher.series, summary=summary)
    finally:
        if own:
            client.close()
            if client.cache is not None:
                client.cache.close()


class _Tally:
    """The run's file counts, kept as the files stream by."""

    def __init__(self, files: int = 0, candidates: int = 0, matched: int = 0) -> None:
        self.files, self.candidates, self.matched = files, candidates, matched

    def add(self, fm: FileMatch) -> None:
        self.files += 1
        if fm.record.parsed is not None:
            self.candidates += 1
            self.matched += fm.match is not None

    def summary(self, client: TMDBClient, series: list[Series]) -> "MatchSummary":
        c = client.summary()
        return MatchSummary(files=self.files, candidates=self.candidates, matched=self.matched,
                            unmatched=self.candidates - self.matched, series=len(series),
                            series_matched=sum(1 for s in series if s.matched), requests=c["requests"],
                            retries=c["retries"], rate_limited=c["rate_limited"], cache_hits=c["cache_hits"],
                            cache_misses=c["cache_misses"], hit_rate=c["hit_rate"], cache_only=c["cache_only"],
                            client=c)


SERIES_DONE = "series_matched"  # series resolved so far (a match or a reason): the match phase's progress

# The TMDB client's counters the run's shared Metrics carries, under its names.
_SHARED = {"requests": REQUESTS, "retries": RETRIES, "cache_hits": CACHE_HITS,
           "cache_misses": CACHE_MISSES, "rate_limited": "rate_limited"}


class _LiveCounters:
    """Copies the TMDB client's request and cache counters into the run's Metrics as they
    grow (once per resolved series), so the live line and progress events show requests,
    retries and the cache hit rate during the match, not only after it."""

    def __init__(self, client: TMDBClient, metrics: Metrics | None) -> None:
        self.client, self.metrics = client, metrics
        self.sent: dict[str, int] = {}

    def sync(self, series_done: int = 0, final: bool = False) -> None:
        """Add what grew since the last sync; ``final`` also names counters still at 0."""
        if self.metrics is None:
            return
        now = self.client.counters
        delta = {}
        for name, shared in _SHARED.items():
            value = int(now.get(name, 0))
            if value != self.sent.get(name, 0) or final:
                delta[shared] = value - self.sent.get(name, 0)
                self.sent[name] = value
        if series_done:
            delta[SERIES_DONE] = series_done
        if delta:
            self.metrics.merge(delta)


@dataclass(frozen=True)
class MatchSummary:
    """One match run: files and series placed, and the TMDB client's counters."""

    files: int
    candidates: int  # files with a parsed name
    matched: int
    unmatched: int
    series: int
    series_matched: int
    requests: int
    retries: int
    rate_limited: int
    cache_hits: int
    cache_misses: int
    hit_rate: float | None
    cache_only: bool  # offline, or the circuit breaker kept TMDB out
    client: dict[str, Any] = field(default_factory=dict)  # every counter of TMDBClient.summary()

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "candidates": self.candidates, "matched": self.matched,
                "unmatched": self.unmatched, "series": self.series, "series_matched": self.series_matched,
                **self.client}


def run_summary(client: TMDBClient, files: list[FileMatch], series: list[Series]) -> MatchSummary:
    tally = _Tally()
    for fm in files:
        tally.add(fm)
    return tally.summary(client, series)
