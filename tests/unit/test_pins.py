"""Pins: stored in the data dir, validated when read, honoured by the matcher."""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest

from anivault.errors import AniVaultError, UsageError
from anivault.match import Matcher, match_files
from anivault.models import ParsedName
from anivault.pins import Pins, default_path, make_pin
from anivault.testing import TMDBServer
from anivault.tmdb import TMDBClient


class Rec(NamedTuple):
    path: str
    parsed: ParsedName


def rec(path: str, title: str, episode: int | None, season: int | None = None) -> Rec:
    return Rec(path, ParsedName(title=title, episode=episode, season=season))


def test_pins_round_trip_in_the_data_dir(tmp_path: Path) -> None:
    folder = tmp_path / "Show"
    folder.mkdir()
    pins = Pins.load()
    assert len(pins) == 0
    pins.add(make_pin(str(folder), 1429, season=2, offset=-25))
    pins.add(make_pin("Kimi no Na wa", 372058, movie=True))
    assert pins.save() == default_path() and default_path().parent.name == "anivault"
    again = Pins.load()
    assert [(p.target, p.is_path, p.tmdb_id) for p in again] == [(str(folder), True, 1429),
                                                                 ("Kimi no Na wa", False, 372058)]
    assert again.find("kimi no na wa") is not None  # a title pin is found by its folded title
    assert again.remove(str(folder)).tmdb_id == 1429 and len(again) == 1
    again.add(make_pin("Kimi no Na wa", 129, movie=True))  # replaces the pin of the same target
    assert [p.tmdb_id for p in again] == [129]


@pytest.mark.parametrize("kw, said", [
    ({"tmdb_id": 0}, "not a TMDB id"),
    ({"tmdb_id": 5, "season": -1}, "--season"),
    ({"tmdb_id": 5, "movie": True, "season": 1}, "movie pin"),
    ({"tmdb_id": 5, "order": "dvd"}, "unknown order"),
])
def test_bad_pins_are_usage_errors(kw: dict, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        make_pin("Some Show", **kw)


def test_the_file_is_validated_when_read(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    path.write_text("{not json")
    with pytest.raises(AniVaultError, match="not JSON") as e:
        Pins.load(path)
    assert "anivault pins" in e.value.hint
    path.write_text(json.dumps({"version": 1, "pins": [
        {"target": "Good", "is_path": False, "tmdb_id": 7},
        {"target": "Bad id", "is_path": False, "tmdb_id": "7"},
        {"target": "relative/path", "is_path": True, "tmdb_id": 7},
        {"target": "Bad order", "is_path": False, "tmdb_id": 7, "order": "x"},
        "nonsense"]}))
    warnings: list[str] = []
    pins = Pins.load(path, warn=warnings.append)
    assert [p.target for p in pins] == ["Good"] and len(warnings) == 4
    assert "entry 2 skipped: tmdb_id" in warnings[0]


def test_a_path_pin_decides_the_series_without_a_search(client: TMDBClient, tmdb_server: TMDBServer,
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "lib" / "Titans"
    folder.mkdir(parents=True)
    pins = Pins([make_pin(str(folder), 1429, season=2, offset=-25)])
    matcher = Matcher(client, pins=pins)
    files = matcher.match([
        rec(str(folder / "Shingeki - 26.mkv"), "Shingeki", 26),  # S2 numbered on from S1's 25
        rec(str(folder / "sub" / "Shingeki - 30.mkv"), "Shingeki", 30),
    ])
    pinned = [(f.match.id, f.match.season, f.match.episode, f.match.pinned) for f in files]
    assert pinned == [(1429, 2, 1, str(folder)), (1429, 2, 5, str(folder))]
    assert tmdb_server.count("/3/search/") == 0
    (elsewhere,) = matcher.match([rec(str(tmp_path / "elsewhere" / "Shingeki - 3.mkv"), "Shingeki", 3)])
    assert elsewhere.match is None or elsewhere.match.pinned is None  # not under the pin: searched
    assert tmdb_server.count("/3/search/") >= 1


def test_a_title_pin_and_a_movie_pin(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    pins = Pins([make_pin("Some Fansub Name", 209867), make_pin("Weird Movie Name", 129, movie=True)])
    files = Matcher(client, pins=pins).match([rec("/a/Some Fansub Name - 03.mkv", "Some Fansub Name", 3),
                                              rec("/a/Weird Movie Name.mkv", "Weird Movie Name", None)])
    assert (files[0].match.id, files[0].match.episode) == (209867, 3)
    assert (files[1].match.id, files[1].match.media_type, files[1].match.title) == (129, "movie",
                                                                                    "Spirited Away")
    assert tmdb_server.count("/3/search/") == 0


def test_a_pin_to_a_missing_id_is_unmatched_with_the_reason(client: TMDBClient) -> None:
    files = Matcher(client, pins=Pins([make_pin("Frieren", 999_999)])).match([rec("/a/F - 1.mkv", "Frieren", 1)])
    assert files[0].match is None and "pinned TMDB tv 999999 does not exist" in files[0].reason


def test_pins_in_the_data_dir_are_honoured_by_default(tmdb_settings) -> None:
    pins = Pins.load()
    pins.add(make_pin("Totally Different Words", 1429, order="absolute"))
    pins.save()
    files, series, _ = match_files([rec("/a/x - 3.mkv", "Totally Different Words", 3, season=2)],
                                   tmdb=tmdb_settings)
    m = files[0].match
    assert (m.id, m.season, m.episode, m.absolute, m.order) == (1429, 1, 28, 28, "absolute")
    assert series[0].to_dict()["pinned"] == "Totally Different Words"
