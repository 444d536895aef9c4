"""Organize benchmark: planning and applying a large synthetic library (figures for docs/PERFORMANCE.md).

    python benchmarks/bench_organize.py --files 300000 --repeat 3

Measures, in one process and one run (the machine is shared, so compare
ratios and medians, not single timings):

* plan:     plan_organize() over already-scanned records (the planning cost alone);
* dry run:  scan → plan end to end, as `anivault organize SRC --dest DST` does;
* apply:    journaled same-filesystem moves of every planned file (group commit);
* undo:     the journaled moves back;
* floor:    a bare os.rename() loop over the same files, no journal, no checks —
            the ratio apply/floor is what safety costs.

Each repeat applies and undoes, so the library is the same for every repeat.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import psutil

from anivault.demo import make_demo
from anivault.organize import TODO, PlanOptions, apply_plan, plan_organize, scan_and_plan
from anivault.scan import scan
from anivault.undo import undo


CPU: dict[str, list[float]] = {}  # CPU seconds of this process per step: what a step costs on a busy machine


def timed(fn: Callable[[], Any], step: str = "") -> tuple[float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    if step:
        CPU.setdefault(step, []).append(time.process_time() - cpu)
    return time.perf_counter() - start, result


def per_min(n: int, seconds: float) -> str:
    return f"{n / seconds * 60:,.0f}/min"


def bare_renames(pairs: list[tuple[str, str]]) -> None:
    """The unsafe floor: rename every file (overwrites allowed, no journal), then put it back."""
    made = set()
    for src, dst in pairs:
        d = os.path.dirname(dst)
        if d not in made:
            os.makedirs(d, exist_ok=True)
            made.add(d)
        os.rename(src, dst)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=512, help="operations per journal commit")
    ap.add_argument("--workdir", default=None, help="where the library goes (default: a temp dir)")
    args = ap.parse_args(argv)

    work = tempfile.mkdtemp(prefix="anivault-bench-organize-", dir=args.workdir)
    os.environ.setdefault("ANIVAULT_DATA_DIR", os.path.join(work, "data"))
    os.environ.setdefault("ANIVAULT_CACHE_DIR", os.path.join(work, "cache"))
    src, dest = os.path.join(work, "src"), os.path.join(work, "dest")
    t, summary = timed(lambda: make_demo(src, files=args.files, seed=args.seed))
    print(f"library: {summary.files:,} files under {src} (made in {t:.1f} s)")

    t_scan, records = timed(lambda: list(scan(src, use_index=False)))
    print(f"scan (context): {t_scan:.2f} s, {per_min(len(records), t_scan)}")
    options = PlanOptions(dest=dest, windows=False, sources=(src,))

    plans, dry, applies, undos, floors = [], [], [], [], []
    for r in range(args.repeat):
        t, plan = timed(lambda: plan_organize(records, options), "plan")
        plans.append(t)
        t, _ = timed(lambda: scan_and_plan([src], options, offline=True, use_index=False), "dry")
        dry.append(t)
        todo = [e for e in plan.entries if e.status == TODO]
        t, report = timed(lambda: apply_plan(plan, batch=args.batch), "apply")
        assert report.done == len(todo) and not report.failed, report.failed[:3]
        applies.append(t)
        t, back = timed(lambda: undo(report.op), "undo")
        assert back.undone == len(todo) and not back.kept, back.kept[:3]
        undos.append(t)
        pairs = [(e.src, e.dst) for e in todo]
        t, _ = timed(lambda: bare_renames(pairs), "floor")
        floors.append(t)
        bare_renames([(d, s) for s, d in pairs])  # put them back for the next repeat
        print(f"repeat {r + 1}: plan {plans[-1]:.2f}s  dry-run {dry[-1]:.2f}s  apply {applies[-1]:.2f}s  "
              f"undo {undos[-1]:.2f}s  bare-rename {floors[-1]:.2f}s")

    n, moved = len(records), len(todo)
    med = statistics.median
    print()
    print(f"files scanned: {n:,}; planned moves: {moved:,}; statuses: {plan.summary().statuses}")
    print(f"plan (records → plan), median of {args.repeat}: {med(plans):.2f} s ({per_min(n, med(plans))})")
    print(f"dry run (scan → plan), median: {med(dry):.2f} s ({per_min(n, med(dry))})")
    print(f"apply (journaled moves, batch {args.batch}), median: {med(applies):.2f} s ({per_min(moved, med(applies))})")
    print(f"undo (journaled moves back), median: {med(undos):.2f} s ({per_min(moved, med(undos))})")
    print(f"bare os.rename floor, median: {med(floors):.2f} s ({per_min(moved, med(floors))}); "
          f"apply/floor = {med(applies) / med(floors):.1f}x")
    cpu = {step: med(values) for step, values in CPU.items()}
    print(f"CPU seconds (median; load-independent): plan {cpu['plan']:.2f}, dry run {cpu['dry']:.2f}, "
          f"apply {cpu['apply']:.2f} ({per_min(moved, cpu['apply'])} of CPU), undo {cpu['undo']:.2f}, "
          f"bare rename {cpu['floor']:.2f}")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    print(f"peak RSS: {psutil.Process().memory_info().rss / 2**20:,.0f} MiB (current), python {sys.version.split()[0]}")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it happens, even in a log file
    main()
