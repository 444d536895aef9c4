"""The write-ahead journal of an organize run, its destination lock, and the run history.

One operation = one JSON-lines file ``<data dir>/journal/<op id>.jsonl`` (plus
``<op id>.plan.jsonl``, the plan it executes, for ``--resume``). Records:

* ``begin``  — who runs what (action, destination, pid, host, start time);
* ``mkdir``  — a directory about to be created (undo removes it when empty);
* ``do``     — the intent: entry index, action, source, destination, the temp
  name a copy is written under, and the source's identity (size, mtime_ns,
  sampled xxh3 ``fp``);
* ``ok`` / ``fail`` — the outcome (``ok`` of a copy carries the full xxh3);
* ``rmdir``  — an emptied source folder about to be removed (``--prune-empty``);
* ``end``    — the run finished (``complete`` or ``aborted``);
* ``undo`` / ``undone`` / ``undo-end`` — a rollback's progress.

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
   source is deleted, so a power cut cannot lose both.

A torn last line (killed mid-write) is ignored when reading.
"""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import xxhash

from .errors import AniVaultError, RefusedError
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


class Journal:
    """Append-only JSON lines with group commit: ``write`` buffers, ``commit`` makes durable."""

    def __init__(self, path: str, *, begin: dict[str, Any] | None = None) -> None:
        """Open ``path`` to append; with ``begin``, create it holding that first record.

        A new journal appears under its name only once its ``begin`` record is
        durable, so no journal ever exists without saying whose it is.
        """
        self.path = path
        self._buffer: list[str] = []
        try:
            if begin is not None:
                self._create(path, begin)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
        except OSError as e:
            raise AniVaultError(f"cannot open journal {path}: {e.strerror}",
                                hint="check the data dir (ANIVAULT_DATA_DIR) is writable") from e

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

    def write(self, record: dict[str, Any]) -> None:
        self._buffer.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))

    def write_raw(self, line: str) -> None:
        """A record already serialized as one JSON line (no newline)."""
        self._buffer.append(line)

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

    def close(self) -> None:
        try:
            self.commit()
        finally:
            os.close(self._fd)

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: str) -> Iterator[dict[str, Any]]:
    """Every complete record; a torn last line (a crash mid-write) is skipped."""
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                break
            try:
                yield json.loads(line.decode("utf-8", "surrogateescape"))
            except (ValueError, UnicodeDecodeError):
                continue


# ---------------------------------------------------------------- the state of one operation


@dataclass
class OpState:
    """What a journal says about one operation, folded from its records."""

    op: str
    path: str
    begin: dict[str, Any] = field(default_factory=dict)
    intents: dict[int, dict[str, Any]] = field(default_factory=dict)
    ok: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    mkdirs: list[str] = field(default_factory=list)
    rmdirs: list[str] = field(default_factory=list)
    undone: set[int] = field(default_factory=set)
    kept: dict[int, str] = field(default_factory=dict)  # undo left these alone, and why
    end: dict[str, Any] | None = None
    undo_started: bool = False
    undo_end: dict[str, Any] | None = None

    @property
    def unsettled(self) -> list[int]:
        """Intents without a durable outcome: a crash happened around them."""
        return [i for i in self.intents if i not in self.ok and i not in self.failed]

    @property
    def status(self) -> str:
        if self.undo_end is not None:
            return "undone" if not self.undo_end.get("kept") else "partly undone"
        if self.undo_started:
            return "undo interrupted"
        if self.end is None:
            return "interrupted" if not holder_alive(self.begin) else "running"
        return self.end.get("status", "complete")

    @property
    def dests(self) -> list[str]:
        return [d for d in (self.begin.get("dest"), self.begin.get("movies_dest")) if d]


def load(path: str) -> OpState:
    op = os.path.basename(path).removesuffix(".jsonl")
    state = OpState(op, path)
    for r in read_records(path):
        kind = r.get("t")
        if kind == "do":
            state.intents[r["i"]] = r
        elif kind == "ok":
            state.ok[r["i"]] = r
            state.failed.pop(r["i"], None)
        elif kind == "fail":
            state.failed[r["i"]] = r.get("error", "")
        elif kind == "mkdir":
            state.mkdirs.append(r["path"])
        elif kind == "rmdir":
            state.rmdirs.append(r["path"])
        elif kind == "undone":
            state.undone.add(r["i"])
        elif kind == "kept":
            state.kept[r["i"]] = r.get("why", "")
        elif kind == "begin":
            state.begin = r
        elif kind == "end":
            state.end = r
        elif kind == "undo":
            state.undo_started = True
        elif kind == "undo-end":
            state.undo_end = r
    return state


def journal_paths(data_dir: str | None = None) -> list[str]:
    """Every operation's journal, oldest first."""
    directory = journal_dir(data_dir)
    try:
        found = [n for n in os.listdir(directory) if n.endswith(".jsonl") and not n.endswith(".plan.jsonl")]
    except FileNotFoundError:
        return []
    return [os.path.join(directory, n) for n in sorted(found)]


def find_op(op_id: str | None, data_dir: str | None = None) -> OpState:
    """The operation ``op_id`` (a unique prefix is enough), or the latest one when None."""
    paths = journal_paths(data_dir)
    if not paths:
        raise AniVaultError("no organize operation in the history",
                            hint="`anivault history` lists operations; only applied runs are recorded")
    if op_id is None:
        return load(paths[-1])
    chosen = [p for p in paths if os.path.basename(p).startswith(op_id)]
    if len(chosen) != 1:
        raise AniVaultError(f"{'no' if not chosen else 'more than one'} operation matches {op_id!r}",
                            hint="`anivault history` lists operation ids")
    return load(chosen[0])


def unfinished(dests: Iterable[str] | None = None, data_dir: str | None = None) -> list[OpState]:
    """Interrupted operations (killed, crashed), optionally only those touching ``dests``."""
    wanted = {os.path.abspath(d) for d in dests} if dests is not None else None
    found = []
    for path in journal_paths(data_dir):
        state = load(path)
        if state.status not in ("interrupted", "undo interrupted"):
            continue
        if wanted is None or wanted & {os.path.abspath(d) for d in state.dests}:
            found.append(state)
    return found


def history(data_dir: str | None = None) -> list[dict[str, Any]]:
    """One summary per operation, oldest first."""
    rows = []
    for path in journal_paths(data_dir):
        s = load(path)
        rows.append({"op": s.op, "started": s.begin.get("started"), "action": s.begin.get("action"),
                     "dest": s.begin.get("dest"), "planned": s.begin.get("entries"),
                     "done": len(s.ok), "failed": len(s.failed), "undone": len(s.undone),
                     "status": s.status})
    return rows


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
