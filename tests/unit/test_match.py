"""Matching: normalization, scoring, grouping, fallbacks, episode placement."""
from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from anivault.testing import fixtures as fx
from anivault.cache import TMDBCache
from anivault.match import (Matcher, clean_title, fold, match_files, match_records, shortened,
                            title_similarity, year_score)
from anivault.models import ParsedName
from anivault.ratelimit import RateLimiter
from anivault.tmdb import TMDBClient
from anivault.testing import TMDBServer


class Rec(NamedTuple):
    path: str
    parsed: ParsedName | None
    kind: str = "video"


def rec(title: str | None, episode: int | None = None, season: int | None = None, year: int | None = None,
        kind: str = "episode", path: str | None = None) -> Rec:
    return Rec(path or f"/lib/{title} - {episode}.mkv", ParsedName(title=title, season=season, episode=episode,
                                                                    year=year, kind=kind))


def one(client: TMDBClient, r: Rec, **kw: Any):
    (fm,) = Matcher(client, **kw).match([r])
    return fm


# ---------------------------------------------------------------- normalization


@pytest.mark.parametrize("a, b", [
    ("Naruto Shippūden", "naruto shippuuden"),
    ("ＳＰＹ×ＦＡＭＩＬＹ", "Spy x Family"),
    ("Sousou no Frieren", "SOUSOU NO FRIEREN"),
    ("Kaguya-sama: Love Is War", "kaguya sama love is war"),
    ("Tōkyō Gūru", "Toukyou Guuru"),
    ("Re:Zero", "re zero"),
])
def test_fold_ignores_width_case_punctuation_and_long_vowels(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize("title, query, season, special", [
    ("Boku no Hero Academia 2nd Season", "boku no hero academia", 2, False),
    ("Shingeki no Kyojin Season 3", "shingeki no kyojin", 3, False),
    ("Oshi no Ko 第2期", "oshi no ko", 2, False),
    ("Re:Zero S2", "re zero", 2, False),
    ("Black Clover OVA", "black clover", None, True),
    ("Made in Abyss - Menu01", "made in abyss", None, False),
    ("Attack on Titan NCOP2", "attack on titan", None, False),
    ("Steins;Gate", "steins gate", None, False),
    ("Ｆｒｉｅｒｅｎ", "frieren", None, False),
])
def test_clean_title(title: str, query: str, season: int | None, special: bool) -> None:
    c = clean_title(title)
    assert (c.query, c.season, c.special) == (query, season, special)


def test_shortened_drops_trailing_words() -> None:
    assert shortened("attack on titan junk") == ["attack on titan", "attack on", "attack"]
    assert shortened("ab cd") == []  # "ab" is too short to mean anything


def test_similarity_and_year_score() -> None:
    assert title_similarity(fold("Naruto"), ["Naruto"]) == 1.0
    assert title_similarity(fold("Naruto"), ["Naruto Shippūden"]) < 0.6
    assert 0.9 <= title_similarity(fold("Frieren"), ["Frieren: Beyond Journey's End"]) < 1.0
    assert year_score(2011, [2011]) == 1.0 and year_score(2011, [1999]) == 0.0
    assert year_score(None, [2011]) == 0.5 and year_score(2012, [None, 2011]) == 0.7


# ---------------------------------------------------------------- resolving titles


@pytest.mark.parametrize("title, kind, year, expected", [
    ("One Piece", "episode", None, 37854),
    ("Shingeki no Kyojin", "episode", None, 1429),  # romaji, via alternative titles
    ("Sousou no Frieren", "episode", None, 209867),
    ("Frieren", "episode", None, 209867),  # the name before its subtitle
    ("Naruto", "episode", None, 46260),
    ("Naruto Shippuuden", "episode", None, 31910),  # a sequel that is a separate series
    ("Trigun", "episode", None, 2592),
    ("Trigun Stampede", "episode", None, 202411),
    ("Hunter x Hunter", "episode", 1999, 8828),  # the year tells remakes apart
    ("Hunter x Hunter", "episode", 2011, 46298),
    ("Berserk", "episode", 2016, 66893),
    ("Monster", "episode", None, 30981),  # animation from Japan beats a live-action namesake
    ("Oshi no Ko", "episode", None, 203737),
    ("ＳＰＹ×ＦＡＭＩＬＹ", "episode", None, 120089),  # full-width
    ("Dungeon Meshi", "episode", None, 219109),
    ("Kimetsu no Yaiba", "episode", None, 85937),
    ("Fullmetal Alchemist", "episode", None, 25777),
    ("Fullmetal Alchemist Brotherhood", "episode", None, 31911),
    ("Re Zero kara Hajimeru Isekai Seikatsu", "episode", None, 65942),
    ("Kimi no Na wa", "movie", 2016, 372058),
    ("Spirited Away", "movie", None, 129),
    ("Jujutsu Kaisen 0", "movie", None, 810693),
    ("Ghost in the Shell", "movie", 1995, 9323),
])
def test_resolves_hard_titles(client: TMDBClient, title: str, kind: str, year: int | None, expected: int) -> None:
    fm = one(client, rec(title, 1 if kind != "movie" else None, year=year, kind=kind))
    assert fm.match is not None, fm.reason
    assert fm.match.id == expected
    assert 0.6 <= fm.match.confidence <= 1.0


def test_each_series_is_searched_once(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    records = [rec("One Piece", e) for e in range(1, 40)] + [rec("one piece", e, season=2) for e in range(1, 5)]
    records += [rec("Naruto", e, path=f"/lib/n{e}.ass") for e in range(1, 10)]
    files = Matcher(client).match(records)
    assert all(f.match is not None for f in files)
    assert tmdb_server.count("/3/search/tv") == 2
    assert tmdb_server.count("/3/tv/37854") == 1 and tmdb_server.count("/3/tv/46260") == 1


def test_unknown_title_is_unmatched_with_a_reason(client: TMDBClient) -> None:
    fm = one(client, rec("Totally Unknown Show Xyzzy", 3))
    assert fm.match is None and "no TMDB result" in fm.reason


def test_below_min_confidence_is_unmatched_with_the_score(client: TMDBClient) -> None:
    fm = one(client, rec("Cowboy Bebop Kai", 1), min_confidence=0.95)
    assert fm.match is None
    assert "Cowboy Bebop" in fm.reason and "below --min-confidence 0.95" in fm.reason


def test_shortens_the_query_when_nothing_fits(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    fm = one(client, rec("Vinland Saga Extended Remaster Edition", 2))
    assert fm.match is not None and fm.match.id == 88803
    queries = [r.params["query"] for r in tmdb_server.requests("/3/search/")]
    assert queries[0] == "vinland saga extended remaster edition" and "vinland saga" in queries


def test_movie_named_like_an_episode_falls_back_to_movie_search(client: TMDBClient,
                                                                  tmdb_server: TMDBServer) -> None:
    fm = one(client, rec("Princess Mononoke", 1))
    assert fm.match is not None and fm.match.media_type == "movie" and fm.match.id == 128
    assert fm.match.season is None and fm.match.episode is None
    assert tmdb_server.count("/3/search/tv") == 1 and tmdb_server.count("/3/search/movie") >= 1


def test_year_scores_candidates_instead_of_filtering(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    fm = one(client, rec("Akira", None, year=1989, kind="movie"))  # a re-release year
    assert fm.match is not None and fm.match.id == 149
    assert [r.params.get("primary_release_year") for r in tmdb_server.requests("/3/search/movie")] == [None]
    tmdb_server.reset_log()
    fm = one(client, rec("Xyzzy Unknown", None, year=2001, kind="movie"))
    assert fm.match is None
    searches = [(r.path, r.params["query"], r.params.get("primary_release_year")) for r in tmdb_server.requests()]
    # An empty page cannot hide anything: no year-filtered retry, then the other kind, then shorter.
    assert searches == [("/3/search/movie", "xyzzy unknown", None), ("/3/search/tv", "xyzzy unknown", None),
                        ("/3/search/movie", "xyzzy", None), ("/3/search/tv", "xyzzy", None)]


def test_a_crowded_page_is_searched_again_with_the_year(tmp_path: Path) -> None:
    crowd = [fx.Show(500 + i, f"Galaxy Story {word} Saga Continues", f"銀河物語 {word}", 1990 + i, (12,),
                     popularity=90.0 - i)
             for i, word in enumerate("Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi "
                                      "Omicron Pi Rho Sigma Tau Upsilon Phi Chi".split())]
    target = fx.Show(999, "The Galaxy Story Chronicles", "銀河物語", 2015, (24,), ("Ginga Monogatari",), popularity=1.0)
    with TMDBServer(crowd + [target]) as server, TMDBCache(tmp_path / "c.sqlite") as cache, \
            TMDBClient(api_key=server.api_key, base_url=server.url, cache=cache,
                       limiter=RateLimiter(rate=1000)) as client:
        fm = one(client, rec("Galaxy Story", 3, year=2015))  # 23 results: page 1 lacks the 2015 one
        years = [r.params.get("first_air_date_year") for r in server.requests("/3/search/tv")]
        assert years[:2] == [None, "2015"]
        assert fm.match is not None and fm.match.id == 999


def test_groups_of_one_title_share_one_search(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    records = [rec("Akira", None, year=y, kind="movie") for y in (1988, 1989, 2001)]
    records += [rec("Attack on Titan", 1, season=s, year=y) for s, y in ((1, 2013), (2, 2017), (3, 2018))]
    files = Matcher(client).match(records)
    assert {f.match.id for f in files} == {149, 1429}
    assert tmdb_server.count("/3/search/movie") == 1 and tmdb_server.count("/3/search/tv") == 1


def test_tv_search_does_not_filter_by_a_later_season_year(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    fm = one(client, rec("Attack on Titan", 5, season=3, year=2018))
    assert fm.match is not None and fm.match.id == 1429 and fm.match.season == 3
    assert all("first_air_date_year" not in r.params for r in tmdb_server.requests("/3/search/tv"))


# ---------------------------------------------------------------- episodes


def test_absolute_episode_through_the_episode_group(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    fm = one(client, rec("One Piece", 1089))
    seasons = fx.ONE_PIECE_SEASONS
    before = sum(seasons[:20])
    assert (fm.match.season, fm.match.episode) == (21, 1089 - before)
    assert "episode group" in fm.match.reason
    assert tmdb_server.count("/3/tv/episode_group/") == 1


def test_absolute_episode_through_season_counts(client: TMDBClient) -> None:
    shippuden = next(s for s in fx.SHOWS if s.id == 31910)
    fm = one(client, rec("Naruto Shippuden", 300))
    total = 0
    for n, count in enumerate(shippuden.seasons, start=1):
        if 300 <= total + count:
            assert (fm.match.season, fm.match.episode) == (n, 300 - total)
            break
        total += count
    assert "season counts" in fm.match.reason


def test_episode_within_the_first_season_stays(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    fm = one(client, rec("One Piece", 12))
    assert (fm.match.season, fm.match.episode, fm.match.reason) == (1, 12, None)
    assert tmdb_server.count("/3/tv/episode_group/") == 0


def test_season_numbered_from_the_series_start(client: TMDBClient) -> None:
    fm = one(client, rec("Attack on Titan", 30, season=2))  # S1 has 25: "S2 - 30" is S2E05
    assert (fm.match.season, fm.match.episode) == (2, 5)


@pytest.mark.parametrize("r, expected", [
    (rec("Attack on Titan", 3, kind="special"), (0, 3)),
    (rec("Attack on Titan OVA", 2), (0, 2)),
    (rec("Attack on Titan", 4, season=0), (0, 4)),
    (rec("Attack on Titan", None, kind="extra"), (None, None)),
    (rec("Attack on Titan 2nd Season", 4), (2, 4)),
])
def test_specials_extras_and_season_words(client: TMDBClient, r: Rec, expected: tuple) -> None:
    fm = one(client, r)
    assert (fm.match.season, fm.match.episode) == expected


def test_an_absolute_number_beyond_every_season_is_unplaced(client: TMDBClient) -> None:
    fm = one(client, rec("Naruto Shippuden", 9999))
    assert fm.match is None and "beyond every TMDB season" in fm.reason


# ---------------------------------------------------------------- the library entry points


def test_match_records_keeps_order_and_reports(tmdb_env: TMDBServer, tmdb_settings) -> None:
    from anivault.monitor import Metrics

    records = [rec("Frieren", 1), Rec("/lib/font.ttf", None, "other"), rec(None, 3), rec("Naruto", 2)]
    metrics = Metrics()
    pairs = list(match_records(records, metrics=metrics, tmdb=tmdb_settings))
    assert [p[0] for p in pairs] == records
    assert pairs[0][1].id == 209867 and pairs[1][1] is None and pairs[2][1] is None and pairs[3][1].id == 46260
    # The shared counter names (monitor.metrics.REQUESTS …), as every stage and the bench read them.
    assert metrics.counters["requests"] == tmdb_env.count() > 0
    assert "tmdb_requests" not in metrics.counters
    assert metrics.counters["retries"] == 0
    assert metrics.counters["cache_misses"] > 0
    assert metrics.counters["series_matched"] == 2  # progress of the match phase, series by series
    assert metrics.stage_seconds["match"] > 0 and metrics.stage_items["match"] == 4
    assert metrics.expected is None  # the phase ended: no stale ETA


def test_match_counters_grow_live_and_announce_the_total(tmdb_settings) -> None:
    """The live line's ETA and hit rate need the total and the counters during the match."""
    from anivault.match import match_files
    from anivault.monitor import Metrics

    metrics = Metrics()
    seen: list[tuple[int | None, int, int]] = []

    def progress(series: object) -> None:
        seen.append((metrics.expected, metrics.counters["series_matched"], metrics.counters["requests"]))

    match_files([rec("Frieren", 1), rec("Naruto", 2), rec("Frieren", 2)], metrics=metrics,
                progress=progress, tmdb=tmdb_settings)
    assert [s[:2] for s in seen] == [(2, 1), (2, 2)]
    assert 0 < seen[0][2] <= seen[1][2]  # requests counted as they happen


def test_match_files_second_run_is_all_cache_hits(tmdb_env: TMDBServer, tmdb_settings) -> None:
    records = [rec(t, 1) for t in ("One Piece", "Bleach", "Death Note", "Vinland Saga")]
    files, series, summary = match_files(records, tmdb=tmdb_settings)
    assert summary.matched == 4 and summary.requests == tmdb_env.count()
    files, series, summary = match_files(records, tmdb=tmdb_settings)
    assert summary.requests == 0 and summary.hit_rate == 1.0
    assert tmdb_env.count() == 8  # one search and one details per series, ever
    assert sorted(s.tmdb_title for s in series) == ["Bleach", "Death Note", "One Piece", "Vinland Saga"]


def test_offline_without_cache_leaves_files_unmatched(tmdb_env: TMDBServer, tmdb_settings) -> None:
    files, _, summary = match_files([rec("One Piece", 1)], offline=True, tmdb=tmdb_settings)
    assert files[0].match is None and "offline" in files[0].reason
    assert summary.cache_only and tmdb_env.count() == 0


def test_language_is_part_of_every_request(tmdb_env: TMDBServer, tmdb_settings) -> None:
    from dataclasses import replace

    match_files([rec("One Piece", 1)], tmdb=replace(tmdb_settings, language="de-DE"))
    assert {r.params["language"] for r in tmdb_env.requests()} == {"de-DE"}
    match_files([rec("One Piece", 1)], tmdb=replace(tmdb_settings, language="en-US"))
    assert tmdb_env.count() == 4  # another language, other cache keys


def test_a_title_the_library_has_as_a_movie_is_searched_as_a_movie_first(client: TMDBClient,
                                                                         tmdb_server: TMDBServer) -> None:
    records = [rec("Spirited Away", None, year=2001, kind="movie"),
               rec("Spirited Away", 2, year=2001)]  # "Spirited Away 2 (2001).mkv" reads as an episode
    files = Matcher(client).match(records)
    assert [f.match.id for f in files] == [129, 129]
    assert tmdb_server.count("/3/search/tv") == 0 and tmdb_server.count("/3/search/movie") == 1


def test_extras_join_their_title_or_else_their_release(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    records = [rec("Cowboy Bebop", 1, path="/lib/Cowboy Bebop/[g] Cowboy Bebop - 01.mkv"),
               rec("Cowboy Bebop", None, kind="extra", path="/lib/Cowboy Bebop/Extras/[g] Cowboy Bebop - NCOP1.mkv"),
               rec("Spirited Away", None, year=2001, kind="movie", path="/lib/SA (2001)/Spirited Away (2001).mkv"),
               rec("Sen to Chihiro Menu", None, kind="extra", path="/lib/SA (2001)/Extras/Menu01.mkv")]
    files = Matcher(client).match(records)
    assert [f.match.id for f in files] == [30991, 30991, 129, 129]
    assert files[1].match.episode is None
    assert tmdb_server.count("/3/search/") == 2  # the extras made no search of their own


# ---------------------------------------------------------------- TMDB's structure (the numbering fixtures)


@pytest.mark.parametrize("title, season, episode, kind, expected", [
    ("Starfall Academy", 2, 3, "episode", (1, 15)),  # cour 2 of TMDB's one merged season
    ("Starfall Academy", 1, 12, "episode", (1, 12)),
    ("Hollow Crown Saga", None, 18, "episode", (2, 6)),  # absolute, past TMDB's first season
    ("Hollow Crown Saga", 1, 13, "episode", (2, 1)),  # TMDB splits the fansub's season
    ("Moonlit Bakery", None, 6.5, "special", (0, 1)),  # the recap aired between 6 and 7
    ("Moonlit Bakery - OVA", None, 2, "special", (0, 2)),
    ("Moonlit Bakery - Special - Bakery Live Concert", None, None, "special", (0, 3)),
    ("47 Nights", None, 3, "episode", (1, 3)),  # a title that is a number
])
def test_numbering_fixtures_land_on_tmdb(client: TMDBClient, title: str, season: int | None,
                                         episode: float | None, kind: str, expected: tuple) -> None:
    fm = one(client, rec(title, episode, season=season, kind=kind))
    assert fm.match is not None, fm.reason
    assert (fm.match.season, fm.match.episode) == expected


@pytest.mark.parametrize("title, season, episode, kind, said", [
    ("Moonlit Bakery", None, 9.5, "special", "9.5"),  # a decimal with no season 0 entry
    ("Starfall Academy", 3, 1, "episode", "no season 3"),
    ("Hollow Crown Saga", None, 30, "episode", "beyond every TMDB season"),
    ("Unknown Show Nobody Knows", None, 1, "episode", "no TMDB result"),
])
def test_what_tmdb_does_not_have_is_unmatched_with_the_reason(client: TMDBClient, title: str,
                                                              season: int | None, episode: float | None,
                                                              kind: str, said: str) -> None:
    fm = one(client, rec(title, episode, season=season, kind=kind))
    assert fm.match is None and said in fm.reason


def test_absolute_episode_title_and_orders(client: TMDBClient, tmdb_server: TMDBServer) -> None:
    files = Matcher(client, episode_titles=True).match([rec("Hollow Crown Saga", 18)])
    m = files[0].match
    assert (m.season, m.episode, m.absolute, m.episode_title, m.order) == (2, 6, 18, "Episode 6", "tmdb")
    m = Matcher(client, order="absolute").match([rec("Hollow Crown Saga", 6, season=2)])[0].match
    assert (m.season, m.episode, m.absolute) == (1, 18, 18)
    group = fx.group_id(next(s for s in fx.SHOWS if s.id == 37854))
    m = Matcher(client, order=f"group:{group}").match([rec("One Piece", 5, season=2)])[0].match
    assert (m.season, m.episode) == (1, 66)  # one group holding every episode in order


def test_matching_streams_in_memory_that_does_not_grow_with_the_files(client: TMDBClient) -> None:
    import tracemalloc

    shows = [s for s in fx.SHOWS if not s.movie and s.seasons[0] >= 12][:30]

    def records(n: int):
        for i in range(n):
            show = shows[i % len(shows)]
            yield rec(show.name, 1 + (i // len(shows)) % 12, path=f"/lib/{show.name}/{i:07d}.mkv")

    def peak(n: int) -> int:
        matcher = Matcher(client)
        for _ in matcher.iter(records(200)):  # series resolved and caches warm before measuring
            pass
        tracemalloc.start()
        try:
            matched = sum(fm.match is not None for fm in matcher.iter(records(n), window=500))
            return tracemalloc.get_traced_memory()[1] if matched == n else -1
        finally:
            tracemalloc.stop()

    small, large = peak(4_000), peak(16_000)
    assert small > 0 and large > 0
    assert large < small * 1.5, (small, large)


def test_the_parsers_extra_type_and_episode_title_place_specials(client: TMDBClient) -> None:
    recap = Rec("/lib/Moonlit Bakery - Recap.mkv",
                ParsedName(title="Moonlit Bakery", kind="special", **{"extra_type": "Recap"}))
    named = Rec("/lib/Moonlit Bakery - OVA - Beach Day.mkv",
                ParsedName(title="Moonlit Bakery", kind="special", episode_title="Beach Day",
                           **{"extra_type": "OVA"}))
    ova = Rec("/lib/Moonlit Bakery OVA3.mkv", ParsedName(title="Moonlit Bakery", episode=3, **{"extra_type": "OVA"}))
    files = Matcher(client).match([recap, named, ova])
    assert [(f.match.season, f.match.episode) for f in files] == [(0, 1), (0, 2), (0, 3)]


def test_a_layout_dropped_from_memory_is_read_again_and_places_alike(client: TMDBClient, tmdb_server: TMDBServer,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the last LAYOUT_LIMIT series keep their seasons in memory; an older one's are read again
    from the cache (not TMDB), and its files land where they did."""
    import anivault.match as match_module

    names = [("One Piece", 1089), ("Naruto Shippuden", 300), ("Attack on Titan", 30)]
    files = [rec(t, e + k, path=f"/lib/{t}/{k}.mkv") for k in range(3) for t, e in names]  # series alternate
    held = [(fm.match.season, fm.match.episode, fm.match.reason) for fm in Matcher(client).match(files)]
    requests = tmdb_server.count("/3/")
    monkeypatch.setattr(match_module, "LAYOUT_LIMIT", 1)
    matcher = Matcher(client)
    dropped = [(fm.match.season, fm.match.episode, fm.match.reason) for fm in matcher.match(files)]
    assert dropped == held
    assert len(matcher._layouts) == 1
    assert tmdb_server.count("/3/") == requests  # everything again came from the cache


def test_a_series_keeps_only_what_placing_its_files_reads(client: TMDBClient) -> None:
    matcher = Matcher(client)
    matcher.match([rec("One Piece", 1089)])
    (series,) = matcher.series
    assert set(series.details) == {"season_counts", "absolute_group"}  # One Piece has an absolute group
    assert dict(series.details["season_counts"])[1] == fx.ONE_PIECE_SEASONS[0]


def test_release_folders_remembered_are_bounded(client: TMDBClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import anivault.match as match_module

    monkeypatch.setattr(match_module, "FOLDER_LIMIT", 4)
    matcher = Matcher(client)
    files = [rec("One Piece", 1, path=f"/lib/release {i}/One Piece - 01.mkv") for i in range(10)]
    assert all(fm.match is not None for fm in matcher.match(files))
    assert list(matcher._release_key) == [f"/lib/release {i}" for i in range(6, 10)]


def test_windows_give_each_record_in_order_a_folder_at_a_time(client: TMDBClient) -> None:
    """Matcher.windows: folder lists in, (record, match, reason) lists out, the records in order."""
    from anivault.match import by_folder

    files = [rec("One Piece", e, path=f"/lib/{d}/{e}.mkv") for d in ("a", "b", "c") for e in range(1, 5)]
    files.insert(5, Rec("/lib/b/notes.txt", None, "other"))
    folders = list(by_folder(files))
    assert [len(f) for f in folders] == [4, 5, 4]
    out = list(Matcher(client).windows(folders, window=5))
    assert [len(w) for w in out] == [9, 4]  # folders gathered until a window has 5 files
    triples = [t for w in out for t in w]
    assert [t[0] for t in triples] == files
    assert triples[5][1:] == (None, "not a video or subtitle")
    assert all(t[1] is not None and t[2] is None for i, t in enumerate(triples) if i != 5)
