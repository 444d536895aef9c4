"""CLI start-up, before vs after, in interleaved fresh processes (docs/PERFORMANCE.md, "CLI start-up").

    python benchmarks/experiments/cli_startup.py OLD_SRC [ROUNDS]

OLD_SRC is another version's ``src`` folder with its built extensions (e.g. ``git archive REV src | tar -x
-C /tmp/old`` plus the ``.so`` files), put first on PYTHONPATH; "after" is the installed anivault. Both sides
alternate in every round, so load on a shared machine lands on both; the figure is the ratio of medians.
"""
import os
import statistics
import subprocess
import sys
import time

CASES = {"import anivault.cli": ["-c", "import anivault.cli"],
         "anivault --help": ["-m", "anivault", "--help"],
         "anivault scan --help": ["-m", "anivault", "scan", "--help"]}


def main() -> None:
    old, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15
    times = {(case, side): [] for case in CASES for side in ("before", "after")}
    for _ in range(rounds):
        for case, args in CASES.items():
            for side in ("before", "after"):
                env = dict(os.environ, **({"PYTHONPATH": old} if side == "before" else {}))
                start = time.perf_counter()
                subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL, env=env, check=True)
                times[(case, side)].append(time.perf_counter() - start)
    for case in CASES:
        before, after = (statistics.median(times[(case, side)]) * 1000 for side in ("before", "after"))
        print(f"{case:22s} before {before:6.0f} ms  after {after:6.0f} ms  ratio {after / before:.2f}")


if __name__ == "__main__":
    main()
