"""TMDB cache point lookups: LRU index hit vs prepared SQLite read vs sqlite-utils ``.get()``.

    python benchmarks/tmdb_cache_lookup.py [--entries 5000] [--repeat 5]

Fills a cache file with ``--entries`` search-sized responses, then times, in
one process and interleaved: ``TMDBCache.get`` served by the in-memory index,
``TMDBCache.get`` with the index emptied (a prepared ``SELECT`` plus JSON
decode), the bare prepared ``SELECT``, and sqlite-utils' ``table.get(key)``.
Medians of ``--repeat`` runs, lookups per second of CPU time.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import sqlite_utils

from anivault.cache import TMDBCache, make_key


def rate(fn, keys) -> float:
    start = time.process_time()
    for k in keys:
        fn(k)
    return len(keys) / (time.process_time() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tmdb.sqlite"
        keys = [make_key("search/tv", f"anime title {i}", "en-US") for i in range(args.entries)]
        with TMDBCache(path) as cache:
            for i, k in enumerate(keys):
                cache.put(k, "search/tv", {"page": 1, "results": [{"id": i, "name": f"Anime {i}",
                                                                   "genre_ids": [16], "overview": "x" * 300}]})
        cache = TMDBCache(path)
        conn = cache._conn
        table = sqlite_utils.Database(conn)["entries"]
        runs: dict[str, list[float]] = {"index hit": [], "SQLite + JSON": [], "prepared SELECT": [],
                                        "sqlite-utils .get()": []}
        select = "SELECT body, expires FROM entries WHERE key = ?"
        for _ in range(args.repeat):
            for k in keys:
                cache.get(k)
            runs["index hit"].append(rate(cache.get, keys))
            runs["SQLite + JSON"].append(rate(lambda k: (cache._memory.clear(), cache.get(k)), keys))
            runs["prepared SELECT"].append(rate(lambda k: conn.execute(select, (k,)).fetchone(), keys))
            runs["sqlite-utils .get()"].append(rate(table.get, keys))
        cache.close()
    base = statistics.median(runs["sqlite-utils .get()"])
    for name, r in runs.items():
        m = statistics.median(r)
        print(f"{name:>20}: {m:>12,.0f} lookups/s  ({m / base:5.1f}x sqlite-utils .get())")


if __name__ == "__main__":
    main()
