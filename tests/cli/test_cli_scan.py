"""`anivault scan` and `anivault demo` from the command line: output formats, warnings, exit codes."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from anivault._speedups import list_dir
from anivault.cli import cli
from walk_stub import read_folders_with

scan_module = importlib.import_module("anivault.scan")
POSIX = os.name == "posix"


@pytest.fixture
def demo_root(tmp_path: Path, runner: CliRunner) -> Path:
    root = tmp_path / "anime-demo"
    result = runner.invoke(cli, ["demo", str(root), "--files", "600", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return root


def ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_demo_then_scan_json(runner: CliRunner, demo_root: Path) -> None:
    result = runner.invoke(cli, ["scan", str(demo_root), "--json"])
    assert result.exit_code == 0, result.stderr
    lines = ndjson(result.stdout)
    records, summary = lines[:-1], lines[-1]["summary"]
    assert len(records) == summary["files"] == 600
    assert {r["kind"] for r in records} == {"video", "subtitle", "other"}
    assert set(records[0]) == {"path", "size", "mtime_ns", "kind", "title", "season", "episode", "episode_end",
                               "version", "group", "resolution", "year", "crc32", "ext", "warnings"}
    assert all(os.path.isfile(r["path"]) for r in records)
    assert summary["index_misses"] > 0 and summary["index_hits"] == 0
    assert summary["by_kind"]["video"] == sum(r["kind"] == "video" for r in records)
    for key in ("series", "warnings", "seconds", "paths_per_min", "peak_rss"):
        assert key in summary
    assert result.stderr == ""  # piped: no progress, no colour, nothing to warn about


def test_rescan_reports_index_hits(runner: CliRunner, demo_root: Path) -> None:
    runner.invoke(cli, ["scan", str(demo_root), "--json"])
    summary = ndjson(runner.invoke(cli, ["scan", str(demo_root), "--json"]).stdout)[-1]["summary"]
    assert summary["index_misses"] == 0 and summary["index_hits"] > 0
    nocache = ndjson(runner.invoke(cli, ["scan", str(demo_root), "--json", "--no-cache"]).stdout)[-1]["summary"]
    assert nocache["index"] is None and nocache["index_hits"] == 0


def test_cache_dir_option(runner: CliRunner, demo_root: Path, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["scan", str(demo_root), "--json", "--cache-dir", str(tmp_path / "c")])
    assert ndjson(result.stdout)[-1]["summary"]["index"] == str(tmp_path / "c" / "index.sqlite")


def test_tables_without_json(runner: CliRunner, demo_root: Path) -> None:
    result = runner.invoke(cli, ["scan", str(demo_root)])
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("title\tseason\tepisodes\tvideos\tsubtitles\n")
    assert "\x1b[" not in out  # no colour when piped
    assert "files\t600 (" in out and "paths/min" in out and "peak RSS" in out


def test_filters_from_the_command_line(runner: CliRunner, demo_root: Path) -> None:
    args = ["scan", str(demo_root), "--json", "--no-cache", "--min-size", "10M", "--exclude", "Extras",
            "--exclude", "*.flac"]
    records = ndjson(runner.invoke(cli, args).stdout)[:-1]
    assert records and all(r["size"] >= 10 << 20 for r in records)
    assert not any("/Extras/" in r["path"] or r["ext"] == "flac" for r in records)
    top = ndjson(runner.invoke(cli, ["scan", str(demo_root), "--json", "--no-recursive"]).stdout)
    assert top[-1]["summary"]["files"] == 0


@pytest.mark.parametrize("args, message", [
    (["scan", "/nonexistent/anime"], "does not exist"),
    (["scan", ".", "--min-size", "lots"], "invalid size"),
    (["scan", ".", "--workers", "-1"], "--workers"),
])
def test_usage_errors_are_one_line_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stderr.startswith("anivault: error: ") and "Traceback" not in result.stderr


def test_scan_needs_a_path(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["scan"]).exit_code == 2


def test_demo_refuses_a_folder_with_files(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "keep.mkv").write_bytes(b"mine")
    result = runner.invoke(cli, ["demo", str(tmp_path), "--files", "5"])
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mkv"]


def test_demo_json_summary(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["demo", str(tmp_path / "d"), "--files", "50", "--json", "--empty"])
    summary = json.loads(result.stdout)
    assert summary["files"] == 50 and summary["bytes"] == 0


def test_warnings_are_capped_on_stderr(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anivault.cli.scan as cli_module

    monkeypatch.setattr(cli_module, "WARNINGS_SHOWN", 3)
    for n in range(7):
        os.symlink("missing", tmp_path / f"broken{n}.mkv") if POSIX else None
    if not POSIX:
        pytest.skip("symlinks need privileges on Windows")
    result = runner.invoke(cli, ["scan", str(tmp_path), "--follow-symlinks", "--json"])
    lines = result.stderr.splitlines()
    assert len(lines) == 4 and lines[-1] == "anivault: warning: 4 more warnings not shown (7 in all)"
    assert ndjson(result.stdout)[-1]["summary"]["warnings"] == 7


# ---- the must-show tree: every odd thing at once


@pytest.fixture
def odd_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """A normal file plus: an unreadable folder, a symlink loop, a FIFO, a non-UTF-8 name, a 255-byte name."""
    root = tmp_path / "odd"
    (root / "show").mkdir(parents=True)
    (root / "show" / "[G] Show - 01 (1080p).mkv").write_bytes(b"v")
    long_name = "[G] " + "L" * (255 - len("[G]  - 02.mkv")) + " - 02.mkv"
    (root / "show" / long_name).write_bytes(b"v")
    (root / "locked").mkdir()
    (root / "locked" / "[G] Hidden - 01.mkv").write_bytes(b"v")
    expected = ["permission denied", "symlink loop", "FIFO", "not valid UTF-8"]
    if POSIX:
        os.symlink(root, root / "show" / "loop")
        os.mkfifo(root / "pipe.mkv")
    if sys.platform == "linux":
        with open(os.fsencode(root / "show") + b"/[G] Show - 03 \xff.mkv", "wb"):
            pass
    denied = str(root / "locked")
    real = list_dir

    def guarded(path: str, min_size: int = 0):  # root may read anything: simulate the refusal
        if path == denied:
            raise PermissionError(13, "Permission denied", path)
        return real(path, min_size)

    read_folders_with(monkeypatch, guarded)
    return root, expected


@pytest.mark.skipif(sys.platform != "linux", reason="the full odd tree needs Linux (FIFO, raw-byte names)")
@pytest.mark.parametrize("strict, code", [(False, 0), (True, 3)])
def test_odd_tree_completes_reports_each_and_exits(runner: CliRunner, odd_tree, strict: bool, code: int) -> None:
    root, expected = odd_tree
    args = ["scan", str(root), "--json", "--follow-symlinks"] + (["--strict"] if strict else [])
    result = runner.invoke(cli, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.stderr
    warnings = result.stderr.splitlines()
    for what in expected:
        assert sum(what in w for w in warnings) == 1, (what, warnings)
    assert all(w.startswith("anivault: warning: " + str(root)) for w in warnings)
    lines = ndjson(result.stdout)
    records, summary = lines[:-1], lines[-1]["summary"]
    assert summary["complete"] and summary["warnings"] == 4
    names = sorted(os.path.basename(r["path"]) for r in records)
    assert len(names) == 3 and any(len(n.encode()) == 255 for n in names)
    assert any(r["warnings"] for r in records)  # the non-UTF-8 name is listed, flagged


def test_python_dash_m_and_piped_output_has_no_escape_codes(demo_root: Path, tmp_path: Path) -> None:
    env = dict(os.environ, ANIVAULT_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-m", "anivault", "scan", str(demo_root), "--json"],
                         capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert b"\x1b[" not in out.stdout + out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["summary"]["files"] == 600
