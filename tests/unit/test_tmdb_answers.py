"""Robust TMDB data: what is cached as "no result", wrong base URLs, malformed and hostile answers."""
from __future__ import annotations

from pathlib import Path

import pytest

from anivault.cache import MISSING, TMDBCache, make_key
from anivault.errors import CredentialsError
from anivault.match import Matcher
from anivault.models import ParsedName
from anivault.ratelimit import RateLimiter
from anivault.testing import TMDBServer
from anivault.tmdb import TMDBClient, TMDBConfigError, TMDBError
from anivault.tmdb_answers import Malformed, checked, clean_string


@pytest.fixture
def cache(tmp_path: Path):
    with TMDBCache(tmp_path / "tmdb.sqlite") as c:
        yield c


def client_for(server: TMDBServer, cache: TMDBCache, warnings: list[str] | None = None) -> TMDBClient:
    return TMDBClient(api_key=server.api_key, base_url=server.url, cache=cache, backoff_base=0.01,
                      limiter=RateLimiter(rate=500, concurrency=4),
                      warn=(warnings.append if warnings is not None else None))


def test_only_an_empty_200_is_cached_as_no_result(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    with client_for(tmdb_server, cache) as client:
        assert client.search_tv("no such show at all")["results"] == []
        assert client.tv(1) is None  # 404 on a details path: "no such item", not cached
    assert cache.get(make_key("search/tv", "no such show at all", "en-US")) == {
        "page": 1, "total_pages": 1, "total_results": 0, "results": []}
    assert cache.get(make_key("tv", 1, "en-US")) is MISSING


@pytest.mark.parametrize("fault, said", [
    ("html", "HTML page"),
    ("404-plain", "404"),
    ("401-plain", "401 without TMDB's error body"),
])
def test_a_wrong_base_url_stops_the_run_with_a_hint(tmdb_server: TMDBServer, cache: TMDBCache,
                                                    fault: str, said: str) -> None:
    tmdb_server.faults.append(fault)
    with client_for(tmdb_server, cache) as client:
        with pytest.raises(TMDBConfigError) as e:
            client.search_tv("frieren")
        assert said in e.value.message and "tmdb_base_url" in e.value.hint
        with pytest.raises(TMDBConfigError):  # the whole run: nothing more is sent
            client.tv(209867)
    assert tmdb_server.count() == 1
    assert cache.get(make_key("search/tv", "frieren", "en-US")) is MISSING


def test_a_404_on_a_search_path_is_a_wrong_base_url(cache: TMDBCache) -> None:
    with TMDBServer() as server:
        client = TMDBClient(api_key=server.api_key, base_url=server.url + "/oops", cache=cache,
                            limiter=RateLimiter(rate=500, concurrency=2))
        with client, pytest.raises(TMDBConfigError, match="404"):
            client.search_tv("frieren")


def test_a_real_401_is_still_a_credentials_error(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    tmdb_server.faults.append("401")
    with client_for(tmdb_server, cache) as client, pytest.raises(CredentialsError) as e:
        client.search_tv("frieren")
    assert "tmdb_base_url" in e.value.hint


def test_a_malformed_answer_is_reported_once_not_cached_and_the_run_goes_on(
        tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    warnings: list[str] = []
    tmdb_server.faults.extend(["wrong-type", "wrong-type"])
    with client_for(tmdb_server, cache, warnings) as client:
        with pytest.raises(TMDBError, match="malformed"):
            client.search_tv("frieren")
        with pytest.raises(TMDBError, match="malformed"):
            client.search_tv("naruto")
        assert cache.get(make_key("search/tv", "frieren", "en-US")) is MISSING
        assert client.search_tv("frieren")["results"][0]["id"] == 209867  # next time: fetched and cached
    assert len(warnings) == 1 and "results[0].id" in warnings[0]
    assert client.counters["malformed"] == 2


def test_a_malformed_answer_leaves_its_series_unmatched(tmdb_server: TMDBServer, cache: TMDBCache) -> None:
    tmdb_server.faults.append("wrong-type")
    with client_for(tmdb_server, cache, []) as client:
        files = Matcher(client, workers=1).match([_rec("Frieren", 1), _rec("Naruto", 1)])
    assert files[0].match is None and "malformed" in files[0].reason
    assert files[1].match is not None and files[1].match.id == 46260


def test_lone_surrogates_and_bidi_overrides_never_reach_a_name(tmdb_server: TMDBServer,
                                                               cache: TMDBCache) -> None:
    tmdb_server.always = "surrogate"
    with client_for(tmdb_server, cache) as client:
        (fm,) = Matcher(client).match([_rec("Frieren", 1)])
    assert fm.match is not None and fm.match.title == "\ufffdFrieren: Beyond Journey's End"
    fm.match.title.encode("utf-8")  # storable, printable
    tmdb_server.always = None
    # The cleaned answer is what was cached: a second client reads it back intact.
    with client_for(tmdb_server, cache) as client:
        assert client.search_tv("frieren")["results"][0]["name"].startswith("\ufffdFrieren")


def test_entries_cached_unchecked_by_an_older_version_are_dropped(tmdb_server: TMDBServer,
                                                                  tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with TMDBCache(path) as old:
        old.put(make_key("tv", 209867, "en-US"), "tv", {"id": "209867", "seasons": "many"})
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 1")  # as the version before answers were checked left it
    with TMDBCache(path) as cache, client_for(tmdb_server, cache) as client:
        assert client.tv(209867)["id"] == 209867
    assert tmdb_server.count("/3/tv/209867") == 1


@pytest.mark.parametrize("kind, value, where", [
    ("search/tv", {"results": "x"}, "results"),
    ("search/tv", {"results": [{"id": True}]}, "results[0].id"),
    ("search/movie", {}, "results"),
    ("tv", {"id": 1, "seasons": [{"season_number": -1}]}, "seasons[0].season_number"),
    ("tv", {"id": 1, "episode_groups": {"results": [{"id": "../../x"}]}}, "episode_groups.results[0].id"),
    ("tv_season", {"episodes": [{"episode_number": 1, "name": 5}]}, "episodes[0].name"),
    ("episode_group", {"groups": [{"episodes": [{"season_number": 1}]}]}, "episode_number"),
    ("movie", [1, 2], "not an object"),
])
def test_shapes_are_checked(kind: str, value: object, where: str) -> None:
    with pytest.raises(Malformed, match=where.replace("[", r"\[").replace("]", r"\]")):
        checked(kind, value)


def test_strings_are_cleaned() -> None:
    assert clean_string("A\u202eB\ufeffC\x07D\ud800") == "ABCD\ufffd"
    assert clean_string("line\nbreak\ttab") == "line\nbreak\ttab"


def _rec(title: str, episode: int):
    from typing import NamedTuple

    class Rec(NamedTuple):
        path: str
        parsed: ParsedName

    return Rec(f"/lib/{title} - {episode}.mkv", ParsedName(title=title, episode=episode))
