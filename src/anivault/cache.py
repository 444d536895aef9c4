"""The persistent TMDB response cache: SQLite (WAL) behind an in-memory LRU + TTL index.

Entries are keyed by (endpoint, normalized query or id, language, year hint)
and hold the response JSON with created / expires / last access / size / hits.
Lifetimes depend on the kind: searches 7 days, details 30 days, "no result"
1 day. A size cap is enforced by priority deletion: expired entries first,
then searches (cheap to redo) before details, then least recently used.

The schema is created and migrated with sqlite-utils; the hot path uses
fixed SQL strings on one ``sqlite3`` connection, whose statement cache keeps
them prepared. Several processes may share the file (WAL, busy timeout,
single-statement writes). A corrupt file is moved aside and recreated, with
a warning, and the run goes on. Values are stored as the TMDB client checked
them (tmdb_answers.py); entries of schema 1, stored unchecked, are dropped.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ._speedups import LRUCache
from .errors import AniVaultError
from .settings import default_cache_dir

log = logging.getLogger(__name__)

FILENAME = "tmdb.sqlite"
SCHEMA_VERSION = 2  # 2: every entry was checked (tmdb_answers) before it was stored
DAY = 86400.0
# How long cached answers live, in days by category (settings cache_ttl_*_days); "not found"
# answers are retried soon.
DEFAULT_TTL_DAYS = {"search": 7.0, "details": 30.0, "none": 1.0}
SEARCH_KINDS = ("search/tv", "search/movie")
# Per-row cost beyond key and body (columns, b-tree cell and page slack), so the
# accounted size tracks the file size.
ROW_OVERHEAD = 96
PRUNE_TO = 0.9  # prune to 90% of the cap, so a full cache does not prune on every write
PENDING_TOUCHES = 50_000  # access times kept in memory before one batched UPDATE
MISSING: Any = object()  # get()'s "not cached"; a cached "no result" is None

_GET = "SELECT body, expires FROM entries WHERE key = ?"
_PUT = ("INSERT OR REPLACE INTO entries (key, kind, body, created, expires, last_access, size, hits) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0)")
_TOUCH = "UPDATE entries SET last_access = max(last_access, ?), hits = hits + ? WHERE key = ?"
_TOTAL = "SELECT total(size) FROM entries"


def make_key(endpoint: str, ident: object, language: str, year: int | None = None) -> str:
    """The cache key of one request; never contains credentials."""
    return f"{endpoint}|{ident}|{language}|{'' if year is None else year}"


def category(kind: str) -> str:
    return "search" if kind in SEARCH_KINDS else "details"


def is_empty(value: Any) -> bool:
    """A "no result" answer: a 404 (None) or a search with no results."""
    return value is None or (isinstance(value, dict) and value.get("results") == [])


def _is_corruption(error: sqlite3.DatabaseError) -> bool:
    if isinstance(error, sqlite3.OperationalError):  # locked, busy, I/O: not corruption
        return False
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error).lower()
    return code in (11, 26) or "malformed" in text or "not a database" in text or "corrupt" in text


# Decoded answers kept in memory. A run asks for a series' details and season pages close together,
# so a small LRU serves the repeats; the rest is one indexed read from disk. (50,000 held every answer
# of a 1M-file run: ~40 MB that grew with the library.)
MEMORY_ENTRIES = 256


class TMDBCache:
    """Thread-safe; one per process and cache file."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, max_mb: float = 256,
                 ttl_days: dict[str, float] | None = None, memory_entries: int = MEMORY_ENTRIES,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else default_cache_dir() / FILENAME
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.ttl = {k: v * DAY for k, v in (ttl_days or DEFAULT_TTL_DAYS).items()}
        self.clock = clock
        self.warnings: list[str] = []
        self.hits = self.misses = 0
        self._memory = LRUCache(memory_entries, clock=clock)
        self._lock = threading.RLock()
        self._pending: dict[str, list[float]] = {}  # key -> [last access, hits] not yet written
        self._scale = 1.5  # disk bytes per accounted byte, until measured
        self._conn = self._open()
        self._approx_bytes = self._total_bytes()

    # ------------------------------------------------------------ opening

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._connect()
        except sqlite3.DatabaseError as e:
            if not _is_corruption(e):
                raise self._fatal(e) from e
            self._move_aside(e)
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False,
                               cached_statements=64)
        try:
            # Before anything creates a page: freed pages can then go back to the filesystem.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=NORMAL")
            # Keep the WAL small next to the cap (it is truncated after each prune). Smaller
            # checkpoint intervals than 64 pages make every write slow.
            conn.execute(f"PRAGMA wal_autocheckpoint = {max(64, min(1000, self.max_bytes // 16 // 4096))}")
            _migrate(conn)
            conn.execute(_TOTAL).fetchone()  # touches the table: a garbage file fails here
        except BaseException:
            conn.close()
            raise
        if os.name == "posix":
            os.chmod(self.path, 0o600)
        return conn

    def _move_aside(self, error: Exception) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                os.replace(src, Path(str(aside) + suffix))
        message = f"TMDB cache {self.path} was unreadable ({error}); moved to {aside.name} and started empty"
        self.warnings.append(message)
        log.warning(message)

    def _recover(self, error: sqlite3.DatabaseError) -> None:
        """Corruption found mid-run: start over on a fresh file, keep the in-memory index."""
        try:
            self._conn.close()
        except sqlite3.Error:
            pass
        self._pending.clear()
        self._move_aside(error)
        self._conn = self._connect()
        self._approx_bytes = 0

    def _fatal(self, error: sqlite3.Error) -> AniVaultError:
        return AniVaultError(f"TMDB cache {self.path}: {error}",
                             hint="another process may hold it locked; retry, or use --cache-dir")

    def _guarded(self, action: Callable[[], Any], default: Any = None) -> Any:
        """Run a database action; corruption is recovered from, other errors reported."""
        try:
            return action()
        except sqlite3.DatabaseError as e:
            if not _is_corruption(e):
                raise self._fatal(e) from e
            self._recover(e)
            return default

    # ------------------------------------------------------------ hot path

    def get(self, key: str) -> Any:
        """The cached value (None for a cached "no result"), or MISSING."""
        with self._lock:
            value = self._memory.get(key, MISSING)
            if value is MISSING:
                value = self._guarded(lambda: self._load(key), MISSING)
            if value is MISSING:
                self.misses += 1
                return MISSING
            self.hits += 1
            self._touch(key)
            return value

    def _load(self, key: str) -> Any:
        row = self._conn.execute(_GET, (key,)).fetchone()
        now = self.clock()
        if row is None or row[1] <= now:
            return MISSING
        value = json.loads(row[0])
        self._memory.put(key, value, ttl=row[1] - now)
        return value

    def _touch(self, key: str) -> None:
        entry = self._pending.get(key)
        if entry is None:
            self._pending[key] = [self.clock(), 1]
        else:
            entry[0] = self.clock()
            entry[1] += 1
        if len(self._pending) >= PENDING_TOUCHES:
            self._flush_access()

    def put(self, key: str, kind: str, value: Any) -> None:
        """Store one response (None: "not found"); its lifetime follows from kind and emptiness."""
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        ttl = self.ttl["none"] if is_empty(value) else self.ttl[category(kind)]
        now = self.clock()
        size = len(body.encode("utf-8")) + len(key.encode("utf-8")) + ROW_OVERHEAD
        with self._lock:
            self._memory.put(key, value, ttl=ttl)
            self._guarded(lambda: self._conn.execute(_PUT, (key, kind, body, now, now + ttl, now, size)))
            self._approx_bytes += size
            if self._approx_bytes * self._scale > self.max_bytes:
                self.prune()

    # ------------------------------------------------------------ maintenance

    def _flush_access(self) -> None:
        if not self._pending:
            return
        rows = [(at, hits, key) for key, (at, hits) in self._pending.items()]
        self._pending.clear()
        self._guarded(lambda: self._in_transaction(lambda: self._conn.executemany(_TOUCH, rows)))

    def _in_transaction(self, action: Callable[[], Any]) -> Any:
        """One transaction (autocommit would make each row of a batch its own)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            result = action()
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return result

    def flush(self) -> None:
        """Write pending access times and hit counts."""
        with self._lock:
            self._flush_access()

    def _total_bytes(self) -> int:
        return int(self._guarded(lambda: self._conn.execute(_TOTAL).fetchone()[0], 0))

    def prune(self, max_bytes: int | None = None) -> dict[str, int]:
        """Delete expired entries, then (while over the cap) searches before details, oldest use first."""
        cap = self.max_bytes if max_bytes is None else max_bytes
        with self._lock:
            self._flush_access()
            result = self._guarded(lambda: self._prune(cap), {"removed": 0, "expired": 0, "bytes": 0})
            self._approx_bytes = self._total_bytes()
            return result

    def _prune(self, cap: int) -> dict[str, int]:
        doomed, expired, freed = self._in_transaction(lambda: self._delete_for(cap))
        for (key,) in doomed:
            self._memory.pop(key)
        if doomed:
            self._conn.execute("PRAGMA incremental_vacuum")  # give freed pages back to the filesystem
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        self._scale = self._disk_scale()
        return {"removed": len(doomed), "expired": expired, "bytes": int(freed)}

    def _delete_for(self, cap: int) -> tuple[list[tuple[str]], int, int]:
        conn = self._conn
        total = conn.execute(_TOTAL).fetchone()[0]
        # The cap is on disk bytes; sizes are accounted per row, so convert with the file's own ratio.
        limit = cap / self._disk_scale()
        target = limit * PRUNE_TO if total > limit else total
        doomed: list[tuple[str]] = []
        freed = expired = 0
        order = conn.execute(
            "SELECT key, size, expires <= ? AS dead FROM entries "
            "ORDER BY dead DESC, kind IN ('search/tv', 'search/movie') DESC, last_access ASC",
            (self.clock(),))
        for key, size, dead in order:
            if not dead and total - freed <= target:
                break
            doomed.append((key,))
            freed += size
            expired += bool(dead)
        conn.executemany("DELETE FROM entries WHERE key = ?", doomed)
        return doomed, expired, freed

    def _disk_scale(self) -> float:
        """Bytes the file uses per accounted byte (pages, indexes, slack); at least 1."""
        conn = self._conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
        used = pages * conn.execute("PRAGMA page_size").fetchone()[0]
        total = conn.execute(_TOTAL).fetchone()[0]
        return max(1.0, used / total) if total > 64 * 1024 else self._scale

    def clear(self) -> int:
        """Delete every entry; how many there were."""
        with self._lock:
            self._pending.clear()
            self._memory.clear()
            n = self._guarded(lambda: self._conn.execute("DELETE FROM entries").rowcount, 0)
            self._guarded(lambda: self._conn.execute("VACUUM"))
            self._approx_bytes = 0
            return int(n)

    def record_run(self, requests: int, hits: int | None = None, misses: int | None = None,
                   started: float | None = None) -> None:
        """Remember a run's lookups and requests for `cache stats` (default: this object's counts)."""
        with self._lock:
            self._flush_access()
            row = (started or self.clock(), self.clock(), requests,
                   self.hits if hits is None else hits, self.misses if misses is None else misses)
            self._guarded(lambda: self._conn.execute(
                "INSERT INTO runs (started, finished, requests, hits, misses) VALUES (?, ?, ?, ?, ?)", row))

    def stats(self) -> dict[str, Any]:
        """Entries by kind, bytes on disk, hit rate of the last run and over the cache's lifetime."""
        with self._lock:
            self._flush_access()
            now = self.clock()
            kinds = self._guarded(lambda: self._conn.execute(
                "SELECT kind, count(*), total(size), total(expires <= ?), total(hits) "
                "FROM entries GROUP BY kind ORDER BY kind", (now,)).fetchall(), [])
            runs = self._guarded(lambda: self._conn.execute(
                "SELECT count(*), total(hits), total(misses), total(requests) FROM runs").fetchone(),
                (0, 0, 0, 0))
            last = self._guarded(lambda: self._conn.execute(
                "SELECT hits, misses, requests, finished FROM runs ORDER BY id DESC LIMIT 1").fetchone())
        by_kind = {k: {"entries": n, "bytes": int(b), "expired": int(x), "hits": int(h)}
                   for k, n, b, x, h in kinds}
        return {
            "path": str(self.path),
            "entries": sum(v["entries"] for v in by_kind.values()),
            "by_kind": by_kind,
            "bytes_accounted": sum(v["bytes"] for v in by_kind.values()),
            "bytes_on_disk": self.disk_bytes(),
            "max_bytes": self.max_bytes,
            "last_run": _rates(*last[:3]) | {"finished": last[3]} if last else None,
            "lifetime": _rates(runs[1], runs[2], runs[3]) | {"runs": runs[0]},
        }

    def disk_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal"))
                   if os.path.exists(p))

    def close(self) -> None:
        with self._lock:
            try:
                self._flush_access()
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # another process may be reading; the WAL is folded in later
            finally:
                self._conn.close()

    def __enter__(self) -> "TMDBCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rates(hits: float, misses: float, requests: float) -> dict[str, Any]:
    lookups = hits + misses
    return {"hits": int(hits), "misses": int(misses), "requests": int(requests),
            "hit_rate": round(hits / lookups, 4) if lookups else None}


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION (tracked in PRAGMA user_version)."""
    import sqlite_utils

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
        if version < 1:
            _create_v1(sqlite_utils.Database(conn))
        elif version < 2:  # answers cached before they were checked: fetched again, checked
            conn.execute("DELETE FROM entries")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _create_v1(db: Any) -> None:
    db["entries"].create({"key": str, "kind": str, "body": str, "created": float, "expires": float,
                          "last_access": float, "size": int, "hits": int},
                         pk="key", not_null={"kind", "body", "created", "expires", "last_access", "size"},
                         defaults={"hits": 0}, if_not_exists=True)
    db["entries"].create_index(["expires"], if_not_exists=True)
    db["entries"].create_index(["kind", "last_access"], if_not_exists=True)
    db["runs"].create({"id": int, "started": float, "finished": float, "requests": int,
                       "hits": int, "misses": int}, pk="id", if_not_exists=True)
