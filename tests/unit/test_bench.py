"""``anivault bench``: result format, baseline comparison, the regression exit code.

Nothing here asserts a speed: runs are tiny, and the regression paths are
driven by baselines whose figures are set by the test.
"""
from __future__ import annotations

import copy
import importlib
import json
import re

import pytest

from anivault import bench
from anivault.bench.compare import RSS_FLOOR
from anivault.bench.stats import per_min, percentile
from anivault.cli import cli
from anivault.errors import UsageError


@pytest.fixture(scope="module")
def small_result(tmp_path_factory) -> dict:
    """One real bench result: a 300-file demo, parse and hash, two repeats."""
    import os

    home = tmp_path_factory.mktemp("bench-home")
    os.environ["ANIVAULT_CACHE_DIR"] = str(home)
    try:
        lib = bench.demo_library(300, seed=3)
        return bench.run_bench(lib, repeat=2, stages=["parse", "hash"])
    finally:
        del os.environ["ANIVAULT_CACHE_DIR"]


def _result(**values: float) -> dict:
    metrics = {}
    for name, value in values.items():
        better = "lower" if name.endswith("peak_rss") else "higher"
        metrics[name.replace("__", ".")] = {"value": value, "better": better}
    return {"format": bench.FORMAT, "config": {"files": 1000, "seed": 1}, "backend": "c",
            "metrics": metrics}


# ---------------------------------------------------------------- the result


def test_result_follows_the_documented_format(small_result) -> None:
    r = small_result
    assert r["format"] == "anivault-bench/1"
    assert {"created", "anivault", "backend", "python", "platform", "cpus", "config",
            "variants", "ratios", "metrics", "peak_rss"} <= set(r)
    assert r["config"]["files"] == 300 and r["config"]["repeat"] == 2
    for key in ("parse", "hash"):
        v = r["variants"][key]
        assert v["gated"] and v["items"] == 300 and len(v["runs"]) == 2
        assert v["median_per_min"] >= v["p95_per_min"] > 0
        assert v["score"] > 0 and v["cpu_score"] > 0
        assert all("calib_wall_s" in run for run in v["runs"])
        metric = r["metrics"][f"{key}.throughput"]
        assert metric["better"] == "higher"
        assert metric["value"] == v["cpu_score"] and metric["wall_value"] == v["score"]
    json.dumps(r)  # plain JSON all the way down


def test_p95_throughput_is_the_rate_of_the_slow_runs() -> None:
    rates = [1000.0, 950.0, 900.0, 880.0, 500.0]  # items/s of five runs
    assert percentile(rates, 5) == 500.0  # 95% of the runs reached at least this
    assert percentile(rates, 50) == 900.0
    assert per_min(1000, 2.0) == 30_000


# ---------------------------------------------------------------- compare


def test_a_25_percent_slowdown_is_named_with_its_size() -> None:
    base = _result(scan__throughput=100.0, parse__throughput=50.0)
    now = _result(scan__throughput=80.0, parse__throughput=49.0)
    changes = {c.metric: c for c in bench.compare(now, base, 10)}
    assert changes["scan.throughput"].regressed
    assert changes["scan.throughput"].change_pct == pytest.approx(-20.0)
    assert changes["scan.throughput"].sentence() == "scan.throughput: 20.0% slower (100 -> 80)"
    assert not changes["parse.throughput"].regressed


def test_a_throughput_drop_must_show_in_cpu_and_wall_time() -> None:
    def result(cpu: float, wall: float) -> dict:
        r = _result(scan__throughput=cpu)
        r["metrics"]["scan.throughput"]["wall_value"] = wall
        return r

    base = result(100.0, 50.0)
    [burst] = bench.compare(result(100.0, 30.0), base)  # a burst of load: wall time alone
    assert not burst.regressed
    [slower] = bench.compare(result(80.0, 40.0), base)  # slower code: both
    assert slower.regressed and slower.wall_change_pct == pytest.approx(-20.0)
    assert slower.sentence() == "scan.throughput: 20.0% slower (100 -> 80; wall time 20.0% slower)"
    assert not bench.compare(result(80.0, 48.0), base)[0].regressed


def test_a_contaminated_yardstick_is_no_regression_on_the_same_machine() -> None:
    """Someone else's burst landing on the ~10 ms calibrations of the baseline inflates its
    scores; the raw CPU throughput (same machine) shows the code did not change."""
    def result(score: float, wall: float, raw: float, quietest: float) -> dict:
        r = _result(scan__throughput=score)
        r["metrics"]["scan.throughput"].update(wall_value=wall, cpu_value=raw)
        r["calibration"] = {"rounds": 6000, "min_cpu_s": quietest, "median_cpu_s": quietest}
        return r

    base = result(100.0, 50.0, 1000.0, 0.0100)
    [same_code] = bench.compare(result(85.0, 42.0, 995.0, 0.0101), base)
    assert not same_code.regressed and same_code.raw_change_pct == pytest.approx(-0.5)
    [slower] = bench.compare(result(80.0, 40.0, 800.0, 0.0101), base)
    assert slower.regressed
    assert slower.sentence().endswith("; wall time 20.0% slower; raw CPU 20.0% slower)")
    assert slower.to_dict()["raw_change_pct"] == -20.0
    # A machine of another speed: raw CPU time says nothing, the normalized scores decide.
    [elsewhere] = bench.compare(result(80.0, 40.0, 2000.0, 0.0050), base)
    assert elsewhere.regressed and elsewhere.raw_change_pct is None


def test_result_records_raw_cpu_throughput_and_the_calibration(small_result) -> None:
    metric = small_result["metrics"]["parse.throughput"]
    assert metric["cpu_value"] == small_result["variants"]["parse"]["cpu_per_s"] > 0
    calibration = small_result["calibration"]
    assert 0 < calibration["min_cpu_s"] <= calibration["median_cpu_s"]


def _with_variants(result: dict) -> dict:
    result["variants"] = {m.split(".")[0]: {"stage": "scan"} for m in result["metrics"]}
    result["config"]["repeat"] = 3
    return result


def test_a_regression_the_rerun_does_not_repeat_is_noise(monkeypatch) -> None:
    gate_module = importlib.import_module("anivault.bench.gate")

    base = _result(scan__throughput=100.0, scan_warm__throughput=100.0)
    first = _with_variants(_result(scan__throughput=70.0, scan_warm__throughput=99.0))
    reruns = []

    def rerun(library, repeat, stages, progress=None, metrics=None):
        reruns.append((repeat, stages))
        return _result(scan__throughput=97.0, scan_warm__throughput=99.0)

    monkeypatch.setattr(gate_module, "run_bench", rerun)
    changes = {c.metric: c for c in bench.gate(None, first, base, 10)}
    assert reruns == [(3, ["scan"])]  # only the stage behind the suspect, same repeats
    assert not changes["scan.throughput"].regressed
    assert changes["scan.throughput"].change_pct == pytest.approx(-3.0)
    confirmation = first["compare"]["confirmation"]
    assert confirmation["first"][0]["change_pct"] == -30.0
    assert confirmation["rerun"][0]["change_pct"] == -3.0


def test_a_regression_the_rerun_repeats_is_reported_by_the_smaller_change(monkeypatch) -> None:
    gate_module = importlib.import_module("anivault.bench.gate")

    base = _result(scan__throughput=100.0)
    first = _with_variants(_result(scan__throughput=70.0))
    monkeypatch.setattr(gate_module, "run_bench",
                        lambda *a, **k: _result(scan__throughput=80.0))
    [change] = bench.gate(None, first, base, 10)
    assert change.regressed and change.change_pct == pytest.approx(-20.0)


def test_no_rerun_without_a_suspect(monkeypatch) -> None:
    gate_module = importlib.import_module("anivault.bench.gate")

    monkeypatch.setattr(gate_module, "run_bench", lambda *a, **k: pytest.fail("reran"))
    base = _result(scan__throughput=100.0)
    assert not bench.gate(None, _with_variants(_result(scan__throughput=95.0)), base, 10)[0].regressed


def test_changes_within_the_threshold_pass() -> None:
    base = _result(scan__throughput=100.0)
    assert not any(c.regressed for c in bench.compare(_result(scan__throughput=91.0), base, 10))
    assert not any(c.regressed for c in bench.compare(_result(scan__throughput=130.0), base, 10))
    assert any(c.regressed for c in bench.compare(_result(scan__throughput=91.0), base, 5))


def test_memory_regresses_only_past_threshold_and_floor() -> None:
    base = _result(scan__peak_rss=20 << 20)
    small = _result(scan__peak_rss=(20 << 20) + RSS_FLOOR - 1)  # +20% but under the floor
    big = _result(scan__peak_rss=40 << 20)
    assert not any(c.regressed for c in bench.compare(small, base, 10))
    [change] = bench.compare(big, base, 10)
    assert change.regressed and change.sentence().startswith("scan.peak_rss: 100.0% larger")


def test_metrics_missing_on_either_side_are_not_compared() -> None:
    base = _result(scan__throughput=100.0, match__throughput=5.0)
    now = _result(scan__throughput=100.0, organize__throughput=7.0)
    assert [c.metric for c in bench.compare(now, base)] == ["scan.throughput"]


def test_unlike_runs_are_noted() -> None:
    base = _result(scan__throughput=1.0)
    now = copy.deepcopy(base)
    now["config"]["files"] = 2000
    now["backend"] = "py"
    notes = bench.comparable(now, base)
    assert any("files differs" in n for n in notes) and any("backend differs" in n for n in notes)


def test_a_bad_baseline_is_a_usage_error(tmp_path) -> None:
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "y.json").write_text('{"format": "other"}', encoding="utf-8")
    for name in ("x.json", "y.json", "missing.json"):
        with pytest.raises(UsageError):
            bench.load(tmp_path / name)


def test_save_and_load_round_trip(small_result, tmp_path) -> None:
    bench.save(small_result, tmp_path / "b.json")
    assert bench.load(tmp_path / "b.json") == json.loads(json.dumps(small_result))


# ---------------------------------------------------------------- the command


def test_bench_json_save_and_compare_unchanged(runner, tmp_path) -> None:
    base = tmp_path / "base.json"
    args = ["bench", "--files", "200", "--repeat", "1", "--stages", "parse,hash"]
    result = runner.invoke(cli, [*args, "--json", "--save", str(base)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["format"] == bench.FORMAT and json.loads(base.read_text()) == printed
    # A generous threshold: the point is the plumbing, not this machine's noise.
    result = runner.invoke(cli, [*args, "--compare", str(base), "--threshold", "90"])
    assert result.exit_code == 0, result.output
    assert "ok: no metric regressed beyond 90%" in result.stdout


def test_bench_compare_exits_4_naming_each_regressed_metric(runner, tmp_path) -> None:
    base = tmp_path / "base.json"
    args = ["bench", "--files", "200", "--repeat", "1", "--stages", "parse,hash"]
    assert runner.invoke(cli, [*args, "--save", str(base)]).exit_code == 0
    doctored = json.loads(base.read_text())
    for metric in doctored["metrics"].values():
        metric["value"] *= 10  # the baseline was ten times faster: now is 90% slower
        metric["wall_value"] *= 10
        metric["cpu_value"] *= 10
    base.write_text(json.dumps(doctored))
    result = runner.invoke(cli, [*args, "--compare", str(base)])
    assert result.exit_code == 4, result.output
    [line] = [e for e in result.stderr.splitlines() if e.startswith("anivault: error:")]
    assert line.startswith("anivault: error: bench: 2 metric(s) regressed beyond 10%")
    assert re.search(r"parse\.throughput: \d+\.\d% slower \(", line)
    assert re.search(r"hash\.throughput: \d+\.\d% slower \(", line)
    assert "REGRESSION" in result.stdout
    assert "confirming" not in result.stdout  # progress goes to a TTY only


def test_injected_slowdown_is_applied_and_recorded(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(bench.INJECT_ENV, "0.25")
    result = runner.invoke(cli, ["bench", "--files", "200", "--repeat", "1", "--stages", "hash",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"]["inject_slowdown"] == 0.25


def test_bench_usage_errors(runner, tmp_path, monkeypatch) -> None:
    result = runner.invoke(cli, ["bench", "--files", "200", "--stages", "scan,bogus"])
    assert result.exit_code == 2 and "unknown stage bogus" in result.stderr
    result = runner.invoke(cli, ["bench", "--compare", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and "cannot read baseline" in result.stderr
    monkeypatch.setenv(bench.INJECT_ENV, "lots")
    result = runner.invoke(cli, ["bench", "--files", "200", "--stages", "hash"])
    assert result.exit_code == 2 and bench.INJECT_ENV in result.stderr


def test_scan_stage_runs_the_command_beside_find(runner, tmp_path) -> None:
    result = runner.invoke(cli, ["bench", "--files", "200", "--repeat", "1", "--stages", "scan",
                                 "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.stdout)
    scan, warm = r["variants"]["scan"], r["variants"]["scan_warm"]
    assert scan["items"] == 200 and scan["peak_rss"] > 0
    assert warm["hit_rate"] == 1.0  # the warm index answers every file
    assert "scan.throughput" in r["metrics"] and "scan.peak_rss" in r["metrics"]
    if "find" in r["variants"]:
        assert r["variants"]["find"]["peer"] and "scan_vs_find" in r["ratios"]


# ---------------------------------------------------------------- the library


def test_organize_stage_gates_the_apply_into_existing_folders(tmp_path, monkeypatch) -> None:
    """Folder creation costs what the filesystem's state says (docs/PERFORMANCE.md): the gated
    apply moves into folders made beforehand; the first-run figure is reported, not gated."""
    monkeypatch.setenv("ANIVAULT_CACHE_DIR", str(tmp_path / "cache"))
    lib = bench.demo_library(300, seed=2)
    result = bench.run_bench(lib, repeat=2, stages=["organize"])
    v = result["variants"]
    assert v["organize_apply_existing"]["gated"] and not v["organize_apply"]["gated"]
    assert "organize_apply_existing.throughput" in result["metrics"]
    assert "organize_apply.throughput" not in result["metrics"]
    assert result["ratios"]["apply_new_vs_existing"]["of"] == "time"
    existing = [r["counters"] for r in v["organize_apply_existing"]["runs"]]
    new = [r["counters"] for r in v["organize_apply"]["runs"]]
    assert all(c.get("folders_created", 0) == 0 for c in existing)
    assert all(c["folders_created"] > 0 for c in new)
    assert {c["applied"] for c in existing} == {c["applied"] for c in new} == {c["applied"] for c in new[:1]}
    assert all(r["counters"]["undone"] == new[0]["applied"] for r in v["undo"]["runs"])


def test_demo_library_is_made_once_and_reused(tmp_path) -> None:
    first = bench.demo_library(150, seed=2, cache_dir=str(tmp_path))
    marker = tmp_path / "bench" / "demo-150-seed2" / "summary.json"
    assert first.files == 150 and marker.is_file()
    mtime = marker.stat().st_mtime_ns
    again = bench.demo_library(150, seed=2, cache_dir=str(tmp_path))
    assert again == first and marker.stat().st_mtime_ns == mtime


def test_an_interrupted_demo_is_made_again(tmp_path) -> None:
    root = tmp_path / "bench" / "demo-120-seed1" / "library"
    (root / "half").mkdir(parents=True)
    (root / "half" / "written.mkv").write_bytes(b"")
    lib = bench.demo_library(120, seed=1, cache_dir=str(tmp_path))
    assert lib.files == 120
    assert not (root / "half" / "written.mkv").exists()


def test_own_library_is_counted_and_must_exist(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("x.mkv", "y.mkv"):
        (tmp_path / "a" / name).write_bytes(b"")
    assert bench.own_library(tmp_path).files == 2
    with pytest.raises(UsageError):
        bench.own_library(tmp_path / "missing")
