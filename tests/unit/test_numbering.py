"""numbering.py: fansub numbering onto TMDB's seasons (merged and split cours, absolute, specials) and back."""
from __future__ import annotations

import datetime as dt

import pytest

from anivault.numbering import (Episode, Layout, Placement, check_order, from_absolute, in_order,
                                place_numbered, place_special, to_absolute)


def weekly(season: int, count: int, start: dt.date, pause_after: int | None = None,
           names: dict[int, str] | None = None) -> list[Episode]:
    """Episodes aired weekly from ``start``; a three-month pause after ``pause_after`` (a cour break)."""
    out, day = [], start
    for n in range(1, count + 1):
        out.append(Episode(season, n, (names or {}).get(n, f"Episode {n}"), day))
        day += dt.timedelta(days=7 if n != pause_after else 91)
    return out


def layout(seasons: dict[int, list[Episode]], absolute: list[tuple[int, int]] | None = None) -> Layout:
    return Layout({n: len(eps) for n, eps in seasons.items()}, lambda n: seasons.get(n, []),
                  lambda: absolute)


# One TMDB season of 24 that aired as two cours; fansubs call the second cour "S2".
MERGED = layout({1: weekly(1, 24, dt.date(2022, 4, 9), pause_after=12)})
# TMDB splits a 24-episode fansub season into seasons 1 and 2 of 12.
SPLIT = layout({1: weekly(1, 12, dt.date(2022, 4, 9)), 2: weekly(2, 12, dt.date(2022, 10, 1))})
SPECIALS = layout({
    0: [Episode(0, 1, "Recap: The Road So Far", dt.date(2022, 7, 1)),
        Episode(0, 2, "Beach Episode OVA", dt.date(2023, 1, 1)),
        Episode(0, 3, "Episode 6.5", dt.date(2022, 5, 16))],
    1: weekly(1, 12, dt.date(2022, 4, 9)),
})


@pytest.mark.parametrize("season, episode, expected", [
    (1, 5, (1, 5)),
    (2, 1, (1, 13)),  # cour 2 of a merged season
    (2, 12, (1, 24)),
    (2, 13, (1, 13)),  # the second cour numbered on from the season's start
    (None, 20, (1, 20)),
])
def test_merged_cours(season: int | None, episode: int, expected: tuple[int, int]) -> None:
    p = place_numbered(MERGED, season, episode)
    assert (p.season, p.episode) == expected and p.placed


def test_a_season_beyond_every_cour_is_unplaced() -> None:
    p = place_numbered(MERGED, 3, 1)
    assert not p.placed and "no season 3" in p.unplaced


@pytest.mark.parametrize("season, episode, expected", [
    (1, 12, (1, 12)),
    (1, 13, (2, 1)),  # past the end of season 1: TMDB split it
    (1, 24, (2, 12)),
    (2, 13, (2, 1)),  # "S2 - 13": numbered from the series start, lands in the named season
    (None, 18, (2, 6)),  # absolute through the season counts
])
def test_split_seasons(season: int | None, episode: int, expected: tuple[int, int]) -> None:
    p = place_numbered(SPLIT, season, episode)
    assert (p.season, p.episode) == expected and p.placed


def test_beyond_every_season_is_never_kept() -> None:
    assert not place_numbered(SPLIT, 1, 30).placed
    assert not place_numbered(SPLIT, None, 25).placed
    assert "beyond every TMDB season" in from_absolute(SPLIT, 25).unplaced


def test_absolute_through_the_episode_group_and_back() -> None:
    grouped = layout({1: weekly(1, 3, dt.date(2020, 1, 1)), 2: weekly(2, 3, dt.date(2020, 6, 1))},
                     absolute=[(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)])
    p = from_absolute(grouped, 5)
    assert (p.season, p.episode) == (2, 2) and "episode group" in p.note
    assert to_absolute(SPLIT, 2, 3) == 15 and to_absolute(SPLIT, 0, 1) is None
    assert to_absolute(SPLIT, 2, 13) is None


@pytest.mark.parametrize("number, title, expected", [
    (2, None, (0, 2)),
    (None, "Beach Episode", (0, 2)),  # by name
    (6.5, None, (0, 3)),  # a decimal named like its entry
    (None, None, (0, None)),  # unnumbered: bonus material
])
def test_specials(number: float | None, title: str | None, expected: tuple) -> None:
    p = place_special(SPECIALS, number, title)
    assert (p.season, p.episode) == expected and p.placed


def test_a_decimal_recap_by_air_date() -> None:
    # Aired 2022-07-01: after episode 12 (2022-06-25), before nothing: "12.5".
    p = place_special(SPECIALS, 12.5, None)
    assert (p.season, p.episode) == (0, 1) and "aired between" in p.note


def test_a_decimal_without_its_entry_is_unplaced_never_s00e12_5() -> None:
    p = place_special(SPECIALS, 3.5, None)
    assert not p.placed and "3.5" in p.unplaced and p.episode is None
    assert not place_special(SPLIT, 12.5, None).placed  # no season 0 at all
    assert not place_special(SPLIT, 2, None).placed
    assert place_special(SPLIT, None, None) == Placement(0, None)  # unnumbered: bonus material still
    assert not place_special(SPECIALS, 9, None).placed


def test_orders() -> None:
    p = Placement(2, 3)
    assert in_order(SPLIT, p, "tmdb") == p
    assert in_order(SPLIT, p, "absolute")[:2] == (1, 15)
    group = [[(1, 1), (1, 2)], [(2, 3), (2, 4)]]
    assert in_order(SPLIT, p, "group:abc", group)[:2] == (2, 1)
    assert not in_order(SPLIT, Placement(1, 5), "group:abc", group).placed
    assert in_order(SPLIT, Placement(0, 1), "absolute") == Placement(0, 1)
    for bad in ("air", "group:", "group:a/b"):
        with pytest.raises(ValueError):
            check_order(bad)
