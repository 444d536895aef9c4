"""Planning streams: its memory does not grow with the number of files (the plan lives on disk)."""
from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path
from typing import Iterator

from anivault.models import ParsedName
from anivault.organize import TODO, PlanOptions, plan_organize
from organize_support import Record

SERIES = 40


def library(root: Path, files: int) -> Iterator[Record]:
    """``files`` scan records (an episode and its subtitle at a time) spread over SERIES release folders.

    Made on the fly: the records themselves take no memory, so what is measured is the planner's.
    """
    for n in range(files // 2):
        series, episode = n % SERIES, n // SERIES + 1
        name = f"{root}/[Group] Series {series}/[Group] Series {series} - {episode:04}"  # no pathlib: it interns
        yield Record(f"{name}.mkv", 1000 + n, 1, "video",
                     ParsedName(title=f"Series {series}", episode=episode, group="Group", ext="mkv"))
        yield Record(f"{name}.en.ass", 10, 1, "subtitle", ParsedName(ext="ass"))


def planning_peak(tmp_path: Path, files: int) -> tuple[int, int]:
    """(peak bytes traced while planning ``files`` records, entries to do)."""
    options = PlanOptions(dest=str(tmp_path / f"lib-{files}"), windows=False)
    gc.collect()
    tracemalloc.start()
    try:
        plan = plan_organize(library(tmp_path / f"in-{files}", files), options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, plan.count(TODO)


def test_planning_memory_does_not_grow_with_the_library(tmp_path: Path) -> None:
    small, small_todo = planning_peak(tmp_path, 20_000)
    large, large_todo = planning_peak(tmp_path, 80_000)
    assert (small_todo, large_todo) == (20_000, 80_000)  # every episode and subtitle planned
    assert large <= 1.5 * small, f"planning 80k files peaked at {large:,} B against {small:,} B for 20k"
