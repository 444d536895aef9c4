"""Path hashing throughput, compiled vs pure twin.

    python -m pytest benchmarks/bench_hash.py --benchmark-only
    python benchmarks/bench_hash.py            # interleaved rounds, medians and the c/py ratio

The paths are the shape of a real library: category folders, release folders,
fansub and scene names, ~20% non-ASCII (CJK groups and titles).
"""
from __future__ import annotations

import random
import statistics
import time

import pytest

from anivault._speedups import twin
from anivault.demo import CJK_GROUPS, GROUPS, TITLES

N_PATHS = 200_000


def library_paths(n: int = N_PATHS, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        title, year = TITLES[rng.randrange(len(TITLES))]
        group = rng.choice(CJK_GROUPS) if rng.random() < 0.2 else rng.choice(GROUPS)
        paths.append(f"/srv/media/Anime/TV/[{group}] {title} ({year}) [1080p]/"
                     f"[{group}] {title} - {i % 26 + 1:02d} (1080p) [{rng.getrandbits(32):08X}].mkv")
    return paths


PATHS = library_paths()


@pytest.mark.parametrize("backend", ["c", "py"])
def test_path_hashes(benchmark, backend: str) -> None:
    hashes = twin("hash", backend).path_hashes
    benchmark.group = "path hashing (batch)"
    result = benchmark(hashes, PATHS)
    assert len(result) == len(PATHS)
    benchmark.extra_info["paths_per_s"] = round(len(PATHS) / benchmark.stats.stats.median)


@pytest.mark.parametrize("backend", ["c", "py"])
def test_path_hash_one_by_one(benchmark, backend: str) -> None:
    path_hash = twin("hash", backend).path_hash
    benchmark.group = "path hashing (one call per path)"

    def each() -> None:
        for p in PATHS:
            path_hash(p)

    benchmark(each)
    benchmark.extra_info["paths_per_s"] = round(len(PATHS) / benchmark.stats.stats.median)


def main(rounds: int = 9) -> None:
    """Interleaved rounds so both twins see the same machine load; medians and the ratio."""
    times: dict[str, list[float]] = {"c batch": [], "py batch": [], "c each": [], "py each": []}
    for _ in range(rounds):
        for backend in ("c", "py"):
            t = twin("hash", backend)
            start = time.perf_counter()
            t.path_hashes(PATHS)
            times[f"{backend} batch"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for p in PATHS:
                t.path_hash(p)
            times[f"{backend} each"].append(time.perf_counter() - start)
    print(f"{N_PATHS:,} paths, {rounds} interleaved rounds (median)")
    for name, values in times.items():
        print(f"  {name:9} {N_PATHS / statistics.median(values) / 1e6:6.2f} M paths/s")
    for form in ("batch", "each"):
        ratio = statistics.median(times[f"py {form}"]) / statistics.median(times[f"c {form}"])
        print(f"  compiled/pure ({form}): {ratio:.2f}x")


if __name__ == "__main__":
    main()
