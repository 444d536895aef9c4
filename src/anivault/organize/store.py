"""The plan store: plan entries (and the planner's working tables) on disk, not in memory.

A private temporary SQLite database (``sqlite3.connect("")``): SQLite keeps a
few MB of pages in memory, spills the rest to a temporary file, and deletes
that file when the store is closed. Paths are stored as their filesystem bytes
(``os.fsencode``), so names that are not valid UTF-8 round-trip exactly and
sort as the filesystem spells them.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from collections import OrderedDict
from operator import methodcaller
from typing import Any, Callable, Hashable, Iterable, Iterator, Sequence

from .entries import TODO, PlanEntry

# Page cache per store (negative: KiB). Planning's working set is the current batch and a
# few index pages; more cache only delays the spill to the temporary file.
CACHE_KIB = 2048

_SCHEMA = """
CREATE TABLE entries (src BLOB NOT NULL, dst BLOB NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                      role TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, fp TEXT NOT NULL DEFAULT '');
"""

# os.fsencode/os.fsdecode for str/bytes, without their per-call Python frames (planning
# converts a few paths per file): the same codec and error handler, called from C.
_FS = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
fsencode: Callable[[str], bytes] = methodcaller("encode", *_FS)
fsdecode: Callable[[bytes], str] = methodcaller("decode", *_FS)


def connect() -> sqlite3.Connection:
    """A private temporary database tuned for bulk work nobody else reads (no journal, no fsync)."""
    db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
        db.execute(f"PRAGMA {pragma}")
    return db


def as_entry(row: Sequence[Any]) -> PlanEntry:
    """A stored ``entries`` row (src, dst, size, mtime_ns, role, status, reason, fp) as a PlanEntry."""
    return PlanEntry(fsdecode(row[0]), fsdecode(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])


def as_row(entry: PlanEntry) -> tuple[Any, ...]:
    return (fsencode(entry.src), fsencode(entry.dst), int(entry.size), int(entry.mtime_ns), entry.role,
            entry.status, entry.reason, entry.fp)


class PlanEntries:
    """A plan's entries, in plan order, read from the store: sized, iterable again and indexable.

    Entry ``i`` (0-based) is what the journal calls entry ``i``.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._len: int | None = None

    @classmethod
    def from_iterable(cls, entries: Iterable[PlanEntry], batch: int = 2048) -> "PlanEntries":
        db = connect()
        db.executescript(_SCHEMA)
        db.execute("BEGIN")
        chunk: list[tuple[Any, ...]] = []
        for entry in entries:
            chunk.append(as_row(entry))
            if len(chunk) >= batch:
                db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?)", chunk)
                chunk.clear()
        db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?)", chunk)
        db.execute("COMMIT")
        return cls(db)

    def __len__(self) -> int:
        if self._len is None:
            self._len = self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        return self._len

    def __iter__(self) -> Iterator[PlanEntry]:
        for row in self.db.execute("SELECT src, dst, size, mtime_ns, role, status, reason, fp FROM entries "
                                   "ORDER BY rowid"):
            yield as_entry(row)

    def __getitem__(self, i: int) -> PlanEntry:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return as_entry(self.db.execute("SELECT src, dst, size, mtime_ns, role, status, reason, fp FROM entries "
                                        "WHERE rowid = ?", (i + 1,)).fetchone())

    def with_status(self, *statuses: str) -> Iterator[tuple[int, PlanEntry]]:
        """(index, entry) of the entries in one of ``statuses``, in plan order."""
        marks = ",".join("?" * len(statuses))
        for row in self.db.execute(f"SELECT rowid - 1, src, dst, size, mtime_ns, role, status, reason, fp "
                                   f"FROM entries WHERE status IN ({marks}) ORDER BY rowid", statuses):
            yield row[0], as_entry(row[1:])

    def todo(self) -> Iterator[tuple[int, PlanEntry]]:
        return self.with_status(TODO)

    def by_destination(self, *statuses: str) -> Iterator[PlanEntry]:
        """Entries in ``statuses`` ordered by destination (for a tree of where files go)."""
        marks = ",".join("?" * len(statuses))
        for row in self.db.execute(f"SELECT src, dst, size, mtime_ns, role, status, reason, fp FROM entries "
                                   f"WHERE status IN ({marks}) ORDER BY dst", statuses):
            yield as_entry(row)

    def tree_rows(self, *statuses: str) -> Iterator[tuple[str, str, str]]:
        """``(src, dst, reason)`` of the entries in ``statuses`` as a tree shows them: destination
        folders in name order, and in each folder its files by name (the order of ``sorted`` on the
        decoded paths); tuples, not a PlanEntry each (what a dry run's tree prints)."""
        self.db.create_function("folder_order", 1, folder_order, deterministic=True)
        marks = ",".join("?" * len(statuses))
        decode = fsdecode
        for src, dst, reason in self.db.execute(f"SELECT src, dst, reason FROM entries WHERE status IN ({marks}) "
                                                f"ORDER BY folder_order(dst)", statuses):
            yield decode(src), decode(dst), reason

    def without_status(self, status: str) -> Iterator[PlanEntry]:
        """Entries in any status but ``status``, in plan order."""
        for row in self.db.execute("SELECT src, dst, size, mtime_ns, role, status, reason, fp FROM entries "
                                   "WHERE status != ? ORDER BY rowid", (status,)):
            yield as_entry(row)

    def set_status(self, i: int, status: str, reason: str) -> None:
        """Change entry ``i``'s status (``--verify`` sets aside a file whose CRC32 is not its tag)."""
        self.db.execute("UPDATE entries SET status = ?, reason = ? WHERE rowid = ?", (status, reason, i + 1))

    def counts(self) -> dict[str, tuple[int, int]]:
        """status → (entries, bytes)."""
        return {status: (n, size or 0) for status, n, size in
                self.db.execute("SELECT status, COUNT(*), SUM(size) FROM entries GROUP BY status")}

    def close(self) -> None:
        self.db.close()


class Lru:
    """A small bounded memo (per-directory lookups: a flat library has as many directories as files)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._last: tuple[Any, Any] = (_NOTHING, None)  # the most recent key (runs of one key are common)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        last_key, last_value = self._last
        if key == last_key:  # the most recently used item cannot have been evicted
            return last_value
        items = self._items
        if key in items:
            items.move_to_end(key)
            value = items[key]
        else:
            value = items[key] = compute()
            if len(items) > self.capacity:
                items.popitem(last=False)
        self._last = (key, value)
        return value


_NOTHING = object()


def folder_order(dst: bytes) -> bytes:
    """A sort key for a stored destination: its folder, then its name, compared as ``str`` compares
    the decoded paths. The last separator becomes NUL, which sorts first and is never in a path;
    UTF-8 bytes sort as their code points, and a name with undecodable bytes is re-encoded so that
    its escapes sort where the decoded string's surrogates do."""
    cut = dst.rfind(_SEP)
    key = dst[:cut] + b"\0" + dst[cut + 1:] if cut >= 0 else dst
    return key if key.isascii() else fsdecode(key).encode("utf-8", "surrogatepass")


_SEP = fsencode(os.sep)
