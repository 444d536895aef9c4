"""End to end: `anivault run --apply` against the loopback TMDB server files every episode TMDB knows
on TMDB's season and episode (merged cours, split seasons, absolute numbers, specials, decimal recaps),
leaves every file it does not know in place and reports it, and changes nothing when run again."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from anivault.cli import cli
from anivault.testing import TMDBServer
from anivault.testing import fixtures as fx
from organize_support import write

ONE_PIECE_1089 = 1089 - sum(fx.ONE_PIECE_SEASONS[:20])

# Release name -> where TMDB's numbering puts it (under the destination).
KNOWN = {
    "[Erai-raws] Starfall Academy S2 - 03 [1080p].mkv":  # cour 2 of one merged TMDB season
        "Starfall Academy (2021)/Season 01/Starfall Academy - S01E15.mkv",
    "[Erai-raws] Starfall Academy - 05 [1080p].mkv":
        "Starfall Academy (2021)/Season 01/Starfall Academy - S01E05.mkv",
    "[SubsPlease] Hollow Crown Saga - 18 (1080p).mkv":  # absolute, past TMDB's split
        "Hollow Crown Saga (2020)/Season 02/Hollow Crown Saga - S02E06.mkv",
    "[Group] Hollow Crown Saga S01E13 (1080p).mkv":  # the fansub's season 1 goes on in TMDB's 2
        "Hollow Crown Saga (2020)/Season 02/Hollow Crown Saga - S02E01.mkv",
    "[Group] Moonlit Bakery - 06.5 (1080p).mkv":  # the recap aired between 6 and 7
        "Moonlit Bakery (2019)/Season 00/Moonlit Bakery - S00E01.mkv",
    "[Group] Moonlit Bakery - OVA 2 (1080p).mkv":
        "Moonlit Bakery (2019)/Season 00/Moonlit Bakery - S00E02.mkv",
    "[Group] Moonlit Bakery - 04 (1080p).mkv":
        "Moonlit Bakery (2019)/Season 01/Moonlit Bakery - S01E04.mkv",
    "[SubsPlease] One Piece - 1089 (1080p).mkv":
        f"One Piece (1999)/Season 21/One Piece - S21E{ONE_PIECE_1089:02}.mkv",
    "[SubsPlease] 47 Nights - 03 (1080p).mkv":  # a title that is a number
        "47 Nights (2016)/Season 01/47 Nights - S01E03.mkv",
}
UNKNOWN = {
    "[Group] Unknown Show Nobody Knows - 01 (1080p).mkv": "no TMDB result",
    "[Group] Moonlit Bakery - 09.5 (1080p).mkv": "9.5",  # a decimal with no season 0 entry
    "[Group] Starfall Academy S3 - 01 (1080p).mkv": "no season 3",
    "[Group] Hollow Crown Saga - 30 (1080p).mkv": "beyond every TMDB season",
}


@pytest.fixture
def library(tmp_path: Path) -> tuple[Path, Path]:
    src, dst = tmp_path / "downloads", tmp_path / "Anime"
    for name in (*KNOWN, *UNKNOWN):
        write(src / name, f"{name}\n" * 20)
    return src, dst


def run(*args: str):
    return CliRunner().invoke(cli, ["run", *args])


def tree(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files}


def test_run_apply_files_what_tmdb_knows_on_its_numbering_and_leaves_the_rest(
        library: tuple[Path, Path], tmdb_env: TMDBServer) -> None:
    src, dst = library
    result = run(str(src), "--dest", str(dst), "--apply", "--action", "move")
    assert result.exit_code == 0, result.output
    assert tree(dst) == set(KNOWN.values())
    for name, where in KNOWN.items():
        assert (dst / where).read_text() == f"{name}\n" * 20
    assert tree(src) == set(UNKNOWN)  # nothing TMDB does not know is filed on a guess
    listed = CliRunner().invoke(cli, ["organize", str(src), "--dest", str(dst), "--json"])
    entries = {os.path.basename(e["src"]): e for e in map(json.loads, listed.stdout.splitlines()[:-1])}
    for name, why in UNKNOWN.items():
        assert entries[name]["status"] == "unmatched" and why in entries[name]["reason"], entries[name]


def test_a_second_run_plans_nothing(library: tuple[Path, Path], tmdb_env: TMDBServer) -> None:
    src, dst = library
    first = run(str(src), "--dest", str(dst), "--apply", "--action", "move")
    assert first.exit_code == 0, first.output
    again = run(str(dst), str(src), "--dest", str(dst), "--apply", "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout.splitlines()[-1])["summary"]
    assert summary["todo"] == 0 and "todo" not in summary["statuses"]
    assert summary["statuses"]["already"] == len(KNOWN)
    assert tree(dst) == set(KNOWN.values()) and tree(src) == set(UNKNOWN)


def test_the_new_tokens(library: tuple[Path, Path], tmdb_env: TMDBServer) -> None:
    src, dst = library
    template = "{title}/{title} - {absolute:03}[ - {episode_title}][ ({audio})].{ext}"
    write(src / "[Group] 47 Nights - 04 [Dual Audio] (1080p).mkv", "dual")
    result = run(str(src), "--dest", str(dst), "--apply", "--template", template)
    assert result.exit_code == 0, result.output
    assert "47 Nights/47 Nights - 004 - Episode 4 (Dual Audio).mkv" in tree(dst)
    assert "Hollow Crown Saga/Hollow Crown Saga - 018 - Episode 6.mkv" in tree(dst)
