"""``--prune-empty``: remove the source folders a move emptied, deepest first, never a scanned root.

The folders files were moved out of are kept on disk, not in memory (a flat library has
about as many folders as files): a private temporary SQLite table, like the plan store.
They are pruned in descending byte order, in which every folder comes after all the
folders inside it, so one pass suffices; a folder a removal empties (a parent) waits in a
small sorted list holding only the parents of where the pass is, never the whole tree.
"""
from __future__ import annotations

import bisect
import os
import sqlite3
from typing import Any, Callable, Iterable, Iterator

from .. import fileops
from .store import connect, fsdecode, fsencode

BATCH = 512  # rmdir records made durable with one commit


class MovedFrom:
    """The set of folders files were moved out of, in a temporary database (made on first use)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def add_all(self, folders: Iterable[str]) -> None:
        rows = [(fsencode(f),) for f in folders]
        if not rows:
            return
        if self._db is None:
            self._db = connect()
            self._db.execute("CREATE TABLE moved (path BLOB PRIMARY KEY) WITHOUT ROWID")
        self._db.executemany("INSERT OR IGNORE INTO moved VALUES (?)", rows)

    def deepest_first(self) -> Iterator[bytes]:
        """Every folder, each one after all the folders inside it (descending bytes)."""
        if self._db is not None:
            for (path,) in self._db.execute("SELECT path FROM moved ORDER BY path DESC"):
                yield path

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def prune(moved: MovedFrom, roots: Iterable[str], journal: Any, removed: Callable[[], None]) -> None:
    """Remove the empty folders among ``moved`` and the parents they leave empty, strictly inside
    ``roots``; each rmdir is journaled (with the folder's mode, owner, mtime) before it happens,
    so undo recreates it as it was. ``removed()`` is called once per folder removed."""
    tops = [fsencode(os.path.abspath(r)).rstrip(_SEP) + _SEP for r in roots]

    def inside(path: bytes) -> bool:
        return any(path.startswith(top) for top in tops)

    parents: list[bytes] = []  # sorted; only ancestors of the current position wait here
    batch: list[bytes] = []

    def flush() -> None:
        for d in batch:
            journal.write({"t": "rmdir", "path": fsdecode(d), **_folder_metadata(d)})
        journal.commit()  # write-ahead: the record is durable before its folder goes
        for d in batch:
            try:
                os.rmdir(d)
            except OSError:
                continue
            removed()
            parent = os.path.dirname(d)
            if inside(parent):
                i = bisect.bisect_left(parents, parent)
                if i == len(parents) or parents[i] != parent:
                    parents.insert(i, parent)
        batch.clear()

    stream = (d for d in moved.deepest_first() if inside(d))
    head = next(stream, None)
    while head is not None or parents or batch:
        if parents and (head is None or parents[-1] >= head):
            if batch:  # the parent is empty only once the batch's folders are gone
                flush()
                continue
            folder = parents.pop()
            if folder == head:
                head = next(stream, None)
        elif head is not None:
            folder, head = head, next(stream, None)
        else:
            flush()
            continue
        if _is_empty_dir(folder):
            batch.append(folder)
            if len(batch) >= BATCH:
                flush()


_SEP = fsencode(os.sep)


def _folder_metadata(path: bytes) -> dict[str, Any]:
    try:
        return fileops.folder_record(fsdecode(path))
    except OSError:
        return {}


def _is_empty_dir(path: bytes) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return False
