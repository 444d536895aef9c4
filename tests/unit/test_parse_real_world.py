"""Issue 10's real-world categories, on names written for these tests, on both twins."""
from __future__ import annotations

import pytest

from anivault.models import ParsedName


def check(parse_twin, name: str, **expected) -> ParsedName:
    got = parse_twin.parse_name(name)
    wrong = {k: (v, getattr(got, k)) for k, v in expected.items() if getattr(got, k) != v}
    assert not wrong, f"{name!r}: field: (expected, got) {wrong}"
    return got


# ---------------------------------------------------------------- 1. titles are series titles


@pytest.mark.parametrize("name, fields", [
    ("[Grp] Harbor Lights OVA - The Lost Letter [720p].mkv",
     dict(title="Harbor Lights", kind="special", extra_type="OVA", episode_title="The Lost Letter")),
    ("[Grp] Harbor Lights NCOP [BDRip 1080p].mkv", dict(title="Harbor Lights", kind="extra",
                                                        extra_type="NCOP")),
    ("[Grp] Harbor Lights NCED2 [1080p].mkv", dict(title="Harbor Lights", kind="extra",
                                                   extra_type="NCED", episode=2)),
    ("[Grp] Harbor Lights - NCED1v2 [1080p].mkv", dict(title="Harbor Lights", extra_type="NCED",
                                                      version=2)),
    ("[Grp] Harbor Lights PV3 [1080p].mkv", dict(title="Harbor Lights", extra_type="PV")),
    ("[Grp] Harbor Lights - CM02 [1080p].mkv", dict(title="Harbor Lights", extra_type="CM")),
    ("[Grp] Harbor Lights Menu01 [1080p].mkv", dict(title="Harbor Lights", extra_type="Menu")),
    ("Harbor_Lights_OAD_-_01_[DVD].mkv", dict(title="Harbor Lights", kind="special",
                                              extra_type="OAD", episode=1)),
    ("[Grp] Harbor Lights - Recap [720p].mkv", dict(title="Harbor Lights", extra_type="Recap")),
    ("[Grp] Gekijouban Harbor Lights [1080p].mkv", dict(title="Harbor Lights", kind="movie",
                                                        extra_type="Movie")),
    ("[Grp] 劇場版 港の灯 [1080p].mkv", dict(title="港の灯", kind="movie", extra_type="Movie")),
    ("[Grp] Harbor Lights Movie [1080p].mkv", dict(title="Harbor Lights", kind="movie")),
    ("[Grp] Harbor Lights - 05 [1080p].mkv", dict(title="Harbor Lights", kind="episode",
                                                  extra_type=None)),
])
def test_type_words_leave_the_title(parse_twin, name, fields):
    check(parse_twin, name, **fields)


def test_type_word_inside_a_longer_title_stays(parse_twin):
    # "Special" followed by more title words is part of the name, not the type of the file.
    check(parse_twin, "[Grp] Harbor Lights - Special Short Stories - 01 [720p].mkv",
          title="Harbor Lights - Special Short Stories", episode=1)
    check(parse_twin, "[Grp] Harbor Lights Movie 2 The Far Shore [720p].mkv",
          title="Harbor Lights Movie 2 The Far Shore")


# ---------------------------------------------------------------- issue 13: bounded work


@pytest.mark.parametrize("name", [
    "a" * 1_000_000, "[G] " + "x " * 500_000 + "- 05.mkv", "[" * 1_000_000, "a." * 500_000,
    "1" * 1_000_000, "★" * 1_000_000, "[Grp] Harbor Lights - 05 [1080p]" + "_" * 1_000_000 + ".mkv",
])
def test_a_huge_name_parses_only_its_tail(parse_twin, name):
    got = parse_twin.parse_name(name)
    assert got == parse_twin.parse_name(name[-1024:])


def test_the_tail_keeps_the_episode_and_extension(parse_twin):
    check(parse_twin, "x" * 5000 + " [Grp] Harbor Lights - 05 [1080p].mkv", episode=5, ext="mkv",
          resolution="1080p")


# ---------------------------------------------------------------- 3. ranges and batches


@pytest.mark.parametrize("name, episode, episode_end", [
    ("[Grp] Harbor Lights [01-12Fin][1080p]", 1, 12),
    ("[Grp][Harbor Lights][01-24完][720p]", 1, 24),
    ("[Grp][Harbor Lights][13-25集][1080P]", 13, 25),
    ("[Grp][Harbor Lights][01-12TV全集][1080P]", 1, 12),
    ("[Grp] Harbor Lights 第01-10话 720p", 1, 10),
    ("[Grp][Harbor Lights][第01～02話][720P]", 1, 2),
    ("[Grp][Harbor Lights][1~26FIN][720p]", 1, 26),
    ("Harbor Lights (2010) - 01-02-03 - Night Tide [720p]", 1, 3),
])
def test_ranges(parse_twin, name, episode, episode_end):
    check(parse_twin, name, episode=episode, episode_end=episode_end)


# ---------------------------------------------------------------- 4. CJK layouts


@pytest.mark.parametrize("name, fields", [
    ("[Grp][港の灯][12END][1080p]", dict(episode=12, group="Grp")),
    ("[Grp][港の灯][13完][720P]", dict(episode=13)),
    ("[Grp] 港の灯 第06話V2版 [720P]", dict(episode=6, version=2)),
    ("[Grp] 港の灯 第12v2話 [720P]", dict(episode=12, version=2)),
    ("【Grp】★04月新番★[港の灯][05][1080p][简日双语][招募翻译校对]", dict(episode=5, group="Grp",
                                                               title="港の灯")),
])
def test_cjk_layouts(parse_twin, name, fields):
    check(parse_twin, name, **fields)


# ---------------------------------------------------------------- 5. other forms


@pytest.mark.parametrize("name, fields", [
    ("[Grp] Harbor Lights - 05 [CR WebRip AI2160p HEVC]", dict(episode=5, resolution="2160p")),
    ("[Grp] Harbor Lights [05][1080p@60FPS]", dict(episode=5, resolution="1080p")),
    ("[Grp][Harbor Lights][05][PSP-480P]", dict(episode=5, resolution="480p")),
    ("[Grp] Harbor Lights v2 [BD720p][0123ABCD]", dict(resolution="720p")),
    ("[Grp] Harbor Lights - 609 [FHD]", dict(episode=609, resolution="1080p")),
    ("Harbor Lights 61 (29.10.2023) 720p WEB", dict(episode=61)),
])
def test_other_forms(parse_twin, name, fields):
    check(parse_twin, name, **fields)


@pytest.mark.parametrize("word, season", [
    ("Staffel 2", 2), ("Saison 2", 2), ("Temporada 2", 2), ("Stagione 2", 2), ("Сезон 2", 2),
    ("시즌 2", 2), ("シーズン 2", 2), ("Sezon 2", 2), ("Säsong 2", 2), ("第2季", 2),
])
def test_season_words_in_other_languages(parse_twin, word, season):
    check(parse_twin, word, season=season)


# ---------------------------------------------------------------- 2. numbers inside titles


@pytest.mark.parametrize("name, title, episode", [
    ("[Grp] Harbor Lights 3 [06][1080p]", "Harbor Lights 3", 6),
    ("[Grp] 港の灯 3 / Harbor Lights 3 [07][1080p]", "港の灯 3 / Harbor Lights 3", 7),
    ("__Harbor Lights 10 (1).avi", "Harbor Lights", 10),  # "(1)": a copy's number
])
def test_title_numbers_before_a_bracketed_episode(parse_twin, name, title, episode):
    check(parse_twin, name, title=title, episode=episode)


@pytest.mark.parametrize("name, episode, episode_end", [
    ("[Grp] 2014春 // 港の灯 第2季 // 09 // 720P-MP4", 9, None),
    ("[Grp] 港の灯 // Harbor Lights // 01~13End // BD1080P", 1, 13),
    ("【Grp】[港の灯][Harbor Lights]『23』[720P]", 23, None),
])
def test_cjk_episode_markers(parse_twin, name, episode, episode_end):
    check(parse_twin, name, episode=episode, episode_end=episode_end)


@pytest.mark.parametrize("name, season, episode, episode_end", [
    ("Harbor Lights S01x02 Tide.avi", 1, 2, None),
    ("Harbor Lights S01xE02 Tide.avi", 1, 2, None),
    ("Harbor Lights - 02x03-04-15 - Tide.mp4", 2, 3, 15),
    ("Harbor Lights - 02x03x04x15 - Tide.mp4", 2, 3, 15),
    ("Harbor Lights - S01E23-E24-E26 - Tide.mp4", 1, 23, 26),
    ("Harbor Lights 2009x02 Tide.avi", 2009, 2, None),
    ("Harbor Lights - S01E01-02-03 - Tide", 1, 1, 3),
])
def test_season_episode_chains(parse_twin, name, season, episode, episode_end):
    check(parse_twin, name, season=season, episode=episode, episode_end=episode_end)


@pytest.mark.parametrize("name, fields", [
    ("[Grp]Harbor_Lights-08[1280x720]", dict(title="Harbor Lights", episode=8)),
    ("[Grp] Harbor Lights - 100 Tides Quest - 05 (1080p)",
     dict(title="Harbor Lights - 100 Tides Quest", episode=5)),
    ("[Grp] Harbor Lights - 07.5 (S00E01) - (BD 1080p)", dict(title="Harbor Lights")),
    ("[BDRip 1080p] Harbor Lights - 01", dict(title="Harbor Lights", episode=1)),
    ("[Movie] Harbor Lights [1080p]", dict(title="Harbor Lights", group=None, kind="movie")),
    ("[劇場版] 港の灯 [1080p]", dict(title="港の灯", group=None, kind="movie")),
    ("[CMS] Harbor Lights - 03 [DVD]", dict(group="CMS", title="Harbor Lights")),
    ("港の灯 - EP01 ~ EP02 [1080p]", dict(episode=1, episode_end=2)),
    ("3.Staffel", dict(season=3)),
])
def test_titles_and_episodes_in_other_layouts(parse_twin, name, fields):
    check(parse_twin, name, **fields)


@pytest.mark.parametrize("name, fields", [
    ("Harbor Lights - 02x03 - 02x04 - 02x15 - Tide.mp4", dict(season=2, episode=3, episode_end=15)),
    ("Harbor Lights - 02x03 - x04 - x15 - Tide.mp4", dict(season=2, episode=3, episode_end=15)),
    ("02.Tide.avi", dict(episode=2)),
    ("2. Low Tide.avi", dict(episode=2)),
    ("Series 2", dict(season=2)),
    ("[Grp] Mobile Series 00 S01 [BD]", dict(season=1)),
    ("[Grp] 港の灯 第二季 / Harbor Lights S2 - 10 [1080p]",
     dict(title="港の灯 第二季 / Harbor Lights", season=2, episode=10)),
])
def test_more_layouts(parse_twin, name, fields):
    check(parse_twin, name, **fields)


@pytest.mark.parametrize("name, fields", [
    ("[Grp][港の灯_Harbor Lights][05][1080p]", dict(title="Harbor Lights", episode=5)),
    ("[Grp]港の灯·Harbor Lights[11][1080p]", dict(title="Harbor Lights", episode=11)),
    ("[Grp][Harbor Lights 港の灯][1008][1080p]", dict(title="Harbor Lights", episode=1008)),
    ("[Grp][港：灯 Harbor Lights Ver2][02集][1080P]", dict(title="Harbor Lights Ver2", episode=2)),
    ("[Grp]劇場版港の灯 Harbor[WEB-DL 1080p]", dict(kind="movie", extra_type="Movie")),
    ("[Grp] 港の灯OVA [1080p]", dict(title="港の灯", kind="special", extra_type="OVA")),
    ("[Grp] Re：港の灯 - 05 [1080p]", dict(title="Re：港の灯", episode=5)),  # "Re" is too short
])
def test_bilingual_titles_read_as_their_latin_half(parse_twin, name, fields):
    check(parse_twin, name, **fields)


@pytest.mark.parametrize("name, fields", [
    ("港の灯 第５話.mp4", dict(title="港の灯", episode=5, kind="episode")),
    ("港の灯\u3000第5話.mp4", dict(title="港の灯", episode=5)),
    ("[Grp] Harbor Lights - １５８ [1080p]", dict(title="Harbor Lights", episode=158)),
    ("[Grp] 港の灯 #05 [1080p]", dict(episode=5)),
    ("[Grp] 港の灯 2기 05화 [1080p]", dict(season=2, episode=5)),
])
def test_full_width_digits_and_korean_markers(parse_twin, name, fields):
    check(parse_twin, name, **fields)


@pytest.mark.parametrize("name, fields", [
    ("[Grp] Harbor Lights NCEDv3 [1080p]", dict(title="Harbor Lights", version=3, kind="extra",
                                               extra_type="NCED")),
    ("[Grp] Harbor Lights 00 S01 [BD 1080p]", dict(title="Harbor Lights 00", season=1, episode=None)),
])
def test_type_word_versions_and_season_packs(parse_twin, name, fields):
    check(parse_twin, name, **fields)


@pytest.mark.parametrize("path, title, episode", [
    ("[Grp] Harbor 1/2 - 03 [WEB-DL 1080p]", "Harbor 1/2", 3),
    ("[Grp] 22/7 - 01 [1080p]", "22/7", 1),
])
def test_fractions_in_titles_are_not_folders(path, title, episode):
    from anivault.parse import parse

    got = parse(path)
    assert (got.title, got.episode) == (title, episode)
