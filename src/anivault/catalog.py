"""The operations catalog: one row per organize operation, so nothing reads every journal.

``<data dir>/journal/catalog.sqlite`` holds each operation's id, state,
counts (done, failed, undone, kept), roots, times and the process that holds
it. ``history``, ``undo --last``, the "unfinished operation" check and the
destination lock read this table; a journal file is opened only by the
operation it belongs to (its undo or resume). The journal stays the truth:
the :class:`~anivault.journal.Journal` updates the row after each durable
``begin``/``resume``/``end``/``undo``/``undo-end`` record, and a command that
folds a journal anyway (undo, resume) writes what it found back with
:func:`record_state`. A journal without a row (written before the catalog
existed) is catalogued once from its records when the catalog is opened. A row
left "running" by a run killed after its journal's ``end`` record is set right
from the journal's last line alone (:meth:`Catalog.ended_after_all`).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from .errors import AniVaultError

FILENAME = "catalog.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    op TEXT PRIMARY KEY,
    status TEXT NOT NULL,          -- running, complete, aborted, undoing, undone, partly undone
    action TEXT, dest TEXT, movies_dest TEXT, sources TEXT,
    planned INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0, undone INTEGER NOT NULL DEFAULT 0,
    kept INTEGER NOT NULL DEFAULT 0,
    started TEXT, ended TEXT,
    holder TEXT                    -- JSON: pid, host, proc_started of the process running it
)"""

# States a live process holds; when that process is gone they read as interrupted.
ACTIVE = {"running": "interrupted", "undoing": "undo interrupted"}


@dataclass
class Operation:
    """One catalog row."""

    op: str
    status: str
    action: str | None = None
    dest: str | None = None
    movies_dest: str | None = None
    sources: list[str] = field(default_factory=list)
    planned: int = 0
    done: int = 0
    failed: int = 0
    undone: int = 0
    kept: int = 0
    started: str | None = None
    ended: str | None = None
    holder: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        """The status, with a dead holder's running/undoing read as interrupted."""
        from .journal import holder_alive

        if self.status in ACTIVE and not holder_alive(self.holder):
            return ACTIVE[self.status]
        return self.status

    @property
    def dests(self) -> list[str]:
        return [d for d in (self.dest, self.movies_dest) if d]

    def summary(self) -> dict[str, Any]:
        """The history row."""
        state = self.state
        if state == "complete" and self.failed:
            state = f"finished with {self.failed} failed"
        return {"op": self.op, "started": self.started, "action": self.action, "dest": self.dest,
                "planned": self.planned, "done": self.done, "failed": self.failed, "undone": self.undone,
                "kept": self.kept, "status": state}


_COLUMNS = ("op", "status", "action", "dest", "movies_dest", "sources", "planned", "done", "failed",
            "undone", "kept", "started", "ended", "holder")


def _row(values: tuple) -> Operation:
    row = dict(zip(_COLUMNS, values))
    row["sources"] = json.loads(row["sources"] or "[]")
    row["holder"] = json.loads(row["holder"] or "{}")
    return Operation(**row)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Catalog:
    """The catalog of the journals in ``directory`` (opened per call: a few ms, no state kept)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, FILENAME)

    def _connect(self) -> sqlite3.Connection:
        os.makedirs(self.directory, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # the journal is the durable truth; the row follows it
            db.execute(_SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _run(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        try:
            try:
                db = self._connect()
            except sqlite3.OperationalError:
                raise  # locked, read-only, no space: the file itself is fine
            except sqlite3.DatabaseError:  # damaged: it is only a summary, rebuilt from the journals
                self._discard()
                db = self._connect()
            try:
                return db.execute(sql, tuple(params)).fetchall()
            finally:
                db.close()
        except sqlite3.OperationalError as e:
            raise AniVaultError(f"cannot use the operations catalog {self.path}: {e}",
                                hint="check the data dir is writable (ANIVAULT_DATA_DIR)") from e

    def _discard(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(self.path + suffix)
            except FileNotFoundError:
                pass

    # ------------------------------------------------------------ writing

    def put(self, op: Operation) -> None:
        values = {**op.__dict__, "sources": json.dumps(op.sources), "holder": json.dumps(op.holder)}
        self._run(f"INSERT OR REPLACE INTO operations ({', '.join(_COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(_COLUMNS))})", (values[c] for c in _COLUMNS))

    def update(self, op: str, **values: Any) -> None:
        if "holder" in values:
            values["holder"] = json.dumps(values["holder"])
        assignments = ", ".join(f"{k} = ?" for k in values)
        self._run(f"UPDATE operations SET {assignments} WHERE op = ?", (*values.values(), op))

    # ------------------------------------------------------------ reading

    def operations(self, *, newest_first: bool = False, limit: int | None = None,
                   where: str = "", params: Iterable[Any] = ()) -> list[Operation]:
        self.catalogue_missing()
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {', '.join(_COLUMNS)} FROM operations {where} ORDER BY op {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_row(r) for r in self._run(sql, params)]

    def matching(self, prefix: str) -> list[Operation]:
        """Operations whose id starts with ``prefix``."""
        return self.operations(where="WHERE substr(op, 1, ?) = ?", params=(len(prefix), prefix))

    def active(self) -> list[Operation]:
        """Rows a process holds or held (running/undoing): the candidates for "interrupted"."""
        return self.operations(where="WHERE status IN ('running', 'undoing')")

    def ended_after_all(self, row: Operation) -> bool:
        """Was the run killed after its journal's last record (``end`` or ``undo-end``) but before the
        catalog heard? Then the row is set right from that record: the journal's tail, not all of it."""
        last = _last_record(os.path.join(self.directory, f"{row.op}.jsonl"))
        kind = last.get("t")
        try:
            if kind == "end":
                self.update(row.op, status=str(last.get("status", "complete")), done=int(last.get("done") or 0),
                            failed=int(last.get("failed") or 0), ended=now())
            elif kind == "undo-end":
                kept = int(last.get("kept") or 0)
                self.update(row.op, status="partly undone" if kept else "undone",
                            undone=int(last.get("undone") or 0), kept=kept, ended=now())
        except (sqlite3.Error, OSError, AniVaultError, ValueError, TypeError):
            return False
        return kind in ("end", "undo-end")

    # ------------------------------------------------------------ migration

    def catalogue_missing(self) -> int:
        """Add a row for each journal that has none (journals from before the catalog); returns how many."""
        try:
            names = [n[:-len(".jsonl")] for n in os.listdir(self.directory)
                     if n.endswith(".jsonl") and not n.endswith(".plan.jsonl")]
        except FileNotFoundError:
            return 0
        if not names:
            return 0
        known = {r[0] for r in self._run("SELECT op FROM operations")}
        missing = [n for n in names if n not in known]
        for name in missing:
            self.put(summarize(os.path.join(self.directory, name + ".jsonl")))
        return len(missing)


def from_state(state: Any) -> Operation:
    """A row from a folded journal (:class:`~anivault.journal.OpState`)."""
    b = state.begin
    if state.undo_end is not None:
        status = "partly undone" if state.undo_end.get("kept") else "undone"
    elif state.undo_started:
        status = "undoing"
    elif state.end is not None:
        status = state.end.get("status", "complete")
    else:
        status = "running"
    holder = {k: b.get(k) for k in ("pid", "host", "proc_started")}
    if state.undo_started and state.undo_holder:
        holder = state.undo_holder
    counts = state.counts
    return Operation(op=state.op, status=status, action=b.get("action"), dest=b.get("dest"),
                     movies_dest=b.get("movies_dest"), sources=list(b.get("sources") or []),
                     planned=int(b.get("entries") or 0), done=counts.done, failed=counts.failed,
                     undone=counts.undone, kept=counts.kept, started=b.get("started"),
                     ended=(state.undo_end or state.end or {}).get("at"), holder=holder)


def _last_record(path: str, tail: int = 65536) -> dict[str, Any]:
    """The journal's last complete record ({} when there is none or it is malformed)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - tail))
            lines = f.read().split(b"\n")
    except OSError:
        return {}
    if len(lines) < 2:  # the piece after the last newline is empty or torn: the record is before it
        return {}
    try:
        record = json.loads(lines[-2].decode("utf-8", "surrogateescape"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def summarize(path: str) -> Operation:
    """A row from a journal folded once (its entries in a temporary store, not in memory)."""
    from .opstate import load

    with load(path) as state:
        return from_state(state)
