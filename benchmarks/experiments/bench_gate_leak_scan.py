"""The leak detector on a full-size scan: quiet on a normal 300k-file scan, loud on an injected leak.

    python benchmarks/bench_gate_leak_scan.py --files 300000

Four runs over the same demo library (made once under the cache dir):

1. `anivault --metrics FILE scan --json --no-cache ROOT > /dev/null`, as a user runs it:
   the verdict is read from the complete event (RSS judged).
2. The same with `--trace-memory` (RSS and traced memory judged).
3. In this process, `anivault.scan()` consumed by a stage that keeps nothing.
4. In this process, `anivault.scan()` consumed by a stage that keeps every record:
   the injected leak, which must be flagged with its allocation site.

Exits 1 when a normal run is flagged or the leak is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from anivault.bench import demo_library
from anivault.monitor import Metrics, RunMonitor, human_bytes
from anivault.scan import scan


def cli_run(root: str, trace_memory: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "m.ndjson")
        argv = [sys.executable, "-m", "anivault", "--metrics", events]
        argv += ["--trace-memory"] if trace_memory else []
        subprocess.run([*argv, "scan", "--json", "--no-cache", root], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(events, encoding="utf-8") as f:
            done = [json.loads(line) for line in f][-1]["fields"]
    resources = done["resources"]
    return {"files": done["counters"].get("files", 0), "peak_rss": resources["peak_rss"],
            "leak": resources["leak"], "seconds": done["elapsed_s"]}


def in_process_run(root: str, leak: bool) -> dict:
    metrics = Metrics()
    monitor = RunMonitor(metrics, trace_memory=leak).start("leak-check")
    kept: list = []
    started = time.perf_counter()
    try:
        for record in scan([root], use_index=False, metrics=metrics):
            if leak:
                kept.append(record)  # the injected leak: every record retained
    finally:
        report = monitor.finish()
    return {"files": metrics.counters["files"], "peak_rss": report["resources"]["peak_rss"],
            "leak": monitor.leak.to_dict(), "seconds": time.perf_counter() - started}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=300_000)
    args = ap.parse_args()
    lib = demo_library(args.files)
    runs = [
        ("cli scan", False, cli_run(lib.root, trace_memory=False)),
        ("cli scan --trace-memory", False, cli_run(lib.root, trace_memory=True)),
        ("in-process scan", False, in_process_run(lib.root, leak=False)),
        ("in-process scan, records kept (injected leak)", True, in_process_run(lib.root, leak=True)),
    ]
    ok = True
    print(f"{lib.files:,} files in {lib.root}")
    for name, should_flag, r in runs:
        leak = r["leak"]
        right = leak["flagged"] == should_flag
        ok = ok and right
        per_file = ", ".join(f"{k} {v:+,.0f} B/file" for k, v in leak["bytes_per_file"].items())
        print(f"{name}: {r['files']:,} files in {r['seconds']:.1f} s, peak RSS "
              f"{human_bytes(r['peak_rss'])}; {per_file}; flagged={leak['flagged']} "
              f"({'right' if right else 'WRONG'})")
        for site in leak["top_sites"][:3]:
            print(f"    {site}")
    print("leak check:", "ok" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
