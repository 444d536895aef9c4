"""Matching: parsed release names → TMDB series or movie, season and episode.

Files are grouped by (normalized title, year, kind) so each series is
searched once, however many files it has. A group's title is searched as TV
(or as a movie for movies), the other kind as a fallback, and shortened word
by word when nothing fits. Candidates are scored with rapidfuzz against their
name, original name and alternative titles, plus year proximity, the
Animation genre and Japanese origin; the score is the match's confidence.
Absolute episode numbers (One Piece 1089) become TMDB season + episode
through an "Absolute" episode group or the seasons' cumulative counts;
specials go to season 0.
"""
from __future__ import annotations

import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from rapidfuzz import fuzz

from .errors import CredentialsError
from .models import ParsedName
from .monitor import Metrics
from .monitor.metrics import CACHE_HITS, CACHE_MISSES, REQUESTS, RETRIES
from .tmdb import TMDBClient, TMDBError, TMDBSettings

ANIMATION = 16
DEFAULT_MIN_CONFIDENCE = 0.6  # below it a file stays unmatched (setting min_confidence)
# Weights of the confidence score; they sum to 1.
W_TITLE, W_YEAR, W_ANIMATION, W_JAPAN = 0.70, 0.12, 0.10, 0.08
SURE_TITLE = 0.9  # a search-result title this close needs no alternative titles to confirm
DETAIL_CANDIDATES = 3  # how many uncertain candidates get their details (alternative titles) fetched
DROPPED_WORD = 0.05  # title score lost per word a shortened query dropped
SUBTITLE_PART = 0.95  # "Frieren" matching "Frieren: Beyond Journey's End" counts a little less than exact

# ---------------------------------------------------------------- normalization

_SEASON_WORDS = re.compile(
    r"\b(?:(?:season|series|saison|staffel|cour|part)\s*(\d{1,2})"
    r"|(\d{1,2})(?:st|nd|rd|th)\s+(?:season|cour)"
    r"|s(\d{1,2})"
    r"|(?:the\s+)?final\s+season)\b"
    r"|第\s*(\d{1,2})\s*[期季]", re.IGNORECASE)
_SPECIAL_WORDS = re.compile(r"\b(?:ova|oad|ona|specials?|sp)\b", re.IGNORECASE)
# Extras left in a title by a release name ("Title - NCOP1", "Title - Menu01") are no part of it.
_EXTRA_WORDS = re.compile(r"\b(?:nc(?:op|ed)\d*|(?:op|ed)\d+|menu\s*\d*|pv\s*\d*|cm\s*\d*|preview|trailer)\b",
                          re.IGNORECASE)
_PUNCT = re.compile(r"[^\w']+|_")
_LONG_VOWELS = re.compile(r"(?<=[aiueo])h(?=\s|$)|ou|oo|uu|aa|ii|ee")
_MACRONS = str.maketrans("āīūēōâîûêôÂÎÛÊÔĀĪŪĒŌ", "aiueoaiueoAIUEOAIUEO")


class Cleaned(NamedTuple):
    query: str  # what is sent to TMDB (and keys the cache)
    folded: str  # what scoring compares
    season: int | None  # a season named in the title ("2nd Season", "S2", "第2期")
    special: bool  # OVA / OAD / Specials in the title


def clean_title(title: str) -> Cleaned:
    """The search query and the comparison form of a release title."""
    text = unicodedata.normalize("NFKC", title).replace("×", " x ")
    season = None
    m = _SEASON_WORDS.search(text)
    if m:
        season = next((int(g) for g in m.groups() if g), None)
        text = _SEASON_WORDS.sub(" ", text)
    text = _EXTRA_WORDS.sub(" ", text)
    special = bool(_SPECIAL_WORDS.search(text))
    if special:
        text = _SPECIAL_WORDS.sub(" ", text)
    query = " ".join(_PUNCT.sub(" ", text).split()).casefold()  # apostrophes stay: TMDB reads them
    return Cleaned(query or title.strip().casefold(), fold(query) or fold(title), season, special)


def fold(text: str) -> str:
    """Case, width, accents, punctuation and romaji long vowels ignored: "Shippūden" == "shippuuden"."""
    text = unicodedata.normalize("NFKC", text).replace("×", " x ").translate(_MACRONS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = " ".join(_PUNCT.sub(" ", text.casefold()).replace("'", "").split())
    return _LONG_VOWELS.sub(lambda m: m.group(0)[0] if m.group(0) != "h" else "", text)


def shortened(query: str, min_length: int = 3) -> list[str]:
    """The query without its last word, then its last two, ... while something meaningful is left."""
    words = query.split()
    out = []
    for n in range(len(words) - 1, 0, -1):
        candidate = " ".join(words[:n])
        if len(candidate) >= min_length:
            out.append(candidate)
    return out


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Match:
    """What a file is, in TMDB's terms."""

    id: int
    media_type: str  # "tv" | "movie"
    title: str
    original_title: str
    year: int | None
    season: int | None
    episode: int | None
    confidence: float
    reason: str | None = None  # how the episode was placed, when not as named

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Series:
    """One resolved group of files: the TMDB entry (or why there is none)."""

    title: str  # as the files name it
    year: int | None
    media_type: str
    query: str
    id: int | None = None
    tmdb_title: str | None = None
    original_title: str | None = None
    tmdb_year: int | None = None
    confidence: float = 0.0
    reason: str | None = None
    files: int = 0
    seasons: set[int] = field(default_factory=set)
    details: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def matched(self) -> bool:
        return self.id is not None

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "year": self.year, "media_type": self.media_type, "query": self.query,
                "id": self.id, "tmdb_title": self.tmdb_title, "original_title": self.original_title,
                "tmdb_year": self.tmdb_year, "confidence": self.confidence, "reason": self.reason,
                "files": self.files, "seasons": sorted(self.seasons)}


class FileMatch(NamedTuple):
    record: Any  # a ScanRecord (or anything with .path and .parsed)
    match: Match | None
    reason: str | None  # why unmatched


# ---------------------------------------------------------------- scoring


@dataclass
class Candidate:
    result: dict[str, Any]
    media_type: str
    title_score: float = 0.0
    confidence: float = 0.0
    details: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return int(self.result["id"])

    @property
    def name(self) -> str:
        return self.result.get("name") or self.result.get("title") or ""

    @property
    def original_name(self) -> str:
        return self.result.get("original_name") or self.result.get("original_title") or ""

    @property
    def year(self) -> int | None:
        return _year(self.result.get("first_air_date") or self.result.get("release_date"))


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and date[:4].isdigit() else None


def alternative_titles(details: dict[str, Any] | None) -> list[str]:
    alt = (details or {}).get("alternative_titles") or {}
    return [t.get("title", "") for t in (alt.get("results") or alt.get("titles") or [])]


def title_similarity(folded_query: str, names: Iterable[str]) -> float:
    """Best similarity in [0, 1] of the query to any name, or to a name's part before its subtitle."""
    best = 0.0
    for name in names:
        if not name:
            continue
        for text, weight in _name_forms(name):
            f = fold(text)
            if not f:
                continue
            score = max(fuzz.ratio(folded_query, f), fuzz.token_sort_ratio(folded_query, f)) / 100 * weight
            best = max(best, score)
            if best >= 1.0:
                return 1.0
    return best


def _name_forms(name: str) -> Iterator[tuple[str, float]]:
    yield name, 1.0
    for sep in (": ", " - ", " -"):
        head = name.split(sep, 1)[0]
        if head != name and len(head) >= 3:
            yield head, SUBTITLE_PART
            return


def year_score(hint: int | None, years: Iterable[int | None]) -> float:
    if hint is None:
        return 0.5
    gaps = [abs(hint - y) for y in years if y]
    if not gaps:
        return 0.5
    return {0: 1.0, 1: 0.7, 2: 0.3}.get(min(gaps), 0.0)


def score(candidate: Candidate, cleaned: Cleaned, year: int | None, penalty: float = 1.0) -> float:
    """Confidence in [0, 1] that ``candidate`` is the titled series (``penalty`` scales the title part)."""
    r, details = candidate.result, candidate.details
    names = [candidate.name, candidate.original_name, *alternative_titles(details)]
    candidate.title_score = title_similarity(cleaned.folded, names) * penalty
    years = [candidate.year] + [_year(s.get("air_date")) for s in (details or {}).get("seasons", [])]
    genres = set(r.get("genre_ids") or []) | {g.get("id") for g in (details or {}).get("genres", [])}
    japanese = "JP" in (r.get("origin_country") or []) or r.get("original_language") == "ja"
    candidate.confidence = round(W_TITLE * candidate.title_score + W_YEAR * year_score(year, years)
                                 + W_ANIMATION * (ANIMATION in genres) + W_JAPAN * japanese, 4)
    return candidate.confidence


# ---------------------------------------------------------------- episodes


def season_counts(details: dict[str, Any] | None) -> dict[int, int]:
    return {int(s["season_number"]): int(s.get("episode_count") or 0)
            for s in (details or {}).get("seasons", []) if s.get("season_number") is not None}


def absolute_group_id(details: dict[str, Any] | None) -> str | None:
    groups = ((details or {}).get("episode_groups") or {}).get("results") or []
    absolute = [g for g in groups if g.get("type") == 2]
    return str(max(absolute, key=lambda g: g.get("episode_count") or 0)["id"]) if absolute else None


def cumulative_place(counts: dict[int, int], absolute: int) -> tuple[int, int, str | None]:
    """Season and episode of an absolute number from the seasons' episode counts."""
    regular = sorted(n for n in counts if n >= 1)
    before = 0
    for n in regular:
        if absolute <= before + counts[n]:
            return n, absolute - before, None
        before += counts[n]
    last = regular[-1]
    before -= counts[last]
    return last, absolute - before, "beyond TMDB's episode count (placed in the last season)"


def group_place(group: dict[str, Any], absolute: int) -> tuple[int, int] | None:
    episodes = [e for g in sorted(group.get("groups") or [], key=lambda g: g.get("order", 0))
                for e in sorted(g.get("episodes") or [], key=lambda e: e.get("order", 0))]
    if 1 <= absolute <= len(episodes):
        e = episodes[absolute - 1]
        return int(e["season_number"]), int(e["episode_number"])
    return None


# ---------------------------------------------------------------- the matcher

# Folders inside a release that hold its extras, not a release of their own.
_EXTRA_FOLDERS = frozenset({"extras", "extra", "specials", "bonus", "nc", "ncop", "nced", "menus", "menu",
                            "sps", "sp", "cds", "scans", "subs", "fonts", "featurettes", "other"})


def release_folder(path: str) -> str:
    """The folder of the release a file ships in (extras folders belong to their parent)."""
    folder = os.path.dirname(path)
    while os.path.basename(folder).casefold() in _EXTRA_FOLDERS:
        folder = os.path.dirname(folder)
    return folder



class Matcher:
    """Resolves groups of files through one TMDBClient (thread-safe, shared)."""

    def __init__(self, client: TMDBClient, min_confidence: float = 0.6, workers: int | None = None) -> None:
        self.client = client
        self.min_confidence = min_confidence
        self.workers = workers or max(2, client.limiter.concurrency * 2)
        self._groups: dict[tuple[str, int | None, str], Series] = {}

    # ---- groups

    @staticmethod
    def group_key(parsed: ParsedName) -> tuple[str, int | None, str] | None:
        """(folded title, year, "tv" | "movie" | "extra"): the files searched as one."""
        if not parsed.title:
            return None
        media = {"movie": "movie", "extra": "extra"}.get(parsed.kind, "tv")
        return fold(clean_title(parsed.title).query), parsed.year, media

    def match(self, records: Iterable[Any], progress: Callable[[Series], None] | None = None,
              on_total: Callable[[int], None] | None = None) -> list[FileMatch]:
        """Every record with its Match (or the reason it has none), in input order.

        ``progress`` is called with each series once resolved; ``on_total`` with how
        many series there are to resolve, as soon as that is known (it grows once,
        when extras that belong to no series are searched on their own)."""
        records = list(records)
        firsts: dict[tuple[str, int | None, str], ParsedName] = {}
        keys = []
        release_of: dict[tuple[str, int | None, str], str] = {}  # an extra's release folder
        release_key: dict[str, tuple[str, int | None, str]] = {}  # a release folder's first series
        for rec in records:
            key = self.group_key(rec.parsed) if rec.parsed is not None else None
            keys.append(key)
            if key is None:
                continue
            if key not in self._groups and key not in firsts:
                firsts[key] = rec.parsed
            if key[2] == "extra":
                release_of.setdefault(key, release_folder(rec.path))
            else:
                release_key.setdefault(release_folder(rec.path), key)
        # A title this library also has as a movie is searched as a movie first, whatever
        # its files look like ("Title 2 (2019).mkv" reads as episode 2 of Title).
        movies = {k[0] for k in firsts if k[2] == "movie"} | {k[0] for k in self._groups if k[2] == "movie"}
        main = {k: p for k, p in firsts.items() if k[2] != "extra"}
        if on_total:
            on_total(len(main))
        self._resolve_all(main, progress, movies)
        # Extras (NCOP, menus, CMs) say nothing about TV or movie: they join the series or
        # movie of the same title, else the one of the release they ship in, and are searched
        # (as TV) only when neither exists.
        alone = {}
        by_title: dict[str, list[tuple[tuple[str, int | None, str], Series]]] = {}
        for k, series in self._groups.items():
            if k[2] != "extra":
                by_title.setdefault(k[0], []).append((k, series))
        for key, parsed in firsts.items():
            if key[2] == "extra":
                host = self._host(key, by_title.get(key[0], []))
                if host is None and key in release_of:
                    host = self._groups.get(release_key.get(release_of[key]))  # type: ignore[arg-type]
                if host is None:
                    alone[key] = parsed
                else:
                    self._groups[key] = host
        if on_total and alone:
            on_total(len(main) + len(alone))
        self._resolve_all(alone, progress, movies)
        return [self._file(rec, key) for rec, key in zip(records, keys)]

    @staticmethod
    def _host(key: tuple[str, int | None, str],
              same_title: list[tuple[tuple[str, int | None, str], Series]]) -> Series | None:
        """The group an extra belongs to: same title, the same year and a match preferred."""
        ranked = sorted((s for _, s in same_title), key=lambda s: (s.year != key[1], not s.matched))
        return ranked[0] if ranked else None

    def _resolve_all(self, firsts: dict[tuple[str, int | None, str], ParsedName],
                     progress: Callable[[Series], None] | None, movies: set[str] = frozenset()) -> None:
        if not firsts:
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="match") as pool:
            futures = {key: pool.submit(self.resolve, p.title or "", p.year,
                                        "movie" if key[2] == "movie" or key[0] in movies else "tv")
                       for key, p in firsts.items()}
            try:
                for key, future in futures.items():
                    self._groups[key] = future.result()
                    if progress:
                        progress(self._groups[key])
            except BaseException:
                for f in futures.values():
                    f.cancel()
                raise

    @property
    def series(self) -> list[Series]:
        """Each resolved series once (extras share their series' entry)."""
        return list({id(s): s for s in self._groups.values()}.values())

    # ---- one series

    def resolve(self, title: str, year: int | None, media: str) -> Series:
        """Search, score and pick the TMDB entry for one title; never raises for TMDB trouble but a 401."""
        cleaned = clean_title(title)
        series = Series(title=title, year=year, media_type=media, query=cleaned.query)
        try:
            best = self._search_best(cleaned, year, media)
        except CredentialsError:
            raise
        except TMDBError as e:
            series.reason = e.message
            return series
        if best is None:
            series.reason = f"no TMDB result for {cleaned.query!r}"
            return series
        if best.confidence < self.min_confidence:
            series.reason = (f"best candidate {best.name!r} (id {best.id}) scored {best.confidence:.2f}, "
                             f"below --min-confidence {self.min_confidence:.2f}")
            return series
        series.id, series.media_type = best.id, best.media_type
        series.tmdb_title, series.original_title = best.name, best.original_name
        series.tmdb_year, series.confidence, series.details = best.year, best.confidence, best.details
        return series

    def _search_best(self, cleaned: Cleaned, year: int | None, media: str) -> Candidate | None:
        """The best candidate over the searches needed: the title as TV and movie, then shorter.

        The year is not sent at first: a TV year is often a later season's and a
        movie's a re-release's, so the year scores candidates instead, and every
        group of one title shares one search. Only when that page was full (more
        results than one page) without a fit is the year used as TMDB's filter.
        """
        other = "movie" if media == "tv" else "tv"
        best: Candidate | None = None
        words = len(cleaned.query.split())
        for query in [cleaned.query, *shortened(cleaned.query)]:
            # A shortened query is compared as shortened, at a price per dropped word.
            target = cleaned._replace(query=query, folded=fold(query))
            penalty = max(0.8, 1 - DROPPED_WORD * (words - len(query.split())))
            for kind in (media, other):
                candidates, crowded = self._search(kind, query, None)
                tries = [candidates]
                for found_in in tries:
                    found = self._best_of(found_in, target, year, penalty)
                    if found and (best is None or found.confidence > best.confidence):
                        best = found
                    if best and best.confidence >= self.min_confidence:
                        return best
                    if crowded and year and found_in is candidates:
                        tries.append(self._search(kind, query, year)[0])
        return best

    def _search(self, kind: str, query: str, year: int | None) -> tuple[list[Candidate], bool]:
        """The first page's candidates, and whether TMDB had more than that page."""
        page = self.client.search_tv(query, year) if kind == "tv" else self.client.search_movie(query, year)
        results = [r for r in (page or {}).get("results") or [] if r.get("id") is not None]
        crowded = (page or {}).get("total_results", 0) > len((page or {}).get("results") or [])
        return [Candidate(r, kind) for r in results], crowded

    def _best_of(self, candidates: list[Candidate], cleaned: Cleaned, year: int | None,
                 penalty: float = 1.0) -> Candidate | None:
        if not candidates:
            return None
        for c in candidates:
            score(c, cleaned, year, penalty)
        # Stable sort: among equals TMDB's own order (relevance, popularity) decides.
        ranked = sorted(candidates, key=lambda c: -c.confidence)
        top = ranked[0]
        unsure = top.title_score < SURE_TITLE
        to_detail = ranked[:DETAIL_CANDIDATES] if unsure else [top]
        if top.media_type == "movie" and not unsure:
            return top  # a movie needs no details: title, year and id are in the search result
        for c in to_detail:
            c.details = self.client.tv(c.id) if c.media_type == "tv" else self.client.movie(c.id)
            score(c, cleaned, year, penalty)
        return sorted(ranked, key=lambda c: -c.confidence)[0]

    # ---- one file

    def _file(self, record: Any, key: tuple[str, int | None, str] | None) -> FileMatch:
        parsed: ParsedName | None = record.parsed
        if parsed is None:
            return FileMatch(record, None, "not a video or subtitle")
        if key is None:
            return FileMatch(record, None, "no title in the name")
        series = self._groups[key]
        series.files += 1
        if not series.matched:
            return FileMatch(record, None, series.reason)
        try:
            season, episode, note = self.place(series, parsed)
        except CredentialsError:
            raise
        except TMDBError as e:
            season, episode, note = parsed.season, parsed.episode, f"episode not placed: {e.message}"
        if season is not None:
            series.seasons.add(season)
        return FileMatch(record, Match(series.id, series.media_type, series.tmdb_title or "",
                                       series.original_title or "", series.tmdb_year, season, episode,
                                       series.confidence, note), None)

    def place(self, series: Series, parsed: ParsedName) -> tuple[int | None, int | None, str | None]:
        """(season, episode, note) of a file in the matched series."""
        if series.media_type == "movie":
            return None, None, None
        cleaned = clean_title(parsed.title or "")
        season = parsed.season if parsed.season is not None else cleaned.season
        episode = parsed.episode
        if parsed.kind == "special" or cleaned.special or season == 0:
            return 0, episode, None
        if parsed.kind == "extra" or episode is None:
            return season, None, None
        counts = season_counts(series.details)
        if not counts:
            return season if season is not None else 1, episode, None
        if season is not None:
            if season not in counts or episode <= counts[season] or season < 1:
                return season, episode, None
            # "S2 - 14" after a 13-episode S1: numbered from the series start.
            s, e, note = cumulative_place(counts, episode)
            return (s, e, f"absolute episode {episode} → S{s:02d}E{e:02d}") if s >= season else (season, episode, None)
        if episode <= counts.get(1, 0):
            return 1, episode, None
        return self._absolute(series, counts, episode)

    def _absolute(self, series: Series, counts: dict[int, int], episode: int) -> tuple[int, int, str | None]:
        group_id = absolute_group_id(series.details)
        if group_id:
            group = self.client.episode_group(group_id)
            placed = group_place(group or {}, episode)
            if placed:
                return placed[0], placed[1], f"absolute episode {episode} → S{placed[0]:02d}E{placed[1]:02d} (episode group)"
        s, e, note = cumulative_place(counts, episode)
        return s, e, note or f"absolute episode {episode} → S{s:02d}E{e:02d} (season counts)"


# ---------------------------------------------------------------- library entry points


def match_records(records: Iterable[Any], *, client: TMDBClient | None = None, offline: bool = False,
                  min_confidence: float | None = None, warn: Callable[[str], None] | None = None,
                  metrics: Metrics | None = None,
                  tmdb: TMDBSettings | None = None) -> Iterator[tuple[Any, Match | None]]:
    """(record, Match or None) for every record, in order; makes (and closes) a client when none is given.

    ``tmdb`` configures that client and its cache (default: TMDBSettings()).
    """
    for fm in match_files(records, client=client, offline=offline, min_confidence=min_confidence,
                          warn=warn, metrics=metrics, tmdb=tmdb)[0]:
        yield fm.record, fm.match


def match_files(records: Iterable[Any], *, client: TMDBClient | None = None, offline: bool = False,
                min_confidence: float | None = None, warn: Callable[[str], None] | None = None,
                progress: Callable[[Series], None] | None = None, metrics: Metrics | None = None,
                tmdb: TMDBSettings | None = None) -> tuple[list[FileMatch], list[Series], MatchSummary]:
    """Match every record: (files with reasons, the series, the run summary).

    Without ``client``, one is made from ``tmdb`` (default: TMDBSettings())
    with the persistent cache, and closed at the end. ``metrics`` gets
    the request and cache counters and the "match" stage time.
    """
    # The scan behind ``records`` runs first, timed by its own stages: "match" is the rest
    # (the client, its cache, the searches and placing every file).
    records = records if isinstance(records, list) else list(records)
    if metrics is not None:
        with metrics.stage("match", items=len(records)):
            return _match_files(records, client, offline, min_confidence, warn, progress, metrics,
                                tmdb)
    return _match_files(records, client, offline, min_confidence, warn, progress, None, tmdb)


def _match_files(records: list[Any], client: TMDBClient | None, offline: bool,
                 min_confidence: float | None, warn: Callable[[str], None] | None,
                 progress: Callable[[Series], None] | None, metrics: Metrics | None,
                 tmdb: TMDBSettings | None) -> tuple[list[FileMatch], list[Series], MatchSummary]:
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
        matcher = Matcher(client, min_confidence=DEFAULT_MIN_CONFIDENCE if min_confidence is None
                          else min_confidence)
        live = _LiveCounters(client, metrics)

        def announce(n: int) -> None:
            if metrics is not None:
                metrics.expect(n, SERIES_DONE, "series")

        def resolved(series: Series) -> None:
            live.sync(series_done=1)
            if progress:
                progress(series)

        files = matcher.match(records, resolved, announce)
        summary = run_summary(client, files, matcher.series)
        if metrics is not None:
            live.sync(final=True)
            metrics.expect(None)
            metrics.merge({"matched": summary.matched, "unmatched": summary.unmatched})
        if own and client.cache is not None:
            client.cache.record_run(summary.requests, summary.cache_hits, summary.cache_misses)
        return files, matcher.series, summary
    finally:
        if own:
            client.close()
            if client.cache is not None:
                client.cache.close()


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
    matched = sum(1 for f in files if f.match is not None)
    candidates = sum(1 for f in files if f.record.parsed is not None)
    c = client.summary()
    return MatchSummary(files=len(files), candidates=candidates, matched=matched, unmatched=candidates - matched,
                        series=len(series), series_matched=sum(1 for s in series if s.matched),
                        requests=c["requests"], retries=c["retries"], rate_limited=c["rate_limited"],
                        cache_hits=c["cache_hits"], cache_misses=c["cache_misses"], hit_rate=c["hit_rate"],
                        cache_only=c["cache_only"], client=c)


class MatchStream:
    """``match_files`` for a pipeline: FileMatch per record, in order, without holding the library.

    Records are matched ``chunk`` at a time by one Matcher whose per-series memo spans the
    chunks (scan order keeps a series' files together), so memory holds one chunk and the
    series, never every file. ``summary`` is set once the stream is exhausted.
    """

    def __init__(self, records: Iterable[Any], *, offline: bool = False, min_confidence: float | None = None,
                 warn: Callable[[str], None] | None = None, metrics: Metrics | None = None,
                 tmdb: TMDBSettings | None = None, chunk: int = 4096) -> None:
        self.records, self.offline, self.min_confidence = records, offline, min_confidence
        self.warn, self.metrics, self.tmdb, self.chunk = warn or (lambda m: None), metrics, tmdb, chunk
        self.summary: MatchSummary | None = None

    def __iter__(self) -> Iterator[FileMatch]:
        from itertools import islice

        tmdb = self.tmdb or TMDBSettings()
        cache = tmdb.open_cache()
        try:
            client = TMDBClient.from_settings(tmdb, offline=self.offline, cache=cache, warn=self.warn)
        except BaseException:
            cache.close()
            raise
        for w in cache.warnings:
            self.warn(w)
        try:
            matcher = Matcher(client, min_confidence=DEFAULT_MIN_CONFIDENCE if self.min_confidence is None
                              else self.min_confidence)
            files = candidates = matched = 0
            source = iter(self.records)
            while chunk := list(islice(source, self.chunk)):
                for fm in matcher.match(chunk):
                    files += 1
                    candidates += fm.record.parsed is not None
                    matched += fm.match is not None
                    yield fm
            self.summary = _summary(client, files, candidates, matched, matcher.series)
            if self.metrics is not None:
                self.metrics.merge({"matched": matched, "unmatched": candidates - matched})
            client.cache.record_run(self.summary.requests, self.summary.cache_hits, self.summary.cache_misses)
        finally:
            client.close()
            cache.close()


def _summary(client: TMDBClient, files: int, candidates: int, matched: int, series: list[Series]) -> MatchSummary:
    c = client.summary()
    return MatchSummary(files=files, candidates=candidates, matched=matched, unmatched=candidates - matched,
                        series=len(series), series_matched=sum(1 for s in series if s.matched),
                        requests=c["requests"], retries=c["retries"], rate_limited=c["rate_limited"],
                        cache_hits=c["cache_hits"], cache_misses=c["cache_misses"], hit_rate=c["hit_rate"],
                        cache_only=c["cache_only"], client=c)
