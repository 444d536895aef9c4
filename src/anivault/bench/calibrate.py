"""The calibration workload: a fixed piece of interpreter work timed beside every stage.

A stage's throughput divided by the calibration's, measured just before and
just after it in the same process, is a figure that stays put when the
machine is slower, busier or clocked down: both slow together. It mixes what AniVault's hot paths
do — string building and splitting, dict updates, small allocations — and
takes a few tens of milliseconds.
"""
from __future__ import annotations

import statistics
import time

ROUNDS = 6_000  # ~20-40 ms on a 2020s core


def calibration_work(rounds: int = ROUNDS) -> int:
    counts: dict[str, int] = {}
    total = 0
    for i in range(rounds):
        name = f"[Group{i % 13}] Title {i % 97} - {i % 24:02d} [1080p][{i:08X}].mkv"
        for token in name.replace("[", " ").replace("]", " ").split():
            counts[token] = counts.get(token, 0) + 1
        total += len(name)
    return total + len(counts)


def calibrate(runs: int = 3, rounds: int = ROUNDS) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of each of ``runs`` calibration runs."""
    samples = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        calibration_work(rounds)
        samples.append((time.perf_counter() - wall, max(time.process_time() - cpu, 1e-9)))
    return samples


def bracket(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """The median wall and CPU seconds of calibration runs taken before and after a stage
    run: the machine as it was *during* the run. (Not the best run: while other processes
    compete for the caches and memory bandwidth, or a hyperthread sibling is busy, every
    instruction costs more CPU time, ours and the stage's alike, and the yardstick has to
    feel that too.)"""
    return (statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples))
