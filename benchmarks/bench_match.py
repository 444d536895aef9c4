"""TMDB matching on a demo library against the local TMDB server: requests, rate, cache.

    python benchmarks/bench_match.py [--files 300000] [--rate 35] [--concurrency 4]
                                     [--latency 0.02] [--root DIR] [--json]

Builds ``anivault demo --files N --empty`` in a temporary folder (or reuses
``--root``), scans it, and starts the test server (anivault.testing) on
127.0.0.1 (in this process, or its own with ``--server-process``) with
``--latency`` per answer and a catalogue holding the ~65
fixture anime plus every title the demo uses (anivault.testing.fixtures.demo_catalogue).
Then it matches twice through a fresh cache file:

* first run: requests made (counted at the server) against the minimum a
  perfect client needs (one search per distinct query, one details request
  per distinct TV series, one page per distinct season the numbering reads,
  one episode group per absolute-numbered series),
  and the request rate measured at the server against ``--rate``;
* second run (new client, new cache object on the same file): requests
  (should be 0) and cache hit rate (should be 100%).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from anivault.testing import TMDBServer, most_in_window  # noqa: E402
from anivault.testing import fixtures as fx  # noqa: E402

from anivault.cache import TMDBCache  # noqa: E402
from anivault.match import Matcher, clean_title, fold  # noqa: E402
from anivault.ratelimit import RateLimiter  # noqa: E402
from anivault.tmdb import TMDBClient  # noqa: E402


class ServerProcess:
    """The test server in a process of its own, so its arrival times do not share the client's GIL."""

    def __init__(self, series: int, latency: float) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, series, latency), daemon=True)
        self._proc.start()
        self.url, self.api_key, self.catalogue_size = self._conn.recv()

    def _log(self) -> list[Any]:
        self._conn.send("log")
        return self._conn.recv()

    def requests(self, prefix: str = "") -> list[Any]:
        return [r for r in self._log() if r.path.startswith(prefix)]

    def count(self, prefix: str = "") -> int:
        return len(self.requests(prefix))

    def max_in_window(self, seconds: float = 1.0) -> int:
        return most_in_window([r.t for r in self._log()], seconds)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._proc.join(10)


def _serve(conn: Any, series: int, latency: float) -> None:
    from anivault.testing import TMDBServer as Server
    from anivault.testing import fixtures as tmdb_fixtures

    shows, _ = tmdb_fixtures.demo_catalogue(series)
    with Server(shows) as server:
        server.latency = latency
        conn.send((server.url, server.api_key, len(shows)))
        while (command := conn.recv()) != "stop":
            conn.send(server.requests() if command == "log" else None)


def demo_records(files: int, root: str | None) -> tuple[list[Any], float, str]:
    from anivault.demo import make_demo
    from anivault.scan import scan

    if root is None:
        root = tempfile.mkdtemp(prefix="anivault-bench-match-")
    if not any(os.scandir(root)):
        make_demo(root, files=files, seed=1, sizes=False)
    start = time.perf_counter()
    records = list(scan([root], use_index=False))
    return records, time.perf_counter() - start, root


def one_run(server: TMDBServer, cache_path: Path, records: list[Any], rate: float,
            concurrency: int) -> dict[str, Any]:
    before = server.count()
    start = time.perf_counter()
    with TMDBCache(cache_path) as cache, \
            TMDBClient(api_key=server.api_key, base_url=server.url, cache=cache,
                       limiter=RateLimiter(rate=rate, concurrency=concurrency)) as client:
        matcher = Matcher(client)
        files = matcher.match(records)
        summary = client.summary()
    seconds = time.perf_counter() - start
    return {"files": files, "series": matcher.series, "summary": summary, "seconds": seconds,
            "requests": server.count() - before}


def minimum_requests(series: list[Any], server: TMDBServer) -> dict[str, int]:
    """What a perfect client needs for these groups: each distinct search once, each needed detail once."""
    searches = set()
    for s in series:
        query = clean_title(s.title).query
        searches.add((s.media_type, query))
    details = {s.id for s in series if s.matched and s.media_type == "tv"}
    groups = len(server.requests("/3/tv/episode_group/"))  # fetched only when an absolute number needs one
    # Season pages (episode counts, air dates) are read only for the seasons numbering needs:
    # each distinct page once is the minimum; a second request for one is overhead.
    seasons = len({r.path for r in server.requests("/3/tv/") if "/season/" in r.path})
    return {"searches": len(searches), "details": len(details), "seasons": seasons, "episode_groups": groups,
            "total": len(searches) + len(details) + seasons + groups}


def rate_at_server(server: TMDBServer) -> dict[str, float]:
    times = sorted(r.t for r in server.requests())
    span = times[-1] - times[0]
    per_second = Counter(int(t - times[0]) for t in times)
    full = [per_second[s] for s in range(1, int(span))]  # whole seconds, first and last left out
    return {"overall": round((len(times) - 1) / span, 2) if span else 0.0,
            "median_per_second": statistics.median(full) if full else 0.0,
            "max_in_1s": server.max_in_window(1.0), "span_s": round(span, 1)}


def accuracy(files: list[Any], expected: dict[str, int]) -> dict[str, Any]:
    """Of video files whose parsed title is a catalogue title, how many got that entry."""
    judged = right = 0
    for fm in files:
        p = fm.record.parsed
        if fm.record.kind != "video" or p is None or not p.title:
            continue
        want = expected.get(fx._demo_fold(p.title))
        if want is None:
            continue
        judged += 1
        right += fm.match is not None and fm.match.id == want
    return {"judged": judged, "right": right, "share": round(right / judged, 4) if judged else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=300_000)
    ap.add_argument("--rate", type=float, default=35.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--root", help="an existing demo library (or an empty folder to build it in)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--server-process", action="store_true",
                    help="run the server in its own process (arrival times free of the client's GIL)")
    args = ap.parse_args()

    records, scan_s, root = demo_records(args.files, args.root)
    # Demo series hold 60-140 files (fewer when a season is short): room for every one.
    shows, expected = fx.demo_catalogue(args.files // 40 + 1)
    # time.monotonic is one clock for every process on the machine, so arrival times compare.
    server_cm = ServerProcess(args.files // 40 + 1, args.latency) if args.server_process else TMDBServer(shows)
    with server_cm as server, tempfile.TemporaryDirectory() as tmp:
        server.latency = args.latency
        cache_path = Path(tmp) / "tmdb.sqlite"
        first = one_run(server, cache_path, records, args.rate, args.concurrency)
        minimum = minimum_requests(first["series"], server)
        rate = rate_at_server(server)
        second = one_run(server, cache_path, records, args.rate, args.concurrency)
        size = TMDBCache(cache_path).stats()
    candidates = sum(1 for r in records if r.parsed is not None)
    matched = sum(1 for f in first["files"] if f.match is not None)
    result = {
        "library": {"root": root, "files": len(records), "candidates": candidates,
                    "groups": len(first["series"]), "scan_s": round(scan_s, 1)},
        "server": {"latency_s": args.latency, "catalogue": len(shows),
                   "own_process": bool(args.server_process)},
        "first_run": {"requests": first["requests"], "minimum": minimum,
                      "ratio_to_minimum": round(first["requests"] / minimum["total"], 3),
                      "seconds": round(first["seconds"], 1), "rate_limit": args.rate,
                      "rate_at_server": rate,
                      "sustained_share_of_limit": round(rate["median_per_second"] / args.rate, 3),
                      "matched_files": matched, "matched_share": round(matched / candidates, 4),
                      "accuracy": accuracy(first["files"], expected),
                      "series_matched": sum(1 for s in first["series"] if s.matched),
                      "retries": first["summary"]["retries"]},
        "second_run": {"requests": second["requests"], "hit_rate": second["summary"]["hit_rate"],
                       "cache_hits": second["summary"]["cache_hits"], "seconds": round(second["seconds"], 2)},
        "cache": {"entries": size["entries"], "bytes_on_disk": size["bytes_on_disk"]},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    f, s = result["first_run"], result["second_run"]
    lib = result["library"]
    print(f"library: {lib['files']:,} files, {lib['candidates']:,} with a parsed name, {lib['groups']:,} groups "
          f"(scan {lib['scan_s']} s)")
    print(f"first run: {f['requests']:,} requests, minimum {f['minimum']['total']:,} "
          f"({f['minimum']['searches']:,} searches + {f['minimum']['details']:,} details + "
          f"{f['minimum']['seasons']:,} season pages + {f['minimum']['episode_groups']:,} episode groups) "
          f"-> {f['ratio_to_minimum']:.3f}x; {f['seconds']} s")
    r = f["rate_at_server"]
    print(f"rate at the server: median {r['median_per_second']}/s per whole second, {r['overall']}/s overall, "
          f"max {r['max_in_1s']} in any 1 s window; limit {args.rate}/s -> {f['sustained_share_of_limit']:.1%}")
    print(f"matched: {f['matched_files']:,} files ({f['matched_share']:.1%}), {f['series_matched']:,} groups; "
          f"intended entry: {f['accuracy']['right']:,}/{f['accuracy']['judged']:,}")
    print(f"second run: {s['requests']} requests, hit rate {s['hit_rate']:.1%} ({s['cache_hits']:,} hits), "
          f"{s['seconds']} s")
    print(f"cache: {result['cache']['entries']:,} entries, {result['cache']['bytes_on_disk'] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
