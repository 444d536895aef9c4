"""Peak RSS, CPU and wall time of every main command, as a user runs them, at several library sizes.

    python benchmarks/commands.py --files 100000,300000,1000000 [--workdir /tmp/av-commands]

For each size: ``anivault demo --empty`` makes the library (once, kept under --workdir), then
these run in order, each a fresh process measured with wait4 (stdout to /dev/null):

    find -printf                                  the yardstick
    scan --json           (first: empty index)    then (warm: the index reused)
    organize SRC --dest D (dry run, warm index, --offline)
    run SRC --dest D      (dry run, TMDB cache warm: anivault.testing's loopback server)
    organize --apply --action move --offline
    history
    undo --last

The TMDB cache is warmed by one untimed ``match`` against the loopback server, which holds a
show for every title the demo uses. Figures are one run each: compare the ratio columns (to
``find`` and to ``scan --json`` in the same run), which are steady under load; the absolute
seconds move with whatever else the machine does.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

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


def library(workdir: str, files: int) -> str:
    root = os.path.join(workdir, f"lib-{files}")
    if not os.path.isdir(root):
        print(f"making {files:,} files in {root}", file=sys.stderr)
        subprocess.run([*ANIVAULT, "demo", root, "--files", str(files), "--empty"], check=True,
                       stdout=subprocess.DEVNULL)
    return root


def one_size(workdir: str, files: int, server_url: str, api_key: str) -> list[Run]:
    src = library(workdir, files)
    home = os.path.join(workdir, f"home-{files}")
    shutil.rmtree(home, ignore_errors=True)
    dest = os.path.join(workdir, f"dest-{files}")
    shutil.rmtree(dest, ignore_errors=True)
    env = dict(os.environ, ANIVAULT_CACHE_DIR=os.path.join(home, "cache"),
               ANIVAULT_DATA_DIR=os.path.join(home, "data"),
               ANIVAULT_CONFIG=os.path.join(home, "config.toml"),
               ANIVAULT_TMDB_BASE_URL=server_url, TMDB_API_KEY=api_key)
    find = ["find", src, "-type", "f", "-printf", r"%s %T@ %p\n"]
    measure("warm page cache", find, env)
    runs = [measure("find -printf", find, env),
            measure("scan --json (first)", [*ANIVAULT, "scan", src, "--json"], env),
            measure("scan --json (warm)", [*ANIVAULT, "scan", src, "--json"], env),
            measure("organize (dry run)", [*ANIVAULT, "organize", src, "--dest", dest, *PARSED], env)]
    measure("match (fills the TMDB cache)",
            [*ANIVAULT, "match", src, "--json", "--rate", "500", "--concurrency", "8"], env)
    runs += [measure("run (dry, warm TMDB cache)", [*ANIVAULT, "run", src, "--dest", dest], env),
             measure("organize --apply move", [*ANIVAULT, "organize", src, "--dest", dest, *PARSED,
                                               "--apply", "--action", "move"], env),
             measure("history", [*ANIVAULT, "history"], env),
             measure("undo --last", [*ANIVAULT, "undo", "--last"], env)]
    return runs


def print_table(files: int, runs: list[Run]) -> None:
    find = runs[0].wall_s
    scan = next(r.wall_s for r in runs if r.name == "scan --json (warm)")
    print(f"\n{files:,} files (load average {os.getloadavg()[0]:.1f})")
    print(f"{'command':<30}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}{'x find':>8}{'x scan':>8}")
    for r in runs:
        print(f"{r.name:<30}{r.wall_s:>9.2f}{r.cpu_s:>9.2f}{r.peak_rss_mb:>13.1f}"
              f"{r.wall_s / find:>8.2f}{r.wall_s / scan:>8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", default="100000,300000")
    ap.add_argument("--workdir", default="/tmp/av-commands")
    args = ap.parse_args()
    sizes = [int(n) for n in args.files.split(",") if n]
    os.makedirs(args.workdir, exist_ok=True)

    server = start_server(series=max(sizes) // 100 + 1)  # the demo makes ~1 series per 100 files
    try:
        url, api_key = server.stdout.readline().split()
        for files in sizes:
            print_table(files, one_size(args.workdir, files, url, api_key))
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
