"""The run metrics as every command carries them: --json summaries, --metrics events, the
live line's phase totals (rate and ETA), TMDB counters under the shared names."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from anivault.monitor import Metrics, RunMonitor
from organize_support import episode, write
from anivault.testing import TMDBServer
from conftest import invoke

METRIC_KEYS = {"elapsed_s", "counters", "stages_s", "stage_items", "bottleneck", "resources"}


def last_summary(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])["summary"]


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def lib(tmp_path: Path) -> tuple[Path, Path]:
    src, dst = tmp_path / "in", tmp_path / "lib"
    for n in range(1, 5):
        episode(src, f"[Grp] Cowboy Bebop - {n:02} [1080p].mkv", "Cowboy Bebop", n)
        write(src / f"[Grp] Cowboy Bebop - {n:02} [1080p].en.ass", "sub")
    write(src / "readme.txt", "not media")
    return src, dst


# ---------------------------------------------------------------- --json summaries


def test_scan_json_summary_keeps_its_keys_and_adds_the_metrics(lib) -> None:
    src, _ = lib
    result = invoke("scan", "--json", str(src))
    assert result.exit_code == 0, result.output
    summary = last_summary(result.stdout)
    assert {"files", "bytes", "by_kind", "seconds", "paths_per_min", "peak_rss",
            "warning_messages"} <= set(summary)
    metrics = summary["metrics"]
    assert METRIC_KEYS <= set(metrics)
    assert metrics["counters"]["files"] == summary["files"] == 9
    assert metrics["resources"]["peak_rss"] > 0
    assert metrics["bottleneck"]["sentence"]


def test_organize_apply_and_undo_json_summaries_carry_the_metrics(lib) -> None:
    src, dst = lib
    result = invoke("organize", str(src), "--dest", str(dst), "--offline", "--unmatched", "parsed", "--apply",
                    "--json")
    assert result.exit_code == 0, result.output
    applied = last_summary(result.stdout)
    assert applied["apply"]["done"] == 8
    counters = applied["metrics"]["counters"]
    assert counters["applied"] == 8 and counters["folders_created"] >= 2
    rows = {r["stage"]: r for r in applied["metrics"]["bottleneck"]["stages"]}
    assert rows["apply"]["items"] == 8 and rows["apply"]["per_min"] > 0
    assert rows["plan"]["items"] == 8

    result = invoke("undo", "--last", "--json")
    assert result.exit_code == 0, result.output
    undone = last_summary(result.stdout)
    assert {"op", "undone", "already", "kept", "removed_dirs"} <= set(undone)
    assert undone["undone"] == 8
    metrics = undone["metrics"]
    assert metrics["counters"]["undone"] == metrics["counters"]["undo_steps"] == 8
    assert metrics["stage_items"]["undo"] == 8
    assert "undo: " in metrics["bottleneck"]["sentence"] or "untimed" in metrics["bottleneck"]["sentence"]
    assert metrics["resources"]["peak_rss"] > 0


def test_organize_table_ends_with_time_bottleneck_and_peak_rss(lib) -> None:
    src, dst = lib
    result = invoke("organize", str(src), "--dest", str(dst), "--offline", "--unmatched", "parsed",
                    "--format", "table")
    assert result.exit_code == 0, result.output
    assert "bottleneck" in result.stdout and "peak RSS" in result.stdout


def test_match_json_summary_has_requests_under_the_shared_names(tmdb_env: TMDBServer,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    for name in ("[SubsPlease] Sousou no Frieren - 05 (1080p).mkv",
                 "[Erai-raws] One Piece - 1089 [1080p].mkv"):
        (root / name).write_bytes(b"")
    result = invoke("match", "--json", str(root))
    assert result.exit_code == 0, result.output
    summary = last_summary(result.stdout)
    counters = summary["metrics"]["counters"]
    assert counters["requests"] == summary["requests"] == tmdb_env.count() > 0
    assert counters["retries"] == summary["retries"]
    assert counters["cache_misses"] == summary["cache_misses"]
    assert "tmdb_requests" not in counters
    assert summary["metrics"]["stage_items"]["match"] == 2
    assert summary["metrics"]["hit_rates"]["cache"] == summary["hit_rate"]
    # A second run answers from the cache: the summary's hit rate says so.
    again = last_summary(invoke("match", "--json", str(root)).stdout)
    assert again["metrics"]["counters"].get("requests", 0) == 0
    assert again["metrics"]["hit_rates"]["cache"] == 1.0


# ---------------------------------------------------------------- --metrics FILE events


def test_every_command_writes_start_and_complete_events(lib, tmp_path: Path) -> None:
    src, dst = lib
    log = tmp_path / "events.ndjson"
    for args in (["scan", "--json", str(src)],
                 ["organize", str(src), "--dest", str(dst), "--offline", "--unmatched", "parsed", "--apply",
                  "--json"],
                 ["history"], ["undo", "--last"]):
        assert invoke("--metrics", str(log), *args).exit_code == 0
    seen = [(e["phase"], e["event"]) for e in events(log) if e["event"] != "progress"]
    for command in ("scan", "organize", "history", "undo"):
        assert (command, "start") in seen and (command, "complete") in seen
    done = [e for e in events(log) if e["event"] == "complete"]
    assert all(e["fields"]["resources"]["peak_rss"] > 0 for e in done)


def test_errors_are_error_events_with_the_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "events.ndjson"
    assert invoke("--metrics", str(log), "scan", "--bogus", str(tmp_path)).exit_code == 2
    assert invoke("--metrics", str(log), "undo", "--last").exit_code == 1  # nothing to undo
    errors = [e for e in events(log) if e["event"] == "error"]
    assert [e["fields"]["exit_code"] for e in errors] == [2, 1]
    assert "--bogus" in errors[0]["fields"]["message"]
    completes = [e["fields"]["exit_code"] for e in events(log) if e["event"] == "complete"]
    assert completes == [2, 1]


def test_warnings_are_warning_events(lib, tmp_path: Path) -> None:
    log = tmp_path / "events.ndjson"
    assert invoke("--metrics", str(log), "parse", "[1080p].mkv").exit_code == 0
    [warning] = [e for e in events(log) if e["event"] == "warning"]
    assert "no title" in warning["fields"]["message"]


# ---------------------------------------------------------------- phase totals: rate and ETA


def test_a_phase_announces_its_total_and_the_live_line_shows_rate_and_eta() -> None:
    m = Metrics()
    m.count("files", 500)  # an earlier phase's work does not count toward this one
    m.expect(100, "applied", "files")
    m._progress_start = (m._progress_start[0], time.perf_counter() - 2.0)  # two seconds ago
    m.count("applied", 40)
    done, rate, eta = m.progress()
    assert done == 40 and rate == pytest.approx(20, rel=0.05) and eta == pytest.approx(3, rel=0.1)
    run = RunMonitor(m, interval=10).start("t")
    try:
        line = run.live_status()
        fields = run._progress_fields(run.sampler.samples[-1])
    finally:
        run.finish()
    assert "files/s" in line and "40/100" in line and "ETA 00:0" in line and "RSS" in line
    assert fields["progress"] == {"counter": "applied", "unit": "files", "done": 40, "total": 100,
                                  "rate_per_s": pytest.approx(20, rel=0.05)}
    assert fields["eta_s"] == pytest.approx(3, rel=0.1)
    m.expect(None)
    assert m.progress()[2] is None


def test_live_line_names_each_hit_rate_when_two_caches_are_used() -> None:
    m = Metrics()
    m.count("index_hits", 9)
    m.count("index_misses", 1)
    m.count("cache_hits", 1)
    m.count("cache_misses", 1)
    assert m.hit_rates() == {"cache": 0.5, "index": 0.9}
    run = RunMonitor(m, interval=10).start("t")
    try:
        line = run.live_status()
    finally:
        run.finish()
    assert "cache hits 50%" in line and "index hits 90%" in line


def test_apply_and_undo_count_progress_per_batch(lib, tmp_path: Path) -> None:
    from anivault.organize import PlanOptions, apply_plan
    from anivault.pipeline import scan_and_plan
    from anivault.undo import undo

    src, dst = lib
    seen: list[tuple[int | None, int]] = []
    metrics = Metrics()
    plan = scan_and_plan([str(src)], PlanOptions(dest=str(dst), unmatched="parsed"), offline=True)
    apply_plan(plan, batch=3, metrics=metrics,
               progress=lambda n: seen.append((metrics.expected, metrics.counters["applied"])))
    assert {total for total, _ in seen} == {8}
    assert [c for _, c in seen][-1] == 6  # the last batch is counted when it is done
    assert metrics.counters["applied"] == 8 and metrics.expected is None

    seen.clear()
    undo(metrics=metrics, batch=3,
         progress=lambda n: seen.append((metrics.expected, metrics.counters["undo_steps"])))
    assert {total for total, _ in seen} == {8}
    assert [c for _, c in seen] == [0, 0, 3, 3, 3, 6, 6, 6]
    assert metrics.counters["undo_steps"] == 8 and metrics.expected is None


def test_plan_time_leaves_out_the_scan_feeding_it(lib) -> None:
    from anivault.organize import PlanOptions, plan_organize
    from anivault.scan import scan

    src, dst = lib

    def slow(records: Any) -> Iterator[Any]:
        for record in records:
            time.sleep(0.05)  # the producer's time, not the planner's
            yield record

    metrics = Metrics()
    plan_organize(slow(scan([str(src)], use_index=False)), PlanOptions(dest=str(dst)), metrics=metrics)
    assert metrics.stage_seconds["plan"] < 0.2  # 9 records: 0.45 s of waiting left out
    assert metrics.stage_items["plan"] == 8  # the plan's entries: readme.txt stays in place


def test_bench_runs_announce_their_total(tmp_path: Path, monkeypatch) -> None:
    from anivault import bench

    monkeypatch.setenv("ANIVAULT_CACHE_DIR", str(tmp_path / "cache"))
    lib = bench.demo_library(100, seed=4)
    metrics = Metrics()
    totals: list[int | None] = []
    result = bench.run_bench(lib, repeat=2, stages=["hash"], metrics=metrics,
                             progress=lambda line: totals.append(metrics.expected))
    runs = 2 * len(result["variants"])  # hash, and hash_py on a compiled build
    assert metrics.counters["bench_runs"] == runs
    assert runs in totals and metrics.expected is None


def test_warnings_and_errors_are_counted_once(lib, tmp_path: Path) -> None:
    log = tmp_path / "events.ndjson"
    invoke("--metrics", str(log), "parse", "[1080p].mkv", "01.mkv")
    invoke("--metrics", str(log), "undo", "--last")  # nothing to undo: an error
    first, second = [e["fields"]["counters"] for e in events(log) if e["event"] == "complete"]
    assert first["warnings"] == 2 and "errors" not in first
    assert second["errors"] == 1


def test_a_slow_phase_rate_is_not_rounded_to_zero() -> None:
    m = Metrics()
    m.expect(20, "bench_runs", "runs")
    m._progress_start = (0, time.perf_counter() - 10.0)
    m.count("bench_runs", 4)
    run = RunMonitor(m, interval=10).start("bench")
    try:
        line = run.live_status()
    finally:
        run.finish()
    assert "0.4 runs/s" in line and "4/20" in line and "ETA 00:4" in line
