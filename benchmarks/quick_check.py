"""Compiled beats pure, on scan and on parse, measured in one run: a check machine noise cannot fool.

    python benchmarks/quick_check.py        # what .ci/run and the bench workflow call

Each round times the compiled and the pure backend back to back (the order
alternating between rounds) and keeps their ratio; the verdict is the median
of the ratios, against a margin far below the real gap (the compiled parser
is ~25x the pure one, the compiled scan several times). So a burst of load
from another process can move one round, not the median; and a compiled
backend that silently stopped being used (or stopped being faster) fails.

- parse: names of a demo library, parsed by each twin in this process.
- scan: `anivault scan --json --no-cache DIR > /dev/null` as a child process,
  once with the compiled and once with the pure backend (ANIVAULT_NO_EXTENSIONS),
  measured in CPU seconds (user + sys, from os.wait4): time-slicing by other
  processes does not count against either.

Exits 0 when both margins hold, 1 otherwise. Takes about 20-40 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from anivault import _speedups
from anivault.bench.library import file_paths
from anivault.bench.measure import command, in_process
from anivault.demo import make_demo

ANIVAULT = [sys.executable, "-m", "anivault"]
COMPILED, PURE = {"ANIVAULT_NO_EXTENSIONS": "0"}, {"ANIVAULT_NO_EXTENSIONS": "1"}
# Required median speed-up of compiled over pure: generous, far under the real gap.
MARGIN = {"parse": 3.0, "scan": 1.5}


def backend_of(env: dict[str, str]) -> str:
    out = subprocess.run([*ANIVAULT, "--version"], env={**os.environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    return out.rsplit("backend: ", 1)[-1].strip(" )\n")


def parse_ratios(names: list[str], rounds: int) -> list[float]:
    compiled, pure = _speedups.twin("parse", "c").parse_name, _speedups.twin("parse", "py").parse_name

    def rate(parse) -> float:
        def work() -> int:
            for name in names:
                parse(name)
            return len(names)

        o = in_process(work, lambda a, b: 0, min_seconds=0.2)
        return o.items / o.cpu_s

    ratios = []
    for i in range(rounds):
        if i % 2:
            p = rate(pure)
            c = rate(compiled)
        else:
            c = rate(compiled)
            p = rate(pure)
        ratios.append(c / p)
    return ratios


def scan_ratios(root: str, files: int, rounds: int) -> list[float]:
    argv = [*ANIVAULT, "scan", "--json", "--no-cache", root]
    ratios = []
    for i in range(rounds):
        order = (COMPILED, PURE) if i % 2 == 0 else (PURE, COMPILED)
        cpu = {id(env): command(argv, files, env=env).cpu_s for env in order}
        ratios.append(cpu[id(PURE)] / cpu[id(COMPILED)])
    return ratios


def verdict(name: str, ratios: list[float]) -> bool:
    median = statistics.median(ratios)
    ok = median >= MARGIN[name]
    shown = ", ".join(f"{r:.1f}" for r in ratios)
    print(f"{name}: compiled/pure speed ratio median {median:.1f}x (rounds: {shown});"
          f" needs >= {MARGIN[name]:g}x: {'ok' if ok else 'FAIL'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    started = time.perf_counter()
    backends = backend_of(COMPILED), backend_of(PURE)
    if backends != ("c", "py"):
        print(f"quick check: FAIL: backends are {backends}, not ('c', 'py'): the compiled twins are"
              " not built or not loaded (pip install . with a C compiler)")
        return 1
    with tempfile.TemporaryDirectory(prefix="anivault-quick-") as tmp:
        root = os.path.join(tmp, "library")
        files = make_demo(root, files=args.files, seed=7).files
        names = [os.path.basename(p) for p in file_paths(root)]
        ok = verdict("parse", parse_ratios(names, args.rounds))
        ok = verdict("scan", scan_ratios(root, files, args.rounds)) and ok
    print(f"quick check: {'ok' if ok else 'FAIL'} ({files:,} files, {args.rounds} rounds,"
          f" {time.perf_counter() - started:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
