"""`anivault organize` and `anivault run` from the command line: dry run by default, NDJSON, apply, exit codes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import invoke
from organize_support import episode, manifest, write


@pytest.fixture
def lib(tmp_path: Path) -> tuple[Path, Path]:
    src, dst = tmp_path / "in", tmp_path / "lib"
    for n in (1, 2):
        episode(src, f"[Grp] Cowboy Bebop - {n:02} [1080p].mkv", "Cowboy Bebop", n)
        write(src / f"[Grp] Cowboy Bebop - {n:02} [1080p].en.ass", "sub")
    write(src / "readme.txt", "not media")
    return src, dst


PARSED = ("--offline", "--unmatched", "parsed")  # no TMDB at all: file videos under their parsed names


def test_dry_run_is_the_default_and_shows_a_tree(lib) -> None:
    src, dst = lib
    before = manifest(src)
    result = invoke("organize", str(src), "--dest", str(dst), *PARSED)
    assert result.exit_code == 0, result.output
    assert "Cowboy Bebop - S01E01.mkv  <-  " in result.stdout
    assert "Cowboy Bebop - S01E02.en.ass" in result.stdout
    assert "dry run" in result.stdout and "TMDB cache only" in result.stdout
    assert manifest(src) == before and not dst.exists()


def test_table_format(lib) -> None:
    src, dst = lib
    result = invoke("organize", str(src), "--dest", str(dst), *PARSED, "--format", "table")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split("\t") == ["status", "source", "destination", "reason"]


def test_json_is_ndjson_with_a_summary_last(lib) -> None:
    src, dst = lib
    result = invoke("organize", str(src), "--dest", str(dst), *PARSED, "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"src", "dst", "status", "role"} <= set(line) for line in lines[:-1])
    assert len(lines) == 5
    summary = lines[-1]["summary"]
    assert summary["todo"] == 4 and summary["offline"] is True and summary["left_in_place"] == 1


def test_apply_then_undo_through_the_cli(lib) -> None:
    src, dst = lib
    before = manifest(src)
    applied = invoke("organize", str(src), "--dest", str(dst), *PARSED, "--apply")
    assert applied.exit_code == 0, applied.output
    assert (dst / "Cowboy Bebop" / "Season 01" / "Cowboy Bebop - S01E02.en.ass").exists()
    assert "anivault undo " in applied.stdout
    history = invoke("history")
    assert "complete" in history.stdout
    undone = invoke("undo", "--last")
    assert undone.exit_code == 0 and "4 files put back" in undone.stdout
    assert manifest(src) == before


def test_saved_plan_applies_later(lib, tmp_path: Path) -> None:
    src, dst = lib
    plan = tmp_path / "plan.jsonl"
    assert invoke("organize", str(src), "--dest", str(dst), *PARSED, "--plan", str(plan)).exit_code == 0
    assert not dst.exists()
    result = invoke("organize", "--from-plan", str(plan), "--apply")
    assert result.exit_code == 0, result.output
    assert len(list(dst.rglob("*.mkv"))) == 2


def test_run_does_everything_in_one_go_with_one_summary(lib) -> None:
    src, dst = lib
    dry = invoke("run", str(src), "--dest", str(dst), *PARSED, "--json")
    assert dry.exit_code == 0 and len(dry.stdout.splitlines()) == 1
    result = invoke("run", str(src), "--dest", str(dst), *PARSED, "--apply", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["apply"]["done"] == 4 and summary["offline"] is True
    assert summary["metrics"]["counters"]["planned"] == 4 and summary["left_in_place"] == 1


def test_strict_exits_3_when_a_file_was_left_for_a_conflict(lib) -> None:
    src, dst = lib
    write(dst / "Cowboy Bebop" / "Season 01" / "Cowboy Bebop - S01E01.mkv", b"someone else's")
    result = invoke("organize", str(src), "--dest", str(dst), *PARSED, "--strict")
    assert result.exit_code == 3
    assert "[conflict]" in result.stdout


def test_usage_errors(lib) -> None:
    src, dst = lib
    assert invoke("organize", str(src)).exit_code == 2  # no --dest
    assert invoke("organize", "--dest", str(dst)).exit_code == 2  # no sources
    bad = invoke("organize", str(src), "--dest", str(dst), *PARSED, "--template", "{nope}")
    assert bad.exit_code == 2 and "unknown field" in bad.stderr
    assert invoke("organize", "--resume", "--rollback").exit_code == 2
    nothing = invoke("organize", "--resume")
    assert nothing.exit_code == 1 and "no interrupted operation" in nothing.stderr


def test_without_a_key_organize_and_run_refuse_like_match(lib) -> None:
    src, dst = lib
    for command in ("organize", "run"):
        result = invoke(command, str(src), "--dest", str(dst))
        assert result.exit_code == 1 and "no TMDB credentials" in result.stderr
        assert "--offline" in result.stderr  # the hint says how to work from the cache


def test_with_tmdb_every_known_file_lands_on_its_tmdb_episode(lib, tmdb_env) -> None:
    src, dst = lib
    write(src / "[Grp] Nobody Knows This Show - 01 [1080p].mkv", "x" * 100)
    result = invoke("run", str(src), "--dest", str(dst), "--apply", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    assert summary["matching"] == "tmdb" and summary["statuses"]["unmatched"] == 1
    season = dst / "Cowboy Bebop (1998)" / "Season 01"
    assert sorted(p.name for p in season.iterdir()) == [
        "Cowboy Bebop - S01E01.en.ass", "Cowboy Bebop - S01E01.mkv",
        "Cowboy Bebop - S01E02.en.ass", "Cowboy Bebop - S01E02.mkv"]
    # Nothing filed on a guess: the unknown show is still where it was.
    assert (src / "[Grp] Nobody Knows This Show - 01 [1080p].mkv").exists()


def test_a_second_run_over_the_organized_library_plans_no_moves(lib, tmdb_env) -> None:
    src, dst = lib
    assert invoke("run", str(src), "--dest", str(dst), "--apply").exit_code == 0
    again = invoke("run", str(dst), "--dest", str(dst), "--apply", "--json")
    summary = json.loads(again.stdout.splitlines()[-1])["summary"]
    assert summary["todo"] == 0 and summary["apply"]["done"] == 0
    assert summary["statuses"] == {"already": 4}


def test_unmatched_files_are_listed_and_strict_exits_3(lib, tmdb_env) -> None:
    src, dst = lib
    write(src / "[Grp] Nobody Knows This Show - 01 [1080p].mkv", "x" * 100)
    result = invoke("organize", str(src), "--dest", str(dst), "--strict")
    assert result.exit_code == 3
    assert "Nobody Knows This Show" in result.stdout and "no TMDB match" in result.stdout
    unsorted = dst.parent / "unsorted"
    moved = invoke("organize", str(src), "--dest", str(dst), "--unmatched", str(unsorted), "--apply")
    assert moved.exit_code == 0, moved.stderr
    assert (unsorted / "[Grp] Nobody Knows This Show - 01 [1080p].mkv").exists()


def test_tmdb_unavailable_mid_run_leaves_files_and_says_so(lib, tmdb_env) -> None:
    src, dst = lib
    tmdb_env.always = "503"  # TMDB down for the whole run
    result = invoke("run", str(src), "--dest", str(dst), "--apply", "--json", "--strict")
    assert result.exit_code == 3
    assert "TMDB was unavailable" in result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    assert summary["statuses"]["unmatched"] == 2 and summary["apply"]["done"] == 0
    assert len(list(src.glob("*.mkv"))) == 2 and not dst.exists()
