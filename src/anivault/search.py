"""Search: one release title → its TMDB series or movie (or the reason there is none).

A title is searched as TV (or as a movie for movies), the other kind as a
fallback, and shortened word by word when nothing fits; titles.py scores the
candidates. A pin decides the entry without a search.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from .errors import CredentialsError
from .numbering import Layout
from .titles import DETAIL_CANDIDATES, DROPPED_WORD, SURE_TITLE, Candidate, Cleaned, clean_title, fold, score, shortened
from .tmdb import TMDBClient, TMDBError

# Distinct titles remembered: files come folder by folder, so the titles in use are few at any time;
# 100,000 held every title of a 1M-file library (~30,000, ~15 MB).
MEMO_LIMIT = 8_192


@functools.lru_cache(maxsize=MEMO_LIMIT)
def cleaned_title(title: str) -> Cleaned:
    """clean_title, once per distinct title (every episode of a series repeats it)."""
    return clean_title(title)


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
    pin: Any = field(default=None, repr=False)  # the Pin that decided this series, if any
    layout: Layout | None = field(default=None, repr=False)

    @property
    def matched(self) -> bool:
        return self.id is not None

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "year": self.year, "media_type": self.media_type, "query": self.query,
                "id": self.id, "tmdb_title": self.tmdb_title, "original_title": self.original_title,
                "tmdb_year": self.tmdb_year, "confidence": self.confidence, "reason": self.reason,
                "files": self.files, "seasons": sorted(self.seasons),
                "pinned": self.pin.target if self.pin else None}



class Search:
    """Resolves titles through one TMDBClient (thread-safe: one search per title runs per thread)."""

    def __init__(self, client: TMDBClient, min_confidence: float) -> None:
        self.client = client
        self.min_confidence = min_confidence

    def resolve_pinned(self, pin: Any, title: str, year: int | None) -> Series:
        """The pinned TMDB entry: no search, only its details."""
        media = "movie" if pin.movie else "tv"
        series = Series(title=title, year=year, media_type=media, query=cleaned_title(title).query, pin=pin)
        try:
            details = self.client.movie(pin.tmdb_id) if pin.movie else self.client.tv(pin.tmdb_id)
        except CredentialsError:
            raise
        except TMDBError as e:
            series.reason = f"pinned TMDB {media} {pin.tmdb_id}: {e.message}"
            return series
        if not details:
            series.reason = f"pinned TMDB {media} {pin.tmdb_id} does not exist (`anivault unpin`, then pin again)"
            return series
        c = Candidate(details, media, details=details)
        series.id, series.tmdb_title, series.original_title = pin.tmdb_id, c.name, c.original_name
        series.tmdb_year, series.confidence, series.details = c.year, 1.0, details
        return series

    def resolve(self, title: str, year: int | None, media: str) -> Series:
        """Search, score and pick the TMDB entry for one title; never raises for TMDB trouble but a 401."""
        cleaned = cleaned_title(title)
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

