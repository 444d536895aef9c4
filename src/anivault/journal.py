"""The write-ahead journal of an organize run, its destination lock, and the run history.

One operation = one JSON-lines file ``<data dir>/journal/<op id>.jsonl`` (plus
``<op id>.plan.jsonl``, the plan it executes, for ``--resume``) and one row in
the operations catalog (:mod:`anivault.catalog`), which is all ``history``,
``undo --last`` and the "unfinished operation" check read. Records:

* ``begin``  — who runs what (action, destination, pid, host, start time);
* ``mkdir``  — a directory about to be created (undo removes it when empty);
* ``do``     — the intent: entry index, action, source, destination, the temp
  name a copy is written under, and the source's identity (size, mtime_ns,
  sampled xxh3 ``fp``) and ``meta`` = [mode, uid, gid] (undo gives them back);
* ``ok`` / ``fail`` — the outcome (``ok`` of a copy carries the full xxh3);
* ``rmdir``  — an emptied source folder about to be removed (``--prune-empty``),
  with its mode, owner, mtime and xattrs, so undo recreates it as it was;
* ``end``    — the run finished (``complete`` or ``aborted``); ``resume`` reopens it;
* ``undo`` / ``undone`` / ``kept`` / ``undo-end`` — a rollback's progress.

The latest record about an entry is the last word on it: a new ``do`` (a
resumed retry) clears an earlier ``fail``, so a crash during ``--resume``
leaves an intent without outcome that recovery settles from the filesystem.

Group commit, and what it guarantees
------------------------------------
Records are buffered and written with one ``write`` + ``fsync`` per batch
(hundreds of operations) instead of one per operation. The apply loop
commits a batch's ``mkdir``/``do`` records *before* touching any of its
files, so:

1. every file operation that may have happened has a durable intent record
   (write-ahead: nothing on disk is ever unexplained by the journal);
2. ``ok``/``fail`` records ride along with the next commit, so a crash or a
   power cut can lose at most the outcomes of the last batch — never an
   intent. Recovery therefore never trusts a missing outcome: it inspects the
   filesystem for every intent without a durable outcome (see ``undo.py``)
   and settles it as done or not done;
3. a copy is written under a temporary name, fsynced and verified before it
   is linked to its final name, so a half-copied file is never taken for a
   complete one; recovery deletes leftover temporary files (they are named
   in the intent);
4. a move across filesystems fsyncs the copy and its directory before the
   source is deleted, so a power cut cannot lose both;
5. Ctrl-C while a journal is open is deferred to the next record or the next
   MiB of a copy, where the interrupted step has finished or cleaned up.

A torn or malformed line (killed mid-write, or edited) is reported as
``file:line`` and skipped; the rest of the journal is used. Appending to a
journal whose last line is torn first ends that line.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from typing import Any, Iterable

import xxhash

from .catalog import Catalog, Operation, from_state
from .catalog import now as catalog_now
from .errors import AniVaultError, RefusedError
from .interrupts import interrupts
from .opstate import OpState, load, read_records  # noqa: F401 (read_records: the journal's reader)
from .settings import default_data_dir

JOURNAL_VERSION = 1


def journal_dir(data_dir: str | os.PathLike[str] | None = None) -> str:
    return os.path.join(data_dir or default_data_dir(), "journal")


def lock_dir(data_dir: str | os.PathLike[str] | None = None) -> str:
    return os.path.join(data_dir or default_data_dir(), "locks")


def new_op_id() -> str:
    """Sortable by start time, unique across processes: ``20261124T081700.123456Z-3f2a91``."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"{stamp}.{int(now % 1 * 1e6):06d}Z-{os.urandom(3).hex()}"


def fsync_dir(path: str) -> None:
    """Make a directory's entries (a new, renamed or removed name) durable."""
    if os.name != "posix":  # Windows cannot open a directory for fsync; NTFS journals metadata
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Records that change an operation's catalog row, once durable.
_CATALOGUED = frozenset({"end", "resume", "undo", "undo-end"})
CHECKPOINT_SECONDS = 2.0  # how often a running operation's counts reach the catalog


class Journal:
    """Append-only JSON lines with group commit: ``write`` buffers, ``commit`` makes durable.

    Used as a context manager it also defers Ctrl-C to safe points (see
    :mod:`anivault.interrupts`) and keeps the operation's catalog row current.
    """

    def __init__(self, path: str, *, begin: dict[str, Any] | None = None) -> None:
        """Open ``path`` to append; with ``begin``, create it holding that first record.

        A new journal appears under its name only once its ``begin`` record is
        durable, so no journal ever exists without saying whose it is.
        """
        self.path = path
        self.op = os.path.basename(path).removesuffix(".jsonl")
        self.catalog = Catalog(os.path.dirname(path) or ".")
        self._buffer: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._counts = {"base_done": 0, "base_failed": 0, "ok": 0, "fail": 0}
        self._running = False
        self._checkpoint = time.monotonic()
        try:
            if begin is not None:
                self._create(path, begin)
            self._fd = os.open(path, os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0))
            self._end_torn_line()
        except OSError as e:
            raise AniVaultError(f"cannot open journal {path}: {e.strerror}",
                                hint="check the data dir (ANIVAULT_DATA_DIR) is writable") from e
        if begin is not None:
            self._catalogue_begin(begin)

    @staticmethod
    def _create(path: str, begin: dict[str, Any]) -> None:
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        tmp = path + ".new"
        with open(tmp, "wb") as f:
            f.write((json.dumps(begin, ensure_ascii=False, separators=(",", ":")) + "\n")
                    .encode("utf-8", "surrogateescape"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # op ids are unique: nothing is replaced
        fsync_dir(directory)

    def _end_torn_line(self) -> None:
        """A crash mid-write leaves a line without its newline: end it, so our first record stays whole."""
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            os.write(self._fd, b"\n")

    def write(self, record: dict[str, Any]) -> None:
        self._buffer.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        kind = record.get("t")
        if kind in _CATALOGUED:
            self._events.append(record)
        elif kind in ("ok", "fail"):
            self._counts[kind] += 1
        interrupts.check()  # a record written: the step it records is complete or not begun

    def write_raw(self, line: str, kind: str = "ok") -> None:
        """A record of ``kind`` (``ok``, ``undone``) already serialized as one JSON line (no newline)."""
        self._buffer.append(line)
        if kind in self._counts:
            self._counts[kind] += 1
        interrupts.check()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def commit(self) -> None:
        """Write the buffered records and fsync: after this they survive a crash or power cut."""
        if not self._buffer:
            return
        data = ("\n".join(self._buffer) + "\n").encode("utf-8", "surrogateescape")
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as e:
            raise AniVaultError(f"cannot write journal {self.path}: {e.strerror}",
                                hint="free space in the data dir; nothing was done without a journal entry") from e
        self._buffer.clear()
        self._update_catalog()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            os.close(self._fd)

    def __enter__(self) -> "Journal":
        interrupts.__enter__()
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        try:
            self.close()
        finally:
            interrupts.__exit__()
        if exc_type is None:
            interrupts.check()  # Ctrl-C during the last steps: the run is whole, still say it was interrupted

    # ------------------------------------------------------------ the catalog row

    def _catalogue_begin(self, begin: dict[str, Any]) -> None:
        self._running = True
        self._safely(self.catalog.put, Operation(
            op=self.op, status="running", action=begin.get("action"), dest=begin.get("dest"),
            movies_dest=begin.get("movies_dest"), sources=list(begin.get("sources") or []),
            planned=int(begin.get("entries") or 0), started=begin.get("started"),
            holder={k: begin.get(k) for k in ("pid", "host", "proc_started")}))

    def _update_catalog(self) -> None:
        events, self._events = self._events, []
        for r in events:
            self._catalogue_event(r)
        if self._running and time.monotonic() - self._checkpoint >= CHECKPOINT_SECONDS:
            c = self._counts
            self._safely(self.catalog.update, self.op, done=c["base_done"] + c["ok"],
                         failed=c["base_failed"] + c["fail"])
            self._checkpoint = time.monotonic()

    def _catalogue_event(self, r: dict[str, Any]) -> None:
        kind = r["t"]
        if kind == "resume":
            self._running = True
            self._counts.update(base_done=int(r.get("done") or 0), base_failed=int(r.get("failed") or 0),
                                ok=0, fail=0)
            self._safely(self.catalog.update, self.op, status="running", holder=_holder(r),
                         done=self._counts["base_done"], failed=self._counts["base_failed"])
        elif kind == "end":
            self._running = False
            self._safely(self.catalog.update, self.op, status=r.get("status", "complete"),
                         done=int(r.get("done") or 0), failed=int(r.get("failed") or 0), ended=catalog_now())
        elif kind == "undo":
            self._safely(self.catalog.update, self.op, status="undoing", holder=_holder(r))
        elif kind == "undo-end":
            kept = int(r.get("kept") or 0)
            self._safely(self.catalog.update, self.op, status="partly undone" if kept else "undone",
                         undone=int(r.get("undone") or 0), kept=kept, ended=catalog_now())

    @staticmethod
    def _safely(call: Any, *args: Any, **kwargs: Any) -> None:
        """The row is a summary of the journal: failing to update it never stops the run.

        A stale row reads as "interrupted"; the undo or resume that settles it
        folds the journal and writes the row again (:func:`record_state`).
        """
        try:
            call(*args, **kwargs)
        except (sqlite3.Error, OSError, AniVaultError):
            pass


def _holder(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in ("pid", "host", "proc_started")}


# ---------------------------------------------------------------- the state of one operation


def record_state(state: OpState) -> None:
    """Write what a folded journal says back to the catalog (after a settle, or a stale row)."""
    try:
        Catalog(os.path.dirname(state.path)).put(from_state(state))
    except (sqlite3.Error, OSError, AniVaultError):
        pass  # the row stays stale: it reads as interrupted, and the next undo/resume tries again


def catalog(data_dir: str | None = None) -> Catalog:
    return Catalog(journal_dir(data_dir))


def find_op(op_id: str | None, data_dir: str | None = None, *, undoable: bool = False) -> OpState:
    """The operation ``op_id`` (a unique prefix is enough), or the latest one when None
    (with ``undoable``: the latest one not undone yet), folded; close it when done."""
    rows = catalog(data_dir)
    if op_id is None:
        latest = rows.operations(newest_first=True, limit=1,
                                 where="WHERE status != 'undone'" if undoable else "")
        if not latest:
            left = " left to undo" if undoable and rows.operations(limit=1) else ""
            raise AniVaultError(f"no organize operation{left or ' in the history'}",
                                hint="`anivault history` lists operations; only applied runs are recorded")
        return load_op(rows, latest[0].op)
    chosen = rows.matching(op_id)
    if len(chosen) != 1:
        raise AniVaultError(f"{'no' if not chosen else 'more than one'} operation matches {op_id!r}",
                            hint="`anivault history` lists operation ids")
    return load_op(rows, chosen[0].op)


def load_op(rows: Catalog, op: str) -> OpState:
    path = os.path.join(rows.directory, f"{op}.jsonl")
    try:
        return load(path)
    except OSError as e:
        raise AniVaultError(f"cannot read the journal of operation {op}: {e.strerror}",
                            hint=f"check {path}") from e


def unfinished(dests: Iterable[str] | None = None, data_dir: str | None = None) -> list[Operation]:
    """Interrupted operations (killed, crashed), oldest first; optionally only those touching ``dests``."""
    wanted = {os.path.abspath(d) for d in dests} if dests is not None else None
    found = []
    rows = catalog(data_dir)
    for row in rows.active():
        if row.state not in ("interrupted", "undo interrupted") or rows.ended_after_all(row):
            continue
        if wanted is None or wanted & {os.path.abspath(d) for d in row.dests}:
            found.append(row)
    return found


def history(data_dir: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """One summary per operation, oldest first (the latest ``limit``): read from the catalog alone."""
    rows = catalog(data_dir).operations(newest_first=True, limit=limit)
    return [row.summary() for row in reversed(rows)]


# ---------------------------------------------------------------- the destination lock


def process_identity() -> dict[str, Any]:
    """Who this process is, as a lock or journal records it (a pid alone can be reused)."""
    import psutil

    pid = os.getpid()
    try:
        created = psutil.Process(pid).create_time()
    except psutil.Error:
        created = None
    return {"pid": pid, "host": socket.gethostname(), "proc_started": created,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def holder_alive(holder: dict[str, Any]) -> bool:
    """Is the process that wrote ``holder`` still running? Another host's process counts as alive."""
    import psutil

    if not holder or holder.get("host") != socket.gethostname():
        return bool(holder)
    pid = holder.get("pid")
    if not isinstance(pid, int) or not psutil.pid_exists(pid):
        return False
    started = holder.get("proc_started")
    try:  # a recycled pid belongs to a process started later
        return started is None or abs(psutil.Process(pid).create_time() - started) < 1.0
    except psutil.Error:
        return False


def describe_holder(holder: dict[str, Any]) -> str:
    op = f", operation {holder['op']}" if holder.get("op") else ""
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}{op}"


_LOCK_OFFSET = 1 << 30  # Windows locks bytes: lock one far past the holder text, which stays readable


def _try_lock(fd: int) -> bool:
    """An OS lock on ``fd`` that the kernel drops when the process dies (SIGKILL, crash)."""
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _read_fd(fd: int) -> dict[str, Any] | None:
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    try:
        holder = json.loads(data.decode("utf-8", "replace")) if data.strip() else None
    except ValueError:
        return None
    return holder if isinstance(holder, dict) else None


class DestinationLock:
    """An exclusive lock per destination root: a second run refuses (exit 6) naming the holder.

    The lock file holds the holder's pid, host and start time; the OS lock on
    it vanishes with its process, so a lock left by a killed run is detected
    (its text is still there, its OS lock is not) and taken over with a warning.
    """

    def __init__(self, dests: Iterable[str], op: str = "", data_dir: str | None = None,
                 warn: Any = None) -> None:
        self.dests = sorted({os.path.realpath(d) for d in dests})
        self.op = op
        self.directory = lock_dir(data_dir)
        self.warn = warn or (lambda message: None)
        self._held: list[int] = []

    def _path(self, dest: str) -> str:
        key = xxhash.xxh3_64_hexdigest(dest.encode("utf-8", "surrogateescape"))
        return os.path.join(self.directory, f"{key}.lock")

    def acquire(self) -> "DestinationLock":
        os.makedirs(self.directory, exist_ok=True)
        try:
            for dest in self.dests:
                self._acquire_one(dest)
        except BaseException:
            self.release()
            raise
        return self

    def _acquire_one(self, dest: str) -> None:
        path = self._path(dest)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        if not _try_lock(fd):
            holder = _read_fd(fd)
            os.close(fd)
            who = describe_holder(holder) if holder else "another process"
            raise RefusedError(f"destination {dest} is locked by {who}",
                               hint="wait for that run to finish, or check `anivault history`")
        previous = _read_fd(fd)
        if previous:  # a holder that never released: it died (SIGKILL, power cut)
            self.warn(f"taking over the stale lock on {dest} left by {describe_holder(previous)}, "
                      "which is no longer running")
        me = json.dumps(dict(process_identity(), op=self.op, dest=dest)).encode()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, me)
        os.fsync(fd)
        self._held.append(fd)

    def release(self) -> None:
        for fd in self._held:
            try:
                os.ftruncate(fd, 0)  # empty text = released cleanly
            finally:
                os.close(fd)  # drops the OS lock
        self._held.clear()

    def __enter__(self) -> "DestinationLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
