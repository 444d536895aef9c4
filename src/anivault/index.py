"""The incremental scan index: the parse of every file, reused while it is unchanged.

One SQLite file, ``index.sqlite`` in the cache dir. Each folder with parsed
files has one row: a blob of its files' entries in name order (see
``_speedups/_records_format.py``), each keyed by the path hash (xxh3_64 of the
path) with the size and mtime_ns it was parsed at and the encoded ParsedName
(from which a re-scan renders the NDJSON fields). So a re-scan fetches a whole
folder with one point query and checks every file against it in compiled code; a folder is
written again only when one of its files changed, came or went. An entry is
reused only while the file's size and mtime_ns are unchanged, and only by the
same parser (a fingerprint of the parser code and the ParsedName fields is
kept in ``meta``).

The index is a cache: a corrupt file is moved aside and rebuilt with a
warning, a busy one (another scan writing) is skipped for the run, and
nothing here ever stops a scan.
"""
from __future__ import annotations

import os
import queue
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from ._speedups import path_hash
from ._speedups._records_format import decode_parsed, encode_parsed  # noqa: F401 (entries are made there)
from .models import ParsedName
from .settings import default_cache_dir

SCHEMA_VERSION = 8  # 5: a blob of entries per folder; 7: in walk order; 8: ParsedName only, marshal v2
FILENAME = "index.sqlite"
BATCH_ROWS = 2000  # executemany size
BATCH_BYTES = 1 << 20  # blobs queued before they are written: memory stays flat
WRITE_AHEAD = 4  # batches waiting for the writer thread (at most ~5 MB of blobs in memory)
COMMIT_ROWS = 100_000  # an interrupted scan keeps what was committed
BUSY_SECONDS = 2.0  # waiting for another scan's lock before going on without the index
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB

_POINT = "SELECT rowid, blob FROM entries WHERE dir_hash = ?"
_AFTER = "SELECT dir_hash, rowid, blob FROM entries WHERE rowid > ? ORDER BY rowid LIMIT ?"
STREAM_ROWS = 64  # folders read ahead in storage order, which is the order of the first scan's walk
ROWS_PER_STATEMENT = 64  # the writer thread takes the GIL back once per statement, not per row


def _upsert(rows: int) -> str:
    """Writes ``rows`` folders (an update in place keeps the storage order)."""
    return ("INSERT INTO entries VALUES " + ", ".join(["(?, ?, ?, ?)"] * rows) +
            " ON CONFLICT (dir_hash) DO UPDATE SET files = excluded.files, blob = excluded.blob")


def signed_hash(h: int) -> int:
    """SQLite integers are signed 64-bit; hashes are unsigned."""
    return h - (1 << 64) if h >= 1 << 63 else h



_SEP = os.sep.encode()


def _key(path: str) -> bytes:
    """A folder path as stored: its bytes on disk (names need not be valid UTF-8)."""
    return path.encode("utf-8", "surrogateescape")


def _files_key(roots: Iterable[str]) -> str:
    joined = b"\0".join(sorted(_key(r) for r in roots))
    return f"files:{path_hash(joined.decode('utf-8', 'surrogateescape')):016x}"


def _is_corrupt(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _CORRUPT_CODES
    text = str(error)
    return "not a database" in text or "malformed" in text


def parser_fingerprint() -> str:
    """Changes whenever the parser or ParsedName could give other results."""
    from . import _speedups, _version

    parts = [str(SCHEMA_VERSION), _version.__version__, ",".join(ParsedName._fields),
             "python %d.%d" % sys.version_info[:2]]  # marshal's format may change between versions
    # The pure twins are the spec of the compiled ones; the scanner renders the NDJSON fields
    # stored with each entry. Their files are stat'ed, not imported (an import costs a scan
    # ~0.1 s when the pure parser is not loaded).
    here = os.path.dirname(os.path.abspath(__file__))
    speedups = os.path.dirname(os.path.abspath(_speedups.__file__))
    for path in (os.path.join(speedups, "_parse_py.py"), os.path.join(speedups, "_records_py.py"),
                 os.path.join(speedups, "_records_format.py"), os.path.join(here, "parse.py"),
                 os.path.join(here, "scan.py")):
        try:
            st = os.stat(path)
        except OSError:
            continue
        parts.append(f"{os.path.basename(path)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


class Index:
    """An open index; ``load_dir`` and ``store`` are what a scan calls per folder."""

    def __init__(self, path: Path, db: sqlite3.Connection, warn: Callable[[str, str], None]) -> None:
        self.path = str(path)
        self._db = db
        self._warn = warn
        self._put: list[tuple[int, bytes, int, bytes]] = []  # (folder, its path, files, blob)
        self._pending_bytes = 0
        self._seen: list[int] = []  # every folder this scan stored (see _prune)
        self._remembered: tuple[str, int] | None = None  # (key, files) of a whole scan
        self._batches: queue.Queue[list[tuple[int, bytes, int, bytes]] | None] = queue.Queue(WRITE_AHEAD)
        self._writer: threading.Thread | None = None  # started by the first batch
        self._write_error: sqlite3.DatabaseError | None = None
        self._broken = False  # stop using it for this run
        self._corrupt = False  # and move it aside at close
        self._load_error: sqlite3.DatabaseError | None = None
        # A first scan asks nothing of an empty index (a point query per folder otherwise).
        self._empty = db.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is None
        # and fills it through a rollback journal, which writes each new page once (the WAL writes
        # it twice: to the log, then the checkpoint; ~40% of the writer's CPU); back to WAL at close.
        self._filling = self._empty and _journal(db, "delete")
        self._reads = sqlite3.connect(str(path), timeout=BUSY_SECONDS, check_same_thread=False)
        self._ahead: dict[int, tuple[int, bytes]] = {}  # folder -> (rowid, blob), read ahead
        self._ahead_last = -1  # rowid of the last row read ahead

    @classmethod
    def open(cls, cache_dir: str | os.PathLike[str] | None = None,
             warn: Callable[[str, str], None] | None = None) -> "Index | None":
        """The index in ``cache_dir`` (default: the user cache dir); None if it cannot be used."""
        warn = warn or (lambda path, message: None)
        path = Path(cache_dir or default_cache_dir()) / FILENAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            warn(str(path.parent), f"cannot create the cache folder ({e.strerror}); scanning without the index")
            return None
        for attempt in (1, 2):
            try:
                return cls(path, _connect(path), warn)
            except sqlite3.DatabaseError as e:
                if attempt == 1 and _is_corrupt(e):
                    aside = _move_aside(path)
                    warn(str(path), f"index is corrupt ({e}); moved to {aside} and rebuilt")
                    continue
                warn(str(path), f"index not usable now ({e}: another scan running?); scanning without it")
                return None
        return None

    def load_dir(self, directory: str) -> bytes | None:
        """The folder's blob of entries; None when the index has no row for it.

        Rows come from the stream read ahead, else from a point query (after
        which the stream goes on from that row). Safe to call from a walker
        thread while the scan's thread writes.
        """
        if self._broken or self._load_error is not None or self._empty:
            return None
        key = signed_hash(path_hash(directory))
        try:
            found = self._ahead.pop(key, None)
            if found is None:
                found = self._reads.execute(_POINT, (key,)).fetchone()
                if found is None:
                    return None
                self._read_ahead(found[0])
            elif found[0] == self._ahead_last:
                self._read_ahead(found[0])
        except sqlite3.DatabaseError as e:
            self._load_error = e  # reported by the writing thread (store / close)
            return None
        return found[1]  # type: ignore[no-any-return]

    def _read_ahead(self, rowid: int) -> None:
        rows = self._reads.execute(_AFTER, (rowid, STREAM_ROWS)).fetchall()
        self._ahead = {key: (row, blob) for key, row, blob in rows}
        self._ahead_last = rows[-1][1] if rows else -1

    def store(self, directory: str, blob: bytes | None, files: int = 0) -> None:
        """Record that the folder was scanned; ``blob`` (of ``files`` entries, maybe none)
        replaces its entries, None keeps them."""
        if self._load_error is not None:
            self._fail(self._load_error)
        if self._write_error is not None:
            self._fail(self._write_error)
        if self._broken:
            return
        d = signed_hash(path_hash(directory))
        self._seen.append(d)
        if blob is not None:
            self._put.append((d, _key(directory), files, blob))
            self._pending_bytes += len(blob)
            if len(self._put) >= BATCH_ROWS or self._pending_bytes >= BATCH_BYTES:
                self._flush()

    def close(self, complete: bool = True, prune: Iterable[str] = ()) -> None:
        """Write what is queued and close (``complete`` is False when the scan stopped early).

        ``prune``: roots this scan walked completely (recursive, nothing excluded);
        rows of folders below them that the scan did not see are gone from disk.
        """
        if self._load_error is not None:
            self._fail(self._load_error)
        try:
            if not self._broken:
                self._flush()
            self._drain()
            if not self._broken:
                if complete:
                    if not self._empty:  # (rows this scan did not write: none when it began empty)
                        self._prune(prune)
                    if self._remembered is not None:
                        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", self._remembered)
                self._db.commit()
                if complete:
                    self._db.execute("PRAGMA optimize")
        except sqlite3.DatabaseError as e:
            self._fail(e)
        finally:
            self._drain()  # (a no-op unless an error above left the thread running)
            self._reads.close()
            if self._filling and not self._corrupt:
                _journal(self._db, "wal")  # (else the next open does it)
            self._db.close()
        if self._corrupt and os.path.exists(self.path):
            aside = _move_aside(Path(self.path))
            self._warn(self.path, f"index moved to {aside}; the next scan rebuilds it")

    def _prune(self, roots: Iterable[str]) -> None:
        """Forgets the folders below ``roots`` that this scan did not store: gone from disk."""
        db = self._db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS seen (dir_hash INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM temp.seen")
        db.executemany("INSERT OR IGNORE INTO temp.seen VALUES (?)", ((d,) for d in self._seen))
        for root in roots:
            key = _key(root.rstrip(os.sep) or os.sep)
            below = key if key.endswith(_SEP) else key + _SEP
            # [root/, root0): every path below root ("0" sorts right after the separator "/").
            db.execute("DELETE FROM entries WHERE (path = ? OR (path >= ? AND path < ?)) "
                       "AND dir_hash NOT IN temp.seen", (key, below, below[:-1] + bytes([below[-1] + 1])))

    def expected_files(self, roots: Iterable[str]) -> int | None:
        """How many files the last complete scan of exactly these roots listed (for an ETA)."""
        if self._broken:
            return None
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (_files_key(roots),)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return int(row[0]) if row is not None else None

    def remember_files(self, roots: Iterable[str], files: int) -> None:
        """Kept with the index at close (see expected_files)."""
        self._remembered = (_files_key(roots), files)

    def __len__(self) -> int:
        """How many files have entries."""
        return int(self._db.execute("SELECT coalesce(sum(files), 0) FROM entries").fetchone()[0])

    def _flush(self) -> None:
        """Hands the queued rows to the writer thread, which writes (and waits for the disk) while
        the scan goes on; waits when WRITE_AHEAD batches are still unwritten."""
        if not self._put:
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_batches, name="anivault-index-writer",
                                            daemon=True)
            self._writer.start()
        self._batches.put(self._put)
        self._put = []
        self._pending_bytes = 0

    def _write_batches(self) -> None:
        """The writer thread's loop; the first error is kept for the scan's thread to report."""
        uncommitted = 0
        while (batch := self._batches.get()) is not None:
            if self._write_error is not None:
                continue  # (drained: the scan goes on without the index)
            try:
                for at in range(0, len(batch), ROWS_PER_STATEMENT):
                    rows = batch[at:at + ROWS_PER_STATEMENT]
                    self._db.execute(_upsert(len(rows)), [value for row in rows for value in row])
                uncommitted += sum(put[2] for put in batch)
                if uncommitted >= COMMIT_ROWS:
                    self._db.commit()
                    uncommitted = 0
            except sqlite3.DatabaseError as e:
                self._write_error = e
            except Exception as e:  # (the thread must go on draining, or the scan would wait forever)
                self._write_error = sqlite3.OperationalError(f"index writer failed: {e!r}")

    def _drain(self) -> None:
        """Waits for the writer thread to write every batch and stop."""
        if self._writer is not None:
            self._batches.put(None)
            self._writer.join()
            self._writer = None
        if self._write_error is not None:
            self._fail(self._write_error)

    def _fail(self, error: Exception) -> None:
        """A broken or busy index stops being used; the scan goes on without it."""
        if self._broken:
            return
        self._broken = True
        if isinstance(error, sqlite3.DatabaseError) and not _is_corrupt(error):
            self._warn(self.path, f"index not used further ({error}); this scan's results are not cached")
            return
        self._corrupt = True
        self._warn(self.path, f"index is corrupt ({error}); scanning without it")


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), timeout=BUSY_SECONDS, isolation_level="DEFERRED",
                         check_same_thread=False)
    try:
        db.execute("PRAGMA page_size=16384")  # a new file: a folder's blob fits a page or two
        db.execute("PRAGMA journal_mode=WAL")
        # The index is a cache: no fsync (a first scan writes ~150 bytes per file; waiting for
        # the disk cost more than the parsing). A file damaged by a power cut is found
        # corrupt and rebuilt; an entry is used only when its path hash, size and mtime match.
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-2000")  # 2 MB (the default): memory stays flat on big libraries
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        fingerprint = parser_fingerprint()
        row = db.execute("SELECT value FROM meta WHERE key = 'parser'").fetchone()
        if row is None or row[0] != fingerprint:
            # Another parser or schema: cached results would be wrong, start over
            # (and give the space back: VACUUM of a nearly empty file is quick).
            for table in ("files", "entries", "folders"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('parser', ?)", (fingerprint,))
            db.commit()
            db.execute("VACUUM")
        db.execute("PRAGMA temp_store=MEMORY")
        # One row per folder with files, written only when they change: a re-scan of an
        # unchanged library writes nothing. The rowid keeps the order rows were first
        # written in, the walk's (see load_dir); the path is there for pruning.
        db.execute("""CREATE TABLE IF NOT EXISTS entries (
                          dir_hash INTEGER NOT NULL UNIQUE, path BLOB NOT NULL,
                          files INTEGER NOT NULL, blob BLOB NOT NULL)""")
        db.execute("CREATE INDEX IF NOT EXISTS entries_path ON entries (path, dir_hash)")  # covers _prune
        db.commit()
    except BaseException:
        db.close()
        raise
    return db


def _journal(db: sqlite3.Connection, mode: str) -> bool:
    """Switches the journal mode; False when it cannot be done now (another connection has the
    index open: then it stays as it is, without waiting)."""
    try:
        db.execute("PRAGMA busy_timeout=0")
        try:
            return bool(db.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode)
        finally:
            db.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
    except sqlite3.DatabaseError:
        return False


def _move_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    for suffix in ("-wal", "-shm"):
        try:
            os.replace(str(path) + suffix, str(aside) + suffix)
        except OSError:
            pass
    os.replace(path, aside)
    return aside
