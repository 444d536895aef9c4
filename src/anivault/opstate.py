"""The state of one operation, folded from its journal into a temporary store on disk.

A journal is append-only and the latest record about an entry is the last
word on it (a new intent clears an earlier outcome, an ``ok`` clears a
``fail`` and the other way round, an ``undone`` clears a ``kept``). Undo
needs each entry's final word, newest entry first; resume needs the entries
a run has not finished. Folding a 1M-file journal into dicts costs ~1.5 GB,
so :func:`load` folds it into a private temporary SQLite database instead:
one small row per entry (where its latest intent starts in the journal file,
its outcome, its undo mark), so memory stays flat whatever the journal's
size. Per-operation state (begin, end, undo records, the first malformed
lines) stays in memory.

The records AniVault writes most (``ok``, ``undone``, and the start of an
intent, ``{"t":"do","i":N,``) are recognised without parsing JSON; an
intent is read back from the journal file (one ``pread``), parsed and
checked only when it is used, so each is parsed once. An intent found
malformed then is reported like any malformed line: a torn one was never
acted on (files are touched only once their intents are durable), so
recovery records it as not happened; undo leaves the file of an edited one
alone.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple

# Page cache of the store (negative: KiB): rows are ~30 bytes, the rest spills to its temp file.
CACHE_KIB = 8192
PAGE = 512  # rows read per query while the same rows are being updated
PROBLEMS_KEPT = 20  # the first malformed lines are named; the rest are counted

# Outcome and undo codes of an entry's row (NULL: no such record seen).
INTENT, OK, FAILED = 0, 1, 2
UNDONE, KEPT = 1, 2

_SCHEMA = """
CREATE TABLE entries (
    i INTEGER PRIMARY KEY,
    at INTEGER, len INTEGER,   -- the latest intent: its byte offset, length and line in the journal file
    line INTEGER,
    outcome INTEGER,           -- INTENT (none yet), OK, FAILED
    detail BLOB,               -- OK: the full xxh3 of a copy; FAILED: the error (UTF-8, surrogateescape)
    undo INTEGER,              -- UNDONE, KEPT
    why BLOB                   -- KEPT: why undo left the file alone
);
CREATE TABLE made (path BLOB PRIMARY KEY);          -- folders the run created (mkdir records)
CREATE TABLE removed (path BLOB PRIMARY KEY, record BLOB NOT NULL);  -- folders it pruned (rmdir)
CREATE TABLE recreated (path BLOB PRIMARY KEY);     -- source folders an undo made again
"""

# How each entry record folds into its row: run in journal order, so the last word wins.
_UPSERTS = {
    # an intent, with the outcome that followed it in the same window (see _Window)
    "do": "INSERT INTO entries (i, at, len, line, outcome, detail) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (i) "
          "DO UPDATE SET at = excluded.at, len = excluded.len, line = excluded.line, outcome = excluded.outcome, "
          "detail = excluded.detail",
    "ok": "INSERT INTO entries (i, outcome, detail) VALUES (?, 1, ?) ON CONFLICT (i) DO UPDATE "
          "SET outcome = 1, detail = excluded.detail",
    "fail": "INSERT INTO entries (i, outcome, detail) VALUES (?, 2, ?) ON CONFLICT (i) DO UPDATE "
            "SET outcome = 2, detail = excluded.detail",
    "undone": "INSERT INTO entries (i, undo) VALUES (?, 1) ON CONFLICT (i) DO UPDATE SET undo = 1, why = NULL",
    "kept": "INSERT INTO entries (i, undo, why) VALUES (?, 2, ?) ON CONFLICT (i) DO UPDATE "
            "SET undo = 2, why = excluded.why",
    "mkdir": "INSERT OR IGNORE INTO made VALUES (?)",
    "rmdir": "INSERT OR REPLACE INTO removed VALUES (?, ?)",
}
FOLD_BATCH = 4096  # rows per executemany

# The fields each record kind must carry, and their types: anything else is a malformed line.
_SHAPES: dict[str, tuple[tuple[str, type], ...]] = {
    "do": (("i", int), ("a", str), ("src", str), ("dst", str), ("size", int), ("mtime_ns", int), ("fp", str)),
    "ok": (("i", int),), "fail": (("i", int),), "undone": (("i", int),), "kept": (("i", int),),
    "mkdir": (("path", str),), "rmdir": (("path", str),),
}
_OK_PREFIX, _UNDONE_PREFIX, _DO_PREFIX = b'{"t":"ok","i":', b'{"t":"undone","i":', b'{"t":"do","i":'


def _connect() -> sqlite3.Connection:
    """A private temporary database nobody else reads (no journal, no fsync; deleted when closed)."""
    db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
        db.execute(f"PRAGMA {pragma}")
    db.executescript(_SCHEMA)
    return db


def _shape_error(record: Any) -> str:
    if type(record) is not dict:
        return "not a JSON object"
    for key, kind in _SHAPES.get(record.get("t"), ()):  # type: ignore[arg-type]
        value = record.get(key)
        if type(value) is not kind:  # exactly: a bool is not an int here
            return f"{record.get('t')!r} record without a valid {key!r}"
    return ""


def _parse(line: bytes) -> tuple[dict[str, Any] | None, str]:
    """(record, "") for a well-formed line, else (None, why)."""
    torn = not line.endswith(b"\n")
    try:
        record = json.loads(line.decode("utf-8", "surrogateescape"))
        why = _shape_error(record)
    except (ValueError, UnicodeDecodeError):
        record, why = None, "torn last line (a crash mid-write)" if torn else "not valid JSON"
    if torn and not why:
        why = "last line has no newline (a crash mid-write)"
    return (None, why) if why else (record, "")


def _written_entry(line: bytes) -> tuple[str, int] | None:
    """(kind, entry) of a line in the form AniVault writes its most common records: a bare
    ``{"t":"ok","i":N}`` or ``{"t":"undone","i":N}``, or an intent ``{"t":"do","i":N,...}``; read
    without parsing JSON (an intent is parsed, and checked, when it is used). None otherwise."""
    if not line.endswith(b"}\n"):
        return None
    if line.startswith(_DO_PREFIX):
        kind, digits = "do", line[len(_DO_PREFIX):line.find(b",", len(_DO_PREFIX))]
    elif line.startswith(_OK_PREFIX):
        kind, digits = "ok", line[len(_OK_PREFIX):-2]
    elif line.startswith(_UNDONE_PREFIX):
        kind, digits = "undone", line[len(_UNDONE_PREFIX):-2]
    else:
        return None
    if digits.isdigit() and (digits[:1] != b"0" or len(digits) == 1):  # JSON has no leading zeros
        return kind, int(digits)
    return None


def _lines(path: str) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, line) of each line of ``path``."""
    offset = 0
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            yield number, offset, line
            offset += len(line)


def read_records(path: str, problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every well-formed record. A torn or malformed line is skipped and, with ``problems``,
    reported there as ``path:line: why`` (the rest of the journal is still used)."""
    for number, _, line in _lines(path):
        record, why = _parse(line)
        if record is not None:
            yield record
        elif problems is not None:
            problems.append(f"{path}:{number}: {why}; line ignored")


class Counts(NamedTuple):
    done: int
    failed: int
    unsettled: int  # intents without a durable outcome: a crash happened around them
    undone: int
    kept: int


class Entry(NamedTuple):
    """One entry's final word: outcome "intent" (none yet), "ok" or "failed"; undo "undone" or "kept"."""

    outcome: str | None
    detail: str | None
    undo: str | None
    why: str | None


class Step(NamedTuple):
    """An entry to undo: its index, its intent (None: malformed), and the full xxh3 its ``ok``
    recorded (copies)."""

    i: int
    intent: dict[str, Any] | None
    hash: str | None


@dataclass(eq=False)
class OpState:
    """What a journal says about one operation: per-operation records in memory, per-entry rows in
    a temporary store (see the module doc). Close it (or use it as a context manager) when done."""

    op: str
    path: str
    begin: dict[str, Any] = field(default_factory=dict)
    end: dict[str, Any] | None = None
    undo_started: bool = False
    undo_holder: dict[str, Any] = field(default_factory=dict)
    undo_end: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)  # malformed lines, as path:line: why
    problem_count: int = 0
    db: sqlite3.Connection = field(default_factory=_connect, repr=False)
    _fd: int | None = field(default=None, repr=False)

    # ------------------------------------------------------------ per operation

    @property
    def status(self) -> str:
        from .journal import holder_alive

        if self.undo_end is not None:
            return "undone" if not self.undo_end.get("kept") else "partly undone"
        if self.undo_started:
            return "undo interrupted" if not holder_alive(self.undo_holder) else "undoing"
        if self.end is None:
            return "interrupted" if not holder_alive(self.begin) else "running"
        return self.end.get("status", "complete")

    @property
    def dests(self) -> list[str]:
        return [d for d in (self.begin.get("dest"), self.begin.get("movies_dest")) if d]

    def _fold_operation(self, r: dict[str, Any]) -> None:
        kind = r.get("t")
        if kind == "begin":
            self.begin = r
        elif kind == "end":
            self.end = r
        elif kind == "resume":
            self.end = None  # a resumed run is running again until its own end record
        elif kind == "undo":
            self.undo_started, self.undo_end = True, None
            self.undo_holder = {k: r.get(k) for k in ("pid", "host", "proc_started")}
        elif kind == "undo-end":
            self.undo_end = r

    # ------------------------------------------------------------ per entry: counts and lookups

    @property
    def counts(self) -> Counts:
        (done, failed, unsettled), = self.db.execute(
            "SELECT count(outcome = 1 OR NULL), count(outcome = 2 OR NULL), count(outcome = 0 OR NULL) "
            "FROM entries")
        (undone, kept), = self.db.execute(
            "SELECT count(undo = 1 OR NULL), count(undo = 2 OR NULL) FROM entries")
        return Counts(done, failed, unsettled, undone, kept)

    def entry(self, i: int) -> Entry | None:
        row = self.db.execute("SELECT outcome, detail, undo, why FROM entries WHERE i = ?", (i,)).fetchone()
        if row is None:
            return None
        outcome, detail, undo, why = row
        return Entry({None: None, INTENT: "intent", OK: "ok", FAILED: "failed"}[outcome], _untext(detail),
                     {None: None, UNDONE: "undone", KEPT: "kept"}[undo], _untext(why))

    def intent(self, at: int, length: int, number: int) -> dict[str, Any] | None:
        """The intent on line ``number`` of the journal (``length`` bytes at ``at``); None, and a
        problem noted, when it is malformed (a crash tore it, or it was edited)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        record, why = _parse(_read_at(self._fd, at, length))
        if record is None or record.get("t") != "do":
            self.problem(number, why or "not an intent")
            return None
        return record

    def problem(self, number: int, why: str) -> None:
        """Note malformed line ``number`` (the first few are named, the rest counted)."""
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(f"{self.path}:{number}: {why}; line ignored")

    def unsettled(self) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """(index, intent or None when malformed) of each intent without an outcome, in index order;
        :meth:`settled` may be called between them (read a page at a time, so rows can change)."""
        last = -1
        while True:
            rows = self.db.execute("SELECT i, at, len, line FROM entries WHERE outcome = 0 AND i > ? "
                                   "ORDER BY i LIMIT ?", (last, PAGE)).fetchall()
            for i, at, length, number in rows:
                yield i, self.intent(at, length, number)
            if len(rows) < PAGE:
                return
            last = rows[-1][0]

    def settled(self, i: int, done: bool, detail: str | None = None) -> None:
        """Record the outcome the filesystem gave an unsettled intent."""
        self.db.execute("UPDATE entries SET outcome = ?, detail = ? WHERE i = ?",
                        (OK if done else FAILED, _text(detail), i))

    def to_undo(self) -> Iterator[Step]:
        """Entries that happened or may have (unsettled), newest first, except those already undone."""
        rows = self.db.execute("SELECT i, at, len, line, detail FROM entries WHERE outcome IN (0, 1) "
                               "AND at IS NOT NULL AND undo IS NOT 1 ORDER BY i DESC")
        for i, at, length, number, detail in rows:
            yield Step(i, self.intent(at, length, number), _untext(detail))

    def undo_counts(self) -> tuple[int, int]:
        """(entries to undo, entries already undone) among those :meth:`to_undo` considers."""
        (todo, already), = self.db.execute(
            "SELECT count(undo IS NOT 1 OR NULL), count(undo = 1 OR NULL) FROM entries "
            "WHERE outcome IN (0, 1) AND at IS NOT NULL")
        return todo, already

    def placed(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, intent) of every entry done (``ok``), in index order."""
        for i, at, length, number in self.db.execute("SELECT i, at, len, line FROM entries "
                                                     "WHERE outcome = 1 AND at IS NOT NULL ORDER BY i"):
            intent = self.intent(at, length, number)
            if intent is not None:
                yield i, intent

    def outcomes(self, below: int) -> Iterator[tuple[int, int, str | None]]:
        """(index, OK or FAILED, detail) of the entries below ``below`` with an outcome, in index order."""
        for i, outcome, detail in self.db.execute("SELECT i, outcome, detail FROM entries "
                                                  "WHERE i < ? AND outcome IN (1, 2) ORDER BY i", (below,)):
            yield i, outcome, _untext(detail)

    def failed_count(self, below: int, starting: tuple[str, ...] | None = None) -> int:
        """Failed entries below ``below`` (only those whose error starts with one of ``starting``)."""
        test, params = "", []
        if starting is not None:
            prefixes = [_text(p) for p in starting]
            test = " AND (" + (" OR ".join("substr(detail, 1, ?) = ?" for _ in prefixes) or "0") + ")"
            params = [p for prefix in prefixes for p in (len(prefix), prefix)]
        (n,), = self.db.execute(f"SELECT count(*) FROM entries WHERE outcome = 2 AND i < ?{test}", (below, *params))
        return n

    def done_count(self, below: int) -> int:
        (n,), = self.db.execute("SELECT count(*) FROM entries WHERE outcome = 1 AND i < ?", (below,))
        return n

    # ------------------------------------------------------------ folders

    def created_dirs(self) -> Iterator[str]:
        """Folders the run created, deepest first."""
        for (path,) in self.db.execute("SELECT path FROM made ORDER BY length(path) DESC"):
            yield os.fsdecode(path)

    def recreated(self, path: str) -> None:
        """Undo made source folder ``path`` again (the run had pruned it, or the user removed it)."""
        self.db.execute("INSERT OR IGNORE INTO recreated VALUES (?)", (os.fsencode(path),))

    def pruned_and_recreated(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(folder, its rmdir record) of each pruned folder undo made again, deepest first."""
        for path, record in self.db.execute("SELECT path, record FROM recreated JOIN removed USING (path) "
                                            "ORDER BY length(path) DESC"):
            yield os.fsdecode(path), json.loads(record.decode("utf-8", "surrogateescape"))

    # ------------------------------------------------------------ lifetime

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.db.close()

    def __enter__(self) -> "OpState":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_at(fd: int, at: int, length: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, length, at)
    os.lseek(fd, at, os.SEEK_SET)  # Windows has no pread; the fd is ours alone
    return os.read(fd, length)


def _text(value: Any) -> bytes | None:
    """Text as stored: a path in an error may not be valid UTF-8 (surrogateescape round-trips it)."""
    return None if value is None else str(value).encode("utf-8", "surrogateescape")


def _untext(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "surrogateescape")


def _row(kind: str, r: dict[str, Any], at: int, line: bytes, number: int) -> tuple[Any, ...]:
    if kind == "do":
        return r["i"], at, len(line), number
    if kind == "ok":
        return r["i"], _text(r.get("hash"))
    if kind == "fail":
        return r["i"], _text(r.get("error", ""))
    if kind == "undone":
        return (r["i"],)
    if kind == "kept":
        return r["i"], _text(r.get("why", ""))
    if kind == "mkdir":
        return (os.fsencode(r["path"]),)
    return os.fsencode(r["path"]), line.rstrip(b"\n")  # rmdir: the record (mode, owner, xattrs)


def load(path: str) -> OpState:
    """Fold one operation's journal; malformed lines are listed in ``problems`` (first few) and counted."""
    state = OpState(os.path.basename(path).removesuffix(".jsonl"), path)
    try:
        _fold(state, path)
    except BaseException:
        state.close()
        raise
    return state


class _Window:
    """Entry records on their way to the store, a window at a time, keeping the journal's order.

    An intent and the outcome that follows it (the executor writes a batch of intents, then their
    outcomes) are merged into one row, so most entries cost one insert. Other records go in runs of
    one kind, each one ``executemany``, run in order before the intents: an intent overrides every
    earlier outcome of its entry, and the outcomes after it are in its row already.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.intents: dict[int, list[Any]] = {}  # entry -> [i, at, len, line, outcome, detail]
        self.runs: list[tuple[str, list[tuple[Any, ...]]]] = []
        self.size = 0

    def add(self, kind: str, row: tuple[Any, ...]) -> None:
        if kind == "do":
            self.intents[row[0]] = [*row, INTENT, None]
        elif kind in ("ok", "fail") and row[0] in self.intents:
            self.intents[row[0]][4:] = (OK if kind == "ok" else FAILED, row[1])
            return
        elif self.runs and self.runs[-1][0] == kind:
            self.runs[-1][1].append(row)
        else:
            self.runs.append((kind, [row]))
        self.size += 1
        if self.size >= FOLD_BATCH:
            self.flush()

    def flush(self) -> None:
        for kind, rows in self.runs:
            self.db.executemany(_UPSERTS[kind], rows)
        self.db.executemany(_UPSERTS["do"], self.intents.values())
        self.intents, self.runs, self.size = {}, [], 0


def _fold(state: OpState, path: str) -> None:
    """Read the journal once, each entry record into the store (see :class:`_Window`)."""
    window = _Window(state.db)
    state.db.execute("BEGIN")
    for number, at, line in _lines(path):
        written = _written_entry(line)
        if written is not None:
            kind, i = written
            row = (i, at, len(line), number) if kind == "do" else (i,) if kind == "undone" else (i, None)
        else:
            record, why = _parse(line)
            if record is None:
                state.problem(number, why)
                continue
            kind = record.get("t")
            if kind not in _UPSERTS:
                state._fold_operation(record)
                continue
            row = _row(kind, record, at, line, number)
        window.add(kind, row)
    window.flush()
    state.db.execute("COMMIT")
