"""Apply: execute a plan's entries in journaled batches, under the destination lock.

:mod:`anivault.journal` records every intent durably before the file is touched;
the file operations themselves (:mod:`anivault.fileops`) never overwrite.
:class:`Executor` is public: ``undo``'s resume drives it too.
"""
from __future__ import annotations

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

@dataclass
class ApplyReport:
    op: str
    planned: int = 0
    done: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    pruned: int = 0
    aborted: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "planned": self.planned, "done": self.done, "bytes": self.bytes,
                "failed": len(self.failed), "pruned": self.pruned, "aborted": self.aborted}


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

    def _fail(self, i: int, entry: PlanEntry, why: str) -> None:
        self.journal.write({"t": "fail", "i": i, "error": why})
        self.report.failed.append((entry.src, why))
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
                  "size": st.st_size, "mtime_ns": st.st_mtime_ns, "fp": fp}
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
        for d in sorted(created_dirs):
            try:
                os.makedirs(d, exist_ok=True)
            except OSError:
                pass  # reported per file below
        for n, (i, entry, intent) in enumerate(intents):
            try:
                digest = fileops.do_action(self.action, entry.src, entry.dst, intent["tmp"], intent["mtime_ns"])
            except OSError as e:
                self._fail(i, entry, error_text(e))
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
            for d in empty:
                self.journal.write({"t": "rmdir", "path": d})
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


def _strictly_inside(path: str, root: str) -> bool:
    return path != root and path.startswith(root.rstrip(os.sep) + os.sep)


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
            "movies_dest": options.movies_root if len(options.roots) > 1 else None,
            "sources": list(options.sources), "entries": entries, "pid": me["pid"], "host": me["host"],
            "proc_started": me["proc_started"], "started": me["since"]}


def refuse_if_unfinished(dests: Iterable[str], data_dir: str | None = None) -> None:
    """An interrupted run on these destinations must be resumed or rolled back first."""
    from ..journal import unfinished

    pending = unfinished(dests, data_dir)
    if pending:
        state = pending[-1]
        raise RefusedError(
            f"operation {state.op} on {state.begin.get('dest')} was interrupted "
            f"({len(state.ok)} of {state.begin.get('entries')} files done)",
            hint=f"finish it with `anivault organize --resume {state.op}` "
                 f"or roll it back with `anivault undo {state.op}`")


def apply_plan(plan: Plan, *, prune_empty: bool = False, batch: int = 512, metrics: Metrics | None = None,
               warn: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
               data_dir: str | None = None) -> ApplyReport:
    """Execute the plan's TODO entries under the destination lock, journaled; returns what happened."""
    from ..journal import DestinationLock, Journal, journal_dir, new_op_id

    metrics = metrics or Metrics()
    options = plan.options
    options.validate()
    op = new_op_id()
    todo = [(i, e) for i, e in enumerate(plan.entries) if e.status == TODO]
    report = ApplyReport(op, planned=len(todo))
    if not todo:  # nothing to do is not an operation: history and `undo --last` skip it
        report.op = ""
        return report
    with DestinationLock(options.roots, op, data_dir, warn):
        refuse_if_unfinished(options.roots, data_dir)
        directory = journal_dir(data_dir)
        os.makedirs(directory, exist_ok=True)
        write_plan(plan, os.path.join(directory, f"{op}.plan.jsonl"))
        with Journal(os.path.join(directory, f"{op}.jsonl"), begin=begin_record(op, options, len(todo))) \
                as journal, metrics.stage("apply"):
            executor = Executor(journal, op, options.action, report, batch=batch, metrics=metrics,
                                 progress=progress)
            metrics.expect(len(todo), APPLIED, "files")  # the live line's rate and ETA
            metrics.add_time("apply", 0.0, len(todo))  # the stage's items, for its throughput
            try:
                executor.run(todo)
            finally:
                metrics.expect(None)
            if prune_empty and options.action == "move" and not report.aborted:
                executor.prune(options.sources)
            journal.write({"t": "end", "status": "aborted" if report.aborted else "complete",
                           "done": report.done, "failed": len(report.failed)})
    return report
