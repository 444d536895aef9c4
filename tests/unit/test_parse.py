"""The parser, category by category, on both twins (the ``parse_twin`` fixture)."""
from __future__ import annotations

import pytest

from anivault.models import ParsedName


def check(parse_twin, name: str, **expected) -> ParsedName:
    got = parse_twin.parse_name(name)
    assert isinstance(got, ParsedName)
    wrong = {k: (v, getattr(got, k)) for k, v in expected.items() if getattr(got, k) != v}
    assert not wrong, f"{name!r}: field: (expected, got) {wrong}"
    return got


# ---------------------------------------------------------------- layouts


@pytest.mark.parametrize("name, fields", [
    ("[Group] Title - 05 [1080p][ABCD1234].mkv",
     dict(group="Group", title="Title", episode=5, resolution="1080p", crc32="ABCD1234", ext="mkv",
          kind="episode")),
    ("[Group]_Some_Title_-_05_[720p].mkv", dict(group="Group", title="Some Title", episode=5)),
    ("Some.Title.S02E05.1080p.WEB.H264-GROUP",
     dict(title="Some Title", season=2, episode=5, group="GROUP", source="WEB", video_codec="H.264",
          ext=None)),
    ("Some.Title.S02E05.720p.BluRay.x265-GRP.mkv", dict(title="Some Title", group="GRP", source="BD",
                                                         video_codec="H.265")),
    ("Gekkan Shoujo Nozaki-kun [HorribleSubs] (1080p)", dict(title="Gekkan Shoujo Nozaki-kun",
                                                             group="HorribleSubs")),
    ("Howl's_Moving_Castle_(2004)_[1080p,BluRay,x264]_-_THORA v2.mkv",
     dict(title="Howl's Moving Castle", group="THORA", year=2004, version=2)),
    ("[a4e]R.O.D_the_TV_01[divx5.2.1].mkv", dict(title="R.O.D the TV", episode=1, group="a4e")),
])
def test_layouts(parse_twin, name, fields):
    check(parse_twin, name, **fields)


def test_crc_is_upper_case_hex(parse_twin):
    check(parse_twin, "[G] Title - 01 [de4dbeef].mkv", crc32="DE4DBEEF")
    check(parse_twin, "[G] Title - 01 (e83ad672).mkv", crc32="E83AD672")


# ---------------------------------------------------------------- titles with numbers and punctuation


@pytest.mark.parametrize("name, title, episode", [
    ("[HorribleSubs] Mob Psycho 100 - 05 [1080p].mkv", "Mob Psycho 100", 5),
    ("[Group] 86 - 05 [1080p].mkv", "86", 5),
    ("[Group] Steins;Gate 0 - 05 [1080p].mkv", "Steins;Gate 0", 5),
    ("[Group] Zom 100 - 05 [1080p].mkv", "Zom 100", 5),
    ("[Group] Gintama' - 05 [1080p].mkv", "Gintama'", 5),
    ("[Group] Re Zero - 05 [1080p].mkv", "Re Zero", 5),
    ("[Group] Re:Zero kara Hajimeru Isekai Seikatsu - 05.mkv", "Re:Zero kara Hajimeru Isekai Seikatsu", 5),
    ("[Triad]_Today_in_Class_5-2_-_04.avi", "Today in Class 5-2", 4),
    ("[ReDone] Memories Off 3.5 - 04 (DVD 10-bit).mkv", "Memories Off 3.5", 4),
    ("[Ruri]No.6 01 [720p][H264][A956075C].mkv", "No.6", 1),
    ("The iDOLM@STER 765 Pro to Iu Monogatari.mkv", "The iDOLM@STER 765 Pro to Iu Monogatari", None),
    ("Evangelion_1.11_You_Are_(Not)_Alone_(2009)_[1080p,BluRay,x264]_-_THORA.mkv",
     "Evangelion 1.11 You Are (Not) Alone", None),
    ("[TardRaws] 0 [640x360].mkv", "0", None),
    ("[DeadFish] 01 - Tari Tari [BD][720p][AAC].mp4", "Tari Tari", 1),
    ("[NoobSubs] 06 Sword Art Online II (720p 8bit AAC).mp4", "Sword Art Online II", 6),
    ("05 - Hidan no Aria - Butei Charter Article 1 - [UTW](E7724B68).mkv", "Hidan no Aria", 5),
    ("01 - Land of Visible Pain.mkv", None, 1),
])
def test_numbers_inside_titles(parse_twin, name, title, episode):
    check(parse_twin, name, title=title, episode=episode)


# ---------------------------------------------------------------- seasons


@pytest.mark.parametrize("name, title, season, episode", [
    ("[Group] Title 2nd Season - 05 [1080p].mkv", "Title", 2, 5),
    ("[Group] Title Season 2 - 05.mkv", "Title", 2, 5),
    ("[Group] Title S2 - 05.mkv", "Title", 2, 5),
    ("[HorribleSubs] Mob Psycho 100 S2 - 07 [1080p].mkv", "Mob Psycho 100", 2, 7),
    ("[Group] Overlord II - 05 [1080p].mkv", "Overlord", 2, 5),
    ("[Group] Overlord III - 05 [1080p].mkv", "Overlord", 3, 5),
    ("Hayate no Gotoku 2nd Season 24 (Blu-Ray 1080p) [Chihiro]", "Hayate no Gotoku", 2, 24),
    ("[gg]_Kimi_ni_Todoke_2nd_Season_-_00_[BF735BC4].mkv", "Kimi ni Todoke", 2, 0),
    ("After War Gundam X - 1x03 - My Mount is Fierce!.mkv", "After War Gundam X", 1, 3),
    ("[Group] Title Second Season - 03.mkv", "Title", 2, 3),
    ("[SFW]_Queen's_Blade_S2", "Queen's Blade", 2, None),
    ("Season1", None, 1, None),
    ("[Deep] Tegami Bachi (REVERSE) - Letter Bee - 29 (04) [5203142B].mkv",
     "Tegami Bachi (REVERSE) - Letter Bee", None, 4),
])
def test_seasons(parse_twin, name, title, season, episode):
    check(parse_twin, name, title=title, season=season, episode=episode)


def test_roman_numeral_inside_a_title_is_not_a_season(parse_twin):
    check(parse_twin, "[Jumonji-Giri]_[Shinsen-Subs][ASF]_D.C.II_Da_Capo_II_Ep01_(a1fc58a7).mkv",
          title="D.C.II Da Capo II", season=None, episode=1)
    check(parse_twin, "[fong] Lupin III - Kutabare! Nostradamus [BDrip.1080p.10bit].mkv",
          title="Lupin III - Kutabare! Nostradamus", season=None)


# ---------------------------------------------------------------- episodes, versions, ranges, batches


@pytest.mark.parametrize("name, fields", [
    ("[SubsPlease] One Piece - 1080 (720p) [05B85B5E].mkv", dict(episode=1080, resolution="720p")),
    ("[Erai-raws] One Piece - 1000 [1080p].mkv", dict(episode=1000, title="One Piece")),
    ("[(´• ω •`)] Nintama Rantarou - S23E1821 - Buddhist Priest-sama is a Ninja.mkv",
     dict(season=23, episode=1821, group="(´• ω •`)", episode_title="Buddhist Priest-sama is a Ninja")),
    ("[Group] Title - 05v2 [1080p].mkv", dict(episode=5, version=2)),
    ("[Group] Title - 05 [ABCD1234]v2.mkv", dict(episode=5, version=2, crc32="ABCD1234")),
    ("[KLF]_D.Gray-man_04V2.avi", dict(title="D.Gray-man", episode=4, version=2)),
    ("[Group] Title - 01-02 [1080p].mkv", dict(episode=1, episode_end=2, kind="episode")),
    ("[Group] Title - E01-E02 [1080p].mkv", dict(episode=1, episode_end=2)),
    ("[Group] Title - 01 ~ 04 [1080p].mkv", dict(episode=1, episode_end=4, kind="batch")),
    ("Detective Conan - 316-317 [DCTP][2411959B].mkv", dict(title="Detective Conan", episode=316,
                                                           episode_end=317)),
    ("[Group] Title (01-12) [1080p].mkv", dict(title="Title", episode=1, episode_end=12, kind="batch")),
    ("[Group] Title [01-24] [1080p]", dict(title="Title", episode=1, episode_end=24, kind="batch")),
    ("[Group] Title Complete [1080p]", dict(title="Title", kind="batch", episode=None)),
    ("[Group] Title [Batch] [BD 1080p]", dict(title="Title", kind="batch")),
    ("Chrono Crusade ep. 1-5", dict(title="Chrono Crusade", episode=1, episode_end=5, kind="batch")),
    ("[Tsundere] Hyouka - 01v2-04 [BDRip h264 1920x1080 10bit FLAC]",
     dict(episode=1, episode_end=4, version=2, resolution="1080p")),
    ("Juuni.Kokki.Ep.5.avi", dict(title="Juuni Kokki", episode=5)),
    ("Noein_[01_of_24]_[ru_jp]_[bodlerov_&_torrents_ru].mkv", dict(title="Noein", episode=1)),
    ("[NinjaPanda] Tiger & Bunny #01 All's well that ends well. (v3, 1080p Hi10P) [4A9AB85F].mkv",
     dict(title="Tiger & Bunny", episode=1, version=3, episode_title="All's well that ends well.")),
])
def test_episodes_versions_ranges_batches(parse_twin, name, fields):
    check(parse_twin, name, **fields)


# ---------------------------------------------------------------- specials, extras, movies


@pytest.mark.parametrize("name, kind, episode", [
    ("[Group] Title - OVA [1080p].mkv", "special", None),
    ("[Group] Title - OAD 02 [1080p].mkv", "special", 2),
    ("[Group] Title - ONA - 01.mkv", "special", 1),
    ("[Group] Title - SP1 [1080p].mkv", "special", 1),
    ("[Group] Title - Special - 01.mkv", "special", 1),
    ("[Group] Title - 12.5 [1080p].mkv", "special", 12.5),
    ("[Group] Title - 00 [1080p].mkv", "special", 0),
    ("[Group] Title - Recap [1080p].mkv", "special", None),
    ("Title - S00E01 - Special 1.mkv", "special", 1),
    ("[Coalgirls]_Fate_Zero_OVA3.5_(1280x720_Blu-ray_FLAC)_[5F5AD026].mkv", "special", 3.5),
    ("[Group] Title - NCOP [1080p].mkv", "extra", None),
    ("[Group] Title - NCED2 [1080p].mkv", "extra", 2),
    ("[Group] Title - PV [1080p].mkv", "extra", None),
    ("[Group] Title - CM01.mkv", "extra", 1),
    ("[Group] Title - Menu [1080p].mkv", "extra", None),
    ("[Group] Title - Menu01 [1080p].mkv", "extra", 1),
    ("Title S2 - Menu02.mkv", "extra", 2),
    ("[Group] Title - Preview 05.mkv", "extra", 5),
    ("[Group] Title - Trailer.mkv", "extra", None),
    ("[Coalgirls]_Toradora_ED2_(704x480_DVD_AAC)_[3B65D1E6].mkv", "extra", 2),
    ("[Group] Title (2019) [BD 1080p].mkv", "movie", None),
    ("[Group] Title Movie [1080p].mkv", "movie", None),
    ("Evangelion Shin Gekijouban Q (BDrip 1920x1080 x264 FLACx2 5.1ch)-ank.mkv", "movie", None),
    ("[UTW-TMD]_Summer_Wars_[BD][h264-720p][TrueHD5.1][9F311DAB].mkv", "movie", None),
])
def test_kinds(parse_twin, name, kind, episode):
    check(parse_twin, name, kind=kind, episode=episode)


def test_fractional_episodes_are_floats_whole_ones_ints(parse_twin):
    assert type(parse_twin.parse_name("[G] Title - 07.5 [x].mkv").episode) is float
    assert type(parse_twin.parse_name("[G] Title - 07 [x].mkv").episode) is int


def test_episode_parts_are_kept(parse_twin):
    check(parse_twin, "[Shinsen-Subs]_Macross_Frontier_-_01b_[4D5EC315].avi", episode=1,
          other=("Part B",))


# ---------------------------------------------------------------- CJK and Korean


@pytest.mark.parametrize("name, fields", [
    ("【Group】★10月新番★[标题][05][1080p][简日双语].mp4",
     dict(group="Group", title="标题", episode=5, resolution="1080p", subtitles="zh-Hans", ext="mp4")),
    ("[Group][标题][12][1080P][简繁内封].mp4",
     dict(group="Group", title="标题", episode=12, resolution="1080p", subtitles="zh-Hans+zh-Hant")),
    ("[异域字幕组][漆黑的子彈][Black Bullet][11][1280x720][繁体].mp4",
     dict(group="异域字幕组", title="Black Bullet", episode=11, subtitles="zh-Hant")),
    ("【MMZYSUB】★【Golden Time】[24（END）][GB][720P_MP4]",
     dict(group="MMZYSUB", title="Golden Time", episode=24)),
    ("[Group] 标题 第5話 [1080p].mp4", dict(title="标题", episode=5)),
    ("[Group] 标题 第5集 [1080p].mp4", dict(title="标题", episode=5)),
    ("呪術廻戦 第2期 01話", dict(title="呪術廻戦", season=2, episode=1)),
    ("[Group] 呪術廻戦 第二季 - 05 [1080p].mkv", dict(title="呪術廻戦", season=2, episode=5)),
    ("[Group] 标题 第十二集 [1080p].mp4", dict(title="标题", episode=12)),
    ("[Group] 标题 第二十三話.mp4", dict(title="标题", episode=23)),
    ("[Group] 제목 01화 [1080p].mp4", dict(title="제목", episode=1)),
])
def test_cjk(parse_twin, name, fields):
    check(parse_twin, name, **fields)


# ---------------------------------------------------------------- subtitles and noise


@pytest.mark.parametrize("name, fields", [
    ("[Group] Title - 05.en.ass", dict(title="Title", episode=5, ext="ass", language="en")),
    ("[Group] Title - 05.chs.ass", dict(episode=5, language="zh-Hans")),
    ("[Group] Title - 05.Signs & Songs.ass", dict(title="Title", episode=5, subtitles="Signs & Songs")),
    ("Title.S01E05.eng.forced.srt", dict(title="Title", episode=5, language="en", subtitles="Forced",
                                          ext="srt")),
])
def test_subtitle_files(parse_twin, name, fields):
    check(parse_twin, name, **fields)


def test_noise_stays_out_of_the_title(parse_twin):
    got = check(parse_twin, "[Group] Title - 05 [1080p HEVC x265 10bit FLAC AAC][Dual Audio][Multi-Subs].mkv",
                title="Title", episode=5, video_codec="H.265", audio_codec="FLAC", subtitles="Multi")
    assert "10bit" in got.other and "Dual Audio" in got.other
    check(parse_twin, "[Group] Title - 05 [2023.01.05].mkv", title="Title", episode=5, year=None)
    check(parse_twin, "[Group] Title - 05 (2023-01-05).mkv", title="Title", episode=5)
    check(parse_twin, "[CH] Sword Art Online Extra Edition Dual Audio [BD 480p][10bitH.264+Vorbis]",
          title="Sword Art Online Extra Edition", group="CH", resolution="480p")


@pytest.mark.parametrize("raw, normal", [
    ("1920x1080", "1080p"), ("1280x720", "720p"), ("4K", "2160p"), ("2160p", "2160p"),
    ("480p", "480p"), ("1080P", "1080p"), ("1080i", "1080p"),
])
def test_resolution_is_normalized(parse_twin, raw, normal):
    check(parse_twin, f"[G] Title - 05 [{raw}].mkv", resolution=normal)


# ---------------------------------------------------------------- anything goes in, nothing raises


@pytest.mark.parametrize("name", [
    "", " ", ".", "..", ".mkv", "[", "]", "[]", "()", "[[[[", "]]]]", "★", "★★", "-", " - ",
    "\ud800", "a\udfffb.mkv", "\x00\x01\x02", "\t\n\r", "v", "S", "E", "#", "第", "話",
    "1" * 40, "9" * 10 + ".mkv", "[" * 5000, "a" * 10_000, "[a] " * 2500, "01-" * 3000,
    "★" + "x" * 30 + "★", "S999999999E99999999", "Ep.99999999999", "x.264", "OVA" + "9" * 20,
])
def test_any_string_parses(parse_twin, name):
    got = parse_twin.parse_name(name)
    assert isinstance(got, ParsedName)
    assert got.kind in ("episode", "special", "movie", "extra", "batch")


def test_parsed_name_is_frozen_slotted_and_serializable(parse_twin):
    got = parse_twin.parse_name("[G] Title - 05 [1080p][Dual Audio].mkv")
    with pytest.raises(AttributeError):
        got.title = "x"  # type: ignore[misc]
    assert not hasattr(got, "__dict__")
    d = got.to_dict()
    assert list(d) == list(ParsedName._fields)
    assert isinstance(d["other"], list)
    assert ParsedName(**{**d, "other": tuple(d["other"])}) == got
