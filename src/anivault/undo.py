"""Recovery: settle an interrupted run, resume it, or undo a run in reverse order.

The journal may lack the outcome of the last batch (group commit), so for
every intent without a durable outcome the filesystem decides: where is the
file, is it whole, is a temporary copy left over. Undo then reverses each
completed operation, newest first, and only touches a file that is still the
one AniVault put there: same size and mtime_ns, same xxh3 of its first and
last 4 KiB, and for copies (which were read whole anyway) the same full
xxh3. Anything changed since is reported and left alone. Undo is journaled too and can itself be re-run
after a crash: a step already undone is recognised on disk.
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import AniVaultError
from .journal import (DestinationLock, Journal, OpState, describe_holder, find_op, journal_dir, process_identity,
                      record_state, unfinished)
from .monitor import Metrics
from .fileops import copy_verified, file_hash, fingerprint, place, restore_metadata
from .organize import APPLIED, TODO, ApplyReport, Executor, read_plan


# Failures that say nothing was tried: resume tries these entries again.
RETRYABLE = ("interrupted before it happened", "not attempted")


@dataclass
class UndoReport:
    op: str
    undone: int = 0
    already: int = 0  # nothing to reverse: never happened, or undone before
    kept: list[tuple[str, str]] = field(default_factory=list)  # (path, why it was left alone)
    removed_dirs: int = 0
    settled: int = 0  # interrupted operations settled from the filesystem

    @property
    def complete(self) -> bool:
        """Everything the operation did was reversed (else the CLI exits 1)."""
        return not self.kept

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "undone": self.undone, "already": self.already, "kept": len(self.kept),
                "removed_dirs": self.removed_dirs, "settled": self.settled}


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def is_same_file(path: str, intent: dict[str, Any], ok: dict[str, Any] | None = None) -> bool:
    """Is ``path`` the file the intent moved/copied: size, mtime_ns, sampled xxh3 (+ full xxh3 if known)."""
    st = _lstat(path)
    if st is None or not os.path.isfile(path) or os.path.islink(path):
        return False
    if st.st_size != intent["size"] or st.st_mtime_ns != intent["mtime_ns"]:
        return False
    try:
        if fingerprint(path, st.st_size) != intent["fp"]:
            return False
        full = (ok or {}).get("hash")
        return not full or file_hash(path) == full
    except OSError:
        return False


def _remove_temp(intent: dict[str, Any]) -> None:
    tmp = intent.get("tmp")
    if tmp and os.path.lexists(tmp):
        os.unlink(tmp)  # named in our intent: a copy that never became a file


class NotSettled(Exception):
    """An intent that happened only in part and cannot be finished or taken back: why."""


def settle(intent: dict[str, Any]) -> bool:
    """Decide from the filesystem whether an intent without outcome happened; finish a half-done move.

    Returns True when the destination holds the complete result, False when
    nothing happened (a half-done move that cannot be finished, e.g. out of
    a read-only folder, is taken back). Raises :class:`NotSettled` when
    neither is possible; an OSError of the filesystem otherwise.
    """
    src, dst, action = intent["src"], intent["dst"], intent["a"]
    dst_st = _lstat(dst)
    tmp_st = _lstat(intent["tmp"]) if intent.get("tmp") else None
    if tmp_st is not None and dst_st is not None and os.path.samestat(tmp_st, dst_st):
        os.unlink(intent["tmp"])  # linked into place after verification: only the temp name remains
        tmp_st = None
    _remove_temp(intent)
    if dst_st is None:
        return False
    if action == "symlink":
        return os.path.islink(dst) and os.readlink(dst) == os.path.abspath(src)
    src_st = _lstat(src)
    if action == "hardlink":
        return src_st is not None and os.path.samestat(src_st, dst_st)
    if action == "move" and src_st is not None and os.path.samestat(src_st, dst_st):
        return _finish_move(src, dst)  # killed between link and unlink
    if not is_same_file(dst, intent):
        return False  # someone else's file: not ours to claim
    if action == "move" and src_st is not None and is_same_file(src, intent):
        return _finish_move(src, dst)  # a verified cross-filesystem copy whose source was not yet deleted
    return True


def _finish_move(src: str, dst: str) -> bool:
    """Both names hold the file: remove the source's, or else take the destination's back."""
    try:
        os.unlink(src)
        return True
    except OSError as e:
        why = e.strerror or str(e)
    try:
        os.unlink(dst)  # cannot finish (a read-only source folder): the move did not happen
    except OSError as e:
        raise NotSettled(f"{src} and {dst} both hold the file; neither name can be removed "
                         f"({why}; {e.strerror or e})") from e
    return False


def settle_unfinished(state: OpState, journal: Journal) -> list[tuple[str, str]]:
    """Record an outcome for every intent that lacks one; returns the ones that could not be settled
    as (destination, why). Every other intent gets an ``ok`` or ``fail`` record."""
    stuck = []
    for i in sorted(state.unsettled):
        intent = state.intents[i]
        try:
            done = settle(intent)
        except (NotSettled, OSError) as e:
            why = str(e) if isinstance(e, NotSettled) else f"cannot settle {intent['dst']}: {e.strerror or e}"
            stuck.append((intent["dst"], why))
            continue
        record = {"t": "ok", "i": i, "settled": True} if done else \
            {"t": "fail", "i": i, "error": "interrupted before it happened"}
        journal.write(record)
        if done:
            state.ok[i] = record
        else:
            state.failed[i] = record["error"]
    journal.commit()
    return stuck


# ---------------------------------------------------------------- undo


def _reverse(intent: dict[str, Any], ok: dict[str, Any], folders: "_Folders") -> str:
    """Reverse one completed operation: "undone", "already", or why the file was left alone."""
    src, dst, action, tmp = intent["src"], intent["dst"], intent["a"], intent.get("tmp")
    if action in ("symlink", "hardlink"):
        if _lstat(dst) is None:
            return "already"
        src_st, dst_st = _lstat(src), _lstat(dst)
        ours = (os.path.islink(dst) and os.readlink(dst) == os.path.abspath(src)) if action == "symlink" \
            else (src_st is not None and dst_st is not None and os.path.samestat(src_st, dst_st))
        if not ours:
            return f"{dst} is no longer the {action} AniVault made"
        os.unlink(dst)
        return "undone"
    if action == "copy":
        if _lstat(dst) is None:
            return "already"
        if not is_same_file(dst, intent, ok):
            return f"{dst} changed since it was copied"
        os.unlink(dst)
        return "undone"
    # move: put the file back where it was
    dst_st, src_st = _lstat(dst), _lstat(src)
    if dst_st is None:
        return "already" if is_same_file(src, intent) else f"{dst} is gone (moved or deleted since)"
    if src_st is not None and os.path.samestat(src_st, dst_st):
        os.unlink(dst)  # an undo killed between link and unlink: finish it
        return "undone"
    if not is_same_file(dst, intent, ok):
        return f"{dst} changed since it was moved"
    back_tmp = os.path.join(os.path.dirname(src), os.path.basename(tmp or dst) + ".undo")
    if os.path.lexists(back_tmp):
        os.unlink(back_tmp)  # named by us: a copy back that a crash interrupted
    if src_st is not None:
        if not is_same_file(src, intent):
            return f"{src} is taken by another file"
        os.unlink(dst)  # a verified copy back whose destination was not yet removed
        return "undone"
    folders.make(os.path.dirname(src))
    try:
        place(dst, src)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        copy_verified(dst, src, back_tmp, intent["mtime_ns"])
        restore_metadata(src, intent)
        os.unlink(dst)
    return "undone"


class _Folders:
    """Source folders undo recreates (``--prune-empty`` removed them): their recorded mode, owner and
    mtime are given back once every file is in place (a read-only folder could not be filled after)."""

    def __init__(self, removed: dict[str, dict[str, Any]]) -> None:
        self.removed = removed
        self.made: list[str] = []

    def make(self, directory: str) -> None:
        missing = []
        while not os.path.isdir(directory):
            missing.append(directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        for d in reversed(missing):
            os.mkdir(d)
            self.made.append(d)

    def finish(self) -> None:
        for d in sorted(self.made, key=len, reverse=True):  # deepest first: a parent's mtime comes last
            record = self.removed.get(d)
            if record is not None:
                restore_metadata(d, record)


def undo(op_id: str | None = None, *, data_dir: str | None = None, metrics: Metrics | None = None,
         warn: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
         batch: int = 512) -> UndoReport:
    """Reverse operation ``op_id`` (None: the latest one not undone), newest file first; settles an
    interrupted run first. The report's ``kept`` names every file not restored (the CLI exits 1)."""
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    state = find_op(op_id, data_dir, undoable=op_id is None)
    while op_id is None and state.status == "undone":  # a stale row (killed before the catalog heard)
        record_state(state)
        state = find_op(None, data_dir, undoable=True)
    _report_problems(state, warn)
    if state.status in ("running", "undoing"):
        holder = state.undo_holder if state.status == "undoing" else state.begin
        raise AniVaultError(f"operation {state.op} is still {state.status} ({describe_holder(holder)})",
                            hint="wait for it to finish, then undo it")
    if state.status == "undone":
        record_state(state)  # the catalog may not know yet (killed before it heard)
        raise AniVaultError(f"operation {state.op} was already undone", hint="`anivault history` lists operations")
    report = UndoReport(state.op)
    with DestinationLock(state.dests, f"undo {state.op}", data_dir, warn), \
            Journal(state.path) as journal, metrics.stage("undo"):
        unsettled = len(state.unsettled)
        stuck = settle_unfinished(state, journal)
        report.settled = unsettled - len(stuck)
        journal.write({"t": "undo", **_holder_record()})
        journal.commit()
        todo = sorted([*state.ok, *state.unsettled], reverse=True)  # unsettled now: half done, stuck
        folders = _Folders(state.rmdirs)
        metrics.expect(len(todo), UNDONE, "files")  # the live line's rate and ETA
        metrics.add_time("undo", 0.0, len(todo))  # the stage's items, for its throughput
        counted = 0
        for n, i in enumerate(todo):
            if i in state.undone:
                report.already += 1
                continue
            try:
                outcome = _reverse(state.intents[i], state.ok.get(i, {}), folders)
            except OSError as e:
                outcome = f"cannot move back {state.intents[i]['dst']}: {e.strerror or e}"
            if outcome in ("undone", "already"):
                journal.write({"t": "undone", "i": i})
                report.undone += outcome == "undone"
                report.already += outcome == "already"
            else:
                journal.write({"t": "kept", "i": i, "why": outcome})
                report.kept.append((state.intents[i]["dst"], outcome))
            if n % batch == batch - 1:
                journal.commit()
                metrics.count(UNDONE, n + 1 - counted)  # per batch: no accounting per file
                counted = n + 1
            if progress:
                progress(1)
        metrics.count(UNDONE, len(todo) - counted)
        metrics.expect(None)
        folders.finish()
        report.removed_dirs = _remove_created_dirs(state)
        journal.write({"t": "undo-end", "undone": report.undone, "kept": len(report.kept)})
    metrics.count("undone", report.undone)
    return report


def _holder_record() -> dict[str, Any]:
    me = process_identity()
    return {"pid": me["pid"], "host": me["host"], "proc_started": me["proc_started"]}


def _report_problems(state: OpState, warn: Callable[[str], None]) -> None:
    for line in state.problems:
        warn(f"journal: {line}")
    if state.problem_count > len(state.problems):
        warn(f"journal: {state.problem_count - len(state.problems):,} more malformed lines in {state.path}")


UNDONE = "undo_steps"  # journal entries undo went through (put back, nothing to do, or kept)


def _remove_created_dirs(state: OpState) -> int:
    """Folders the run created, deepest first, when undo left them empty."""
    removed = 0
    for d in sorted(set(state.mkdirs), key=len, reverse=True):
        try:
            os.rmdir(d)
            removed += 1
        except OSError:
            continue  # not empty (a kept file, or the user's own) or already gone
    return removed


# ---------------------------------------------------------------- resume


def resume(op_id: str | None = None, *, data_dir: str | None = None, metrics: Metrics | None = None,
           warn: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
           batch: int = 512, prune_empty: bool = False) -> ApplyReport:
    """Finish an interrupted run: settle its last batch from the filesystem, then do the rest of its plan."""
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    if op_id is None:
        pending = unfinished(None, data_dir)
        if not pending:
            raise AniVaultError("no interrupted operation to resume", hint="`anivault history` lists operations")
        op_id = pending[-1].op
    state = find_op(op_id, data_dir)
    _report_problems(state, warn)
    if state.status not in ("interrupted", "aborted"):
        record_state(state)  # a stale catalog row (killed after the journal's end record) is set right
        raise AniVaultError(f"operation {state.op} is {state.status}, not interrupted",
                            hint="only an interrupted run can be resumed")
    plan = read_plan(os.path.join(journal_dir(data_dir), f"{state.op}.plan.jsonl"))
    report = ApplyReport(state.op, planned=int(state.begin.get("entries") or 0))
    with DestinationLock(state.dests, state.op, data_dir, warn), Journal(state.path) as journal, \
            metrics.stage("apply"):
        stuck = settle_unfinished(state, journal)
        if stuck:
            raise AniVaultError(f"{len(stuck)} interrupted steps cannot be settled, e.g. {stuck[0][1]}",
                                hint=f"fix the permissions, or roll it back with `anivault undo {state.op}`")
        report.done = len(state.ok)
        remaining = [(i, e) for i, e in enumerate(plan.entries)
                     if e.status == TODO and i not in state.ok
                     and (i not in state.failed or state.failed[i].startswith(RETRYABLE))]
        retried = sum(1 for i, _ in remaining if i in state.failed)
        journal.write({"t": "resume", "remaining": len(remaining), "done": report.done,
                       "failed": len(state.failed) - retried, **_holder_record()})
        executor = Executor(journal, state.op, plan.options.action, report, batch=batch, metrics=metrics,
                            progress=progress)
        metrics.expect(len(remaining), APPLIED, "files")
        metrics.add_time("apply", 0.0, len(remaining))
        try:
            executor.run(remaining)
        finally:
            metrics.expect(None)
        if prune_empty and plan.options.action == "move" and not report.aborted:
            executor.moved_from |= {os.path.dirname(state.intents[i]["src"]) for i in state.ok}
            executor.prune(plan.options.sources)
        failed = report.failed_count + len(state.failed) - retried
        status = "aborted" if report.aborted else f"finished with {failed} failed" if failed else "complete"
        journal.write({"t": "end", "status": status, "done": report.done, "failed": failed})
    return report
