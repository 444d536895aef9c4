"""What monitoring costs: a scan with the run monitor (sampler at 10/s, metrics, events) vs without.

    python benchmarks/bench_gate_overhead.py --files 300000 --rounds 7

Interleaved rounds of `anivault.scan()` over the same demo library, in this
process, consumed without output: once bare, once under a RunMonitor writing
``--metrics`` events to a file. Compared in CPU seconds (the sampler thread's
included), medians of the per-round ratios.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from anivault.bench import demo_library
from anivault.monitor import Metrics, RunMonitor
from anivault.scan import scan


def one_scan(root: str, monitored: bool, events: str) -> float:
    metrics = Metrics()
    monitor = RunMonitor(metrics, events_path=events).start("scan") if monitored else None
    cpu = time.process_time()
    for _ in scan([root], use_index=False, metrics=metrics):
        pass
    if monitor is not None:
        monitor.finish()
    return time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    lib = demo_library(args.files)
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "m.ndjson")
        one_scan(lib.root, False, events)  # page cache and imports warm
        for i in range(args.rounds):
            order = (False, True) if i % 2 == 0 else (True, False)
            cpu = {monitored: one_scan(lib.root, monitored, events) for monitored in order}
            ratios.append(cpu[True] / cpu[False])
            print(f"round {i + 1}: bare {cpu[False]:.3f} s, monitored {cpu[True]:.3f} s CPU"
                  f" ({(ratios[-1] - 1) * 100:+.1f}%)", flush=True)
    median = statistics.median(ratios)
    print(f"monitoring overhead on a {lib.files:,}-file scan: {(median - 1) * 100:+.2f}% CPU"
          f" (median of {args.rounds} interleaved rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
