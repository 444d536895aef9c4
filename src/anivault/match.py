"""Matching: parsed release names → TMDB series or movie, season and episode.

Files are grouped by (normalized title, year, kind) so each series is
searched once (search.py), however many files it has, and titles are cleaned
and folded once per distinct title. A pin (pins.py) decides a series without
a search. Each file's season and episode are then
placed on TMDB's structure by numbering.py (merged or split cours, absolute
numbers, specials in season 0) and renumbered for the run's order; a file
that cannot be placed is unmatched, with the reason.
"""
from __future__ import annotations

import functools
import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from .errors import CredentialsError
from .models import ParsedName
from .numbering import (Episode, Layout, Placement, check_order, in_order, parse_date, place_numbered,
                        place_special, to_absolute)
from .search import Search, Series, cleaned_title
from .titles import clean_title, fold, shortened, special_name, title_similarity, year_score  # noqa: F401
from .tmdb import TMDBClient, TMDBError

DEFAULT_MIN_CONFIDENCE = 0.6  # below it a file stays unmatched (setting min_confidence)

# ---------------------------------------------------------------- results


class Match(NamedTuple):
    """What a file is, in TMDB's terms (a tuple: one is made per file)."""

    id: int
    media_type: str  # "tv" | "movie"
    title: str
    original_title: str
    year: int | None
    season: int | None
    episode: int | None
    confidence: float
    reason: str | None = None  # how the episode was placed, when not as named
    absolute: int | None = None  # the episode's absolute number (the {absolute} token)
    episode_title: str | None = None  # TMDB's episode name (only when asked for: episode_titles=True)
    order: str = "tmdb"  # the numbering season/episode follow: tmdb, absolute or group:<id>
    pinned: str | None = None  # the pin's target, when a pin decided the series

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class FileMatch(NamedTuple):
    record: Any  # a ScanRecord (or anything with .path and .parsed)
    match: Match | None
    reason: str | None  # why unmatched


# ---------------------------------------------------------------- TMDB's structure


def season_counts(details: dict[str, Any] | None) -> dict[int, int]:
    return {int(s["season_number"]): int(s.get("episode_count") or 0)
            for s in (details or {}).get("seasons", []) if s.get("season_number") is not None}


def absolute_group_id(details: dict[str, Any] | None) -> str | None:
    groups = ((details or {}).get("episode_groups") or {}).get("results") or []
    absolute = [g for g in groups if g.get("type") == 2]
    return str(max(absolute, key=lambda g: g.get("episode_count") or 0)["id"]) if absolute else None


def group_members(group: dict[str, Any] | None) -> list[list[tuple[int, int]]]:
    """An episode group's (season, episode) lists, one per group, in the group's order."""
    return [[(int(e["season_number"]), int(e["episode_number"]))
             for e in sorted(g.get("episodes") or [], key=lambda e: e.get("order", 0))]
            for g in sorted((group or {}).get("groups") or [], key=lambda g: g.get("order", 0))]


def season_episodes(season: dict[str, Any] | None, number: int) -> list[Episode]:
    return [Episode(number, int(e["episode_number"]), e.get("name") or "", parse_date(e.get("air_date")))
            for e in (season or {}).get("episodes") or []]


# ---------------------------------------------------------------- the matcher

MEMO_LIMIT = 8_192  # distinct titles remembered (files come folder by folder: few are in use at a time)
FOLDER_LIMIT = 4_096  # release folders remembered (files come folder by folder)
NAMING_LIMIT = 4_096  # episode namings remembered: a video's subtitles and other releases follow it closely
LAYOUT_LIMIT = 256  # series whose TMDB seasons (episode lists) stay in memory; others are re-read from the cache

# Folders inside a release that hold its extras, not a release of their own.
_EXTRA_FOLDERS = frozenset({"extras", "extra", "specials", "bonus", "nc", "ncop", "nced", "menus", "menu",
                            "sps", "sp", "cds", "scans", "subs", "fonts", "featurettes", "other"})


def release_folder(path: str) -> str:
    """The folder of the release a file ships in (extras folders belong to their parent)."""
    return _release_of_folder(_dirname(path))


if os.sep == "/" and not os.altsep:  # a string split does what os.path does, without its overhead
    def _dirname(path: str) -> str:
        return path[:path.rfind("/")] or "/"
else:
    _dirname = os.path.dirname


@functools.lru_cache(maxsize=FOLDER_LIMIT)
def _release_of_folder(folder: str) -> str:
    while os.path.basename(folder).casefold() in _EXTRA_FOLDERS:
        folder = os.path.dirname(folder)
    return folder


GroupKey = tuple  # (folded title, year, "tv" | "movie" | "extra", pinned target or None)
_NO_KEY = object()
_chain = itertools.chain.from_iterable


def by_folder(records: Iterable[Any]) -> Iterator[list[Any]]:
    """Records in lists of one folder each, as they come (what a scan's ``folders()`` gives)."""
    batch: list[Any] = []
    folder = None
    for rec in records:
        here = _dirname(os.fspath(rec.path))
        if here != folder:
            if batch:
                yield batch
                batch = []
            folder = here
        batch.append(rec)
    if batch:
        yield batch


class _WindowKeys:
    """One window's group keys: each record's (aligned with the records), the keys first seen in
    the window with their first file's name and pin, and each extra's release folder."""

    __slots__ = ("keys", "firsts", "release_of")

    def __init__(self) -> None:
        self.keys: list[GroupKey | None] = []
        self.firsts: dict[GroupKey, tuple[ParsedName, Any]] = {}
        self.release_of: dict[GroupKey, str] = {}
SPECIAL_EXTRAS = frozenset({"ova", "oad", "ona", "sp", "special", "specials", "recap"})


@functools.lru_cache(maxsize=MEMO_LIMIT)
def _title_key(title: str, year: int | None, kind: str) -> tuple[str, int | None, str]:
    media = {"movie": "movie", "extra": "extra"}.get(kind, "tv")
    return fold(cleaned_title(title).query), year, media


class Matcher:
    """Resolves groups of files through one TMDBClient (thread-safe, shared).

    Files stream through :meth:`iter` in windows: the series first seen in a
    window are resolved together (in parallel), then its files are placed.
    Only per-series state is kept, never per-file records.
    """

    def __init__(self, client: TMDBClient, min_confidence: float = 0.6, workers: int | None = None,
                 *, pins: Any = None, order: str = "tmdb", episode_titles: bool = False) -> None:
        self.client = client
        self.min_confidence = min_confidence
        self.search = Search(client, min_confidence)
        self.workers = workers or max(2, client.limiter.concurrency * 2)
        self.pins = pins
        self.order = check_order(order)
        self.episode_titles = episode_titles
        self._groups: dict[GroupKey, Series] = {}
        self._release_key: dict[str, GroupKey] = {}  # a release folder's first series (the last FOLDER_LIMIT)
        self._layouts: OrderedDict[int, Series] = OrderedDict()  # series holding a layout, least recent first
        self._movies: set[str] = set()  # folded titles this library has as movies
        self._orders: dict[str, list[list[tuple[int, int]]]] = {}  # episode groups used as orders
        self._said: dict[tuple, Match | str] = {}  # a file's naming -> its Match or reason (bounded)
        self.busy_s = 0.0  # time spent matching (the records' own production not included)
        self.files = self.candidates = self.matched = 0  # records so far, those with a name, those matched
        self._pool: ThreadPoolExecutor | None = None  # while iter runs

    # ---- groups

    @staticmethod
    def group_key(parsed: ParsedName) -> tuple[str, int | None, str] | None:
        """(folded title, year, "tv" | "movie" | "extra"): the files searched as one."""
        if not parsed.title:
            return None
        return _title_key(parsed.title, parsed.year, parsed.kind)

    def _key(self, record: Any) -> tuple[GroupKey | None, Any]:
        """A record's group key and pin: files under one pin are a group of their own."""
        parsed = record.parsed
        if parsed is None:
            return None, None
        base = self.group_key(parsed)
        if base is None:
            return None, None
        pin = self.pins.for_file(os.fspath(record.path), base[0]) if self.pins else None
        return (*base, pin.target if pin else None), pin

    def match(self, records: Iterable[Any], progress: Callable[[Series], None] | None = None,
              on_total: Callable[[int], None] | None = None) -> list[FileMatch]:
        """Every record with its Match (or the reason it has none), in input order (one window)."""
        return list(self.iter(records, progress, on_total, window=None))

    def iter(self, records: Iterable[Any], progress: Callable[[Series], None] | None = None,
             on_total: Callable[[int], None] | None = None, window: int | None = 2000) -> Iterator[FileMatch]:
        """Every record with its Match (or the reason it has none), in input order, streaming.

        ``progress`` is called with each series once resolved; ``on_total`` with how
        many series there are to resolve so far (it grows as windows find new ones)."""
        make = FileMatch._make
        for files in self.windows(by_folder(records), progress, on_total, window):
            yield from map(make, files)

    def windows(self, folders: Iterable[list[Any]], progress: Callable[[Series], None] | None = None,
                on_total: Callable[[int], None] | None = None,
                window: int | None = 2000) -> Iterator[list[tuple[Any, Match | None, str | None]]]:
        """``(record, match, reason)`` of every record, one list per window of about ``window`` files.

        ``folders`` are lists of records, each of one folder (a scan's ``folders()``): the series new
        in a window are resolved together (in parallel), then its files are placed, one folder's
        files after another. The work is per folder and per distinct name, not per file."""
        with self._threads():
            batch: list[list[Any]] = []
            size = 0
            for folder in folders:
                if window and len(folder) > window:  # one huge folder: still windows of ``window``
                    for i in range(0, len(folder), window):
                        yield self._timed(self._window, [folder[i:i + window]], progress, on_total)
                    continue
                batch.append(folder)
                size += len(folder)
                if window and size >= window:
                    yield self._timed(self._window, batch, progress, on_total)
                    batch, size = [], 0
            if batch:
                yield self._timed(self._window, batch, progress, on_total)

    @contextmanager
    def _threads(self) -> Iterator[ThreadPoolExecutor]:
        """One thread pool for every window of a run (not a pool, and its threads, per window)."""
        if self._pool is not None:
            yield self._pool
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="match") as self._pool:
            try:
                yield self._pool
            finally:
                self._pool = None

    def _timed(self, work: Callable[..., Any], *args: Any) -> Any:
        """``work(*args)``, its time added to busy_s (the matcher's own, not the records' making)."""
        start = time.perf_counter()
        try:
            return work(*args)
        finally:
            self.busy_s += time.perf_counter() - start

    def _window(self, folders: list[list[Any]], progress: Callable[[Series], None] | None,
                on_total: Callable[[int], None] | None) -> list[tuple[Any, Match | None, str | None]]:
        keys = self._group_keys(folders)
        firsts: dict[GroupKey, tuple[ParsedName, Any]] = keys.firsts
        release_of = keys.release_of
        # A title this library also has as a movie is searched as a movie first, whatever
        # its files look like ("Title 2 (2019).mkv" reads as episode 2 of Title).
        main = {k: v for k, v in firsts.items() if k[2] != "extra"}
        before = len(self.series) if on_total and firsts else 0
        if on_total and firsts:
            on_total(before + len(main))
        self._resolve_all(main, progress)
        # Extras (NCOP, menus, CMs) say nothing about TV or movie: they join the series or
        # movie of the same title, else the one of the release they ship in, and are searched
        # (as TV) only when neither exists.
        alone = {}
        if any(key[2] == "extra" for key in firsts):
            by_title: dict[str, list[Series]] = {}
            for k, series in self._groups.items():
                if k[2] != "extra":
                    by_title.setdefault(k[0], []).append(series)
            for key, first in firsts.items():
                if key[2] == "extra":
                    host = None if key[3] else self._host(key, by_title.get(key[0], []))
                    if host is None and key in release_of:
                        host = self._groups.get(self._release_key.get(release_of[key]))  # type: ignore[arg-type]
                    if host is None:
                        alone[key] = first
                    else:
                        self._groups[key] = host
        if on_total and alone:
            on_total(before + len(main) + len(alone))
        self._resolve_all(alone, progress)
        return self._files(folders, keys.keys)

    def _group_keys(self, folders: list[list[Any]]) -> "_WindowKeys":
        """Each record's group key (None: no title), the keys first seen here, and the release folders.

        Names are keyed once per run of files with the same (title, year, kind): files come
        folder by folder, and a folder's files mostly name one series."""
        out = _WindowKeys()
        keys, firsts, groups = out.keys, out.firsts, self._groups
        append = keys.append
        pins = bool(self.pins)  # (once: Pins' truth is a Python __len__)
        pin = None
        for records in folders:
            folder = _dirname(os.fspath(records[0].path))
            last_key: Any = _NO_KEY  # the folder's key of the last file (release folders are per key)
            named = (None, None, None)
            key = None
            for rec in records:
                parsed = rec.parsed
                if parsed is None:
                    append(None)
                    continue
                if pins:
                    key, pin = self._key(rec)
                elif parsed.title != named[0] or parsed.year != named[1] or parsed.kind != named[2]:
                    named = (parsed.title, parsed.year, parsed.kind)
                    base = self.group_key(parsed)
                    key, pin = (None if base is None else (*base, None)), None
                append(key)
                if key is None or key == last_key:
                    continue
                last_key = key
                if key not in groups and key not in firsts:
                    firsts[key] = (parsed, pin)
                if key[2] == "extra":
                    out.release_of.setdefault(key, _release_of_folder(folder))
                else:
                    self._remember_release(_release_of_folder(folder), key)
                    if key[2] == "movie":
                        self._movies.add(key[0])
        return out

    def _files(self, folders: list[list[Any]],
               keys: list[GroupKey | None]) -> list[tuple[Any, Match | None, str | None]]:
        """Each record's (record, match, reason): a file's episode is placed once per distinct naming."""
        out: list[tuple[Any, Match | None, str | None]] = []
        append = out.append
        groups, said = self._groups, self._said
        series: Any = None
        last = None
        unnamed = matched = 0
        for rec, key in zip(_chain(folders), keys):
            if key is None:
                if rec.parsed is None:
                    unnamed += 1
                    append((rec, None, "not a video or subtitle"))
                else:
                    append((rec, None, "no title in the name"))
                continue
            if key is not last:
                last, series = key, groups[key]
            series.files += 1
            if series.id is None:
                append((rec, None, series.reason))
                continue
            # Releases and subtitles of one episode say the same: place each distinct naming once.
            parsed = rec.parsed
            naming = (id(series), parsed.title, parsed.season, parsed.episode, parsed.kind, parsed.episode_title,
                      getattr(parsed, "extra_type", None))
            found = said.get(naming)
            if found is None:
                try:
                    found = self._episode_match(series, parsed)
                except CredentialsError:
                    raise
                except TMDBError as e:  # not remembered: the next file may get an answer
                    append((rec, None, f"episode not placed: {e.message}"))
                    continue
                if len(said) >= NAMING_LIMIT:
                    said.clear()
                said[naming] = found
            if found.__class__ is Match:
                matched += 1
                append((rec, found, None))
            else:
                append((rec, None, found))
        self.files += len(out)
        self.candidates += len(out) - unnamed
        self.matched += matched
        return out

    def _remember_release(self, release: str, key: GroupKey) -> None:
        """A release folder's first series, for its extras (which come right after it): the last
        FOLDER_LIMIT release folders are remembered, not every one of the library's."""
        known = self._release_key
        if release in known:
            return
        if len(known) >= FOLDER_LIMIT:
            del known[next(iter(known))]
        known[release] = key

    @staticmethod
    def _host(key: GroupKey, same_title: list[Series]) -> Series | None:
        """The group an extra belongs to: same title, the same year and a match preferred."""
        ranked = sorted(same_title, key=lambda s: (s.year != key[1], not s.matched))
        return ranked[0] if ranked else None

    def _resolve_all(self, firsts: dict[GroupKey, tuple[ParsedName, Any]],
                     progress: Callable[[Series], None] | None) -> None:
        if not firsts:
            return
        if getattr(self.client, "offline", False):  # answers from the cache only: no network to wait on,
            for key, first in firsts.items():        # so no threads to hand each series to and back
                self._groups[key] = _compact(self._resolve_first(key, *first))
                if progress:
                    progress(self._groups[key])
            return
        with self._threads() as pool:
            futures = {key: pool.submit(self._resolve_first, key, *first) for key, first in firsts.items()}
            try:
                for key, future in futures.items():
                    self._groups[key] = _compact(future.result())
                    if progress:
                        progress(self._groups[key])
            except BaseException:
                for f in futures.values():
                    f.cancel()
                raise

    def _resolve_first(self, key: GroupKey, parsed: ParsedName, pin: Any) -> Series:
        """The series of a group, from its first file's name (or its pin)."""
        if pin:
            return self.resolve_pinned(pin, parsed.title or "", parsed.year)
        media = "movie" if key[2] == "movie" or key[0] in self._movies else "tv"
        return self.resolve(parsed.title or "", parsed.year, media)

    @property
    def series(self) -> list[Series]:
        """Each resolved series once (extras share their series' entry)."""
        return list({id(s): s for s in self._groups.values()}.values())

    # ---- one series

    def resolve(self, title: str, year: int | None, media: str) -> Series:
        """Search, score and pick the TMDB entry for one title (search.py)."""
        return self.search.resolve(title, year, media)

    def resolve_pinned(self, pin: Any, title: str, year: int | None) -> Series:
        return self.search.resolve_pinned(pin, title, year)

    # ---- one file

    def _episode_match(self, series: Series, parsed: ParsedName) -> Match | str:
        """The Match of a file of ``series`` named as ``parsed``, or why its episode has no place."""
        placed, absolute, title, order = self._placed(series, parsed)
        if not placed.placed:
            return f"{series.tmdb_title}: {placed.unplaced}"
        if placed.season is not None:
            series.seasons.add(placed.season)
        return Match(series.id, series.media_type, series.tmdb_title or "", series.original_title or "",
                     series.tmdb_year, placed.season, placed.episode, series.confidence, placed.note,
                     absolute, title, order, series.pin.target if series.pin else None)

    def _placed(self, series: Series, parsed: ParsedName) -> tuple[Placement, int | None, str | None, str]:
        """(placement in the names' order, absolute number, TMDB episode title, order)."""
        placed = self.placement(series, parsed)
        order = (series.pin.order if series.pin and series.pin.order else self.order)
        if series.media_type == "movie" or not placed.placed or placed.episode is None:
            return placed, None, None, order
        layout = self.layout(series)
        absolute = to_absolute(layout, placed.season, placed.episode)
        title = None
        if self.episode_titles and placed.season is not None:
            found = layout.episode(placed.season, placed.episode)
            title = found.name if found and found.name else None
        if order != "tmdb":
            placed = in_order(layout, placed, order, self._order_group(order))
        return placed, absolute, title, order

    def _order_group(self, order: str) -> list[list[tuple[int, int]]] | None:
        if not order.startswith("group:"):
            return None
        if order not in self._orders:
            self._orders[order] = group_members(self.client.episode_group(order[6:]))
        return self._orders[order]

    def place(self, series: Series, parsed: ParsedName) -> tuple[int | None, int | None, str | None]:
        """(season, episode, note) of a file in the matched series, TMDB's order (None, None, reason: unplaced)."""
        p = self.placement(series, parsed)
        return (p.season, p.episode, p.note) if p.placed else (None, None, p.unplaced)

    def placement(self, series: Series, parsed: ParsedName) -> Placement:
        """Where a file of the matched series lands in TMDB's seasons (numbering.py's rules)."""
        if series.media_type == "movie":
            return Placement(None, None)
        cleaned = cleaned_title(parsed.title or "")
        season = parsed.season if parsed.season is not None else cleaned.season
        episode = parsed.episode
        pin = series.pin
        if pin is not None:
            if season is None and pin.season is not None:
                season = pin.season
            if episode is not None and pin.offset:
                episode = episode + pin.offset
        extra_type = (getattr(parsed, "extra_type", None) or "").casefold()
        decimal = isinstance(episode, float) and not episode.is_integer()
        if parsed.kind == "special" or cleaned.special or season == 0 or decimal or extra_type in SPECIAL_EXTRAS:
            name = parsed.episode_title or special_name(parsed.title) or (
                "Recap" if extra_type == "recap" else None)  # "Show - Recap": the season 0 entry named so
            return place_special(self.layout(series), episode, name, season if season else None)
        if parsed.kind == "extra" or episode is None:
            return Placement(season, None)
        return place_numbered(self.layout(series), season, int(episode))

    def layout(self, series: Series) -> Layout:
        """The series' TMDB seasons, their episodes fetched (through the cache) when a rule needs them.

        The last LAYOUT_LIMIT series used keep theirs; an older one's is made again (from the cache)."""
        held = self._layouts
        if series.layout is not None:
            if id(series) in held:
                held.move_to_end(id(series))
            return series.layout
        tv_id = series.id

        def episodes(n: int) -> list[Episode]:
            return season_episodes(self.client.tv_season(tv_id, n), n)

        def absolute() -> list[tuple[int, int]] | None:
            group_id = _absolute_group(series)
            if not group_id:
                return None
            return [m for g in group_members(self.client.episode_group(group_id)) for m in g] or None

        series.layout = Layout(_season_counts(series), episodes, absolute)
        held[id(series)] = series
        if len(held) > LAYOUT_LIMIT:
            held.popitem(last=False)[1].layout = None
        return series.layout


def _compact(series: Series) -> Series:
    """The series with only the part of its TMDB details that placing files reads: its season
    counts as (season, episodes) pairs and its absolute episode group. A run keeps every series,
    not every series' whole answer."""
    details = series.details
    if details and "season_counts" not in details:  # (a series found again is compact already)
        group = absolute_group_id(details)
        series.details = {"season_counts": tuple(season_counts(details).items())}
        if group:
            series.details["absolute_group"] = group
    return series


def _season_counts(series: Series) -> dict[int, int]:
    details = series.details or {}
    return dict(details["season_counts"]) if "season_counts" in details else season_counts(details)


def _absolute_group(series: Series) -> str | None:
    details = series.details or {}
    return details.get("absolute_group") if "season_counts" in details else absolute_group_id(details)


# The library entry points (resolve_windows and the run's summary) live in match_run.py, which is
# imported through this module (it imports the matcher from here).
from .match_run import (SERIES_DONE, MatchSummary, match_files, match_records, resolve_records,  # noqa: E402,F401
                        resolve_windows, run_summary)
