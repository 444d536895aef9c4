"""A wrong TMDB base URL or a malformed answer, from the command line: one line, a hint, the run goes on."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from anivault.cli import cli
from anivault.testing import TMDBServer
from organize_support import write


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_wrong_base_url_is_one_line_with_a_hint(tmp_path: Path, tmdb_env: TMDBServer) -> None:
    write(tmp_path / "[Grp] Frieren - 01 [1080p].mkv", "x")
    tmdb_env.always = "html"
    result = invoke("match", str(tmp_path))
    assert result.exit_code == 1
    assert "HTML page" in result.output and "tmdb_base_url" in result.output
    assert "Traceback" not in result.output and tmdb_env.count() == 1


def test_a_malformed_answer_leaves_one_series_unmatched_and_is_reported_once(tmp_path: Path,
                                                                             tmdb_env: TMDBServer) -> None:
    write(tmp_path / "[Grp] Frieren - 01 [1080p].mkv", "x")
    write(tmp_path / "[Grp] Frieren - 02 [1080p].mkv", "x")
    tmdb_env.faults.append("wrong-type")  # the first request: Frieren's search
    result = invoke("match", str(tmp_path), "--json", "--concurrency", "1")
    assert result.exit_code == 0, result.output
    files = [json.loads(line) for line in result.stdout.splitlines()[:-1]]
    assert all(f["tmdb"] is None and "malformed" in f["reason"] for f in files)
    assert result.stderr.count("malformed answer") == 1
    again = invoke("match", str(tmp_path), "--json")  # nothing bad was cached
    assert all(json.loads(line)["tmdb"]["id"] == 209867 for line in again.stdout.splitlines()[:-1])
