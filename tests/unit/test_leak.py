"""Leak detection: a deliberately leaking stage is caught, a normal run is not flagged."""
from __future__ import annotations

import ctypes

import pytest
from click.testing import CliRunner

from anivault.cli import cli, current_metrics
from anivault.monitor import Metrics, RunMonitor, Sample, detect_leak

FILES = 12_000
BATCH = 400


def _stage(metrics: Metrics, run: RunMonitor | None, keep: list | None) -> None:
    """A stage that handles FILES files, retaining 4 KiB each when ``keep`` is a list."""
    for i in range(FILES):
        record = bytearray(4096)  # per-file work that is dropped again
        if keep is not None:
            keep.append(record)  # the leak: a list nobody empties
        if i % BATCH == BATCH - 1:
            metrics.count("files", BATCH)
            if run is not None:
                run.sampler.sample()  # a sample per batch: the verdict does not hang on timing


def _trim_heap() -> None:
    """Hand freed heap back to the OS, so an earlier test's freed memory cannot hide this
    run's growth in RSS (glibc keeps freed memory resident until trimmed)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RSS starts where it starts
        pass


def _run(leak: bool, trace_memory: bool):
    _trim_heap()
    metrics = Metrics()
    run = RunMonitor(metrics, interval=60, trace_memory=trace_memory).start("leaktest")
    keep: list | None = [] if leak else None
    try:
        _stage(metrics, run, keep)
    finally:
        run.finish()
    return run.leak


@pytest.mark.parametrize("trace_memory", [False, True])
def test_a_leaking_stage_is_flagged(trace_memory: bool) -> None:
    report = _run(leak=True, trace_memory=trace_memory)
    assert report.flagged, report.sentence
    assert report.sentence.startswith("possible memory leak")
    assert report.bytes_per_file["rss"] > 3000
    if trace_memory:
        assert report.bytes_per_file["traced"] == pytest.approx(4096, rel=0.2)
        assert report.top_sites and "test_leak.py" in report.top_sites[0]


@pytest.mark.parametrize("trace_memory", [False, True])
def test_a_normal_run_is_not_flagged(trace_memory: bool) -> None:
    report = _run(leak=False, trace_memory=trace_memory)
    assert not report.flagged, report.sentence
    assert report.sentence.startswith("no leak")
    assert report.top_sites == ()


def _samples(memory_at) -> list[Sample]:
    return [Sample(t=i, files=i * 1000, rss=memory_at(i * 1000), cpu_percent=0.0,
                   read_bytes=0, write_bytes=0, traced=0) for i in range(101)]


def test_one_step_in_memory_is_not_a_leak() -> None:
    # A cache reaching its size, a new arena: one jump of 40 MB halfway through.
    report = detect_leak(_samples(lambda f: 50_000_000 + (40_000_000 if f > 50_000 else 0)))
    assert not report.flagged, report.sentence


def test_steady_growth_past_the_threshold_is_a_leak() -> None:
    report = detect_leak(_samples(lambda f: 50_000_000 + 1000 * f))
    assert report.flagged
    assert report.bytes_per_file["rss"] == pytest.approx(1000)
    assert report.window_files == (25_000, 100_000)  # the warm-up quarter is ignored


def test_growth_only_during_warmup_is_not_a_leak() -> None:
    report = detect_leak(_samples(lambda f: 20_000_000 + 2000 * min(f, 20_000)))
    assert not report.flagged


def test_small_growth_below_threshold_is_not_a_leak() -> None:
    assert not detect_leak(_samples(lambda f: 50_000_000 + 300 * f)).flagged
    assert detect_leak(_samples(lambda f: 50_000_000 + 300 * f), threshold=200).flagged


def test_too_few_files_are_not_judged() -> None:
    samples = [Sample(i, i * 10, 10**9 * i, 0.0, 0, 0, 0) for i in range(20)]
    report = detect_leak(samples)
    assert not report.flagged and report.sentence.startswith("too little to judge")


def test_cli_warns_about_a_leak_with_its_allocation_site() -> None:
    keep: list = []

    @cli.command("_leaky", hidden=True)
    def leaky() -> None:
        from anivault.monitor import active

        _stage(current_metrics(), active(), keep)

    try:
        result = CliRunner().invoke(cli, ["--trace-memory", "_leaky"])
    finally:
        cli.commands.pop("_leaky")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("anivault: warning: possible memory leak")
    assert any("test_leak.py" in line for line in lines[1:])
