"""Fixture data for the local TMDB server: ~55 anime in TMDB's shapes.

Written compactly (one row per title) and expanded into search results,
details, seasons and episode groups the way TMDB serves them. The hard cases
are deliberate: romaji vs English names (Shingeki no Kyojin / Attack on
Titan), native-only original names, stylized names (【OSHI NO KO】,
SPY×FAMILY), long runners numbered absolutely (One Piece with an "Absolute"
episode group, Naruto Shippuden without one), specials in season 0, movies
of a series, sequels that are separate series (Naruto / Naruto Shippuden,
Trigun / Trigun Stampede), remakes told apart by year (Hunter x Hunter 1999 /
2011, Berserk 1997 / 2016) and a live-action namesake (Monster, 2023).

NUMBERING_SHOWS (invented titles) are the numbering cases: cours TMDB merges
into one season (Starfall Academy: one 24-episode season that paused after
episode 12), one it splits (Hollow Crown Saga: a 24-episode run as two
seasons of 12), specials with names in season 0 and a decimal recap (Moonlit
Bakery: "Recap: The Story So Far" aired between episodes 6 and 7), and a
title that is a number (47 Nights). UNKNOWN_TITLES are titles TMDB does not have.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ANIMATION, DRAMA, CRIME, ACTION_ADVENTURE, SCI_FI_FANTASY, COMEDY = 16, 18, 80, 10759, 10765, 35


@dataclass
class Show:
    id: int
    name: str
    original_name: str
    year: int
    seasons: tuple[int, ...] = ()  # episode counts of seasons 1..n
    alt: tuple[str, ...] = ()
    specials: int = 0
    absolute_group: bool = False
    genres: tuple[int, ...] = (ANIMATION, ACTION_ADVENTURE)
    country: str = "JP"
    language: str = "ja"
    popularity: float = 50.0
    movie: bool = False
    season_years: tuple[int, ...] = field(default=())  # defaults to year, year+1, ...
    # Episodes a week apart (else all on their season's date); each season then starts a week
    # after the one before, and pauses a cour (13 weeks) after each (season, episode) in ``breaks``.
    weekly: bool = False
    breaks: tuple[tuple[int, int], ...] = ()
    special_names: tuple[str, ...] = ()  # season 0 names (else "Episode N")
    special_after: tuple[tuple[int, int], ...] = ()  # the (season, episode) each special aired after


def _tv(id, name, original, year, seasons, alt=(), **kw) -> Show:
    return Show(id, name, original, year, tuple(seasons), tuple(alt), **kw)


def _movie(id, name, original, year, alt=(), **kw) -> Show:
    return Show(id, name, original, year, (), tuple(alt), movie=True, **kw)


ONE_PIECE_SEASONS = (61, 16, 14, 39, 13, 52, 33, 35, 73, 45, 26, 14, 39, 60, 62, 49, 118, 33, 55, 197, 60)

SHOWS: list[Show] = [
    _tv(37854, "One Piece", "ワンピース", 1999, ONE_PIECE_SEASONS, ("ONE PIECE", "Wan Pīsu"),
        specials=40, absolute_group=True, popularity=250.0),
    _tv(46260, "Naruto", "ナルト", 2002, (57, 43, 41, 42, 37), ("NARUTO",), specials=12, popularity=120.0),
    _tv(31910, "Naruto Shippūden", "ナルト 疾風伝", 2007, (32, 21, 18, 17, 24, 31, 8, 24, 21, 25, 21, 33,
                                                          20, 25, 28, 13, 11, 20, 20, 22, 38),
        ("Naruto Shippuden", "Naruto: Shippuuden", "Naruto Hurricane Chronicles"), specials=4, popularity=110.0),
    _tv(30984, "Bleach", "ブリーチ", 2004, (20, 21, 22, 22, 24, 16, 17, 16, 22, 17, 14, 18, 14, 46, 12, 24, 13),
        ("BLEACH", "Bleach: Thousand-Year Blood War"), specials=6, popularity=95.0),
    _tv(1429, "Attack on Titan", "進撃の巨人", 2013, (25, 12, 22, 30), ("Shingeki no Kyojin", "AoT"),
        specials=8, popularity=180.0),
    _tv(209867, "Frieren: Beyond Journey's End", "葬送のフリーレン", 2023, (28,),
        ("Sousou no Frieren", "Frieren"), popularity=150.0),
    _tv(13916, "Death Note", "デスノート", 2006, (37,), ("DEATH NOTE",), specials=2, genres=(ANIMATION, CRIME)),
    _tv(31911, "Fullmetal Alchemist: Brotherhood", "鋼の錬金術師 FULLMETAL ALCHEMIST", 2009, (64,),
        ("Hagane no Renkinjutsushi: Fullmetal Alchemist", "Fullmetal Alchemist Brotherhood"), specials=4),
    _tv(25777, "Fullmetal Alchemist", "鋼の錬金術師", 2003, (51,), ("Hagane no Renkinjutsushi",), popularity=40.0),
    _tv(30991, "Cowboy Bebop", "カウボーイビバップ", 1998, (26,), ("Kaubōi Bibappu",), specials=1),
    _tv(890, "Neon Genesis Evangelion", "新世紀エヴァンゲリオン", 1995, (26,),
        ("Shin Seiki Evangelion", "Evangelion"), popularity=60.0),
    _tv(42509, "Steins;Gate", "STEINS;GATE", 2011, (24,), ("Steins Gate", "シュタインズ・ゲート"), specials=1),
    _tv(77695, "Steins;Gate 0", "シュタインズ・ゲート ゼロ", 2018, (23,), ("Steins Gate Zero",), popularity=30.0),
    _tv(31724, "Code Geass: Lelouch of the Rebellion", "コードギアス 反逆のルルーシュ", 2006, (25, 25),
        ("Code Geass", "Code Geass: Hangyaku no Lelouch"), specials=9),
    _tv(46298, "Hunter x Hunter", "HUNTER×HUNTER", 2011, (148,), ("Hunter × Hunter (2011)",), popularity=90.0),
    _tv(8828, "Hunter x Hunter", "HUNTER×HUNTER", 1999, (62,), ("Hunter × Hunter (1999)",), specials=30,
        popularity=35.0),
    _tv(63926, "One-Punch Man", "ワンパンマン", 2015, (12, 12, 12), ("One Punch Man", "Wanpanman"),
        specials=12, genres=(ANIMATION, ACTION_ADVENTURE, COMEDY)),
    _tv(67075, "Mob Psycho 100", "モブサイコ100", 2016, (12, 13, 12), ("Mob Psycho Hyaku",), specials=2),
    _tv(85937, "Demon Slayer: Kimetsu no Yaiba", "鬼滅の刃", 2019, (26, 18, 11, 11, 8),
        ("Kimetsu no Yaiba", "Demon Slayer"), specials=3, popularity=160.0),
    _tv(95479, "Jujutsu Kaisen", "呪術廻戦", 2020, (24, 23), ("JUJUTSU KAISEN",), popularity=140.0),
    _tv(120089, "SPY×FAMILY", "SPY×FAMILY", 2022, (25, 12), ("Spy x Family", "Spy Family"),
        popularity=120.0, genres=(ANIMATION, COMEDY, ACTION_ADVENTURE)),
    _tv(114410, "Chainsaw Man", "チェンソーマン", 2022, (12,), ("Chensō Man",), popularity=100.0),
    _tv(119100, "BOCCHI THE ROCK!", "ぼっち・ざ・ろっく！", 2022, (12,), ("Bocchi the Rock!",),
        genres=(ANIMATION, COMEDY)),
    _tv(203737, "【OSHI NO KO】", "【推しの子】", 2023, (11, 13), ("Oshi no Ko", "My Star"), popularity=85.0),
    _tv(72636, "Made in Abyss", "メイドインアビス", 2017, (13, 12), ("Meido in Abisu",), specials=2),
    _tv(88803, "Vinland Saga", "ヴィンランド・サガ", 2019, (24, 24), ("VINLAND SAGA",)),
    _tv(75214, "Violet Evergarden", "ヴァイオレット・エヴァーガーデン", 2018, (13,), ("Vaioretto Evāgāden",),
        specials=1, genres=(ANIMATION, DRAMA)),
    _tv(61663, "Your Lie in April", "四月は君の嘘", 2014, (22,), ("Shigatsu wa Kimi no Uso",), specials=1,
        genres=(ANIMATION, DRAMA)),
    _tv(65930, "My Hero Academia", "僕のヒーローアカデミア", 2016, (13, 25, 25, 25, 25, 25, 21),
        ("Boku no Hero Academia", "MHA"), specials=8, popularity=130.0),
    _tv(86031, "Dr. STONE", "ドクターストーン", 2019, (24, 11, 22), ("Dr. Stone", "Doctor Stone"), specials=1),
    _tv(61374, "Tokyo Ghoul", "東京喰種トーキョーグール", 2014, (12, 12, 12, 12), ("Tokyo Ghoul:re", "Tōkyō Gūru"),
        specials=2),
    _tv(57911, "Gintama", "銀魂", 2006, (49, 50, 51, 51, 13, 12, 51, 13, 12, 12), ("Gin Tama",), specials=10),
    _tv(45782, "Sword Art Online", "ソードアート・オンライン", 2012, (25, 24, 24, 24),
        ("SAO", "Sōdo Āto Onrain"), specials=6),
    _tv(65942, "Re:ZERO -Starting Life in Another World-", "Re:ゼロから始める異世界生活", 2016, (25, 25, 16),
        ("Re:Zero kara Hajimeru Isekai Seikatsu", "Re:Zero - Starting Life in Another World", "Re:Zero"),
        specials=4),
    _tv(65844, "KonoSuba: God's Blessing on This Wonderful World!", "この素晴らしい世界に祝福を！", 2016,
        (10, 10, 11), ("Kono Subarashii Sekai ni Shukufuku wo!", "Konosuba"), specials=2,
        genres=(ANIMATION, COMEDY)),
    _tv(94664, "Mushoku Tensei: Jobless Reincarnation", "無職転生 ～異世界行ったら本気だす～", 2021, (23, 25),
        ("Mushoku Tensei", "Mushoku Tensei: Isekai Ittara Honki Dasu"), specials=1),
    _tv(83095, "Kaguya-sama: Love Is War", "かぐや様は告らせたい～天才たちの恋愛頭脳戦～", 2019, (12, 12, 13),
        ("Kaguya-sama wa Kokurasetai", "Kaguya sama Love is War"), specials=2, genres=(ANIMATION, COMEDY)),
    _tv(127532, "Solo Leveling", "俺だけレベルアップな件", 2024, (12, 13), ("Ore dake Level Up na Ken",),
        popularity=115.0),
    _tv(219109, "Delicious in Dungeon", "ダンジョン飯", 2024, (24,), ("Dungeon Meshi",)),
    _tv(60863, "Haikyu!!", "ハイキュー!!", 2014, (25, 25, 10, 25), ("Haikyuu!!", "Haikyu"), specials=4),
    _tv(35935, "Berserk", "剣風伝奇ベルセルク", 1997, (25,), ("Kenpū Denki Berserk",), popularity=30.0),
    _tv(66893, "Berserk", "ベルセルク", 2016, (12, 12), ("Berserk (2016)",), popularity=25.0),
    _tv(30981, "Monster", "MONSTER", 2004, (74,), ("Naoki Urasawa's Monster",), genres=(ANIMATION, CRIME),
        popularity=45.0),
    _tv(113988, "Monster", "Monster", 2023, (10,), ("Monsters",), genres=(CRIME, DRAMA), country="US",
        language="en", popularity=300.0),
    _tv(2592, "Trigun", "トライガン", 1998, (26,), ("TRIGUN",), popularity=28.0),
    _tv(202411, "TRIGUN STAMPEDE", "TRIGUN STAMPEDE", 2023, (12,), ("Trigun Stampede",), popularity=33.0),
    _tv(12971, "Ghost in the Shell: Stand Alone Complex", "攻殻機動隊 STAND ALONE COMPLEX", 2002, (26, 26),
        ("Koukaku Kidoutai: Stand Alone Complex", "GitS SAC"), genres=(ANIMATION, SCI_FI_FANTASY)),
    _tv(2602, "Initial D", "頭文字D", 1998, (26, 13, 24, 24, 14, 24), ("Initial D First Stage",), specials=3),
    _tv(240411, "Dan Da Dan", "ダンダダン", 2024, (12, 12), ("Dandadan", "DAN DA DAN")),
    _tv(207468, "Kaiju No. 8", "怪獣８号", 2024, (12, 11), ("Kaijuu 8-gou", "Kaiju No 8")),
    _tv(220542, "The Apothecary Diaries", "薬屋のひとりごと", 2023, (24, 24), ("Kusuriya no Hitorigoto",)),
    _tv(131041, "BLUE LOCK", "ブルーロック", 2022, (24, 14), ("Blue Lock",)),
    _tv(46004, "Hajime no Ippo", "はじめの一歩", 2000, (76, 26, 25), ("Hajime no Ippo: The Fighting!",),
        specials=3),
    _movie(372058, "Your Name.", "君の名は。", 2016, ("Kimi no Na wa.", "Your Name"), popularity=110.0),
    _movie(129, "Spirited Away", "千と千尋の神隠し", 2001, ("Sen to Chihiro no Kamikakushi",), popularity=120.0),
    _movie(378064, "A Silent Voice: The Movie", "映画 聲の形", 2016, ("Koe no Katachi", "A Silent Voice")),
    _movie(149, "Akira", "AKIRA", 1988, ("Akira (1988)",), genres=(ANIMATION, SCI_FI_FANTASY)),
    _movie(128, "Princess Mononoke", "もののけ姫", 1997, ("Mononoke Hime",)),
    _movie(10494, "Perfect Blue", "PERFECT BLUE", 1997, ("Pāfekuto Burū",), genres=(ANIMATION, CRIME)),
    _movie(568160, "Weathering with You", "天気の子", 2019, ("Tenki no Ko",)),
    _movie(916224, "Suzume", "すずめの戸締まり", 2022, ("Suzume no Tojimari",)),
    _movie(635302, "Demon Slayer -Kimetsu no Yaiba- The Movie: Mugen Train", "劇場版「鬼滅の刃」無限列車編", 2020,
           ("Kimetsu no Yaiba Mugen Ressha-hen", "Demon Slayer Mugen Train")),
    _movie(810693, "Jujutsu Kaisen 0", "劇場版 呪術廻戦 0", 2021, ("Gekijouban Jujutsu Kaisen 0",)),
    _movie(9323, "Ghost in the Shell", "攻殻機動隊", 1995, ("Koukaku Kidoutai",), genres=(ANIMATION, SCI_FI_FANTASY)),
    _movie(11299, "Cowboy Bebop: The Movie", "カウボーイビバップ 天国の扉", 2001,
           ("Cowboy Bebop: Tengoku no Tobira", "Cowboy Bebop: Knockin' on Heaven's Door")),
    _movie(4935, "Howl's Moving Castle", "ハウルの動く城", 2004, ("Hauru no Ugoku Shiro",)),
    _movie(508883, "The Boy and the Heron", "君たちはどう生きるか", 2023, ("Kimitachi wa Dou Ikiru ka",)),
]

NUMBERING_SHOWS: list[Show] = [
    _tv(990001, "Starfall Academy", "スターフォール学園", 2021, (24,), ("Hoshifuri Gakuen",), weekly=True,
        breaks=((1, 12),)),
    _tv(990002, "Hollow Crown Saga", "虚ろな王冠", 2020, (12, 12), ("Utsuro na Oukan",), weekly=True),
    _tv(990003, "Moonlit Bakery", "月夜のパン屋", 2019, (12,), ("Tsukiyo no Panya",), weekly=True,
        specials=3, special_names=("Recap: The Story So Far", "Beach Day", "Bakery Live Concert"),
        special_after=((1, 6), (1, 12), (1, 12))),
    _tv(990004, "47 Nights", "47夜", 2016, (12,), ("Yonjuunana Ya",), weekly=True,
        genres=(ANIMATION, DRAMA)),
]
SHOWS += NUMBERING_SHOWS
UNKNOWN_TITLES = ("Unknown Show Nobody Knows", "Zzyzx Phantom Parade")


# ---------------------------------------------------------------- expansion into TMDB shapes


def _date(year: int, month: int = 4, day: int = 5) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


def season_years(show: Show) -> list[int]:
    return list(show.season_years) or [show.year + i for i in range(len(show.seasons))]


def episode_date(show: Show, season: int, number: int) -> str:
    """When a regular episode aired."""
    if not show.weekly:
        return _date(season_years(show)[season - 1])
    import datetime as dt

    day = dt.date.fromisoformat(_date(show.year))
    for s, count in enumerate(show.seasons, start=1):
        for n in range(1, count + 1):
            if (s, n) == (season, number):
                return day.isoformat()
            day += dt.timedelta(weeks=14 if (s, n) in show.breaks else 1)
    raise ValueError(f"{show.name} has no S{season:02d}E{number:02d}")


def special_date(show: Show, number: int) -> str:
    if number <= len(show.special_after):
        import datetime as dt

        aired = dt.date.fromisoformat(episode_date(show, *show.special_after[number - 1]))
        return (aired + dt.timedelta(days=3)).isoformat()
    return _date(show.year, 12, 20)


def season_date(show: Show, number: int) -> str:
    return episode_date(show, number, 1) if number >= 1 else _date(show.year, 12, 20)


def search_result(show: Show) -> dict[str, Any]:
    common = {"id": show.id, "original_language": show.language, "genre_ids": list(show.genres),
              "popularity": show.popularity, "vote_average": 8.1, "vote_count": 500,
              "overview": f"The story of {show.name}.", "poster_path": f"/p{show.id}.jpg",
              "backdrop_path": f"/b{show.id}.jpg", "adult": False}
    if show.movie:
        return {**common, "title": show.name, "original_title": show.original_name,
                "release_date": _date(show.year, 7, 20), "video": False}
    return {**common, "name": show.name, "original_name": show.original_name,
            "origin_country": [show.country], "first_air_date": _date(show.year)}


def group_id(show: Show) -> str:
    return f"{show.id:08x}abs0000000000000000"[:24]


def tv_details(show: Show) -> dict[str, Any]:
    seasons = []
    if show.specials:
        seasons.append({"season_number": 0, "name": "Specials", "episode_count": show.specials,
                        "air_date": _date(show.year, 12, 20), "id": show.id * 100})
    for n, count in enumerate(show.seasons, start=1):
        seasons.append({"season_number": n, "name": f"Season {n}", "episode_count": count,
                        "air_date": season_date(show, n), "id": show.id * 100 + n})
    groups = []
    if show.absolute_group:
        groups.append({"id": group_id(show), "name": "Absolute Order", "type": 2,
                       "episode_count": sum(show.seasons), "group_count": 1})
    groups.append({"id": f"{show.id:08x}dvd0000000000000000"[:24], "name": "DVD Order", "type": 3,
                   "episode_count": sum(show.seasons), "group_count": len(show.seasons)})
    return {"id": show.id, "name": show.name, "original_name": show.original_name,
            "original_language": show.language, "first_air_date": _date(show.year),
            "genres": [{"id": g, "name": str(g)} for g in show.genres], "origin_country": [show.country],
            "status": "Returning Series", "number_of_seasons": len(show.seasons),
            "number_of_episodes": sum(show.seasons), "seasons": seasons,
            "alternative_titles": {"results": [{"iso_3166_1": "JP", "title": t, "type": ""} for t in show.alt]},
            "episode_groups": {"results": groups}}


def movie_details(show: Show) -> dict[str, Any]:
    return {"id": show.id, "title": show.name, "original_title": show.original_name,
            "original_language": show.language, "release_date": _date(show.year, 7, 20), "runtime": 110,
            "genres": [{"id": g, "name": str(g)} for g in show.genres],
            "alternative_titles": {"titles": [{"iso_3166_1": "JP", "title": t, "type": ""} for t in show.alt]}}


def season(show: Show, number: int) -> dict[str, Any] | None:
    if number == 0:
        count = show.specials
    elif 1 <= number <= len(show.seasons):
        count = show.seasons[number - 1]
    else:
        return None
    if number == 0 and not count:
        return None
    episodes = [{"episode_number": e, "season_number": number, "name": episode_name(show, number, e),
                 "air_date": special_date(show, e) if number == 0 else episode_date(show, number, e),
                 "runtime": 24, "id": show.id * 10000 + number * 1000 + e}
                for e in range(1, count + 1)]
    return {"season_number": number, "name": "Specials" if number == 0 else f"Season {number}",
            "air_date": season_date(show, number), "episodes": episodes, "id": show.id * 100 + number}


def episode_name(show: Show, season: int, number: int) -> str:
    if season == 0 and number <= len(show.special_names):
        return show.special_names[number - 1]
    return f"Episode {number}"


def episode_group(show: Show) -> dict[str, Any]:
    episodes = []
    for n, count in enumerate(show.seasons, start=1):
        for e in range(1, count + 1):
            episodes.append({"order": len(episodes), "season_number": n, "episode_number": e,
                             "id": show.id * 10000 + n * 1000 + e, "name": f"Episode {e}"})
    return {"id": group_id(show), "name": "Absolute Order", "type": 2, "episode_count": len(episodes),
            "group_count": 1, "groups": [{"name": "Episodes", "order": 0, "episodes": episodes}]}


# ---------------------------------------------------------------- the demo library's catalogue


def demo_catalogue(series: int) -> tuple[list[Show], dict[str, int]]:
    """SHOWS plus an entry for every title the first ``series`` series of anivault.demo can use.

    The demo repeats its real titles with invented sequels ("Cowboy Bebop Kai",
    "Akira Zero 2"), ~1 title per len(TITLES) series and (for TV) 4 seasons
    per sequel; each sequel is a show of its own here (as many are on TMDB),
    so a benchmark against the demo library can find every series. Also
    returns the expected TMDB id of each title, keyed by its folded form.
    """
    from anivault import demo

    shows = list(SHOWS)
    known: dict[tuple[str, bool], int] = {}
    for show in SHOWS:
        for name in (show.name, *show.alt):
            known.setdefault((_demo_fold(name), show.movie), show.id)
    cycles = series // len(demo.TITLES) + 1
    expected: dict[str, int] = {}
    next_id = 9_000_001
    for base, year in demo.TITLES:
        movie = _demo_fold(base) in {_demo_fold(m) for m in demo.MOVIES}
        for variant in range(cycles if movie else cycles // 4 + 1):
            title = base + demo.SEQUELS[variant % len(demo.SEQUELS)] + (
                f" {variant // len(demo.SEQUELS) + 1}" if variant >= len(demo.SEQUELS) else "")
            key = (_demo_fold(title), movie)
            if key not in known:
                shows.append(Show(next_id, title, title, min(year + variant, 2025),
                                  () if movie else (26, 26, 26, 26), (), specials=0 if movie else 2,
                                  movie=movie, popularity=10.0))
                known[key] = next_id
                next_id += 1
            expected[key[0]] = known[key]
    return shows, expected


def _demo_fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())
