"""Numbering: what a release name says, placed on TMDB's seasons and episodes, and back.

TMDB's structure of one series comes through a :class:`Layout`: the seasons'
episode counts (from ``/tv/{id}``) and, fetched only when a rule needs them
(through the cache), each season's episodes with names and air dates
(``/tv/{id}/season/{n}``) and the "Absolute" episode group. The rules:

* an absolute number (no season; past the first season) → the absolute
  episode group, else the seasons' cumulative counts;
* a season + episode TMDB has → as named; past its season's end → counted
  from the series start when that lands in the named season, else continued
  into the next TMDB seasons (TMDB splits the fansub's season in two);
* a season TMDB does not have → the cours of TMDB's seasons (a season's
  episodes split where their air dates pause) stand for the fansub's
  seasons (TMDB merged the cours into one season);
* specials (OVA, OAD, SP, Special N, recaps) → season 0 by number, else by
  episode-name similarity; a decimal episode (12.5) → the season 0 entry
  named like it or aired between episodes 12 and 13.

Whatever fits none of these is *unplaced*, with the reason: an episode beyond
every season is never kept as named, and no name like ``S00E12.5`` is made.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, NamedTuple

from rapidfuzz import fuzz, utils

COUR_GAP_DAYS = 28  # a pause this long between two episodes' air dates ends a cour
NAME_SIMILARITY = 85  # rapidfuzz score (0-100) for a special's title to pick a season 0 episode


class Episode(NamedTuple):
    season: int
    number: int
    name: str
    air_date: dt.date | None


class Placement(NamedTuple):
    """Where a file lands in TMDB's numbering, or why it cannot land anywhere."""

    season: int | None
    episode: int | None
    note: str | None = None  # how it was placed, when not as named
    unplaced: str | None = None  # why it was not placed (season and episode are then None)

    @property
    def placed(self) -> bool:
        return self.unplaced is None


def unplaced(reason: str) -> Placement:
    return Placement(None, None, None, reason)


def parse_date(text: object) -> dt.date | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


class Layout:
    """TMDB's seasons of one series; season episodes and the absolute order are fetched on first need."""

    def __init__(self, counts: dict[int, int], episodes: Callable[[int], list[Episode]] = lambda n: [],
                 absolute: Callable[[], list[tuple[int, int]] | None] = lambda: None) -> None:
        self.counts = dict(counts)
        self.regular = sorted(n for n, c in counts.items() if n >= 1 and c > 0)
        self._before = {n: sum(self.counts[m] for m in self.regular if m < n) for n in self.regular}
        self._fetch_episodes = episodes
        self._fetch_absolute = absolute
        self._episodes: dict[int, list[Episode]] = {}
        self._absolute: list[tuple[int, int]] | None = None
        self._absolute_read = False
        self._cours: list[tuple[int, int, int]] | None = None

    def episodes(self, season: int) -> list[Episode]:
        if season not in self._episodes:
            self._episodes[season] = self._fetch_episodes(season) if self.counts.get(season) else []
        return self._episodes[season]

    def episode(self, season: int, number: int) -> Episode | None:
        return next((e for e in self.episodes(season) if e.number == number), None)

    def absolute_order(self) -> list[tuple[int, int]] | None:
        """(season, episode) of absolute episodes 1, 2, ... from the episode group, when there is one."""
        if not self._absolute_read:
            self._absolute, self._absolute_read = self._fetch_absolute(), True
        return self._absolute

    def before(self, season: int) -> int:
        """Regular episodes in the seasons before ``season``."""
        found = self._before.get(season)
        return found if found is not None else sum(self.counts[n] for n in self.regular if n < season)

    def cours(self) -> list[tuple[int, int, int]]:
        """(TMDB season, first episode, last episode) of every cour, in airing order."""
        if self._cours is None:
            self._cours = [cour for n in self.regular for cour in _season_cours(n, self.counts[n],
                                                                               self.episodes(n))]
        return self._cours


def _season_cours(season: int, count: int, episodes: list[Episode]) -> list[tuple[int, int, int]]:
    """A season's cours: its episodes split where the air dates pause for COUR_GAP_DAYS or more."""
    dated = sorted((e.number, e.air_date) for e in episodes if e.air_date is not None)
    cours, first = [], 1
    for (n0, d0), (n1, d1) in zip(dated, dated[1:]):
        if (d1 - d0).days >= COUR_GAP_DAYS:
            cours.append((season, first, n0))
            first = n1
    cours.append((season, first, max(count, dated[-1][0] if dated else count)))
    return cours


# ---------------------------------------------------------------- regular episodes


def from_absolute(layout: Layout, number: int) -> Placement:
    """Season and episode of an absolute episode number."""
    order = layout.absolute_order()
    if order and 1 <= number <= len(order):
        s, e = order[number - 1]
        return Placement(s, e, f"absolute episode {number} → S{s:02d}E{e:02d} (episode group)")
    before = 0
    for n in layout.regular:
        if number <= before + layout.counts[n]:
            e = number - before
            return Placement(n, e, f"absolute episode {number} → S{n:02d}E{e:02d} (season counts)")
        before += layout.counts[n]
    return unplaced(f"episode {number} is beyond every TMDB season ({before} episodes in "
                    f"{len(layout.regular)} season{'s' * (len(layout.regular) != 1)})")


def to_absolute(layout: Layout, season: int | None, episode: int | None) -> int | None:
    """The absolute number of a regular TMDB episode (None for specials and unknowns)."""
    if season is None or episode is None or season < 1 or season not in layout.regular:
        return None
    if not 1 <= episode <= layout.counts[season]:
        return None
    return layout.before(season) + episode


def place_numbered(layout: Layout, season: int | None, episode: int) -> Placement:
    """A regular episode as the name numbers it → TMDB's season and episode."""
    if not layout.regular:
        return unplaced("TMDB lists no seasons for this series")
    first = layout.regular[0]
    if season is None:
        return Placement(first, episode) if 1 <= episode <= layout.counts[first] \
            else from_absolute(layout, episode)
    if season in layout.counts and season >= 1:
        return _in_tmdb_season(layout, season, episode)
    return _in_cour(layout, season, episode)


def _in_tmdb_season(layout: Layout, season: int, episode: int) -> Placement:
    count = layout.counts[season]
    if 1 <= episode <= count:
        return Placement(season, episode)
    before = layout.before(season)
    if before < episode <= before + count:  # "S2 - 30" after a 25-episode S1
        return Placement(season, episode - before,
                         f"S{season:02d} episode {episode} numbered from the series start → "
                         f"S{season:02d}E{episode - before:02d}")
    rest = episode - count  # past the season's end: TMDB split the fansub's season
    for n in (n for n in layout.regular if n > season):
        if rest <= layout.counts[n]:
            return Placement(n, rest, f"S{season:02d}E{episode:02d} continues into TMDB's season {n} → "
                                      f"S{n:02d}E{rest:02d}")
        rest -= layout.counts[n]
    return unplaced(f"S{season:02d}E{episode:02d} is beyond TMDB's season {season} ({count} episodes) "
                    f"and every later one")


def _in_cour(layout: Layout, season: int, episode: int) -> Placement:
    """A season TMDB does not have: the fansub counts cours as seasons (TMDB merged them)."""
    cours = layout.cours()
    if 1 <= season <= len(cours):
        s, first, last = cours[season - 1]
        e = first - 1 + episode
        if e <= last:
            return Placement(s, e, f"S{season:02d}E{episode:02d} is cour {season}; TMDB merges it into "
                                   f"season {s} → S{s:02d}E{e:02d}")
        if first <= episode <= last:  # the cour numbered on from its TMDB season's start
            return Placement(s, episode, f"S{season:02d}E{episode:02d} is cour {season}; TMDB merges it "
                                         f"into season {s} → S{s:02d}E{episode:02d}")
    return unplaced(f"TMDB has no season {season} (seasons {_seasons_text(layout)}) and no cour "
                    f"{season} holds episode {episode}")


def _seasons_text(layout: Layout) -> str:
    r = layout.regular
    return f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0])


# ---------------------------------------------------------------- specials


def place_special(layout: Layout, number: int | float | None, title: str | None = None,
                  season: int | None = None) -> Placement:
    """An OVA / OAD / SP / Special N / recap → a season 0 episode."""
    if isinstance(number, float) and not number.is_integer():
        return place_decimal(layout, number, season)
    specials = layout.episodes(0)
    if not specials:
        if number is None:
            return Placement(0, None)  # an unnumbered OVA: bonus material, filed as such by the planner
        return unplaced("TMDB has no season 0 (specials) for this series")
    if number is not None:
        n = int(number)
        if any(e.number == n for e in specials):
            return Placement(0, n)
    if title:
        found = _named_like(specials, title)
        if found is not None:
            return Placement(0, found.number, f"special {title!r} → S00E{found.number:02d} (episode name)")
    if number is None:
        return Placement(0, None)  # an unnumbered OVA: bonus material, filed as such by the planner
    return unplaced(f"special {number} is not among TMDB's {len(specials)} season 0 episodes")


def place_decimal(layout: Layout, number: float, season: int | None) -> Placement:
    """Episode 12.5 (a recap or special between 12 and 13) → its season 0 entry, or unplaced."""
    label = f"{number:g}"
    specials = layout.episodes(0)
    if not specials:
        return unplaced(f"episode {label} has no TMDB entry: TMDB has no season 0 for this series")
    for e in specials:
        if label in e.name.replace(",", ".").split() or f"#{label}" in e.name or f"{label}:" in e.name:
            return Placement(0, e.number, f"episode {label} → S00E{e.number:02d} (episode name)")
    whole = int(number)
    before = place_numbered(layout, season, whole) if whole >= 1 else unplaced("")
    after = place_numbered(layout, season, whole + 1)
    start = _aired(layout, before)
    end = _aired(layout, after)
    if start is not None:
        aired = [e for e in specials if e.air_date is not None and start <= e.air_date
                 and (end is None or e.air_date <= end)]
        if aired:
            e = min(aired, key=lambda x: (x.air_date, x.number))
            return Placement(0, e.number, f"episode {label} → S00E{e.number:02d} (aired between "
                                          f"episodes {whole} and {whole + 1})")
    return unplaced(f"episode {label} matches no TMDB season 0 episode (by name or air date); "
                    f"a media server cannot read a decimal episode number")


def _aired(layout: Layout, placement: Placement) -> dt.date | None:
    if not placement.placed or placement.season is None or placement.episode is None:
        return None
    e = layout.episode(placement.season, placement.episode)
    return e.air_date if e else None


def _named_like(episodes: list[Episode], title: str) -> Episode | None:
    """The one episode named like ``title`` (None when none is close, or several are as close)."""
    scored = sorted(((fuzz.token_set_ratio(title, e.name, processor=utils.default_process), e)
                     for e in episodes if e.name), key=lambda s: -s[0])
    if not scored or scored[0][0] < NAME_SIMILARITY or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


# ---------------------------------------------------------------- the order names use


ORDERS = ("tmdb", "absolute")  # and "group:<episode group id>"


def check_order(order: str) -> str:
    """The order as given, or ValueError: tmdb, absolute or group:<TMDB episode group id>."""
    if order in ORDERS or (order.startswith("group:") and order[6:].isalnum() and len(order) > 6):
        return order
    raise ValueError(f"unknown order {order!r}: use tmdb, absolute or group:<TMDB episode group id>")


def in_order(layout: Layout, placement: Placement, order: str,
             group: list[list[tuple[int, int]]] | None = None) -> Placement:
    """A TMDB placement renumbered for the names: TMDB's seasons, absolute, or an episode group's."""
    s, e = placement.season, placement.episode
    if order == "tmdb" or not placement.placed or s is None or e is None or s == 0:
        return placement
    if order == "absolute":
        n = to_absolute(layout, s, e)
        return placement._replace(season=1, episode=n) if n is not None else placement
    for index, members in enumerate(group or [], start=1):
        if (s, e) in members:
            return placement._replace(season=index, episode=members.index((s, e)) + 1)
    return unplaced(f"S{s:02d}E{e:02d} is not in episode group {order[6:]}")
