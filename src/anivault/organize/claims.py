"""Destination claims: who takes each destination, and what already sits there.

A claim is a row in the plan store (keyed by the destination's case-folded
spelling, so ``Show`` and ``show`` are one name on every target), naming its
holder by file id: the holder's path is read only when a claim is contested. What exists
on disk comes from :class:`~anivault.organize.naming.DestIndex`. No file is
read whole here: two files are "the same" when they are one inode, or have the
same size and sampled fingerprint; apply verifies in full what it copies.
"""
from __future__ import annotations

import marshal
import os
import sqlite3
from collections import OrderedDict
from typing import Callable

from .. import names
from ..errors import AniVaultError, RefusedError
from ..fileops import same_file
from .entries import ALREADY, COLLISION, CONFLICT, TODO, PlanEntry, PlanOptions
from .naming import DestIndex, base_name, join_path, parent_dir
from .store import fsencode

_BATCH = 2048  # claims of big folders written to the store at a time
_HELD = 8192  # claims held in memory, over all folders held
_WHOLE = 1024  # a folder with more claims is looked up name by name, never held whole

# A held folder leaves memory as one row (its claims, marshalled): one write per eviction, one read
# when it returns. A big folder's claims are rows of their own, asked about one name at a time.
SCHEMA = ("CREATE TABLE claim_sets (folder INTEGER PRIMARY KEY, claims BLOB NOT NULL)",
          "CREATE TABLE claims (folder INTEGER NOT NULL, name BLOB NOT NULL, holder INTEGER NOT NULL, "
          "PRIMARY KEY (folder, name)) WITHOUT ROWID")


class Claims:
    """Claims live in the plan store. The whole claims of recently used small destination folders
    are held in memory, so settling a file there costs no store round trip (planning meets one
    folder's files together); a folder leaves memory as one row and is read back when it returns.
    A folder too big to hold is asked about one name at a time. At most ``_HELD`` claims are in
    memory, plus the batch of a big folder's claims not yet written.

    Keys are a folder's and a name's case keys (``names.case_key`` of each: the key of the whole
    path is the two joined by a separator). A claim's holder is a file id; ``path_of`` gives its
    source path back, needed only when a claim is contested.
    """

    def __init__(self, db: sqlite3.Connection, options: PlanOptions, dest_index: DestIndex,
                 path_of: Callable[[int], str]) -> None:
        self.db = db
        self.options = options
        self.dest_index = dest_index
        self.path_of = path_of
        self._held: OrderedDict[str, dict[str, int]] = OrderedDict()  # folder key → {name key: holder}
        self._held_count = 0
        self._changed: set[str] = set()  # held folders whose stored set is out of date
        self._numbers: dict[str, int] = {}  # folder key → its number in the store (per folder)
        self._by_name: set[str] = set()  # folders asked about one name at a time
        # Claims in big folders not in the store yet: written a batch at a time.
        self._unwritten: dict[str, dict[str, int]] = {}
        self._unwritten_count = 0
        # The last destination folder settled into: (folder, its case key, its listing on disk), and the
        # last folder whose claims were used (the newest held: never the one evicted). A folder's files
        # settle together.
        self._last_folder: tuple[str | None, str, dict[str, str]] = (None, "", {})
        self._last_held: tuple[str | None, dict[str, int]] = (None, {})
        for table in SCHEMA:  # inside the planner's transaction (executescript would commit it)
            db.execute(table)

    # -- the claim set

    def _folder(self, folder: str) -> dict[str, int] | None:
        """All claims in ``folder`` (held in memory), or None when it is asked about by name."""
        last = self._last_held
        if last[0] == folder:
            return last[1]
        held = self._held.get(folder)
        if held is not None:
            self._held.move_to_end(folder)
            self._last_held = (folder, held)
            return held
        if folder in self._by_name:
            return None
        number = self._numbers.get(folder)
        if number is None:  # its first claim: nothing to read back
            self._numbers[folder] = len(self._numbers)
            held = {}
        else:
            row = self.db.execute("SELECT claims FROM claim_sets WHERE folder = ?", (number,)).fetchone()
            held = marshal.loads(row[0]) if row else {}  # no row: it left memory without a claim
        self._held[folder] = held
        self._held_count += len(held)
        self._make_room()
        self._last_held = (folder, held)
        return held

    def _make_room(self) -> None:
        """Evict the least recently used folders (never the newest) down to ``_HELD`` claims."""
        while self._held_count > _HELD and len(self._held) > 1:
            folder, held = self._held.popitem(last=False)
            self._held_count -= len(held)
            if folder in self._changed:
                self._changed.discard(folder)
                self.db.execute("INSERT OR REPLACE INTO claim_sets VALUES (?, ?)",
                                (self._numbers[folder], marshal.dumps(held)))

    def holder(self, folder: str, name: str) -> int | None:
        """Who holds ``name`` in ``folder`` (case keys), if anyone."""
        held = self._folder(folder)
        if held is not None:
            return held.get(name)
        unwritten = self._unwritten.get(folder, {}).get(name)
        if unwritten is not None:
            return unwritten
        row = self.db.execute("SELECT holder FROM claims WHERE folder = ? AND name = ?",
                              (self._numbers[folder], fsencode(name))).fetchone()
        return row[0] if row else None

    def flush(self) -> None:
        if self._unwritten:
            numbers = self._numbers
            self.db.executemany("INSERT INTO claims VALUES (?, ?, ?)", [
                (numbers[folder], fsencode(name), n)
                for folder, rows in self._unwritten.items() for name, n in rows.items()])
            self._unwritten.clear()
            self._unwritten_count = 0

    def claim(self, folder: str, name: str, n: int) -> int | None:
        """Take ``name`` in ``folder`` (case keys) for file ``n``: None when taken now, else its holder."""
        held = self._folder(folder)
        if held is None:
            holder = self.holder(folder, name)
            if holder is None:
                self._unwrite(folder, name, n)
            return holder
        holder = held.get(name)
        if holder is not None:
            return holder
        held[name] = n
        self._held_count += 1
        self._changed.add(folder)
        if len(held) > _WHOLE:  # too big to hold: its claims become rows of their own
            del self._held[folder]
            self._last_held = (None, {})
            self._held_count -= len(held)
            self._changed.discard(folder)
            self._by_name.add(folder)
            self.db.execute("DELETE FROM claim_sets WHERE folder = ?", (self._numbers[folder],))
            for key, holder in held.items():
                self._unwrite(folder, key, holder)
        elif self._held_count > _HELD:
            self._make_room()
        return None

    def _unwrite(self, folder: str, name: str, n: int) -> None:
        unwritten = self._unwritten.get(folder)
        if unwritten is None:
            unwritten = self._unwritten[folder] = {}
        unwritten[name] = n
        self._unwritten_count += 1
        if self._unwritten_count >= _BATCH:
            self.flush()

    def release(self, folder: str, name: str) -> None:
        held = self._folder(folder)
        if held is not None:
            if held.pop(name, None) is not None:
                self._held_count -= 1
                self._changed.add(folder)
            return
        self.flush()
        self.db.execute("DELETE FROM claims WHERE folder = ? AND name = ?", (self._numbers[folder], fsencode(name)))

    def taken(self, folder: str, name: str) -> bool:
        return self.holder(folder, name) is not None

    # -- settling

    def settle(self, entry: PlanEntry, n: int) -> PlanEntry:
        """Collision with another planned source, then with what exists at the destination
        (``n``: the id of the entry's file in the store)."""
        if entry.status != TODO:
            return entry
        dst, status, reason = self.place(entry.src, parent_dir(entry.dst), base_name(entry.dst), n, entry.role,
                                         entry.reason)
        return entry._replace(dst=dst, status=status, reason=reason)

    def place(self, src: str, folder: str, name: str, n: int, role: str, reason: str = "") -> tuple[str, str, str]:
        """Settle file ``n`` (``src``), meant for ``name`` in the destination ``folder``:
        (destination, status, reason). The common case — a name nobody planned and nothing on
        disk has — costs two case keys and two dict lookups."""
        dst = join_path(folder, name)
        if src == dst:  # both absolute and normalized (scan roots, PlanOptions)
            return dst, ALREADY, "already in place"
        last = self._last_folder
        if last[0] != folder:
            last = self._last_folder = (folder, names.case_key(folder), self.dest_index.listing(folder))
        _, key, listing = last
        name_key = names.case_key(name)
        holder = self.claim(key, name_key, n)
        if holder is None and (not listing or name_key not in listing):
            return dst, TODO, reason
        return self._contested(src, dst, key, name_key, n, role, reason, holder, listing)

    def _contested(self, src: str, dst: str, key: str, name_key: str, n: int, role: str, reason: str,
                   holder: int | None, listing: dict[str, str]) -> tuple[str, str, str]:
        """Another planned source holds the name, or something on disk has it."""
        # A release's fonts and bonus videos are not library items: a clash just gets a number.
        policy = "rename" if role in ("attachment", "bonus") else self.options.conflict
        if holder is not None:
            holder_src = self.path_of(holder)
            if same_file(src, holder_src):
                return dst, ALREADY, f"identical to {holder_src}, which goes there"
            if policy != "rename":
                return dst, COLLISION, f"{holder_src} goes to the same destination"
            dst = self._free_name(dst, key)
            name_key = names.case_key(base_name(dst))
            self.claim(key, name_key, n)
        existing = listing.get(name_key)
        if existing is None:
            return dst, TODO, reason
        self.release(key, name_key)
        on_disk = join_path(parent_dir(dst), existing)
        if os.path.normcase(os.path.abspath(on_disk)) == os.path.normcase(os.path.abspath(src)):
            return dst, ALREADY, "already in place"
        if same_file(src, on_disk):
            return on_disk, ALREADY, "identical file already there"
        if policy == "fail":
            raise RefusedError(f"{on_disk} already exists and differs from {src}",
                               hint="--conflict skip leaves such files, --conflict rename adds ' (2)'")
        if policy == "skip":
            return dst, CONFLICT, f"{on_disk} exists with other content"
        dst = self._free_name(dst, key)
        self.claim(key, names.case_key(base_name(dst)), n)
        return dst, TODO, reason

    def _free_name(self, dst: str, key: str) -> str:
        """``name (2).ext``, ``name (3).ext``… free both on disk and in the plan (``key``: the folder's)."""
        stem, ext = os.path.splitext(dst)
        for n in range(2, 10_000):
            candidate = f"{stem} ({n}){ext}"
            if not self.taken(key, names.case_key(base_name(candidate))) \
                    and self.dest_index.existing(candidate) is None:
                return candidate
        raise AniVaultError(f"no free name for {dst}", hint="clean up the numbered copies there")
