"""Undo streams: its memory does not grow with the number of files the operation moved."""
from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

from anivault import fileops
from anivault.journal import Journal, journal_dir, new_op_id
from anivault.undo import undo
from memory_support import assert_flat

FOLDERS = 40


def moved(root: Path, files: int) -> tuple[Path, Path]:
    """The journal of a run that moved ``files`` empty files from ``root/in`` to ``root/lib``, and
    the files where that run left them (written directly: thousands of files in a second)."""
    src, dst = root / "in", root / "lib"
    op = new_op_id()
    path = os.path.join(journal_dir(), f"{op}.jsonl")
    begin = {"t": "begin", "v": 1, "op": op, "action": "move", "dest": str(dst), "sources": [str(src)],
             "entries": files, "pid": 0, "host": "elsewhere", "started": "2026-01-01T00:00:00Z"}
    with Journal(path, begin=begin) as journal:
        journal.write({"t": "mkdir", "path": str(dst)})
        for folder in range(FOLDERS):
            os.makedirs(dst / f"Show {folder}")
            journal.write({"t": "mkdir", "path": str(dst / f"Show {folder}")})
        for i in range(files):
            name = f"Show {i % FOLDERS}/[G] Show {i % FOLDERS} - {i // FOLDERS + 1:05}.mkv"
            target = dst / name
            target.touch()
            st = os.lstat(target)
            journal.write({"t": "do", "i": i, "a": "move", "src": str(src / name), "dst": str(target),
                           "tmp": str(target) + ".part", "size": 0, "fp": fileops.fingerprint(str(target), 0),
                           **fileops.metadata_record(st)})
            journal.write_raw(f'{{"t":"ok","i":{i}}}')
        journal.write({"t": "end", "status": "complete", "done": files, "failed": 0})
    return src, dst


def undo_peak(root: Path, files: int) -> int:
    """Peak bytes traced while undoing the move of ``files`` files (every one put back)."""
    src, dst = moved(root, files)
    gc.collect()
    tracemalloc.start()
    try:
        report = undo(None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.undone, report.kept_count) == (files, 0)
    assert sum(len(names) for _, _, names in os.walk(src)) == files and not dst.exists()
    return peak


def test_undo_memory_does_not_grow_with_the_operation(tmp_path: Path) -> None:
    assert_flat(undo_peak, tmp_path, 5_000, 20_000, "undoing")
