"""In-process scan throughput on a demo library: compiled vs pure twins, warm index vs none.

    ANIVAULT_BENCH_SCAN_FILES=20000 python -m pytest benchmarks/bench_scan.py --benchmark-only

Each benchmark consumes ``scan(...).ndjson_bytes()`` (what ``scan --json``
writes) or the records, with the walk, render and hash twins of one backend. The parser is
whatever the selector picked (the compiled render twin calls the compiled parser itself);
with a warm index it is not called at all.
The command-level comparison with ``find`` (and peak RSS) is
``benchmarks/scan_vs_find.py``.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

import anivault.index
from anivault._speedups import twin
from anivault.demo import make_demo
from anivault.scan import scan

scan_module = importlib.import_module("anivault.scan")



@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = int(os.environ.get("ANIVAULT_BENCH_SCAN_FILES", "20000"))
    root = tmp_path_factory.mktemp("bench-scan") / "lib"
    make_demo(root, files=files, seed=1)
    return root


@pytest.fixture
def twins(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    backend = request.param
    monkeypatch.setattr(scan_module, "list_dir", twin("walk", backend).list_dir)
    monkeypatch.setattr(scan_module, "walk_folders", twin("walk", backend).walk_folders)
    monkeypatch.setattr(scan_module, "render_folder", twin("records", backend).render_folder)
    monkeypatch.setattr(scan_module, "path_hash", twin("hash", backend).path_hash)
    monkeypatch.setattr(anivault.index, "path_hash", twin("hash", backend).path_hash)
    return backend


def consume_ndjson(root: Path, **kwargs) -> int:
    return sum(chunk.count(b"\n") for chunk in scan(root, **kwargs).ndjson_bytes())


@pytest.mark.parametrize("twins", ["c", "py"], indirect=True)
@pytest.mark.parametrize("workers", [1, 2])
def test_scan_ndjson_warm_index(benchmark, library: Path, tmp_path: Path, twins: str, workers: int) -> None:
    cache = tmp_path / "cache"
    consume_ndjson(library, cache_dir=cache, workers=workers)  # builds the index
    benchmark.group = "scan --json, warm index"
    lines = benchmark(consume_ndjson, library, cache_dir=cache, workers=workers)
    assert lines > 0
    benchmark.extra_info["paths_per_min"] = round(lines / benchmark.stats.stats.median * 60)


@pytest.mark.parametrize("twins", ["c", "py"], indirect=True)
def test_scan_ndjson_no_index(benchmark, library: Path, twins: str) -> None:
    benchmark.group = "scan --json --no-cache (every name parsed)"
    lines = benchmark(consume_ndjson, library, use_index=False)
    benchmark.extra_info["paths_per_min"] = round(lines / benchmark.stats.stats.median * 60)


@pytest.mark.parametrize("twins", ["c", "py"], indirect=True)
def test_scan_ndjson_first_scan(benchmark, library: Path, tmp_path: Path, twins: str) -> None:
    """An empty index each round: every name parsed, rendered and written to the index."""
    rounds = iter(range(1_000_000))

    def fresh_cache() -> tuple[tuple[Path], dict[str, object]]:
        return (library,), {"cache_dir": tmp_path / f"cache{next(rounds)}"}

    benchmark.group = "scan --json, first scan (empty index)"
    lines = benchmark.pedantic(consume_ndjson, setup=fresh_cache, rounds=5)
    benchmark.extra_info["paths_per_min"] = round(lines / benchmark.stats.stats.median * 60)


@pytest.mark.parametrize("twins", ["c", "py"], indirect=True)
def test_scan_records_warm_index(benchmark, library: Path, tmp_path: Path, twins: str) -> None:
    cache = tmp_path / "cache"
    sum(1 for _ in scan(library, cache_dir=cache))
    benchmark.group = "scan() records, warm index"
    count = benchmark(lambda: sum(1 for _ in scan(library, cache_dir=cache)))
    benchmark.extra_info["paths_per_min"] = round(count / benchmark.stats.stats.median * 60)


@pytest.mark.parametrize("twins", ["c", "py"], indirect=True)
@pytest.mark.parametrize("read_ahead", [False, True])
def test_walk_only(benchmark, library: Path, twins: str, read_ahead: bool) -> None:
    """The folder walk alone (listing + policy), no records: the floor of a scan."""
    from collections import Counter

    options = scan_module._Options(recursive=True, min_size=0, exclude=None, exclude_paths=False,
                                   follow_symlinks=False)

    def walk() -> int:
        walker = scan_module._Walker(options, Counter(), None, read_ahead)
        return sum(len(e[1]) for e in walker.events([str(library)]) if not isinstance(e, scan_module.ScanWarning))

    benchmark.group = "walk only"
    files = benchmark(walk)
    benchmark.extra_info["paths_per_min"] = round(files / benchmark.stats.stats.median * 60)
