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


def test_dry_run_is_the_default_and_shows_a_tree(lib) -> None:
    src, dst = lib
    before = manifest(src)
    result = invoke("organize", str(src), "--dest", str(dst))
    assert result.exit_code == 0, result.output
    assert "Cowboy Bebop - S01E01.mkv  <-  " in result.stdout
    assert "Cowboy Bebop - S01E02.en.ass" in result.stdout
    assert "dry run" in result.stdout and "offline" in result.stdout
    assert manifest(src) == before and not dst.exists()


def test_table_format(lib) -> None:
    src, dst = lib
    result = invoke("organize", str(src), "--dest", str(dst), "--format", "table")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split("\t") == ["status", "source", "destination", "reason"]


def test_json_is_ndjson_with_a_summary_last(lib) -> None:
    src, dst = lib
    result = invoke("organize", str(src), "--dest", str(dst), "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"src", "dst", "status", "role"} <= set(line) for line in lines[:-1])
    assert len(lines) == 5
    summary = lines[-1]["summary"]
    assert summary["todo"] == 4 and summary["offline"] is True and summary["left_in_place"] == 1


def test_apply_then_undo_through_the_cli(lib) -> None:
    src, dst = lib
    before = manifest(src)
    applied = invoke("organize", str(src), "--dest", str(dst), "--apply")
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
    assert invoke("organize", str(src), "--dest", str(dst), "--plan", str(plan)).exit_code == 0
    assert not dst.exists()
    result = invoke("organize", "--from-plan", str(plan), "--apply")
    assert result.exit_code == 0, result.output
    assert len(list(dst.rglob("*.mkv"))) == 2


def test_run_does_everything_in_one_go_with_one_summary(lib) -> None:
    src, dst = lib
    dry = invoke("run", str(src), "--dest", str(dst), "--json")
    assert dry.exit_code == 0 and len(dry.stdout.splitlines()) == 1
    result = invoke("run", str(src), "--dest", str(dst), "--apply", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["apply"]["done"] == 4 and summary["offline"] is True
    assert summary["metrics"]["counters"]["planned"] == 4 and summary["left_in_place"] == 1


def test_strict_exits_3_when_a_file_was_left_for_a_conflict(lib) -> None:
    src, dst = lib
    write(dst / "Cowboy Bebop" / "Season 01" / "Cowboy Bebop - S01E01.mkv", b"someone else's")
    result = invoke("organize", str(src), "--dest", str(dst), "--strict")
    assert result.exit_code == 3
    assert "[conflict]" in result.stdout


def test_usage_errors(lib) -> None:
    src, dst = lib
    assert invoke("organize", str(src)).exit_code == 2  # no --dest
    assert invoke("organize", "--dest", str(dst)).exit_code == 2  # no sources
    bad = invoke("organize", str(src), "--dest", str(dst), "--template", "{nope}")
    assert bad.exit_code == 2 and "unknown field" in bad.stderr
    assert invoke("organize", "--resume", "--rollback").exit_code == 2
    nothing = invoke("organize", "--resume")
    assert nothing.exit_code == 1 and "no interrupted operation" in nothing.stderr


class _FakeMatcher:
    """Stands in for anivault.match: TMDB's name for every video, without a network."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def match_records(self, records, **kwargs):
        from types import SimpleNamespace

        self.calls.append(kwargs)
        for r in records:
            if r.kind == "video":
                yield r, SimpleNamespace(id=30991, media_type="tv", title="Cowboy Bebop: The Series", year=1998,
                                         season=1, episode=r.parsed.episode, confidence=0.97)
            else:
                yield r, None


@pytest.fixture
def fake_matcher(monkeypatch):
    fake = _FakeMatcher()
    monkeypatch.setattr("anivault.pipeline.match_records", fake.match_records)
    return fake


def test_with_a_tmdb_key_the_plan_uses_matches(lib, fake_matcher, monkeypatch) -> None:
    src, dst = lib
    monkeypatch.setenv("TMDB_API_KEY", "k")
    result = invoke("organize", str(src), "--dest", str(dst), "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["summary"]["matching"] == "tmdb" and lines[-1]["summary"]["offline"] is False
    assert any(line.get("dst", "").endswith("Cowboy Bebop - The Series - S01E01.mkv") for line in lines[:-1])
    (call,) = fake_matcher.calls
    assert call["offline"] is False and call["tmdb"].api_key == "k" and call["min_confidence"] == 0.6
    offline = invoke("organize", str(src), "--dest", str(dst), "--json", "--offline")
    assert json.loads(offline.stdout.splitlines()[-1])["summary"]["matching"] == "offline"
    assert len(fake_matcher.calls) == 1


def test_without_a_key_a_tmdb_cache_alone_is_used(lib, fake_matcher) -> None:
    import os

    src, dst = lib
    cache = Path(os.environ["ANIVAULT_CACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "tmdb.sqlite").write_bytes(b"SQLite format 3\x00")
    result = invoke("organize", str(src), "--dest", str(dst))
    assert "TMDB cache only" in result.stdout
    assert fake_matcher.calls[0]["offline"] is True
