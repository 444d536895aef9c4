"""Destination claims: who takes each destination, and what already sits there.

A claim is a row in the plan store (keyed by the destination's case-folded
spelling, so ``Show`` and ``show`` are one name on every target). What exists
on disk comes from :class:`~anivault.organize.naming.DestIndex`. No file is
read whole here: two files are "the same" when they are one inode, or have the
same size and sampled fingerprint; apply verifies in full what it copies.
"""
from __future__ import annotations

import os
import sqlite3

from .. import names
from ..errors import AniVaultError, RefusedError
from ..fileops import same_file
from .entries import ALREADY, COLLISION, CONFLICT, TODO, PlanEntry, PlanOptions
from .naming import DestIndex, join_path, parent_dir
from .store import Lru, fsdecode, fsencode

# Small rows (a folder number, the name, the holder's file id) so the table stays in the page cache.
SCHEMA = ("CREATE TABLE claims (folder INTEGER NOT NULL, name BLOB NOT NULL, holder INTEGER NOT NULL, "
          "PRIMARY KEY (folder, name)) WITHOUT ROWID;")


class Claims:
    """Claims live in the plan store; the claims of recently used destination folders are also
    held in memory (write-through), so settling a file costs no store round trip: planning meets
    one folder's files together, and a folder is read back from the store only when it returns.

    A claim names its holder by file id: ``files`` (the planner's table of scanned files,
    ``id`` and ``path``) gives the holder's path back when a folder is read again.
    """

    def __init__(self, db: sqlite3.Connection, options: PlanOptions, dest_index: DestIndex,
                 folders: int = 256) -> None:
        self.db = db
        self.options = options
        self.dest_index = dest_index
        self._folders = Lru(folders)  # folder case key → {name case key: source holding it}
        self._unwritten: list[tuple[int, bytes, int]] = []
        self._numbers: dict[str, int] = {}  # folder case key → its number in the store (per folder)
        db.execute(SCHEMA)

    def _in(self, folder: str) -> dict[str, str]:
        return self._folders.get(folder, lambda: self._load(folder))

    def _load(self, folder: str) -> dict[str, str]:
        number = self._numbers.get(folder)
        if number is None:  # its first claim: nothing to read back
            self._numbers[folder] = len(self._numbers)
            return {}
        self.flush()  # what this folder claimed before it left memory
        return {fsdecode(name): fsdecode(src) for name, src in self.db.execute(
            "SELECT claims.name, files.path FROM claims JOIN files ON files.id = claims.holder "
            "WHERE claims.folder = ?", (number,))}

    def flush(self) -> None:
        if self._unwritten:
            self.db.executemany("INSERT INTO claims VALUES (?, ?, ?)", self._unwritten)
            self._unwritten.clear()

    def _claim(self, key: str, src: str, n: int) -> str | None:
        """Take ``key`` for ``src`` (file ``n``); None when taken, else who holds it."""
        folder, _, name = key.rpartition(os.sep)
        claimed = self._in(folder)
        holder = claimed.get(name)
        if holder is None:
            claimed[name] = src
            self._unwritten.append((self._numbers[folder], fsencode(name), n))
        return holder

    def _release(self, key: str) -> None:
        folder, _, name = key.rpartition(os.sep)
        self.flush()
        self._in(folder).pop(name, None)
        self.db.execute("DELETE FROM claims WHERE folder = ? AND name = ?", (self._numbers[folder], fsencode(name)))

    def _taken(self, key: str) -> bool:
        folder, _, name = key.rpartition(os.sep)
        return name in self._in(folder)

    def settle(self, entry: PlanEntry, n: int) -> PlanEntry:
        """Collision with another planned source, then with what exists at the destination
        (``n``: the id of the entry's file in the store)."""
        if entry.status != TODO:
            return entry
        if entry.src == entry.dst:  # both absolute and normalized (scan roots, PlanOptions)
            return entry._replace(status=ALREADY, reason="already in place")
        # A release's fonts and bonus videos are not library items: a clash just gets a number.
        policy = "rename" if entry.role in ("attachment", "bonus") else self.options.conflict
        key = names.case_key(entry.dst)
        holder = self._claim(key, entry.src, n)
        if holder is not None:
            if same_file(entry.src, holder):
                return entry._replace(status=ALREADY, reason=f"identical to {holder}, which goes there")
            if policy != "rename":
                return entry._replace(status=COLLISION, reason=f"{holder} goes to the same destination")
            entry = entry._replace(dst=self._free_name(entry.dst))
            key = names.case_key(entry.dst)
            self._claim(key, entry.src, n)
        existing = self.dest_index.existing(entry.dst)
        if existing is None:
            return entry
        self._release(key)
        on_disk = join_path(parent_dir(entry.dst), existing)
        if os.path.normcase(os.path.abspath(on_disk)) == os.path.normcase(os.path.abspath(entry.src)):
            return entry._replace(status=ALREADY, reason="already in place")
        if same_file(entry.src, on_disk):
            return entry._replace(dst=on_disk, status=ALREADY, reason="identical file already there")
        if policy == "fail":
            raise RefusedError(f"{on_disk} already exists and differs from {entry.src}",
                               hint="--conflict skip leaves such files, --conflict rename adds ' (2)'")
        if policy == "skip":
            return entry._replace(status=CONFLICT, reason=f"{on_disk} exists with other content")
        entry = entry._replace(dst=self._free_name(entry.dst))
        self._claim(names.case_key(entry.dst), entry.src, n)
        return entry

    def _free_name(self, dst: str) -> str:
        """``name (2).ext``, ``name (3).ext``… free both on disk and in the plan."""
        stem, ext = os.path.splitext(dst)
        for n in range(2, 10_000):
            candidate = f"{stem} ({n}){ext}"
            if not self._taken(names.case_key(candidate)) and self.dest_index.existing(candidate) is None:
                return candidate
        raise AniVaultError(f"no free name for {dst}", hint="clean up the numbered copies there")
