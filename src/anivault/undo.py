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
import stat
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import AniVaultError
from .journal import (DestinationLock, Journal, describe_holder, find_op, journal_dir, process_identity,
                      record_state, unfinished)
from .opstate import FAILED, OK, OpState, Step
from .monitor import Metrics
from .fileops import copy_verified, file_hash, fingerprint, place, restore_metadata
from .organize import APPLIED, TODO, ApplyReport, Executor, Plan, PlanEntry, read_plan


NOT_HAPPENED = "interrupted before it happened"
# Failures that say nothing was tried: resume tries these entries again.
RETRYABLE = (NOT_HAPPENED, "not attempted", "disk full")
STUCK_KEPT = 1000  # intents that cannot be settled, named (the rest stay unsettled for a later try)
KEPT_NAMED = 1000  # files undo left alone, named in its report (all are counted)


@dataclass
class UndoReport:
    op: str
    undone: int = 0
    already: int = 0  # nothing to reverse: never happened, or undone before
    kept: list[tuple[str, str]] = field(default_factory=list)  # (path, why it was left alone): the first ones
    kept_count: int = 0  # every file left alone
    removed_dirs: int = 0
    settled: int = 0  # interrupted operations settled from the filesystem

    def keep(self, path: str, why: str) -> None:
        self.kept_count += 1
        if len(self.kept) < KEPT_NAMED:
            self.kept.append((path, why))

    @property
    def complete(self) -> bool:
        """Everything the operation did was reversed (else the CLI exits 1)."""
        return not self.kept_count

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "undone": self.undone, "already": self.already, "kept": self.kept_count,
                "removed_dirs": self.removed_dirs, "settled": self.settled}


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def is_same_file(path: str, intent: dict[str, Any], full_hash: str | None = None,
                 st: os.stat_result | None = None) -> bool:
    """Is ``path`` the file the intent moved/copied: size, mtime_ns, sampled xxh3 (+ the full xxh3 when
    known)? ``st``: its lstat when the caller has it."""
    if st is None:
        st = _lstat(path)
    if st is None or not stat.S_ISREG(st.st_mode):  # lstat: a symlink is not the file we placed
        return False
    if st.st_size != intent["size"] or st.st_mtime_ns != intent["mtime_ns"]:
        return False
    try:
        if fingerprint(path, st.st_size) != intent["fp"]:
            return False
        return not full_hash or file_hash(path) == full_hash
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
    for i, intent in state.unsettled():
        if intent is None:  # torn (or edited): never acted on, as files are touched only once intents are durable
            journal.write({"t": "fail", "i": i, "error": NOT_HAPPENED})
            state.settled(i, False, NOT_HAPPENED)
            continue
        try:
            done = settle(intent)
        except (NotSettled, OSError) as e:
            why = str(e) if isinstance(e, NotSettled) else f"cannot settle {intent['dst']}: {e.strerror or e}"
            if len(stuck) < STUCK_KEPT:
                stuck.append((intent["dst"], why))
            continue
        if done:
            journal.write({"t": "ok", "i": i, "settled": True})
            state.settled(i, True)
        else:
            journal.write({"t": "fail", "i": i, "error": NOT_HAPPENED})
            state.settled(i, False, NOT_HAPPENED)
    journal.commit()
    return stuck


# ---------------------------------------------------------------- undo


def _reverse(intent: dict[str, Any], full_hash: str | None, folders: "_Folders") -> str:
    """Reverse one completed operation: "undone", "already", or why the file was left alone."""
    src, dst, action = intent["src"], intent["dst"], intent["a"]
    dst_st = _lstat(dst)
    if action in ("symlink", "hardlink"):
        if dst_st is None:
            return "already"
        src_st = _lstat(src)
        ours = (stat.S_ISLNK(dst_st.st_mode) and os.readlink(dst) == os.path.abspath(src)) if action == "symlink" \
            else (src_st is not None and os.path.samestat(src_st, dst_st))
        if not ours:
            return f"{dst} is no longer the {action} AniVault made"
        os.unlink(dst)
        return "undone"
    if action == "copy":
        if dst_st is None:
            return "already"
        if not is_same_file(dst, intent, full_hash, dst_st):
            return f"{dst} changed since it was copied"
        os.unlink(dst)
        return "undone"
    return _move_back(intent, full_hash, folders, dst_st)


def _move_back(intent: dict[str, Any], full_hash: str | None, folders: "_Folders",
               dst_st: os.stat_result | None) -> str:
    """Put a moved file back where it was; finishes an undo a crash interrupted. The source name is
    looked at only when it is taken (the link back refuses to replace it): no lstat in the common case."""
    src, dst = intent["src"], intent["dst"]
    if dst_st is None:
        return "already" if is_same_file(src, intent) else f"{dst} is gone (moved or deleted since)"
    if not is_same_file(dst, intent, full_hash, dst_st):
        src_st = _lstat(src)
        if src_st is not None and os.path.samestat(src_st, dst_st):
            os.unlink(dst)  # an undo killed between link and unlink (the file edited since): finish it
            return "undone"
        return f"{dst} changed since it was moved"
    folders.make(os.path.dirname(src))
    try:
        place(dst, src)
        return "undone"
    except FileExistsError:
        return _source_taken(intent, dst_st)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
    if os.path.lexists(src):
        return _source_taken(intent, dst_st)
    back_tmp = _back_tmp(intent)
    _remove_if_there(back_tmp)  # a copy back that a crash interrupted
    copy_verified(dst, src, back_tmp, intent["mtime_ns"])
    restore_metadata(src, intent)
    os.unlink(dst)
    return "undone"


def _source_taken(intent: dict[str, Any], dst_st: os.stat_result) -> str:
    """The original name holds a file: ours (an undo killed between link and unlink, or after a
    verified copy back) — then the destination's name goes — or another one, left alone."""
    src, dst = intent["src"], intent["dst"]
    src_st = _lstat(src)
    if src_st is not None and os.path.samestat(src_st, dst_st):
        os.unlink(dst)
        return "undone"
    _remove_if_there(_back_tmp(intent))  # a copy back killed before its temporary name went
    if not is_same_file(src, intent, st=src_st):
        return f"{src} is taken by another file"
    os.unlink(dst)  # a verified copy back whose destination was not yet removed
    return "undone"


def _back_tmp(intent: dict[str, Any]) -> str:
    """The temporary name a copy back across filesystems is written under (named by us)."""
    src = intent["src"]
    return os.path.join(os.path.dirname(src), os.path.basename(intent.get("tmp") or intent["dst"]) + ".undo")


def _remove_if_there(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class _Folders:
    """Source folders undo recreates (``--prune-empty`` removed them): their recorded mode, owner and
    mtime are given back once every file is in place (a read-only folder could not be filled after).
    Which folders were made is kept in the operation's store, not in memory."""

    def __init__(self, state: OpState) -> None:
        self.state = state
        self._there = ""  # the last folder known to exist: files come folder by folder

    def make(self, directory: str) -> None:
        if directory == self._there:
            return
        missing = []
        while not os.path.isdir(directory):
            missing.append(directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        for d in reversed(missing):
            os.mkdir(d)
            self.state.recreated(d)
        self._there = missing[0] if missing else directory

    def finish(self) -> None:
        for d, record in self.state.pruned_and_recreated():  # deepest first: a parent's mtime comes last
            restore_metadata(d, record)


def undo(op_id: str | None = None, *, data_dir: str | None = None, metrics: Metrics | None = None,
         warn: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
         batch: int = 512) -> UndoReport:
    """Reverse operation ``op_id`` (None: the latest one not undone), newest file first; settles an
    interrupted run first. The report's ``kept`` names the first files not restored (the CLI exits 1).

    Streams: the journal is folded into a temporary store (:mod:`anivault.opstate`), and entries
    are read back from it one at a time, so memory does not grow with the operation's size.
    """
    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    state = find_op(op_id, data_dir, undoable=op_id is None)
    while op_id is None and state.status == "undone":  # a stale row (killed before the catalog heard)
        record_state(state)
        state.close()
        state = find_op(None, data_dir, undoable=True)
    with state:
        try:
            _check_undoable(state)
            return _undo(state, data_dir, metrics, warn, progress, batch)
        finally:
            _report_problems(state, warn)  # malformed lines, found while folding or reading intents


def _check_undoable(state: OpState) -> None:
    if state.status in ("running", "undoing"):
        holder = state.undo_holder if state.status == "undoing" else state.begin
        raise AniVaultError(f"operation {state.op} is still {state.status} ({describe_holder(holder)})",
                            hint="wait for it to finish, then undo it")
    if state.status == "undone":
        record_state(state)  # the catalog may not know yet (killed before it heard)
        raise AniVaultError(f"operation {state.op} was already undone", hint="`anivault history` lists operations")


def _undo(state: OpState, data_dir: str | None, metrics: Metrics, warn: Callable[[str], None],
          progress: Callable[[int], None] | None, batch: int) -> UndoReport:
    report = UndoReport(state.op)
    with DestinationLock(state.dests, f"undo {state.op}", data_dir, warn), \
            Journal(state.path) as journal, metrics.stage("undo"):
        unsettled = state.counts.unsettled
        settle_unfinished(state, journal)
        report.settled = unsettled - state.counts.unsettled  # the rest: half done, stuck
        journal.write({"t": "undo", **_holder_record()})
        journal.commit()
        todo, report.already = state.undo_counts()
        folders = _Folders(state)
        metrics.expect(todo, UNDONE, "files")  # the live line's rate and ETA
        metrics.add_time("undo", 0.0, todo)  # the stage's items, for its throughput
        n = counted = 0
        for n, step in enumerate(state.to_undo(), 1):
            _undo_one(step, folders, journal, report)
            if n % batch == 0:
                journal.commit()
                metrics.count(UNDONE, n - counted)  # per batch: no accounting per file
                counted = n
            if progress:
                progress(1)
        metrics.count(UNDONE, n - counted)
        metrics.expect(None)
        folders.finish()
        report.removed_dirs = _remove_created_dirs(state)
        journal.write({"t": "undo-end", "undone": report.undone, "kept": report.kept_count})
    metrics.count("undone", report.undone)
    return report


def _undo_one(step: Step, folders: _Folders, journal: Journal, report: UndoReport) -> None:
    intent = step.intent
    if intent is None:  # an edited journal: what this entry did cannot be checked, so nothing is touched
        outcome = f"entry {step.i}: its intent in the journal is malformed"
    else:
        try:
            outcome = _reverse(intent, step.hash, folders)
        except OSError as e:
            outcome = f"cannot move back {intent['dst']}: {e.strerror or e}"
    if outcome in ("undone", "already"):
        journal.write_raw(f'{{"t":"undone","i":{step.i}}}', "undone")  # one dumps() less per file
        report.undone += outcome == "undone"
        report.already += outcome == "already"
    else:
        journal.write({"t": "kept", "i": step.i, "why": outcome})
        report.keep(intent["dst"] if intent else f"entry {step.i}", outcome)


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
    for d in state.created_dirs():
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
    with find_op(op_id, data_dir) as state:
        try:
            if state.status not in ("interrupted", "aborted"):
                record_state(state)  # a stale catalog row (killed after the journal's end record) is set right
                raise AniVaultError(f"operation {state.op} is {state.status}, not interrupted",
                                    hint="only an interrupted run can be resumed")
            plan = read_plan(os.path.join(journal_dir(data_dir), f"{state.op}.plan.jsonl"))
            try:
                return _resume(state, plan, data_dir, metrics, warn, progress, batch, prune_empty)
            finally:
                plan.entries.close()
        finally:
            _report_problems(state, warn)


def _resume(state: OpState, plan: Plan, data_dir: str | None, metrics: Metrics, warn: Callable[[str], None],
            progress: Callable[[int], None] | None, batch: int, prune_empty: bool) -> ApplyReport:
    report = ApplyReport(state.op, planned=int(state.begin.get("entries") or 0))
    with DestinationLock(state.dests, state.op, data_dir, warn), Journal(state.path) as journal, \
            metrics.stage("apply"):
        stuck = settle_unfinished(state, journal)
        if stuck:
            raise AniVaultError(f"{state.counts.unsettled} interrupted steps cannot be settled, "
                                f"e.g. {stuck[0][1]}",
                                hint=f"fix the permissions, or roll it back with `anivault undo {state.op}`")
        counts, entries = state.counts, len(plan.entries)
        report.done = counts.done
        retried = state.failed_count(entries, RETRYABLE)
        # Intents are only ever written for the plan's TODO entries, so what is left of them is
        # counted from the store: TODO entries, less those done or failed for good.
        remaining = plan.count(TODO) - state.done_count(entries) - (state.failed_count(entries) - retried)
        journal.write({"t": "resume", "remaining": remaining, "done": report.done,
                       "failed": counts.failed - retried, **_holder_record()})
        executor = Executor(journal, state.op, plan.options.action, report, batch=batch, metrics=metrics,
                            progress=progress)
        metrics.expect(remaining, APPLIED, "files")
        metrics.add_time("apply", 0.0, remaining)
        try:
            executor.run(_not_done(plan, state, entries))
            if prune_empty and plan.options.action == "move" and not report.aborted:
                executor.moved_from.add_all(os.path.dirname(intent["src"]) for _, intent in state.placed())
                executor.prune(plan.options.sources)
        finally:
            metrics.expect(None)
            executor.close()
        failed = report.failed_count + counts.failed - retried
        status = "aborted" if report.aborted else f"finished with {failed} failed" if failed else "complete"
        journal.write({"t": "end", "status": status, "done": report.done, "failed": failed})
    return report


def _not_done(plan: Plan, state: OpState, entries: int) -> Iterator[tuple[int, PlanEntry]]:
    """The plan's TODO entries neither done nor failed for good, in plan order: the plan store and
    the operation's store are both read in index order and merged, one entry at a time."""
    outcomes = state.outcomes(entries)
    known = next(outcomes, None)
    for i, entry in plan.todo():
        while known is not None and known[0] < i:
            known = next(outcomes, None)
        if known is not None and known[0] == i:
            _, outcome, detail = known
            if outcome == OK or (outcome == FAILED and not (detail or "").startswith(RETRYABLE)):
                continue
        yield i, entry
