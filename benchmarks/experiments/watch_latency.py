"""Watch latency: from a download's completion (the client's rename of NAME.part to NAME) to the file filed.

    python benchmarks/experiments/watch_latency.py [--settle 1.0] [--batch 0.5] [--trials 5] [--mb 50]

A real watcher (watchdog + the importer, hardlink, offline) on a temporary folder; each trial
writes a file under .part in 1 MiB pieces, renames it, and times until the "imported" event.
The floor is settle + batch (+ one 0.25 s tick); the rest is the import (scan, plan, journaled link).
"""
from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--batch", type=float, default=0.5)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--mb", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as base:
        os.environ.setdefault("ANIVAULT_DATA_DIR", os.path.join(base, "data"))
        os.environ.setdefault("ANIVAULT_CACHE_DIR", os.path.join(base, "cache"))
        from anivault import importer, watch
        from anivault.organize import PlanOptions

        src, lib = os.path.join(base, "incoming"), os.path.join(base, "Anime")
        os.makedirs(src)
        events: queue.Queue = queue.Queue()
        options = PlanOptions(unmatched="parsed", dest=lib, action="hardlink")
        imports: list[float] = []

        def import_batch(paths: list[str]):
            t0 = time.perf_counter()
            try:
                return importer.import_paths(paths, options, offline=True)
            finally:
                imports.append(time.perf_counter() - t0)

        w = watch.Watcher([src], import_batch, settle=args.settle, batch=args.batch, on_event=events.put)
        runner = threading.Thread(target=w.run)
        runner.start()
        latencies = []
        try:
            while events.get(timeout=30)["event"] != "start":
                pass
            piece = os.urandom(1 << 20)
            for n in range(1, args.trials + 1):
                name = os.path.join(src, f"[Bench] Latency Show - {n:02d} [1080p].mkv")
                with open(name + ".part", "wb") as f:
                    for _ in range(args.mb):
                        f.write(piece)
                os.rename(name + ".part", name)
                done = time.monotonic()
                while (e := events.get(timeout=120))["event"] != "imported":
                    assert e["event"] != "error", e
                latencies.append(time.monotonic() - done)
        finally:
            w.stop()
            runner.join()
        print(f"settle {args.settle}s, batch {args.batch}s, {args.trials} trials of {args.mb} MB files: "
              f"latency median {statistics.median(latencies):.2f}s (min {min(latencies):.2f}, "
              f"max {max(latencies):.2f}); import itself median {statistics.median(imports) * 1000:.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
