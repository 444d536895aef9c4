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
from collections import OrderedDict

from .. import names
from ..errors import AniVaultError, RefusedError
from ..fileops import same_file
from .entries import ALREADY, COLLISION, CONFLICT, TODO, PlanEntry, PlanOptions
from .naming import DestIndex, join_path, parent_dir
from .store import fsdecode, fsencode

_BATCH = 2048  # claims written to the store at a time
_HELD = 8192  # claims held in memory, over all folders held
_WHOLE = 1024  # a folder with more claims is looked up name by name, never held whole
_REREAD = 128  # an evicted folder with more claims is looked up name by name, not read back whole

# Small rows (a folder number, the name, the holder's file id) so the table stays in the page cache.
SCHEMA = ("CREATE TABLE claims (folder INTEGER NOT NULL, name BLOB NOT NULL, holder INTEGER NOT NULL, "
          "PRIMARY KEY (folder, name)) WITHOUT ROWID;")


class Claims:
    """Claims live in the plan store. The whole claims of recently used small destination folders
    are also held in memory, so settling a file there costs no store round trip (planning meets one
    folder's files together); a folder is read back when it returns, and a folder too big to hold
    (or to read back again and again) is asked about one name at a time. At most ``_HELD`` claims
    are in memory, plus the batch not yet written.

    A claim names its holder by file id: ``files`` (the planner's table of scanned files,
    ``id`` and ``path``) gives the holder's path back.
    """

    def __init__(self, db: sqlite3.Connection, options: PlanOptions, dest_index: DestIndex) -> None:
        self.db = db
        self.options = options
        self.dest_index = dest_index
        self._held: OrderedDict[str, dict[str, str]] = OrderedDict()  # folder → {name: holder's source}
        self._held_count = 0
        self._numbers: dict[str, int] = {}  # folder case key → its number in the store (per folder)
        self._by_name: set[str] = set()  # folders asked about one name at a time
        # Claims not in the store yet, by folder: written a batch at a time.
        self._unwritten: dict[str, dict[str, tuple[str, int]]] = {}
        self._unwritten_count = 0
        db.execute(SCHEMA)

    def _folder(self, folder: str) -> dict[str, str] | None:
        """All claims in ``folder`` (held in memory), or None when it is asked about by name."""
        held = self._held.get(folder)
        if held is not None:
            self._held.move_to_end(folder)
            return held
        if folder in self._by_name:
            return None
        if folder not in self._numbers:  # its first claim: nothing to read back
            self._numbers[folder] = len(self._numbers)
            held = {}
        else:
            held = {fsdecode(name): fsdecode(src) for name, src in self.db.execute(
                "SELECT claims.name, files.path FROM claims JOIN files ON files.id = claims.holder "
                "WHERE claims.folder = ?", (self._numbers[folder],))}
            held.update((name, src) for name, (src, _) in self._unwritten.get(folder, {}).items())
        self._held[folder] = held
        self._held_count += len(held)
        self._make_room()
        return self._held.get(folder)

    def _make_room(self) -> None:
        while self._held_count > _HELD and self._held:
            folder, held = self._held.popitem(last=False)
            self._held_count -= len(held)
            if len(held) > _REREAD:  # reading it back again and again would cost more than asking
                self._by_name.add(folder)

    def _holder(self, folder: str, name: str) -> str | None:
        held = self._folder(folder)
        if held is not None:
            return held.get(name)
        unwritten = self._unwritten.get(folder, {}).get(name)
        if unwritten is not None:
            return unwritten[0]
        row = self.db.execute("SELECT files.path FROM claims JOIN files ON files.id = claims.holder "
                              "WHERE claims.folder = ? AND claims.name = ?",
                              (self._numbers[folder], fsencode(name))).fetchone()
        return fsdecode(row[0]) if row else None

    def flush(self) -> None:
        if self._unwritten:
            self.db.executemany("INSERT INTO claims VALUES (?, ?, ?)", [
                (self._numbers[folder], fsencode(name), n)
                for folder, rows in self._unwritten.items() for name, (_, n) in rows.items()])
            self._unwritten.clear()
            self._unwritten_count = 0

    def _claim(self, key: str, src: str, n: int) -> str | None:
        """Take ``key`` for ``src`` (file ``n``); None when taken, else who holds it."""
        folder, _, name = key.rpartition(os.sep)
        holder = self._holder(folder, name)
        if holder is not None:
            return holder
        held = self._held.get(folder)
        if held is not None:
            held[name] = src
            self._held_count += 1
            if len(held) > _WHOLE:
                del self._held[folder]
                self._held_count -= len(held)
                self._by_name.add(folder)
            else:
                self._make_room()
        self._unwritten.setdefault(folder, {})[name] = (src, n)
        self._unwritten_count += 1
        if self._unwritten_count >= _BATCH:
            self.flush()
        return None

    def _release(self, key: str) -> None:
        folder, _, name = key.rpartition(os.sep)
        self.flush()
        held = self._held.get(folder)
        if held is not None and held.pop(name, None) is not None:
            self._held_count -= 1
        self.db.execute("DELETE FROM claims WHERE folder = ? AND name = ?", (self._numbers[folder], fsencode(name)))

    def _taken(self, key: str) -> bool:
        folder, _, name = key.rpartition(os.sep)
        return self._holder(folder, name) is not None

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
