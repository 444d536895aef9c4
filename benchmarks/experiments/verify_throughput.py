"""CRC32 throughput: anivault's verify vs cksum and rhash --crc32 over the same files, cold cache.

    python benchmarks/experiments/verify_throughput.py DIR [--rounds N] [--workers 1,2,4]

Each run starts (unless --warm) with the page cache dropped (``echo 3 > /proc/sys/vm/drop_caches``, root),
so every tool reads from the disk; the order of tools rotates per round. MB/s = total bytes
of the files / wall time. Without root the runs are warm (said in the output).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def drop_caches() -> bool:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def run_anivault(paths: list[str], workers: int) -> int:
    from anivault.verify import verify_files

    bad = sum(r.status != "ok" for r in verify_files(paths, workers=workers))
    return bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--warm", action="store_true", help="keep the page cache: measures the checksum, not the disk")
    args = ap.parse_args()
    paths = sorted(os.path.join(args.dir, n) for n in os.listdir(args.dir) if n.endswith(".mkv"))
    total = sum(os.path.getsize(p) for p in paths)
    tools: dict[str, object] = {f"anivault verify (workers={w})": int(w) for w in args.workers.split(",")}
    tools["cksum"] = ["cksum"]
    tools["rhash --crc32"] = ["rhash", "--crc32"]
    times: dict[str, list[float]] = {name: [] for name in tools}
    cold = True
    names = list(tools)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            cold = (not args.warm) and drop_caches() and cold
            t0 = time.perf_counter()
            spec = tools[name]
            if isinstance(spec, int):
                assert run_anivault(paths, spec) == 0, "a file failed its CRC"
            else:
                subprocess.run([*spec, *paths], check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t0)
    print(f"{len(paths)} files, {total / 1e6:.0f} MB, {'cold (caches dropped before each run)' if cold else 'WARM'}; "
          f"{args.rounds} rounds, median")
    base = sorted(times["cksum"])[len(times["cksum"]) // 2]
    for name, ts in times.items():
        med = sorted(ts)[len(ts) // 2]
        print(f"  {name:30s} {total / 1e6 / med:8.0f} MB/s   {med:6.2f} s   x{base / med:.2f} vs cksum   "
              f"(runs: {', '.join(f'{t:.2f}' for t in ts)})")


if __name__ == "__main__":
    sys.exit(main())
