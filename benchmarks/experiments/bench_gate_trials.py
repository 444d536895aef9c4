"""Does the regression gate hold on this noisy machine? 10 + 10 trials of `anivault bench --compare`.

One baseline run, then TRIALS pairs of runs compared against it, alternating:
an unchanged build, and the same build with the test-only switch
ANIVAULT_BENCH_INJECT_SLOWDOWN=0.25 (every gated stage 25% slower). The gate
must flag every injected run (exit 4) and pass at least 9 of 10 unchanged ones.
``--load N`` adds N busy processes of our own for the whole experiment, to
show the verdicts survive a machine busier than usual.

    python benchmarks/bench_gate_trials.py --files 20000 --repeat 5 --trials 10

Exits 1 when the gate missed an injected slowdown or failed more than one
unchanged run. Prints each trial's per-metric changes (CPU-time score / wall-time
score / raw CPU throughput; the gate needs all three past the threshold) and their spread.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

INJECT = "ANIVAULT_BENCH_INJECT_SLOWDOWN"


def bench(args: argparse.Namespace, out: str, compare: str | None, inject: float) -> tuple[int, dict]:
    argv = [sys.executable, "-m", "anivault", "bench", "--files", str(args.files), "--repeat",
            str(args.repeat), "--stages", args.stages, "--threshold", str(args.threshold),
            "--json", "--save", out]
    if compare:
        argv += ["--compare", compare]
    env = {**os.environ, INJECT: str(inject)} if inject else \
        {k: v for k, v in os.environ.items() if k != INJECT}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 4):
        sys.exit(f"bench failed ({proc.returncode}): {proc.stderr.strip()}")
    with open(out, encoding="utf-8") as f:
        return proc.returncode, json.load(f)


def changes(result: dict, base: dict, score: str) -> dict[str, float]:
    """Percent change of each gated variant's ``score`` (or ``cpu_score``) against the baseline."""
    return {key: (v[score] / base["variants"][key][score] - 1) * 100
            for key, v in result["variants"].items()
            if v["gated"] and v.get(score) and base["variants"].get(key, {}).get(score)}


def busy() -> None:
    while True:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=10.0)
    ap.add_argument("--load", type=int, default=0, help="busy processes running throughout")
    ap.add_argument("--stages", dest="stages", default="scan,parse,hash,lru,match,organize")
    ap.add_argument("--keep", metavar="DIR", help="keep every result JSON in DIR")
    args = ap.parse_args()

    hogs = [multiprocessing.Process(target=busy, daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    started = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="anivault-trials-") as scratch:
            tmp = args.keep or scratch
            os.makedirs(tmp, exist_ok=True)
            _, base = bench(args, os.path.join(tmp, "base.json"), None, 0)
            verdicts: dict[str, list[int]] = {"unchanged": [], "injected": []}
            seen: dict[str, list[dict]] = {"unchanged": [], "injected": []}
            for i in range(args.trials):
                order = [("unchanged", 0.0), ("injected", 0.25)]
                for kind, inject in order if i % 2 == 0 else order[::-1]:
                    code, result = bench(args, os.path.join(tmp, f"{kind}{i}.json"),
                                         os.path.join(tmp, "base.json"), inject)
                    verdicts[kind].append(code)
                    seen[kind].append(result)
                    cpu, wall = changes(result, base, "cpu_score"), changes(result, base, "score")
                    raw = changes(result, base, "cpu_per_s")
                    shown = ", ".join(f"{k} {cpu[k]:+.1f}/{wall[k]:+.1f}/{raw[k]:+.1f}%" for k in cpu)
                    confirmed = result.get("compare", {}).get("confirmation")
                    if confirmed:
                        shown += "; rerun: " + ", ".join(
                            f"{c['metric']} {c['change_pct']:+.1f}%" for c in confirmed["rerun"])
                    print(f"trial {i + 1:2} {kind:9} exit {code}: {shown}", flush=True)
    finally:
        for hog in hogs:
            hog.terminate()
    return report(args, base, verdicts, seen, time.time() - started)


def report(args: argparse.Namespace, base: dict, verdicts: dict[str, list[int]],
           seen: dict[str, list[dict]], seconds: float) -> int:
    flagged = sum(code == 4 for code in verdicts["injected"])
    passed = sum(code == 0 for code in verdicts["unchanged"])
    print(f"\n{args.files:,} files, --repeat {args.repeat}, stages {args.stages}, threshold "
          f"{args.threshold:g}%, {args.load} busy processes, backend {base['backend']}, "
          f"{seconds / 60:.1f} min")
    print(f"injected 25% slowdown flagged: {flagged}/{len(verdicts['injected'])}")
    print(f"unchanged build passed:        {passed}/{len(verdicts['unchanged'])}")
    for score in ("score", "cpu_score", "cpu_per_s"):
        for kind in ("unchanged", "injected"):
            per_metric: dict[str, list[float]] = {}
            for result in seen[kind]:
                for key, pct in changes(result, base, score).items():
                    per_metric.setdefault(key, []).append(pct)
            spread = "; ".join(f"{k} median {statistics.median(v):+.1f}% "
                               f"[{min(v):+.1f}..{max(v):+.1f}]" for k, v in per_metric.items())
            print(f"  {score:9} {kind:9}: {spread}")
    return 0 if flagged == len(verdicts["injected"]) and passed >= len(verdicts["unchanged"]) - 1 else 1


if __name__ == "__main__":
    sys.exit(main())
