"""`anivault scan --json > /dev/null` against `find -printf` on the same demo tree, interleaved.

    python benchmarks/scan_vs_find.py --root /tmp/av300k --files 300000 --runs 7
    python benchmarks/scan_vs_find.py --root /tmp/av1m --files 1000000 --runs 3 --modes warm

Makes the demo tree if ROOT does not exist (``anivault demo ROOT --files N``),
warms the page cache and the index, then runs RUNS rounds; each round runs
``find ROOT -type f -printf '%s %T@ %p\\n'`` and each scan mode back to back,
so the ratios compare runs that saw the same machine load. Modes:

- ``warm``: ``anivault scan --json`` with the index already built (a re-scan);
- ``nocache``: ``anivault scan --json --no-cache`` (every name parsed);
- ``cold``: ``anivault scan --json`` with a fresh, empty index (parses and writes it);
- ``w1``: ``warm`` with ``--workers 1`` (no walker thread), to show what the thread buys.

Prints, per command: median and P95 seconds, median paths/min, the median of
the per-round ratios to find, peak RSS and median CPU seconds (from wait4). ``--json FILE`` saves it all.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

MODES = {
    "warm": ["--json"],
    "nocache": ["--json", "--no-cache"],
    "cold": ["--json"],
    "w1": ["--json", "--workers", "1"],
}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (bytes) and CPU seconds (user + system) of one command, stdout to
    /dev/null."""
    with open(os.devnull, "wb") as null:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()}")
    return seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True)
    ap.add_argument("--files", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--modes", default="warm,nocache", help="comma list of: " + ", ".join(MODES))
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--baseline", metavar="DIR",
                    help="another checkout with its twins built (`git archive COMMIT | tar -x -C DIR`, then "
                         "`python setup.py build_ext --inplace` there): its scan runs the same modes in the "
                         "same rounds (PYTHONPATH=DIR/src, its own index), named base-MODE")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    anivault = [sys.executable, "-m", "anivault"]
    if not os.path.isdir(args.root):
        print(f"making the demo tree: {args.files:,} files in {args.root}", file=sys.stderr)
        subprocess.run([*anivault, "demo", args.root, "--files", str(args.files)], check=True)
    cache = tempfile.mkdtemp(prefix="scan-bench-")
    env = dict(os.environ, ANIVAULT_CACHE_DIR=os.path.join(cache, "warm"))
    find = ["find", args.root, "-type", "f", "-printf", r"%s %T@ %p\n"]
    commands = {"find": (find, env)}
    for mode in modes:
        mode_env = dict(env)
        commands[mode] = ([*anivault, "scan", args.root, *MODES[mode]], mode_env)
    base_env = dict(os.environ, PYTHONPATH=os.path.join(args.baseline or "", "src"),
                    ANIVAULT_CACHE_DIR=os.path.join(cache, "base-warm"))
    for mode in modes if args.baseline else []:
        commands["base-" + mode] = ([*anivault, "scan", args.root, *MODES[mode]], dict(base_env))
    # Warm the page cache and build the indexes the warm modes reuse.
    timed(find, env)
    timed([*anivault, "scan", args.root, "--json"], env)
    if args.baseline:
        timed([*anivault, "scan", args.root, "--json"], base_env)
    runs: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
    try:
        for r in range(args.runs):
            for name, (argv, cmd_env) in commands.items():
                if name.endswith("cold"):
                    cmd_env = dict(cmd_env, ANIVAULT_CACHE_DIR=os.path.join(cache, f"{name}{r}"))
                runs[name].append(timed(argv, cmd_env))
            print(f"round {r + 1}/{args.runs}: " + ", ".join(f"{n} {runs[n][-1][0]:.2f}s" for n in commands),
                  file=sys.stderr)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    report = summarize(runs, args.files)
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "platform": platform.platform(), "load_avg": os.getloadavg()}
    report["command"] = " ".join(sys.argv)
    print_table(report)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


def summarize(runs: dict[str, list[tuple[float, int, float]]], files: int) -> dict[str, Any]:
    find_times = [s for s, _, _ in runs["find"]]
    out: dict[str, Any] = {"files": files, "rounds": len(find_times), "commands": {}}
    for name, samples in runs.items():
        seconds = [s for s, _, _ in samples]
        ratios = [s / f for s, f in zip(seconds, find_times)]
        out["commands"][name] = {
            "median_s": round(statistics.median(seconds), 3),
            "p95_s": round(p95(seconds), 3),
            "median_paths_per_min": round(files / statistics.median(seconds) * 60),
            "p95_paths_per_min": round(files / p95(seconds) * 60),
            "median_ratio_to_find": round(statistics.median(ratios), 3),
            "peak_rss_mb": round(max(r for _, r, _ in samples) / 2**20, 1),
            "median_cpu_s": round(statistics.median(c for _, _, c in samples), 3),
            "seconds": [round(s, 3) for s in seconds],
        }
    return out


def print_table(report: dict[str, Any]) -> None:
    print(f"{report['files']:,} files, {report['rounds']} rounds, load avg {report['machine']['load_avg']}")
    print(f"{'command':<14}{'median s':>10}{'P95 s':>9}{'median paths/min':>19}{'P95 paths/min':>16}"
          f"{'x find':>9}{'peak RSS MB':>13}{'CPU s':>8}")
    for name, c in report["commands"].items():
        print(f"{name:<14}{c['median_s']:>10.2f}{c['p95_s']:>9.2f}{c['median_paths_per_min']:>19,}"
              f"{c['p95_paths_per_min']:>16,}{c['median_ratio_to_find']:>9.2f}{c['peak_rss_mb']:>13.1f}"
              f"{c['median_cpu_s']:>8.2f}")


if __name__ == "__main__":
    main()
