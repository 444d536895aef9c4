"""Peak RSS, CPU and wall time of every main command, as a user runs them, at several library sizes.

    python benchmarks/commands.py --files 100000,300000,1000000 [--workdir /tmp/av-commands]
                                  [--baseline OLD_SRC] [--series K]

For each size: ``anivault demo --empty`` makes the library (once, kept under --workdir), then
these run in order, each a fresh process measured with wait4 (stdout to /dev/null):

    find -printf                                  the yardstick
    scan --json           (first: empty index)    then (warm: the index reused)
    organize SRC --dest D (dry run, warm index, --offline): the tree, then --json
    run SRC --dest D      (dry run, TMDB cache warm: anivault.testing's loopback server)
    organize --apply --action move --offline
    history
    undo --last

The TMDB cache is warmed by one untimed ``match`` against the loopback server, which holds a
show for every title the demo uses. Figures are one run each: compare the ratio columns (to
``find`` and to ``scan --json`` in the same run), which are steady under load; the absolute
seconds move with whatever else the machine does.

``--series K`` makes the libraries with ``anivault demo --series K`` (kept as ``lib-N-sK``): the
series stay K however many files there are, so memory that grows with the series (which the
brief allows) is told apart from memory that grows with the files (which it does not).

``--baseline OLD_SRC`` (a ``src`` folder of another tree, its compiled twins built or copied in)
measures that tree too, in the same run: each command runs for the baseline and then for this
tree, one after the other (apply, history and undo as a sequence each, since they change the
library), each with its own cache and data folders, and the table shows both side by side.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

ANIVAULT = [sys.executable, "-m", "anivault"]
PARSED = ("--offline", "--unmatched", "parsed")  # no TMDB: parsed names, from the empty cache


@dataclass
class Run:
    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def measure(name: str, argv: list[str], env: dict[str, str]) -> Run:
    """One command to completion; its wall and CPU seconds and peak RSS (from wait4)."""
    with open(os.devnull, "wb") as null:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if code not in (0, 3):  # 3: finished with warnings (--strict only), still a full run
        raise SystemExit(f"{name}: {' '.join(argv)} exited {code}: {err.strip()[-500:]}")
    return Run(name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def library(workdir: str, files: int, series: int | None = None) -> str:
    root = os.path.join(workdir, f"lib-{files}" + (f"-s{series}" if series else ""))
    if not os.path.isdir(root):
        print(f"making {files:,} files in {root}", file=sys.stderr)
        subprocess.run([*ANIVAULT, "demo", root, "--files", str(files), "--empty",
                        *(["--series", str(series)] if series else [])], check=True, stdout=subprocess.DEVNULL)
    return root


class Variant:
    """One tree under test: how to start its anivault, and its own cache/data/config folders."""

    def __init__(self, name: str, workdir: str, files: int, server_url: str, api_key: str,
                 src: str | None = None) -> None:
        self.name = name
        home = os.path.join(workdir, f"home-{files}" + (f"-{name}" if name else ""))
        shutil.rmtree(home, ignore_errors=True)
        self.dest = os.path.join(workdir, f"dest-{files}" + (f"-{name}" if name else ""))
        shutil.rmtree(self.dest, ignore_errors=True)
        self.env = dict(os.environ, ANIVAULT_CACHE_DIR=os.path.join(home, "cache"),
                        ANIVAULT_DATA_DIR=os.path.join(home, "data"),
                        ANIVAULT_CONFIG=os.path.join(home, "config.toml"),
                        ANIVAULT_TMDB_BASE_URL=server_url, TMDB_API_KEY=api_key)
        if src:
            self.env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + self.env.get("PYTHONPATH", "")

    def measure(self, name: str, args: list[str]) -> Run:
        return measure(name, [*ANIVAULT, *args], self.env)


def one_size(workdir: str, files: int, server_url: str, api_key: str, baseline: str | None,
             series: int | None = None) -> list[list[Run]]:
    """Each command's runs: [this tree] or [baseline, this tree]."""
    src = library(workdir, files, series)
    variants = [Variant("", workdir, files, server_url, api_key)]
    if baseline:
        variants.insert(0, Variant("baseline", workdir, files, server_url, api_key, baseline))
    find = ["find", src, "-type", "f", "-printf", r"%s %T@ %p\n"]
    env = variants[-1].env
    measure("warm page cache", find, env)
    rows = [[measure("find -printf", find, env)] * len(variants)]

    def each(name: str, args: Callable[[Variant], list[str]]) -> None:
        rows.append([v.measure(name, args(v)) for v in variants])

    each("scan --json (first)", lambda v: ["scan", src, "--json"])
    each("scan --json (warm)", lambda v: ["scan", src, "--json"])
    each("organize (dry run)", lambda v: ["organize", src, "--dest", v.dest, *PARSED])
    each("organize --json (dry run)", lambda v: ["organize", src, "--dest", v.dest, *PARSED, "--json"])
    for v in variants:
        v.measure("match (fills the TMDB cache)", ["match", src, "--json", "--rate", "500", "--concurrency", "8"])
    each("run (dry, warm TMDB cache)", lambda v: ["run", src, "--dest", v.dest])
    changing = [[v.measure("organize --apply move", ["organize", src, "--dest", v.dest, *PARSED,
                                                     "--apply", "--action", "move"]),
                 v.measure("history", ["history"]),
                 v.measure("undo --last", ["undo", "--last"])] for v in variants]  # the library as it was
    rows += [list(runs) for runs in zip(*changing)]
    return rows


def print_table(files: int, rows: list[list[Run]], baseline: str | None) -> None:
    """One line per command; with a baseline, each column twice: the baseline's ("b"), then this tree's."""
    find = rows[0][-1].wall_s
    scans = next(runs for runs in rows if runs[0].name == "scan --json (warm)")
    print(f"\n{files:,} files (load average {os.getloadavg()[0]:.1f})"
          + (f"; columns marked b: the baseline, {baseline}" if baseline else ""))
    marks = ["b", ""] if baseline else [""]
    columns = [("wall s", "wall_s", 9), ("CPU s", "cpu_s", 9), ("peak RSS MB", "peak_rss_mb", 13)]
    head = "".join(f"{(name + ' ' + m).strip():>{w + 2 * bool(m)}}" for name, _, w in columns for m in marks)
    head += "".join(f"{(name + ' ' + m).strip():>{8 + 2 * bool(m)}}" for name in ("x find", "x scan") for m in marks)
    print(f"{'command':<30}{head}")
    for runs in rows:
        cells = "".join(f"{getattr(r, attr):>{w + 2 * bool(m)}.{2 if attr != 'peak_rss_mb' else 1}f}"
                        for _, attr, w in columns for m, r in zip(marks, runs))
        cells += "".join(f"{r.wall_s / find:>{8 + 2 * bool(m)}.2f}" for m, r in zip(marks, runs))
        cells += "".join(f"{r.wall_s / scan.wall_s:>{8 + 2 * bool(m)}.2f}" for m, r, scan in zip(marks, runs, scans))
        print(f"{runs[0].name:<30}{cells}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", default="100000,300000")
    ap.add_argument("--workdir", default="/tmp/av-commands")
    ap.add_argument("--baseline", metavar="OLD_SRC", help="also measure the anivault package in OLD_SRC")
    ap.add_argument("--series", type=int, metavar="K", help="libraries of at most K series (demo --series)")
    args = ap.parse_args()
    sizes = [int(n) for n in args.files.split(",") if n]
    os.makedirs(args.workdir, exist_ok=True)

    server = start_server(series=args.series or max(sizes) // 100 + 1)  # the demo: ~1 series per 100 files
    try:
        url, api_key = server.stdout.readline().split()
        for files in sizes:
            rows = one_size(args.workdir, files, url, api_key, args.baseline, args.series)
            print_table(files, rows, args.baseline)
    finally:
        server.terminate()


def start_server(series: int) -> subprocess.Popen:
    """anivault.testing's server in a process of its own, so this one stays small.

    A child's peak RSS (wait4) counts the pages it shares with this process before it execs,
    so the measuring process must not hold the server's catalogue.
    """
    code = ("import sys, time\n"
            "from anivault.testing import TMDBServer\n"
            "from anivault.testing.fixtures import demo_catalogue\n"
            f"server = TMDBServer(demo_catalogue({series})[0]).start()\n"
            "print(server.url, server.api_key, flush=True)\n"
            "sys.stdin.read()\n")
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


if __name__ == "__main__":
    main()
