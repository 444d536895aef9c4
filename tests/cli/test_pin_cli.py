"""`anivault pin`, `pins`, `unpin`, and `--order`, from the command line."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from anivault.cli import cli
from anivault.testing import TMDBServer
from organize_support import write


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_pin_list_unpin(tmp_path: Path) -> None:
    folder = tmp_path / "Titans"
    folder.mkdir()
    assert "no pins" in invoke("pins").output
    added = invoke("pin", str(folder), "--tmdb", "1429", "--season", "2", "--offset", "-25")
    assert added.exit_code == 0, added.output
    assert "tv 1429, season 2, offset -25" in added.output
    invoke("pin", "Kimi no Na wa", "--tmdb", "372058", "--movie")
    listed = [json.loads(line) for line in invoke("pins", "--json").stdout.splitlines()]
    assert [(p["target"], p["is_path"], p["tmdb_id"]) for p in listed] == [
        (str(folder), True, 1429), ("Kimi no Na wa", False, 372058)]
    assert "Titans" in invoke("pins").output
    again = invoke("pin", "kimi no na wa", "--tmdb", "129", "--movie")
    assert "was movie 372058" in again.output
    assert invoke("unpin", str(folder)).exit_code == 0
    assert len(invoke("pins", "--json").stdout.splitlines()) == 1


def test_pin_usage_errors() -> None:
    missing = invoke("unpin", "Nothing Pinned")
    assert missing.exit_code == 2 and "nothing is pinned" in missing.output
    bad = invoke("pin", "Show", "--tmdb", "5", "--movie", "--season", "1")
    assert bad.exit_code == 2 and "movie pin" in bad.output
    order = invoke("pin", "Show", "--tmdb", "5", "--order", "dvd")
    assert order.exit_code == 2 and "unknown order" in order.output


def test_a_broken_pins_file_is_one_line_with_a_hint(tmp_path: Path) -> None:
    from anivault.pins import default_path

    write(default_path(), "{broken")
    result = invoke("pins")
    assert result.exit_code == 1 and "not JSON" in result.output and "hint" in result.output


def test_a_pin_decides_match_organize_and_run(tmp_path: Path, tmdb_env: TMDBServer) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    write(src / "Titans" / "[Grp] Shingeki - 26 [1080p].mkv", "x" * 100)
    assert invoke("pin", str(src / "Titans"), "--tmdb", "1429", "--season", "2", "--offset", "-25").exit_code == 0
    matched = invoke("match", str(src), "--json")
    assert matched.exit_code == 0, matched.output
    first = json.loads(matched.stdout.splitlines()[0])
    assert first["tmdb"]["id"] == 1429 and (first["tmdb"]["season"], first["tmdb"]["episode"]) == (2, 1)
    assert first["tmdb"]["pinned"] == str(src / "Titans")
    planned = invoke("organize", str(src), "--dest", str(dst))
    assert "Attack on Titan - S02E01.mkv" in planned.output
    assert f"pinned: {src / 'Titans'}" in planned.output  # the plan shows the pin that decided it
    as_json = invoke("organize", str(src), "--dest", str(dst), "--json")
    entry = next(json.loads(x) for x in as_json.stdout.splitlines() if '"src"' in x)
    assert entry["reason"].startswith(f"pinned: {src / 'Titans'}"), entry
    ran = invoke("run", str(src), "--dest", str(dst), "--apply", "--order", "absolute")
    assert ran.exit_code == 0, ran.output
    assert (dst / "Attack on Titan (2013)" / "Season 01" / "Attack on Titan - S01E26.mkv").exists()


def test_order_is_a_checked_setting(tmp_path: Path) -> None:
    result = invoke("match", str(tmp_path), "--order", "sideways")
    assert result.exit_code == 2 and "order" in result.output
