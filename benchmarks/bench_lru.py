"""In-memory LRU + TTL index: lookups per second, compiled twin vs pure twin.

    python benchmarks/bench_lru.py [--entries 5000] [--lookups 1000000] [--repeat 7]

The workload is the one the TMDB cache puts on it: string keys shaped like
cache keys ("search/tv|<title>|en-US|"), every entry with a TTL (so each hit
reads the clock and checks the expiry), lookups in a shuffled order, ~10%
misses. Both twins run interleaved in one process, ``--repeat`` times; the
median is reported and the ratio comes from the same run. Rates use this
process's CPU time (the machine is shared). Also usable under pytest-benchmark:
``pytest benchmarks/bench_lru.py``.
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from typing import Any

from anivault._speedups import twin


def workload(entries: int, lookups: int, seed: int = 1) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    keys = [f"search/tv|anime title number {i}|en-US|" for i in range(entries)]
    absent = [f"tv|{i}|en-US|" for i in range(entries // 10)]
    pool = keys + absent
    return keys, [rng.choice(pool) for _ in range(lookups)]


def filled(backend: str, keys: list[str]) -> Any:
    lru = twin("lru", backend).LRUCache(len(keys) * 2, ttl=7 * 86400)
    for k in keys:
        lru.put(k, {"results": [k]})
    return lru


def lookups_per_second(lru: Any, probes: list[str]) -> float:
    get = lru.get
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        for k in probes:
            get(k)
        elapsed = time.process_time() - start
    finally:
        gc.enable()
    return len(probes) / elapsed


def run(entries: int, lookups: int, repeat: int, backends: tuple[str, ...] = ("c", "py")) -> dict[str, Any]:
    keys, probes = workload(entries, lookups)
    caches = {b: filled(b, keys) for b in backends}
    rates: dict[str, list[float]] = {b: [] for b in backends}
    for _ in range(repeat):
        for b in backends:  # interleaved, so both see the same machine load
            rates[b].append(lookups_per_second(caches[b], probes))
    medians = {b: statistics.median(r) for b, r in rates.items()}
    out: dict[str, Any] = {"entries": entries, "lookups": lookups, "repeat": repeat,
                           "lookups_per_s": {b: round(m) for b, m in medians.items()},
                           "all_runs": {b: [round(x) for x in r] for b, r in rates.items()}}
    if "c" in medians and "py" in medians:
        out["c_over_py"] = round(medians["c"] / medians["py"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--lookups", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    result = run(args.entries, args.lookups, args.repeat)
    for b, r in result["lookups_per_s"].items():
        print(f"{b:>3}: {r / 1e6:6.2f} M lookups/s  (runs: {', '.join(f'{x / 1e6:.2f}' for x in result['all_runs'][b])})")
    if "c_over_py" in result:
        print(f"compiled / pure: {result['c_over_py']:.2f}x")


# ---------------------------------------------------------------- pytest-benchmark


def _bench(benchmark: Any, backend: str) -> None:
    keys, probes = workload(5000, 100_000)
    lru = filled(backend, keys)
    get = lru.get

    def loop() -> None:
        for k in probes:
            get(k)

    benchmark(loop)


def test_lru_lookups_compiled(benchmark: Any) -> None:
    _bench(benchmark, "c")


def test_lru_lookups_pure(benchmark: Any) -> None:
    _bench(benchmark, "py")


if __name__ == "__main__":
    main()
