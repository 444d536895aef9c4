"""`anivault match` and `anivault cache` end to end against the local TMDB server."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from anivault.testing import API_KEY, TMDBServer
from conftest import invoke as shared_invoke

NAMES = [
    "[SubsPlease] Sousou no Frieren - 05 (1080p) [A1B2C3D4].mkv",
    "[SubsPlease] Sousou no Frieren - 06 (1080p) [A1B2C3D5].mkv",
    "[SubsPlease] Sousou no Frieren - 06 (1080p) [A1B2C3D5].en.ass",
    "[Erai-raws] One Piece - 1089 [1080p].mkv",
    "[Judas] Shingeki no Kyojin S3 - 05 [1080p].mkv",
    "Spirited Away (2001) [BD 1080p].mkv",
    "[Group] Totally Unknown Xyzzy Show - 01 [720p].mkv",
    "notes.txt",
]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    for name in NAMES:
        (root / name).write_bytes(b"")
    return root


def invoke(*args: str) -> object:
    return shared_invoke(*args, catch_exceptions=False)


def ndjson(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_match_json_has_a_tmdb_object_per_file_and_a_summary(tmdb_env: TMDBServer, library: Path) -> None:
    result = invoke("match", str(library), "--json")
    assert result.exit_code == 0, result.output
    lines = ndjson(result.stdout)
    summary = lines[-1]["summary"]
    files = {Path(o["path"]).name: o for o in lines[:-1]}
    assert len(files) == len(NAMES)
    frieren = files[NAMES[0]]["tmdb"]
    assert frieren["id"] == 209867 and frieren["media_type"] == "tv" and frieren["season"] == 1
    assert frieren["episode"] == 5 and frieren["year"] == 2023 and frieren["original_title"] == "葬送のフリーレン"
    assert set(frieren) >= {"id", "media_type", "title", "original_title", "year", "season", "episode",
                            "confidence"}
    assert files[NAMES[2]]["tmdb"]["id"] == 209867  # subtitles follow their series
    one_piece = files[NAMES[3]]["tmdb"]
    assert one_piece["id"] == 37854 and one_piece["season"] == 21
    assert files[NAMES[4]]["tmdb"]["id"] == 1429 and files[NAMES[4]]["tmdb"]["season"] == 3
    assert files[NAMES[5]]["tmdb"]["media_type"] == "movie" and files[NAMES[5]]["tmdb"]["id"] == 129
    unknown = files[NAMES[6]]
    assert unknown["tmdb"] is None and "no TMDB result" in unknown["reason"]
    assert files["notes.txt"]["tmdb"] is None
    assert summary["requests"] == tmdb_env.count() and summary["cache_misses"] > 0
    assert {"requests", "cache_hits", "cache_misses", "hit_rate"} <= set(summary)


def test_second_match_run_makes_zero_requests(tmdb_env: TMDBServer, library: Path) -> None:
    invoke("match", str(library), "--json")
    before = tmdb_env.count()
    result = invoke("match", str(library), "--json")
    summary = ndjson(result.stdout)[-1]["summary"]
    assert tmdb_env.count() == before
    assert summary["requests"] == 0 and summary["hit_rate"] == 1.0


def test_match_table_per_series(tmdb_env: TMDBServer, library: Path) -> None:
    result = invoke("match", str(library))
    assert result.exit_code == 0
    out = result.stdout
    assert "title\tTMDB id\tyear\tconfidence\tfiles\tseasons" in out
    assert "Frieren: Beyond Journey's End\ttv/209867\t2023\t" in out
    assert "Totally Unknown Xyzzy Show" in out and "no TMDB result" in out
    assert "hit rate" in out


def test_strict_exits_3_when_files_stay_unmatched(tmdb_env: TMDBServer, library: Path) -> None:
    assert invoke("match", str(library), "--strict").exit_code == 3


def test_offline_answers_from_the_cache_only(tmdb_env: TMDBServer, library: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMDB_API_KEY")
    result = invoke("match", str(library), "--json", "--offline")
    assert result.exit_code == 0 and tmdb_env.count() == 0
    assert all(o["tmdb"] is None for o in ndjson(result.stdout)[:-1])
    monkeypatch.setenv("TMDB_API_KEY", API_KEY)
    invoke("cache", "warm", str(library))
    monkeypatch.delenv("TMDB_API_KEY")
    n = tmdb_env.count()
    lines = ndjson(invoke("match", str(library), "--json", "--offline").stdout)
    assert tmdb_env.count() == n
    assert sum(o["tmdb"] is not None for o in lines[:-1]) == len(NAMES) - 2


def test_no_key_explains_how_to_set_one_while_scan_works(library: Path) -> None:
    result = invoke("match", str(library))
    assert result.exit_code == 1
    assert "no TMDB credentials" in result.stderr and "TMDB_API_KEY" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert invoke("scan", str(library), "--json").exit_code == 0


def test_invalid_key_exits_5_with_a_clear_message(tmdb_env: TMDBServer, library: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMDB_API_KEY", "not-the-key-0123456789")
    result = invoke("match", str(library), "--json")
    assert result.exit_code == 5
    assert "TMDB rejected the API key" in result.stderr and "hint:" in result.stderr
    assert "not-the-key-0123456789" not in result.output + result.stderr
    assert tmdb_env.count() <= 4  # the first answers stop everyone


def test_key_never_appears_in_output_logs_or_cache(tmdb_env: TMDBServer, library: Path,
                                                   tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    tmdb_env.faults.extend(["500", "429", "malformed", "502"])
    outputs = []
    for args in (["match", str(library), "--json"], ["match", str(library)], ["cache", "stats", "--json"],
                 ["cache", "warm", str(library)], ["config", "show"]):
        result = invoke(*args)
        outputs.append(result.stdout + result.stderr)
    assert all(API_KEY not in o for o in outputs)
    assert API_KEY not in caplog.text
    cache_dir = Path(os.environ["ANIVAULT_CACHE_DIR"])
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("tmdb.sqlite") for p in files)
    for p in files:
        assert API_KEY.encode() not in p.read_bytes(), p


def test_outage_switches_to_cache_only_and_says_so(tmdb_env: TMDBServer, library: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tmdb_env.always = "503"
    monkeypatch.setattr("anivault.tmdb.full_jitter", lambda attempt, base, cap: 0.001)
    result = invoke("match", str(library), "--json")
    assert result.exit_code == 0
    summary = ndjson(result.stdout)[-1]["summary"]
    assert summary["cache_only"] and summary["breaker_trips"] == 1
    assert "cache-only" in result.stderr
    # The breaker (8 failures) stopped the run; requests already in flight (4) may still land.
    # Without it, 5 series x (1 + 5 retries) requests would have gone out.
    assert tmdb_env.count() <= 8 + 4


def test_cache_stats_prune_clear(tmdb_env: TMDBServer, library: Path) -> None:
    invoke("match", str(library))
    stats = json.loads(invoke("cache", "stats", "--json").stdout)
    assert stats["entries"] == tmdb_env.count()
    assert stats["by_kind"]["search/tv"]["entries"] >= 4 and stats["by_kind"]["tv"]["entries"] >= 3
    assert stats["last_run"]["requests"] == tmdb_env.count() and stats["bytes_on_disk"] > 0
    table = invoke("cache", "stats").stdout
    assert "hit rate, last run" in table and "hit rate, lifetime" in table
    pruned = json.loads(invoke("cache", "prune", "--json").stdout)
    assert pruned["removed"] == 0
    assert invoke("cache", "prune", "--cache-max-mb", "0").exit_code == 0
    assert json.loads(invoke("cache", "stats", "--json").stdout)["entries"] == 0
    invoke("match", str(library))
    result = invoke("cache", "clear")
    assert result.exit_code == 0 and "cleared" in result.stdout
    assert json.loads(invoke("cache", "stats", "--json").stdout)["entries"] == 0


def test_cache_warm_then_match_is_free(tmdb_env: TMDBServer, library: Path) -> None:
    result = invoke("cache", "warm", str(library))
    assert result.exit_code == 0 and "series cached" in result.stdout
    n = tmdb_env.count()
    summary = ndjson(invoke("match", str(library), "--json").stdout)[-1]["summary"]
    assert tmdb_env.count() == n and summary["hit_rate"] == 1.0


def test_corrupt_cache_warns_and_the_run_goes_on(tmdb_env: TMDBServer, library: Path) -> None:
    cache_dir = Path(os.environ["ANIVAULT_CACHE_DIR"])
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / "tmdb.sqlite").write_bytes(b"garbage" * 1000)
    result = invoke("match", str(library), "--json")
    assert result.exit_code == 0
    assert "moved to" in result.stderr and "warning" in result.stderr
    assert ndjson(result.stdout)[0]["path"]


def test_options_reach_the_client(tmdb_env: TMDBServer, library: Path) -> None:
    result = invoke("match", str(library), "--json", "--lang", "fr-FR", "--rate", "50", "--concurrency", "2",
                    "--min-confidence", "0.99")
    assert result.exit_code == 0
    assert {r.params["language"] for r in tmdb_env.requests()} == {"fr-FR"}
    lines = ndjson(result.stdout)
    assert any("below --min-confidence 0.99" in (o["reason"] or "") for o in lines[:-1])


@pytest.mark.parametrize("args", [["--rate", "0"], ["--concurrency", "0"], ["--min-confidence", "2"]])
def test_bad_options_are_usage_errors(library: Path, args: list[str]) -> None:
    assert invoke("match", str(library), *args).exit_code == 2


def test_match_json_writes_each_window_as_it_is_matched(tmdb_env: TMDBServer, library: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing per file is held: each window's lines are out before the next window is matched."""
    import anivault.match as match_module
    from anivault.cli import output

    events: list[tuple[str, int]] = []
    matched, writer = match_module.resolve_windows, output.match_window_writer

    def spy_matched(folders: object, **kw: object) -> object:
        for files in matched(folders, **{**kw, "window": 1}):  # type: ignore[arg-type]
            events.append(("matched", len(files)))
            yield files

    def spy_writer(out: object = None) -> object:
        write = writer(out)
        return lambda files: (events.append(("written", len(files))), write(files))

    monkeypatch.setattr(match_module, "resolve_windows", spy_matched)
    monkeypatch.setattr(output, "match_window_writer", spy_writer)
    result = invoke("match", str(library), "--json")
    assert result.exit_code == 0
    assert [e for e, _ in events] == ["matched", "written"] * (len(events) // 2)
    assert sum(n for e, n in events if e == "written") == len(NAMES)
    assert len(result.stdout.splitlines()) == len(NAMES) + 1  # and the summary
