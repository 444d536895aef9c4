"""Run monitoring: metrics, bottleneck report, NDJSON events, sampler, profile, live line."""
from __future__ import annotations

import json
import sys
import threading

import click
import pytest

from anivault import monitor
from anivault.cli import cli, current_metrics, warn
from anivault.errors import AniVaultError
from anivault.monitor import Metrics, RunMonitor, bottleneck_report, format_report


@pytest.fixture
def command():
    """A throwaway command running whatever callable the test hands it."""
    body: list = []

    @cli.command("_probe", hidden=True)
    def probe() -> None:
        body[0](current_metrics())

    yield body
    cli.commands.pop("_probe")


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------- Metrics


def test_metrics_keeps_its_api_and_counts_items_per_stage() -> None:
    m = Metrics()
    m.count("files", 3)
    m.add_time("walk", 0.5)
    m.add_time("parse", 1.5, items=3)
    with m.stage("hash", items=3):
        assert m.phase == "hash"
    assert m.phase == "run"
    m.merge({"files": 2, "index_hits": 4}, {"walk": 0.5}, {"walk": 5})
    snap = m.snapshot()
    assert snap["counters"] == {"files": 5, "index_hits": 4}
    assert snap["stages_s"]["walk"] == 1.0 and snap["stages_s"]["parse"] == 1.5
    assert snap["stage_items"] == {"parse": 3, "hash": 3, "walk": 5}
    assert "elapsed_s" in snap and "bottleneck" in snap


def test_merge_from_many_threads_loses_nothing() -> None:
    m = Metrics()

    def worker() -> None:
        for _ in range(200):
            m.merge({"files": 10}, {"parse": 0.001})

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.counters["files"] == 8 * 200 * 10


def test_hit_rate_counts_index_and_cache_lookups() -> None:
    m = Metrics()
    assert m.hit_rate() is None
    m.merge({"index_hits": 6, "index_misses": 2, "cache_hits": 1, "cache_misses": 1})
    assert m.hit_rate() == pytest.approx(0.7)
    assert m.snapshot()["hit_rate"] == 0.7


# ---------------------------------------------------------------- bottleneck


def test_bottleneck_names_the_stage_with_most_wall_time() -> None:
    report = bottleneck_report({"walk": 1.0, "parse": 6.2, "index": 2.0}, {"parse": 620_000},
                               wall_s=10.0, files=600_000)
    assert report["sentence"] == "parse: 62% of wall time (620,000 at 6,000,000/min)"
    rows = {r["stage"]: r for r in report["stages"]}
    assert [r["stage"] for r in report["stages"]][0] == "parse"
    assert rows["parse"]["share"] == 0.62
    assert rows["parse"]["per_min"] == 6_000_000  # its own items over its own time
    assert rows["walk"]["per_min"] == 36_000_000  # no items of its own: the run's files
    assert rows["other"]["seconds"] == pytest.approx(0.8)


def test_untimed_work_can_be_the_bottleneck() -> None:
    report = bottleneck_report({"parse": 1.0}, {}, wall_s=4.0)
    assert report["sentence"] == "untimed work: 75% of wall time"
    assert bottleneck_report({}, {}, wall_s=0.0)["sentence"] == "no stage was timed"


def test_format_report_is_one_line_per_stage() -> None:
    lines = format_report(bottleneck_report({"walk": 1.0, "parse": 3.0}, {}, 4.0, files=100))
    assert lines[0] == "bottleneck: parse: 75% of wall time (100 at 2,000/min)"
    assert len(lines) == 3 and "parse" in lines[1] and "/min" in lines[1]


# ---------------------------------------------------------------- events (--metrics FILE)


def test_metrics_file_has_start_progress_complete(runner, command, tmp_path) -> None:
    def work(m: Metrics) -> None:
        with m.stage("parse", items=100):
            m.count("files", 100)
            m.count("index_hits", 90)
            m.count("index_misses", 10)

    command.append(work)
    path = tmp_path / "m.ndjson"
    result = runner.invoke(cli, ["--metrics", str(path), "_probe"])
    assert result.exit_code == 0, result.output
    events = _events(path)
    assert all(set(e) == {"ts", "phase", "event", "fields"} for e in events)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "complete" and "progress" in kinds
    assert events[0]["phase"] == "_probe" and events[0]["fields"]["command"] == "_probe"
    done = events[-1]["fields"]
    assert done["exit_code"] == 0
    assert done["counters"]["files"] == 100 and done["hit_rate"] == 0.9
    assert done["bottleneck"]["sentence"].startswith(("parse", "untimed"))
    assert done["resources"]["peak_rss"] > 0


def test_metrics_file_is_appended_not_overwritten(runner, command, tmp_path) -> None:
    command.append(lambda m: None)
    path = tmp_path / "m.ndjson"
    path.write_text('{"earlier": "run"}\n', encoding="utf-8")
    assert runner.invoke(cli, ["--metrics", str(path), "_probe"]).exit_code == 0
    assert path.read_text(encoding="utf-8").startswith('{"earlier": "run"}\n')


def test_warnings_and_errors_become_events(runner, command, tmp_path) -> None:
    def work(m: Metrics) -> None:
        with m.stage("walk"):
            warn("/lib/x.mkv: vanished during the scan")
        raise AniVaultError("cannot read /lib", hint="check permissions")

    command.append(work)
    path = tmp_path / "m.ndjson"
    result = runner.invoke(cli, ["--metrics", str(path), "_probe"])
    assert result.exit_code == 1
    events = _events(path)
    warning = next(e for e in events if e["event"] == "warning")
    assert warning["phase"] == "walk"
    assert warning["fields"]["message"] == "/lib/x.mkv: vanished during the scan"
    error = next(e for e in events if e["event"] == "error")
    assert "cannot read /lib" in error["fields"]["message"] and error["fields"]["exit_code"] == 1
    assert events[-1]["event"] == "complete" and events[-1]["fields"]["exit_code"] == 1
    # The user still sees exactly the one-line error and the warning, nothing more.
    assert result.stderr.count("\n") == 2


def test_strict_exit_codes_are_recorded(runner, command, tmp_path) -> None:
    command.append(lambda m: click.get_current_context().exit(3))
    path = tmp_path / "m.ndjson"
    assert runner.invoke(cli, ["--metrics", str(path), "_probe"]).exit_code == 3
    assert _events(path)[-1]["fields"]["exit_code"] == 3


def test_secrets_never_reach_the_metrics_file(runner, command, tmp_path, monkeypatch) -> None:
    key = "k3y-0123456789abcdef"
    monkeypatch.setenv("TMDB_API_KEY", key)
    command.append(lambda m: m.warning(f"GET /search/tv?api_key={key} failed"))
    path = tmp_path / "m.ndjson"
    assert runner.invoke(cli, ["--metrics", str(path), "_probe"]).exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert key not in text and "api_key=***" in text


def test_unwritable_metrics_file_is_a_usage_error(runner, command, tmp_path) -> None:
    command.append(lambda m: None)
    result = runner.invoke(cli, ["--metrics", str(tmp_path / "no" / "such" / "m.ndjson"), "_probe"])
    assert result.exit_code == 2
    assert result.stderr.startswith("anivault: error: cannot write metrics file")


# ---------------------------------------------------------------- report, profile, trace


def test_report_prints_bottleneck_and_peak_rss(runner, command) -> None:
    def work(m: Metrics) -> None:
        m.add_time("parse", 0.2, items=1000)
        m.count("files", 1000)

    command.append(work)
    result = runner.invoke(cli, ["--report", "_probe"])
    assert result.exit_code == 0
    assert "anivault: bottleneck: " in result.stderr
    assert "peak RSS" in result.stderr
    # Without --report, piped output stays quiet.
    assert runner.invoke(cli, ["_probe"]).stderr == ""


def test_profile_writes_a_report(runner, command, tmp_path) -> None:
    pytest.importorskip("pyinstrument")  # the optional `profile` extra

    def work(m: Metrics) -> None:
        sum(i * i for i in range(200_000))

    command.append(work)
    for name in ("p.txt", "p.html", "p.json"):
        out = tmp_path / name
        result = runner.invoke(cli, ["--profile", str(out), "_probe"])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
        assert f"profile written to {out}" in result.stderr
    assert "work" in (tmp_path / "p.txt").read_text(encoding="utf-8")
    json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))


def test_profile_without_pyinstrument_says_how_to_install(runner, command, tmp_path,
                                                          monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyinstrument", None)
    command.append(lambda m: None)
    result = runner.invoke(cli, ["--profile", str(tmp_path / "p.txt"), "_probe"])
    assert result.exit_code == 2
    assert "anivault[profile]" in result.stderr


def test_trace_memory_reports_traced_bytes(runner, command, tmp_path) -> None:
    command.append(lambda m: m.count("files", 1))
    path = tmp_path / "m.ndjson"
    assert runner.invoke(cli, ["--trace-memory", "--metrics", str(path), "_probe"]).exit_code == 0
    resources = _events(path)[-1]["fields"]["resources"]
    assert resources["traced_peak_bytes"] > 0
    import tracemalloc

    assert not tracemalloc.is_tracing(), "the run stops the tracing it started"


# ---------------------------------------------------------------- sampler, live line


def test_sampler_reads_rss_cpu_and_io() -> None:
    m = Metrics()
    run = RunMonitor(m, interval=0.01).start("t")
    m.count("files", 10)
    sample = run.sampler.sample()
    report = run.finish()
    assert sample.rss > 0 and sample.files == 10
    resources = report["resources"]
    assert resources["peak_rss"] >= sample.rss
    assert {"cpu_percent_avg", "read_bytes", "write_bytes", "samples"} <= set(resources)
    assert monitor.active() is None


def test_live_status_shows_rate_eta_rss_and_hit_rate() -> None:
    m = Metrics()
    run = RunMonitor(m, interval=10).start("t")
    try:
        m.expect(1000)
        m.count("files", 100)
        m.count("index_hits", 3)
        m.count("index_misses", 1)
        line = run.live_status()
        assert monitor.active() is run
    finally:
        run.finish()
    assert "files/s" in line and "ETA " in line and "RSS " in line and "hits 75%" in line


def test_live_status_leaves_out_a_rate_the_command_shows() -> None:
    from anivault.cli import progress as ui

    m = Metrics()
    run = RunMonitor(m, interval=10).start("t")
    try:
        assert "files/s" not in ui._run_status("starting")  # nothing counted yet
        m.count("files", 10)
        assert "files/s" in ui._run_status("scanning: 10 files")
        assert "files/s" not in ui._run_status("scanning: 10 files · 5 files/s")
    finally:
        run.finish()


def test_progress_line_carries_the_run_status(monkeypatch) -> None:
    from anivault.cli import progress as ui

    m = Metrics()
    run = RunMonitor(m, interval=10).start("t")
    try:
        assert "RSS" in ui._run_status()
    finally:
        run.finish()
    assert ui._run_status() == ""
