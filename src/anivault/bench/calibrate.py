"""The calibration workload: a fixed piece of interpreter work timed beside every stage.

A stage's throughput divided by the calibration's, measured moments apart in
the same process, is a figure that stays put when the machine is slower,
busier or clocked down: both slow together. It mixes what AniVault's hot paths
do — string building and splitting, dict updates, small allocations — and
takes a few tens of milliseconds.
"""
from __future__ import annotations

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


def calibrate(rounds: int = ROUNDS) -> tuple[float, float]:
    """(wall, cpu) seconds of one calibration run; best of three, so a stray
    context switch does not become the yardstick."""
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        calibration_work(rounds)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, max(best_cpu, 1e-9)
