"""anivault.parse: names and paths, folders filling gaps, batches, and the CLI command."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import anivault
from anivault import parse as parse_module
from anivault.cli import cli
from anivault.parse import parse, parse_file, parse_many, series_title, split_path


def test_package_exports():
    assert anivault.parse("[G] Title - 05.mkv") == parse("[G] Title - 05.mkv")
    assert anivault.parse.parse_file is parse_file  # the module stays reachable as anivault.parse
    assert anivault.parse_many(["a - 01"]) == [parse("a - 01")]
    assert anivault.ParsedName is type(parse("x"))


@pytest.mark.parametrize("path, fields", [
    ("Title/Season 2/Episode 05.mkv", dict(title="Title", season=2, episode=5, ext="mkv")),
    ("[Group] Title [BD 1080p]/05.mkv",
     dict(title="Title", group="Group", episode=5, resolution="1080p", source="BD", kind="episode")),
    ("Title (2023)/S01E04.mkv", dict(title="Title", year=2023, season=1, episode=4)),
    ("Anime/Title (2023)/Season 01/Title - S01E04 - Name.mkv",
     dict(title="Title", year=2023, season=1, episode=4, episode_title="Name")),
    ("C:\\Anime\\Some Show\\Season 3\\07.mkv", dict(title="Some Show", season=3, episode=7)),
    ("Show/Specials/Show - S00E01.mkv", dict(title="Show", season=0, episode=1)),
    ("[G] Show [1080p]/Extras/[G] Show - NCOP1 [1080p].mkv", dict(kind="extra", episode=1)),
    ("Show/Specials/01.mkv", dict(title="Show", episode=1, kind="special")),
    ("My Series/1/01.mkv", dict(title="My Series", season=1, episode=1)),
    ("Show Name/season2/03 - Name.mkv", dict(title="Show Name", season=2, episode=3, episode_title="Name")),
    ("My Series S2/01 - Episode Title.mkv",
     dict(title="My Series", season=2, episode=1, episode_title="Episode Title")),
])
def test_folders_fill_what_the_name_lacks(path, fields):
    got = parse(path)
    assert {k: getattr(got, k) for k in fields} == fields


def test_the_file_name_wins_over_its_folders():
    got = parse("[FolderGroup] Folder Title [720p]/[FileGroup] File Title - 03 [1080p].mkv")
    assert (got.title, got.group, got.resolution) == ("File Title", "FileGroup", "1080p")


def test_a_slash_between_spaces_is_part_of_a_title():
    folders, name = split_path("Attack on Titan - Episode 3 - A Dim Light / Humanity's Comeback")
    assert folders == [] and name.endswith("Comeback")
    got = parse("Attack on Titan - Episode 3 - A Dim Light / Humanity's Comeback")
    assert got.episode_title == "A Dim Light / Humanity's Comeback"


def test_parse_file_is_parse_of_the_joined_path():
    assert parse_file("05.mkv", "/lib/Title/Season 2") == parse("/lib/Title/Season 2/05.mkv")
    assert parse_file("05.mkv", "") == parse("05.mkv")


def test_parse_file_parses_each_folder_once():
    parse_module._dir_context.cache_clear()
    parse_module._folder_context.cache_clear()
    parse_module._parse_folder.cache_clear()
    parse_module._folder_level.cache_clear()
    parse_module._plain_folders.cache_clear()
    for n in range(1, 51):
        parse_file(f"{n:02d}.mkv", "/lib/Cached Show (2020)/Season 1")
    assert parse_module._parse_folder.cache_info().misses == 3  # lib, show, season
    assert parse_module._dir_context.cache_info().misses == 1


def test_parse_many_keeps_order_and_accepts_iterators():
    names = (f"[G] Show - {n:02d}.mkv" for n in range(1, 6))
    assert [p.episode for p in parse_many(names)] == [1, 2, 3, 4, 5]


def test_cli_parse_table_and_json():
    runner = CliRunner()
    result = runner.invoke(cli, ["parse", "[Group] Title - 05 [1080p].mkv"])
    assert result.exit_code == 0, result.output
    assert "Title" in result.output and "1080p" in result.output
    result = runner.invoke(cli, ["parse", "--json", "a - 01", "Show/Season 2/03.mkv"])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(d["input"], d["title"], d["season"], d["episode"]) for d in lines] == [
        ("a - 01", "a", None, 1), ("Show/Season 2/03.mkv", "Show", 2, 3)]


def test_cli_parse_reads_stdin_and_warns_under_strict():
    runner = CliRunner()
    result = runner.invoke(cli, ["parse", "--json", "-"], input="x - 01\n\ny - 02\n")
    assert [json.loads(line)["title"] for line in result.output.splitlines()] == ["x", "y"]
    result = runner.invoke(cli, ["parse", "--strict", "01.mkv"])
    assert result.exit_code == 3
    assert "no title" in result.stderr


def test_cli_parse_needs_a_name():
    result = CliRunner().invoke(cli, ["parse"])
    assert result.exit_code == 2


@pytest.mark.parametrize("text", ["", "/", "\\", "//", "a/", "/a", " / ", "\ud800/\udfff.mkv",
                                  "x/" * 3000, "[" * 4000 + "/" + "]" * 4000, "C:", "C:\\", "./..",
                                  "\x00/\x01"])
def test_any_path_parses(text):
    assert isinstance(parse(text), anivault.ParsedName)
    assert isinstance(parse_file(text, text), anivault.ParsedName)


@pytest.mark.parametrize("name, series", [
    ("[Anime Time] A Place Further Than the Universe - NCOP1 [1080p].mkv", "A Place Further Than the Universe"),
    ("[Group] Akira - CM03.mkv", "Akira"),
    ("[Coalgirls] Toradora! NCED [1080p].mkv", "Toradora!"),
    ("[SubsPlease] Sousou no Frieren - 05 (1080p) [ABCD1234].mkv", "Sousou no Frieren"),
])
def test_series_title_drops_an_extras_type_word(name: str, series: str) -> None:
    assert series_title(parse(name)) == series


def test_slashes_inside_brackets_or_between_spaces_are_not_folders():
    from anivault.parse import split_path

    assert split_path("[Grp][港の灯/Harbor Lights][47](tags:/a/b)") == (
        [], "[Grp][港の灯/Harbor Lights][47](tags:/a/b)")
    assert split_path("Title // 05 // 720p.mkv") == ([], "Title // 05 // 720p.mkv")
    assert split_path("Show (2019)/Season 1/[G] Show - 01.mkv") == (
        ["Show (2019)", "Season 1"], "[G] Show - 01.mkv")


@pytest.mark.parametrize("path, title, kind, extra_type, episode", [
    ("Harbor Lights/Extras/NCED 2.mkv", "Harbor Lights", "extra", "NCED", 2),
    ("[Grp] Harbor Lights [BD 1080p]/Extras/NCOP.mkv", "Harbor Lights", "extra", "NCOP", None),
    ("Harbor Lights (2019)/Specials/05.mkv", "Harbor Lights", "special", None, 5),
    ("Harbor Lights/Specials/OVA 1.mkv", "Harbor Lights", "special", "OVA", 1),
    ("Harbor Lights The Movie (2020)/movie.mkv", "Harbor Lights The Movie", "movie", "Movie", None),
])
def test_generic_file_names_take_the_title_of_the_folder_naming_the_show(path, title, kind,
                                                                         extra_type, episode):
    from anivault.parse import parse

    got = parse(path)
    assert (got.title, got.kind, got.extra_type, got.episode) == (title, kind, extra_type, episode)
