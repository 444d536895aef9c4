"""Apply streams: its memory does not grow with the number of files (or folders) it moves."""
from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

from anivault.organize import Plan, PlanEntry, PlanOptions, apply_plan
from anivault.organize.prune import MovedFrom, prune
from memory_support import assert_flat


def flat_library(root: Path, files: int) -> Plan:
    """``files`` empty files, each in a folder of its own (as many folders as files: the worst
    case for anything kept per folder), planned to move into one destination folder each."""
    src, dst = root / "in", root / "lib"

    def entries():
        for i in range(files):
            folder = src / f"Show {i:06} [G]" / "Season 1"
            folder.mkdir(parents=True)
            path = folder / f"[G] Show {i:06} - 01.mkv"
            path.touch()
            st = os.lstat(path)
            yield PlanEntry(str(path), str(dst / f"Show {i:06}" / "Season 01" / f"Show {i:06} - S01E01.mkv"),
                            0, st.st_mtime_ns, "video")

    return Plan(PlanOptions(dest=str(dst), windows=False, sources=(str(src),)), entries())


def apply_peak(root: Path, files: int) -> int:
    """Peak bytes traced while applying (with --prune-empty) a plan that moves ``files`` files."""
    plan = flat_library(root, files)
    gc.collect()
    tracemalloc.start()
    try:
        report = apply_plan(plan, prune_empty=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.done, report.failed_count) == (files, 0)
    assert report.pruned == 2 * files  # each file's folder and its parent
    assert not any((root / "in").iterdir())
    assert sum(len(names) for _, _, names in os.walk(root / "lib")) == files
    return peak


def test_apply_memory_does_not_grow_with_the_plan(tmp_path: Path) -> None:
    assert_flat(apply_peak, tmp_path, 2_000, 8_000, "applying")


class Recorder:
    def __init__(self) -> None:
        self.records: list[dict] = []
        self.commits = 0

    def write(self, record: dict) -> None:
        self.records.append(record)

    def commit(self) -> None:
        self.commits += 1


def test_prune_removes_emptied_folders_deepest_first_and_their_emptied_parents(tmp_path: Path) -> None:
    root = tmp_path / "in"
    emptied = [root / "A" / "S1", root / "A" / "S2", root / "A-b" / "x" / "y", root / "B"]
    kept = root / "C" / "S1"
    for d in (*emptied, kept):
        d.mkdir(parents=True)
    (kept / "notes.txt").write_text("mine")
    (root / "A" / "S2" / "deeper").mkdir()  # emptied too, though nothing was moved from it
    moved = MovedFrom()
    moved.add_all(str(d) for d in (*emptied, kept, root))  # the root itself: never removed
    journal, removed = Recorder(), []
    prune(moved, [str(root)], journal, lambda: removed.append(1))
    moved.close()
    assert sorted(os.listdir(root)) == ["A", "C"] and (kept / "notes.txt").exists()
    assert os.listdir(root / "A") == ["S2"]  # S2 holds a folder nothing was moved from: both stay
    gone = [r["path"] for r in journal.records]
    assert gone.index(str(root / "A-b" / "x" / "y")) < gone.index(str(root / "A-b" / "x")) \
        < gone.index(str(root / "A-b"))
    assert len(removed) == len(gone) == 5  # A/S1, A-b/x/y, A-b/x, A-b, B
