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

Events are reported as dicts (the CLI writes them as NDJSON lines). State is
per pending file and per imported file under the watched folders only.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Iterable

from watchdog.events import FileSystemEvent, FileSystemEventHandler

IGNORED_SUFFIXES = (".part", ".!qb", ".crdownload", ".!ut", ".aria2", ".tmp")
DEFAULT_SETTLE = 10.0  # seconds a file's size and mtime must hold still
DEFAULT_BATCH = 2.0  # seconds without a newly ready file before a batch is imported
RETRY = 60.0  # seconds before files whose import failed are tried again
TICK = 0.25

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


def imported_from(roots: Iterable[str], data_dir: str | None = None) -> dict[str, Identity]:
    """Files the journal shows as placed from inside ``roots``: path → (size, mtime_ns) at the time.

    The catalog says which operations read from these folders; only their journals are read.
    """
    from .errors import AniVaultError
    from .journal import catalog, load_op

    roots = [os.path.abspath(r) for r in roots]
    seen: dict[str, Identity] = {}
    rows = catalog(data_dir)
    for operation in rows.operations():
        if not any(_inside(s, roots) or _inside(r, [s]) for s in operation.sources for r in roots):
            continue
        try:
            state = load_op(rows, operation.op)
        except (AniVaultError, ValueError):
            continue
        with state:
            for _, intent in state.placed():
                if _inside(intent.get("src", ""), roots):
                    seen[intent["src"]] = (intent["size"], intent["mtime_ns"])
    return seen


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
        self._pending: dict[str, tuple[Identity, float]] = {}  # path → (identity, since when unchanged)
        self._ready: dict[str, Identity] = {}
        self._last_ready = 0.0
        self._done: dict[str, Identity] = {}  # imported (or set aside) in this identity: not again
        self.imported = 0
        self.batches = 0

    # -- events from watchdog's thread

    def touch(self, path: str, folder: bool = False) -> None:
        with self._lock:
            if folder:
                self._touched.update(self._files_under([path]))
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
                self._touched.update(self._files_under(self.sources))
            while not self.stop_event.is_set():
                self.step()
                self.stop_event.wait(TICK)
        finally:
            observer.stop()
            observer.join()
            self._emit("stop", imported=self.imported, batches=self.batches, pending=len(self._pending))

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
        for path in touched:
            if not ignored(path) and _inside(path, self.sources):
                self._see(path, now)
        for path, (identity, since) in list(self._pending.items()):
            self._settle(path, identity, since, now)
        if self._ready and now - self._last_ready >= self.batch:
            self._import(now)

    def _see(self, path: str, now: float) -> None:
        identity = _identity(path)
        if identity is None:
            self._pending.pop(path, None)
            return
        if self._done.get(path) == identity or self._ready.get(path) == identity:
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
            if self._done.get(path) != current:
                self._ready[path] = current
                self._last_ready = now
                self._emit("ready", path=path, size=current[0])

    def _import(self, now: float) -> None:
        batch = dict(self._ready)
        self._ready.clear()
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
        for path, identity in batch.items():
            self._done[path] = identity  # filed, or left where it is by the plan: not again as it is
        summary = result.to_dict() if hasattr(result, "to_dict") else {}
        applied = summary.get("applied") or {}
        self.imported += applied.get("done", 0)
        self._emit("imported", files=len(paths), **summary)

    @staticmethod
    def _files_under(roots: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for root in roots:
            if os.path.isfile(root):
                found.add(os.path.abspath(root))
            for directory, _, files in os.walk(root):
                found.update(os.path.join(directory, f) for f in files)
        return found

    def _emit(self, event: str, **fields: Any) -> None:
        self.on_event({"event": event, "time": time.time(), **fields})
