"""Titles: a release title's search query and comparison form, and how well a TMDB candidate fits it.

Candidates are scored with rapidfuzz against their name, original name and
alternative titles, plus year proximity, the Animation genre and Japanese
origin; the score is the match's confidence.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, NamedTuple

from rapidfuzz import fuzz

ANIMATION = 16
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


_SPECIAL_NAMED = re.compile(r"\b(?:ova|oad|ona|specials?|sp|recap)\b\s*(?:\d+\s*)?(?:[-:–]\s*)?(.*)$",
                            re.IGNORECASE)


def special_name(title: str | None) -> str | None:
    """What a special's release title names it by: "Show - Special - Beach Day" → "Beach Day",
    "Show - Recap" → "Recap"; None when only the show's title is there."""
    m = _SPECIAL_NAMED.search(title or "")
    if not m:
        return None
    rest = m.group(1).strip(" -")
    return rest or m.group(0).split()[0]


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
