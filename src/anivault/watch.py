"""Watch: import files dropped into folders, once each is complete.

A watchdog observer reports file events; a file becomes *pending* and is
imported only once its size and mtime have not changed for ``settle``
seconds (download clients write in place or under a temporary name:
``.part``, ``.!qB``, ``.crdownload`` are ignored until renamed). Files that
become ready close together are imported as one batch (one operation, one
lock, one media-server refresh) once no file has become ready for ``batch``
seconds. Files the journal already shows as imported from these folders are
recognised at start, so a restart does not import them again; the initial
sweep picks up files that arrived while the watcher was down.

Events are reported as dicts (the CLI writes them as NDJSON lines). The watcher
streams: the files already imported are kept in a private temporary SQLite table
(:class:`Imported`), not in memory; sweeps of the watched folders (at start, and a
folder dropped in) are walked a slice per tick; at most ``MAX_WAITING`` files wait
to settle or be imported, and a batch holds at most ``MAX_BATCH`` files.
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from watchdog.events import FileSystemEvent, FileSystemEventHandler

IGNORED_SUFFIXES = (".part", ".!qb", ".crdownload", ".!ut", ".aria2", ".tmp")
DEFAULT_SETTLE = 10.0  # seconds a file's size and mtime must hold still
DEFAULT_BATCH = 2.0  # seconds without a newly ready file before a batch is imported
RETRY = 60.0  # seconds before files whose import failed are tried again
TICK = 0.25
SWEEP_PER_TICK = 2000  # paths of a sweep looked at per tick
MAX_WAITING = 10_000  # files pending or ready at once: a sweep waits while this many are
MAX_BATCH = 5000  # files imported as one batch (a huge drop is filed in several)

Identity = tuple[int, int]  # (size, mtime_ns): the same file, unchanged


def ignored(path: str) -> bool:
    """Temporary download names, our own temporary files and hidden files are never imported."""
    name = os.path.basename(path)
    return name.lower().endswith(IGNORED_SUFFIXES) or name.startswith(".")


def _identity(path: str) -> Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if os.path.isfile(path) else None


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class Imported:
    """Files imported from the watched folders: path → (size, mtime_ns) when imported.

    A private temporary SQLite table (like the plan store): a download folder seeded for
    years holds as many of them as files, so they are never all in memory.
    """

    def __init__(self) -> None:
        from .organize.store import connect

        self._db = connect()
        self._db.execute("CREATE TABLE imported (path BLOB PRIMARY KEY, size INTEGER NOT NULL, "
                         "mtime_ns INTEGER NOT NULL) WITHOUT ROWID")

    def add_all(self, files: Iterable[tuple[str, Identity]]) -> None:
        from .organize.store import fsencode

        self._db.executemany("INSERT OR REPLACE INTO imported VALUES (?, ?, ?)",
                             ((fsencode(path), size, mtime) for path, (size, mtime) in files))

    def get(self, path: str) -> Identity | None:
        from .organize.store import fsencode

        row = self._db.execute("SELECT size, mtime_ns FROM imported WHERE path = ?", (fsencode(path),)).fetchone()
        return (row[0], row[1]) if row else None

    def items(self) -> Iterator[tuple[str, Identity]]:
        from .organize.store import fsdecode

        for path, size, mtime in self._db.execute("SELECT path, size, mtime_ns FROM imported ORDER BY path"):
            yield fsdecode(path), (size, mtime)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM imported").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def imported_from(roots: Iterable[str], data_dir: str | None = None) -> Imported:
    """Files the journal shows as placed from inside ``roots``, with their (size, mtime_ns) then.

    The catalog says which operations read from these folders; only their journals are read,
    each streamed from its operation store into the table.
    """
    from .errors import AniVaultError
    from .journal import catalog, load_op

    roots = [os.path.abspath(r) for r in roots]
    seen = Imported()
    rows = catalog(data_dir)
    for operation in rows.operations():
        if not any(_inside(s, roots) or _inside(r, [s]) for s in operation.sources for r in roots):
            continue
        try:
            state = load_op(rows, operation.op)
        except (AniVaultError, ValueError):
            continue
        with state:
            seen.add_all((intent["src"], (intent["size"], intent["mtime_ns"]))
                         for _, intent in state.placed() if _inside(intent.get("src", ""), roots))
    return seen


def files_under(root: str) -> Iterator[str]:
    """Every file under ``root`` (or ``root`` itself when it is a file), walked lazily."""
    root = os.path.abspath(root)
    if os.path.isfile(root):
        yield root
    for directory, _, files in os.walk(root):
        for name in files:
            yield os.path.join(directory, name)


class _Events(FileSystemEventHandler):
    """Hands watchdog's file events (from its thread) to the watcher."""

    def __init__(self, touch: Callable[..., None]) -> None:
        self.touch = touch

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if event.event_type in ("created", "moved"):  # a whole folder dropped or renamed in
                self.touch(os.fsdecode(getattr(event, "dest_path", "") or event.src_path), folder=True)
            return
        if event.event_type in ("created", "modified", "closed", "moved"):
            path = getattr(event, "dest_path", "") or event.src_path
            self.touch(os.fsdecode(path))


class Watcher:
    """Waits for complete files under ``sources`` and hands ready batches to ``import_batch``.

    ``import_batch(paths)`` files them and returns a result with ``to_dict()``
    (an :class:`anivault.importer.ImportReport`); an exception it raises is
    reported as an ``error`` event and the batch is retried after ``retry``
    seconds. ``on_event`` receives every event as a dict.
    """

    def __init__(self, sources: Iterable[str], import_batch: Callable[[list[str]], Any], *,
                 settle: float = DEFAULT_SETTLE, batch: float = DEFAULT_BATCH, retry: float = RETRY,
                 on_event: Callable[[dict[str, Any]], None] | None = None, poll: bool = False,
                 data_dir: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.sources = [os.path.abspath(s) for s in sources]
        self.import_batch = import_batch
        self.settle, self.batch, self.retry = settle, batch, retry
        self.on_event = on_event or (lambda event: None)
        self.poll = poll
        self.data_dir = data_dir
        self.clock = clock
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._touched: set[str] = set()  # paths watchdog reported since the last tick
        self._sweeps: deque[Iterator[str]] = deque()  # folders to walk, a slice per tick
        self._pending: dict[str, tuple[Identity, float]] = {}  # path → (identity, since when unchanged)
        self._ready: dict[str, Identity] = {}
        self._last_ready = 0.0
        self._done: Imported | None = None  # imported (or set aside) in this identity: not again
        self.imported = 0
        self.batches = 0

    # -- events from watchdog's thread

    def touch(self, path: str, folder: bool = False) -> None:
        with self._lock:
            if folder:
                self._sweeps.append(files_under(path))
            else:
                self._touched.add(os.path.abspath(path))

    # -- the loop

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        """Watch until :meth:`stop` (the CLI calls it on SIGTERM and Ctrl-C); a batch in progress finishes."""
        for source in self.sources:
            if not os.path.isdir(source):
                from .errors import UsageError

                raise UsageError(f"cannot watch {source}: not a folder", hint="pass the download folder(s)")
        self._done = imported_from(self.sources, self.data_dir)
        observer = self._observer()
        observer.start()
        self._emit("start", sources=self.sources, settle_s=self.settle, batch_s=self.batch,
                   already_imported=len(self._done))
        try:
            with self._lock:  # files that arrived while we were not watching
                self._sweeps.extend(files_under(source) for source in self.sources)
            while not self.stop_event.is_set():
                self.step()
                self.stop_event.wait(TICK)
        finally:
            observer.stop()
            observer.join()
            self._emit("stop", imported=self.imported, batches=self.batches, pending=len(self._pending))
            self._done.close()

    def _observer(self) -> Any:
        if self.poll:  # network shares: no change notifications reach this host
            from watchdog.observers.polling import PollingObserver as Observer
        else:
            from watchdog.observers import Observer
        observer = Observer()
        handler = _Events(self.touch)
        for source in self.sources:
            observer.schedule(handler, source, recursive=True)
        return observer

    def step(self) -> None:
        """One tick: settle pending files, then import a batch when the burst is over."""
        now = self.clock()
        with self._lock:
            touched, self._touched = self._touched, set()
        for path in (*touched, *self._swept()):
            if not ignored(path) and _inside(path, self.sources):
                self._see(path, now)
        for path, (identity, since) in list(self._pending.items()):
            self._settle(path, identity, since, now)
        if self._ready and (now - self._last_ready >= self.batch or len(self._ready) >= MAX_BATCH):
            self._import(now)

    def _swept(self) -> list[str]:
        """The next slice of the sweeps, while fewer than MAX_WAITING files wait."""
        room = min(SWEEP_PER_TICK, MAX_WAITING - len(self._pending) - len(self._ready))
        paths: list[str] = []
        with self._lock:
            while self._sweeps and len(paths) < room:
                path = next(self._sweeps[0], None)
                if path is None:
                    self._sweeps.popleft()
                else:
                    paths.append(path)
        return paths

    def _imported(self, path: str) -> Identity | None:
        return self._done.get(path) if self._done is not None else None

    def _see(self, path: str, now: float) -> None:
        identity = _identity(path)
        if identity is None:
            self._pending.pop(path, None)
            return
        if self._ready.get(path) == identity or self._imported(path) == identity:
            return
        if path not in self._pending:
            self._emit("pending", path=path, size=identity[0])
        self._pending[path] = self._pending.get(path, (identity, now))

    def _settle(self, path: str, identity: Identity, since: float, now: float) -> None:
        current = _identity(path)
        if current is None:  # renamed away or deleted before it settled
            del self._pending[path]
        elif current != identity:
            self._pending[path] = (current, now)  # still being written
        elif now - since >= self.settle:
            del self._pending[path]
            if self._imported(path) != current:
                self._ready[path] = current
                self._last_ready = now
                self._emit("ready", path=path, size=current[0])

    def _import(self, now: float) -> None:
        batch = dict(islice(self._ready.items(), MAX_BATCH))
        for path in batch:
            del self._ready[path]
        paths = sorted(batch)
        self._emit("import", files=len(paths), paths=paths)
        try:
            result = self.import_batch(paths)
        except Exception as e:  # noqa: BLE001 - one failed batch must not stop the watcher
            message = getattr(e, "message", None) or str(e) or type(e).__name__
            self._emit("error", files=len(paths), error=message)
            for path, identity in batch.items():  # try again later, unless the file changes first
                self._pending[path] = (identity, now + self.retry - self.settle)
            return
        self.batches += 1
        if self._done is None:
            self._done = Imported()
        self._done.add_all(batch.items())  # filed, or left where it is by the plan: not again as it is
        summary = result.to_dict() if hasattr(result, "to_dict") else {}
        applied = summary.get("applied") or {}
        self.imported += applied.get("done", 0)
        self._emit("imported", files=len(paths), **summary)

    def _emit(self, event: str, **fields: Any) -> None:
        self.on_event({"event": event, "time": time.time(), **fields})
