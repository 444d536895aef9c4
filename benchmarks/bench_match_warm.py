"""Match cost per file with a 100% TMDB cache hit rate (issue 12: match work per distinct title).

    python benchmarks/bench_match_warm.py [--files 100000] [--rounds 3] [--root DIR] [--json]

Builds (or reuses) an ``anivault demo --empty`` library, scans it once into a
list, warms a cache file against the local TMDB server (anivault.testing),
then times ``Matcher.match`` over the records with a fresh client on the
warm cache (no requests), ``--rounds`` times, alternating two variants in
one process:

* ``memo``: the code as it is (titles cleaned and folded once per distinct title);
* ``no-memo``: the same code with the per-title memos bypassed (every file's
  title cleaned and folded again, as before the memos).

Prints µs per file (median of the rounds) and the ratio. The machine is
shared and noisy: compare the ratio, not the absolute figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_match import demo_records  # noqa: E402

from anivault import match as match_module  # noqa: E402
from anivault.cache import TMDBCache  # noqa: E402
from anivault.ratelimit import RateLimiter  # noqa: E402
from anivault.testing import TMDBServer  # noqa: E402
from anivault.testing import fixtures as fx  # noqa: E402
from anivault.tmdb import TMDBClient  # noqa: E402


def timed_match(server: TMDBServer, cache_path: Path, records: list[Any], warm: bool = True) -> tuple[float, int]:
    with TMDBCache(cache_path) as cache, \
            TMDBClient(api_key=server.api_key, base_url=server.url, cache=cache,
                       limiter=RateLimiter(rate=1000, concurrency=8)) as client:
        start = time.perf_counter()
        files = match_module.Matcher(client).match(records)
        seconds = time.perf_counter() - start
        if warm and client.counters["requests"]:
            raise SystemExit(f"the cache was not warm: {client.counters['requests']} requests")
    return seconds, sum(1 for f in files if f.match is not None)


class NoMemo:
    """Bypasses the per-title memos (when this version has them) for the ``no-memo`` variant."""

    def __enter__(self) -> "NoMemo":
        self.saved = {}
        if hasattr(match_module, "cleaned_title"):
            clean, fold = match_module.clean_title, match_module.fold

            def title_key(title: str, year: int | None, kind: str) -> tuple:
                return fold(clean(title).query), year, {"movie": "movie", "extra": "extra"}.get(kind, "tv")

            self.saved = {"cleaned_title": match_module.cleaned_title, "_title_key": match_module._title_key}
            match_module.cleaned_title, match_module._title_key = clean, title_key
        return self

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            setattr(match_module, name, value)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--root")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    records, scan_s, root = demo_records(args.files, args.root)
    shows, _ = fx.demo_catalogue(max(1, len(records) // 20))
    titles = len({r.parsed.title for r in records if r.parsed is not None})
    with TMDBServer(shows) as server, tempfile.TemporaryDirectory() as tmp:
        cache_path = Path(tmp) / "tmdb.sqlite"
        timed_match(server, cache_path, records, warm=False)  # warm the cache
        times: dict[str, list[float]] = {"memo": [], "no-memo": []}
        matched = 0
        for _ in range(args.rounds):
            seconds, matched = timed_match(server, cache_path, records)
            times["memo"].append(seconds)
            with NoMemo():
                times["no-memo"].append(timed_match(server, cache_path, records)[0])
    us = {k: round(statistics.median(v) / len(records) * 1e6, 2) for k, v in times.items()}
    result = {"files": len(records), "distinct_titles": titles, "matched": matched, "root": root,
              "us_per_file": us, "no_memo_over_memo": round(us["no-memo"] / us["memo"], 2),
              "rounds": args.rounds}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{len(records):,} files, {titles:,} distinct titles, {matched:,} matched; warm cache")
        for k, v in us.items():
            print(f"  {k:8s} {v:6.2f} µs/file (median of {args.rounds})")
        print(f"  no-memo / memo: {result['no_memo_over_memo']}x  (shared, noisy machine)")


if __name__ == "__main__":
    main()
