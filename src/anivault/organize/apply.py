"""Apply: execute a plan's entries in journaled batches, under the destination lock.

:mod:`anivault.journal` records every intent durably before the file is touched;
the file operations themselves (:mod:`anivault.fileops`) never overwrite.
:class:`Executor` is public: ``undo``'s resume drives it too.
"""
from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .. import fileops
from ..errors import RefusedError
from ..fileops import DISK_FULL, error_text
from ..monitor import Metrics
from .entries import TODO, Plan, PlanEntry, PlanOptions
from .planfile import write_plan

FAILURES_KEPT = 1000  # failures kept with their reason (all are counted): an unwritable destination fails them all


@dataclass
class ApplyReport:
    op: str
    planned: int = 0
    done: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (the path that failed, why): the first ones
    failed_count: int = 0  # every failure
    pruned: int = 0
    aborted: str = ""

    def add_failure(self, path: str, why: str) -> None:
        self.failed_count += 1
        if len(self.failed) < FAILURES_KEPT:
            self.failed.append((path, why))

    @property
    def status(self) -> str:
        """How the operation ended, as its journal records it (and history shows it)."""
        if self.aborted:
            return "aborted"
        return f"finished with {self.failed_count} failed" if self.failed_count else "complete"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "planned": self.planned, "done": self.done, "bytes": self.bytes,
                "failed": self.failed_count, "pruned": self.pruned, "aborted": self.aborted}


APPLIED = "applied"  # files handled by apply (moved, or failed), counted per batch


class Executor:
    """Runs entries in journaled batches: intents committed before any file is touched."""

    def __init__(self, journal: Any, op: str, action: str, report: ApplyReport, *,
                 batch: int, metrics: Metrics, progress: Callable[[int], None] | None) -> None:
        self.journal = journal
        self.op = op
        self.action = action
        self.report = report
        self.batch = max(1, batch)
        self.metrics = metrics
        self.progress = progress or (lambda n: None)
        self.known_dirs: set[str] = set()
        self.moved_from: set[str] = set()

    def run(self, indexed: Iterable[tuple[int, PlanEntry]]) -> None:
        chunk: list[tuple[int, PlanEntry]] = []
        for item in indexed:
            chunk.append(item)
            if len(chunk) >= self.batch:
                self._batch(chunk)
                chunk = []
                if self.report.aborted:
                    return
        if chunk:
            self._batch(chunk)
        self.journal.commit()

    def _fail(self, i: int, entry: PlanEntry, why: str, path: str | None = None) -> None:
        """Entry ``i`` failed: ``path`` is the one that failed (default: its source)."""
        self.journal.write({"t": "fail", "i": i, "error": why})
        self.report.add_failure(path or entry.src, why)
        self.metrics.count("apply_failed")

    def _prepare(self, i: int, entry: PlanEntry) -> dict[str, Any] | None:
        """The intent for ``entry``, or None (and a fail record) when its source is not as planned."""
        try:
            st = os.lstat(entry.src)
            if not stat.S_ISREG(st.st_mode):  # a symlink or device is never moved in a file's place
                self._fail(i, entry, "source is not a regular file")
                return None
            if st.st_size != entry.size or st.st_mtime_ns != entry.mtime_ns:
                self._fail(i, entry, "source changed since planning")
                return None
            fp = fileops.fingerprint(entry.src, st.st_size)
        except FileNotFoundError:
            self._fail(i, entry, "source vanished since planning")
            return None
        except OSError as e:
            self._fail(i, entry, f"cannot read source: {error_text(e)}")
            return None
        self._plan_dirs(os.path.dirname(entry.dst))
        tmp = os.path.join(os.path.dirname(entry.dst), f".anivault-{self.op[-6:]}-{i}.part")
        intent = {"t": "do", "i": i, "a": self.action, "src": entry.src, "dst": entry.dst, "tmp": tmp,
                  "size": st.st_size, "fp": fp, **fileops.metadata_record(st)}  # undo restores mode, owner
        self.journal.write(intent)
        return intent

    def _plan_dirs(self, directory: str) -> None:
        """Journal each directory this batch will create (undo removes them when empty)."""
        missing = []
        while directory not in self.known_dirs and not os.path.isdir(directory):
            missing.append(directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        self.known_dirs.add(directory)
        for d in reversed(missing):
            self.journal.write({"t": "mkdir", "path": d})
            self.known_dirs.add(d)
        if missing:
            self.metrics.count("folders_created", len(missing))

    def _batch(self, chunk: list[tuple[int, PlanEntry]]) -> None:
        intents = [(i, e, intent) for i, e in chunk if (intent := self._prepare(i, e)) is not None]
        created_dirs = {os.path.dirname(intent["dst"]) for _, _, intent in intents}
        self.journal.commit()  # write-ahead: every intent is durable before its file is touched
        unusable: dict[str, str] = {}  # destination folder → why it could not be made
        for d in sorted(created_dirs):
            try:
                os.makedirs(d, exist_ok=True)
            except OSError as e:
                unusable[d] = f"cannot create the destination folder: {error_text(e)}"
        for n, (i, entry, intent) in enumerate(intents):
            folder = os.path.dirname(entry.dst)
            if folder in unusable:
                self._fail(i, entry, unusable[folder], folder)
                continue
            try:
                digest = fileops.do_action(self.action, entry.src, entry.dst, intent["tmp"], intent["mtime_ns"])
            except OSError as e:
                self._fail(i, entry, *blame(e, entry, self.action))
                if e.errno in DISK_FULL:
                    self.report.aborted = f"disk full writing {entry.dst}"
                    for j, rest, _ in intents[n + 1:]:
                        self._fail(j, rest, "not attempted: the run stopped (disk full)")
                    return
                continue
            if digest:
                self.journal.write({"t": "ok", "i": i, "hash": digest})
            else:  # the common case, formatted directly: one dumps() less per file
                self.journal.write_raw(f'{{"t":"ok","i":{i}}}')
            self.report.done += 1
            self.report.bytes += entry.size
            if self.action == "move":
                self.moved_from.add(os.path.dirname(entry.src))
            self.progress(1)
        self.metrics.count(APPLIED, len(intents))

    def prune(self, roots: Iterable[str]) -> None:
        """Remove source folders emptied by the moves, deepest first, never a scanned root."""
        roots = [os.path.abspath(r) for r in roots]
        candidates = {d for d in self.moved_from if any(_strictly_inside(d, r) for r in roots)}
        while candidates:
            empty = sorted((d for d in candidates if _is_empty_dir(d)), key=len, reverse=True)
            if not empty:
                return
            for d in empty:  # with its mode and owner: undo recreates it as it was
                self.journal.write({"t": "rmdir", "path": d, **_folder_metadata(d)})
            self.journal.commit()
            parents = set()
            for d in empty:
                try:
                    os.rmdir(d)
                    self.report.pruned += 1
                except OSError:
                    continue
                parent = os.path.dirname(d)
                if any(_strictly_inside(parent, r) for r in roots):
                    parents.add(parent)
            candidates = parents


def blame(e: OSError, entry: PlanEntry, action: str) -> tuple[str, str]:
    """(why, the path that failed) for a failed file operation: link/rename errors do not say
    whether the source or the destination side refused, so the folders are asked."""
    why, folder = error_text(e), os.path.dirname(entry.dst)
    if isinstance(e, FileExistsError) or e.errno in DISK_FULL:
        return why, entry.dst
    if e.errno == errno.ENOENT:
        if not os.path.lexists(entry.src):
            return "source vanished since planning", entry.src
        return f"destination folder missing: {why}", folder
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        if not os.access(folder, os.W_OK):
            return f"destination folder not writable: {why}", folder
        if action == "move" and not os.access(os.path.dirname(entry.src), os.W_OK):
            return f"source folder not writable (a move removes the file from it): {why}", \
                os.path.dirname(entry.src)
    return why, entry.src


def _strictly_inside(path: str, root: str) -> bool:
    return path != root and path.startswith(root.rstrip(os.sep) + os.sep)


def _folder_metadata(path: str) -> dict[str, Any]:
    try:
        return fileops.folder_record(path)
    except OSError:
        return {}


def _is_empty_dir(path: str) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return False


def begin_record(op: str, options: PlanOptions, entries: int) -> dict[str, Any]:
    from ..journal import process_identity

    me = process_identity()
    return {"t": "begin", "v": 1, "op": op, "action": options.action, "dest": options.dest,
            "movies_dest": options.movies_root if options.movies_root in options.roots[1:] else None,
            "sources": list(options.sources), "entries": entries, "pid": me["pid"], "host": me["host"],
            "proc_started": me["proc_started"], "started": me["since"]}


def refuse_if_unfinished(dests: Iterable[str], data_dir: str | None = None) -> None:
    """An interrupted run on these destinations must be resumed or rolled back first."""
    from ..journal import unfinished

    pending = unfinished(dests, data_dir)
    if pending:
        row = pending[-1]  # a catalog row: no journal is read here
        raise RefusedError(
            f"operation {row.op} on {row.dest} was interrupted ({row.done} of {row.planned} files done)",
            hint=f"finish it with `anivault organize --resume {row.op}` "
                 f"or roll it back with `anivault undo {row.op}`")


def apply_plan(plan: Plan, *, prune_empty: bool = False, batch: int = 512, metrics: Metrics | None = None,
               warn: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
               data_dir: str | None = None) -> ApplyReport:
    """Execute the plan's TODO entries under the destination lock, journaled; returns what happened."""
    from ..journal import DestinationLock, Journal, journal_dir, new_op_id

    metrics = metrics or Metrics()
    options = plan.options
    options.validate()
    op = new_op_id()
    planned = plan.count(TODO)
    report = ApplyReport(op, planned=planned)
    if not planned:  # nothing to do is not an operation: history and `undo --last` skip it
        report.op = ""
        return report
    with DestinationLock(options.roots, op, data_dir, warn):
        refuse_if_unfinished(options.roots, data_dir)
        directory = journal_dir(data_dir)
        os.makedirs(directory, exist_ok=True)
        write_plan(plan, os.path.join(directory, f"{op}.plan.jsonl"))
        with Journal(os.path.join(directory, f"{op}.jsonl"), begin=begin_record(op, options, planned)) \
                as journal, metrics.stage("apply"):
            executor = Executor(journal, op, options.action, report, batch=batch, metrics=metrics,
                                 progress=progress)
            metrics.expect(planned, APPLIED, "files")  # the live line's rate and ETA
            metrics.add_time("apply", 0.0, planned)  # the stage's items, for its throughput
            try:
                executor.run(plan.todo())  # streamed from the plan store
            finally:
                metrics.expect(None)
            if prune_empty and options.action == "move" and not report.aborted:
                executor.prune(options.sources)
            journal.write({"t": "end", "status": report.status, "done": report.done,
                           "failed": report.failed_count})
    return report
