"""The scanner: walk library folders and stream one record per file.

``scan(roots)`` returns a ``ScanRun``: an iterator of ``ScanRecord`` that
never holds the list of all paths. Directories are read with ``os.scandir``
(through a directory file descriptor on POSIX, so each stat is a short
``fstatat``), one directory at a time: its files are classified by extension,
video and subtitle names are parsed (or their parse reused from the index
when size and mtime_ns are unchanged), and records go out in name order.

Problems never stop a scan. A problem with one file that is still listed
(e.g. a name that is not valid UTF-8) is in that record's ``warnings``;
problems that skip something (an unreadable folder, a symlink loop, a FIFO,
a file that vanished) are ``ScanWarning``s: passed to ``on_warning`` as they
happen and kept on ``run.summary`` after the iteration.
"""
from __future__ import annotations

import errno as errno_mod
import fnmatch
import operator
import os
import re
import stat as stat_mod
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from queue import Empty, Queue
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from ._speedups import BACKEND, list_dir, path_hash
from .errors import UsageError
from .index import Index, decode_parsed, encode_parsed, signed_hash
from .models import ParsedName
from .monitor import Metrics
from .parse import parse_file, series_title

VIDEO_EXTS = frozenset("mkv mp4 avi m4v webm mov wmv flv ts m2ts ogm".split())
SUBTITLE_EXTS = frozenset("ass ssa srt sup vtt idx sub".split())
KIND_BY_EXT = {**{e: "video" for e in VIDEO_EXTS}, **{e: "subtitle" for e in SUBTITLE_EXTS}}
# Folders that belong to the OS or a NAS, never to the library (names starting
# with "." are skipped too, and so are ".Trash-1000" style trash folders).
SYSTEM_DIRS = frozenset({"$RECYCLE.BIN", "System Volume Information", "@eaDir", "#recycle",
                         "@Recycle", "@Recently-Snapshot", "lost+found", "$Extend"})
# The NDJSON object has these parsed fields, null for files that are not parsed.
JSON_FIELDS = ("title", "season", "episode", "episode_end", "version", "group", "resolution",
               "year", "crc32", "ext")
WARNINGS_KEPT = 1000  # on the summary; the count is always exact

_WIN_SKIP_ATTRS = 0x2 | 0x4  # FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM


class ScanRecord(NamedTuple):
    """One file found by a scan. ``parsed`` is None for kind "other"."""

    path: str
    size: int
    mtime_ns: int
    kind: str  # "video" | "subtitle" | "other"
    parsed: ParsedName | None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The NDJSON object: path, size, mtime_ns, kind, the parsed fields, warnings."""
        d: dict[str, Any] = {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns,
                             "kind": self.kind}
        parsed = self.parsed
        for name in JSON_FIELDS:
            d[name] = getattr(parsed, name) if parsed is not None else None
        if d["ext"] is None:
            d["ext"] = _extension(self.path) or None
        d["warnings"] = list(self.warnings)
        return d

    def to_json(self) -> str:
        """``to_dict()`` as one compact JSON line (no newline), built without json.dumps.

        Names that are not valid UTF-8 carry surrogate escapes; they are written
        as ``\\udcXX`` escapes, so ``os.fsencode(json.loads(line)["path"])`` gives
        back the bytes on disk.
        """
        enc = encode_basestring_ascii if self.warnings else encode_basestring
        fields = fields_json(self.parsed, self.path, enc)
        return _json_line(self.path, self.size, self.mtime_ns, self.kind, fields, self.warnings, enc)


_FIELDS_FORMAT = ",".join(f'"{name}":%s' for name in JSON_FIELDS)
_get_fields = operator.attrgetter(*JSON_FIELDS)


def fields_json(parsed: ParsedName | None, path: str, enc: Callable[[str], str] = encode_basestring) -> str:
    """The parsed fields of a file's NDJSON object, rendered once: ``"title":…,…,"ext":…``."""
    if parsed is None:
        values: list[Any] = [None] * len(JSON_FIELDS)
    else:
        values = list(_get_fields(parsed))
    if values[-1] is None:
        values[-1] = _extension(path) or None
    return _FIELDS_FORMAT % tuple(["null" if v is None else enc(v) if isinstance(v, str) else str(int(v))
                                   for v in values])


def _json_line(path: str, size: int, mtime_ns: int, kind: str, fields: str, warnings: tuple[str, ...],
               enc: Callable[[str], str]) -> str:
    warned = ",".join([enc(w) for w in warnings]) if warnings else ""
    return (f'{{"path":{enc(path)},"size":{size},"mtime_ns":{mtime_ns},"kind":"{kind}",{fields},'
            f'"warnings":[{warned}]}}')


def _extension(path: str) -> str:
    name = path.rpartition(os.sep)[2]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


class ScanWarning(NamedTuple):
    """Something a scan skipped or could not do, and where."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ScanSummary:
    """Totals of a scan, complete once its iteration has ended."""

    roots: list[str]
    files: int = 0
    bytes: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    directories: int = 0
    series: int = 0
    index_hits: int = 0
    index_misses: int = 0
    index: str | None = None  # the index file, None with use_index=False
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count, besides warnings
    warning_count: int = 0
    warnings: list[ScanWarning] = field(default_factory=list)  # the first WARNINGS_KEPT
    seconds: float = 0.0
    complete: bool = False

    @property
    def paths_per_min(self) -> float:
        return self.files / self.seconds * 60 if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "roots": self.roots, "files": self.files, "bytes": self.bytes,
            "by_kind": {k: self.by_kind.get(k, 0) for k in ("video", "subtitle", "other")},
            "directories": self.directories, "series": self.series,
            "index": self.index, "index_hits": self.index_hits, "index_misses": self.index_misses,
            "skipped": dict(self.skipped), "warnings": self.warning_count,
            "seconds": round(self.seconds, 3), "paths_per_min": round(self.paths_per_min),
            "complete": self.complete,
        }


@dataclass(frozen=True)
class _Options:
    recursive: bool
    min_size: int
    exclude: re.Pattern[str] | None
    exclude_paths: bool  # some pattern has a "/": match the path below the root too
    follow_symlinks: bool


def _compile_excludes(patterns: Iterable[str]) -> tuple[re.Pattern[str] | None, bool]:
    patterns = [p.replace("\\", "/").rstrip("/") for p in patterns if p]
    if not patterns:
        return None, False
    flags = re.IGNORECASE if os.name == "nt" else 0
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), flags)
    return regex, any("/" in p for p in patterns)


# A folder, its files (name, size, mtime_ns) and its index rows (None without an index).
Listing = tuple[str, list[tuple[str, int, int]], "dict[int, Any] | None"]


class _Walker:
    """Depth-first walk of the roots: yields each folder's files, and warnings, in order.

    Folders are read by the walk twin's ``list_dir`` (in C, without the GIL,
    when compiled); this class applies the policy: hidden, system and
    excluded names, symlinks and their loops, and what to warn about.
    """

    def __init__(self, options: _Options, skipped: Counter[str],
                 load_rows: Callable[[str], dict[int, Any]] | None) -> None:
        self.options = options
        self.skipped = skipped
        self.load_rows = load_rows  # the folder's index rows, fetched here: in the walker thread
        self.seconds: Counter[str] = Counter()  # "walk" and "index" time spent here
        self.visited: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> path, with symlinks
        self._warnings: list[ScanWarning] = []

    def events(self, roots: list[str]) -> Iterator[Listing | ScanWarning]:
        for root in roots:
            if os.path.isdir(root):
                yield from self._walk(root)
            else:
                yield from self._single_file(root)

    def _warn(self, path: str, message: str) -> None:
        self._warnings.append(ScanWarning(path, message))

    def _walk(self, root: str) -> Iterator[Listing | ScanWarning]:
        if self.options.follow_symlinks:
            self._first_visit(root)
        stack = [root]
        while stack:
            directory = stack.pop()
            files, subdirs = self._read(directory, root)
            if self._warnings:
                yield from self._warnings
                self._warnings.clear()
            yield directory, files, self._rows(directory) if files else None
            stack.extend(reversed(subdirs))

    def _rows(self, directory: str) -> dict[int, Any] | None:
        if self.load_rows is None:
            return None
        started = time.perf_counter()
        rows = self.load_rows(directory)
        self.seconds["index"] += time.perf_counter() - started
        return rows

    def _read(self, directory: str, root: str) -> tuple[list[tuple[str, int, int]], list[str]]:
        options, skipped = self.options, self.skipped
        started = time.perf_counter()
        try:
            files, dirs, links, specials, failed, hidden, small, error = list_dir(directory, options.min_size)
        except OSError as e:
            self.seconds["walk"] += time.perf_counter() - started
            self._warn(directory, _reason(e, "cannot read folder"))
            return [], []
        self.seconds["walk"] += time.perf_counter() - started
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        if hidden:
            skipped["hidden"] += hidden
        if small:
            skipped["below_min_size"] += small
        for name, code in failed:
            self._warn(prefix + name, "vanished during the scan, skipped" if code == errno_mod.ENOENT
                       else _reason(OSError(code, os.strerror(code)), "cannot stat"))
        for name, mode in specials:
            self._warn(prefix + name, _special_kind_of_mode(mode) + ", skipped")
        if error:
            self._warn(directory, _reason(OSError(error, os.strerror(error)), "listing stopped"))
        if options.exclude is not None:
            files = [f for f in files if not self._excluded(f[0], prefix, root)]
            dirs = [d for d in dirs if not self._excluded(d, prefix, root)]
        subdirs: list[str] = []
        if options.recursive:
            for name in dirs:
                if _is_system_dir(name, prefix + name):
                    skipped["system"] += 1
                elif not options.follow_symlinks or self._first_visit(prefix + name):
                    subdirs.append(prefix + name)
        for name in links:
            self._symlink(prefix + name, files, subdirs)
        if links and options.follow_symlinks:  # followed links joined the lists: keep name order
            files.sort()
            subdirs.sort()
        return files, subdirs

    def _single_file(self, path: str) -> Iterator[Listing | ScanWarning]:
        directory, _, name = path.rpartition(os.sep)
        try:
            st = os.stat(path)  # a PATH given by name is followed, like `find -H`
        except OSError as e:
            yield ScanWarning(path, _reason(e, "cannot stat"))
            return
        if stat_mod.S_ISREG(st.st_mode):
            directory = directory or os.sep
            yield directory, [(name, st.st_size, st.st_mtime_ns)], self._rows(directory)
        else:
            yield ScanWarning(path, _special_kind_of_mode(st.st_mode) + ", skipped")

    def _excluded(self, name: str, prefix: str, root: str) -> bool:
        exclude = self.options.exclude
        assert exclude is not None
        if exclude.match(name):
            self.skipped["excluded"] += 1
            return True
        if self.options.exclude_paths:
            relative = (prefix + name)[len(root):].lstrip(os.sep).replace(os.sep, "/")
            if exclude.match(relative):
                self.skipped["excluded"] += 1
                return True
        return False

    def _symlink(self, path: str, files: list[tuple[str, int, int]], subdirs: list[str]) -> None:
        if not self.options.follow_symlinks:
            self.skipped["symlink"] += 1
            return
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._warn(path, "broken symlink, skipped")
            return
        except OSError as e:  # ELOOP lands here for a link pointing at itself
            self._warn(path, _reason(e, "cannot follow symlink"))
            return
        if stat_mod.S_ISDIR(st.st_mode):
            if self.options.recursive and self._first_visit(path, st):
                subdirs.append(path)
        elif not stat_mod.S_ISREG(st.st_mode):
            self._warn(path, "symlink to a " + _special_kind_of_mode(st.st_mode) + ", skipped")
        elif st.st_size >= self.options.min_size:
            files.append((path.rpartition(os.sep)[2], st.st_size, st.st_mtime_ns))
        else:
            self.skipped["below_min_size"] += 1

    def _first_visit(self, path: str, st: os.stat_result | None = None) -> bool:
        """Remembers a folder by (device, inode); False (and a warning) the second time."""
        try:
            st = st or os.stat(path)
        except OSError as e:
            self._warn(path, _reason(e, "cannot stat folder"))
            return False
        first = self.visited.setdefault((st.st_dev, st.st_ino), path)
        if first != path:
            self._warn(path, f"symlink loop: folder already scanned as {first}, skipped")
            return False
        return True


def _is_system_dir(name: str, path: str) -> bool:
    if name in SYSTEM_DIRS or name.startswith(".Trash-"):
        return True
    if os.name == "nt":  # hidden or system attribute
        try:
            return bool(os.stat(path, follow_symlinks=False).st_file_attributes & _WIN_SKIP_ATTRS)
        except OSError:
            return False
    return False


def _special_kind_of_mode(mode: int) -> str:
    if stat_mod.S_ISFIFO(mode):
        return "FIFO"
    if stat_mod.S_ISSOCK(mode):
        return "socket"
    if stat_mod.S_ISCHR(mode) or stat_mod.S_ISBLK(mode):
        return "device"
    return "special file"


def _reason(error: OSError, what: str) -> str:
    if isinstance(error, PermissionError):
        return f"permission denied ({what}), skipped"
    return f"{what}: {error.strerror or error}, skipped"


def _invalid_name(name: str) -> bool:
    """True when the name on disk is not valid UTF-8 (it carries surrogate escapes)."""
    if name.isascii():
        return False
    try:
        name.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


class _Failed(NamedTuple):
    error: BaseException


_DONE = object()


def _in_thread(events: Iterator[Any], depth: int = 64) -> Iterator[Any]:
    """Runs ``events`` in a walker thread, ``depth`` folders ahead of the caller.

    The compiled ``list_dir`` releases the GIL for its system calls, so the
    walk proceeds on the second core while this thread parses and writes.
    """
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for event in events:
                if stop.is_set():
                    return
                queue.put(event)
        except BaseException as e:  # handed to the consumer, which raises it
            queue.put(_Failed(e))
        finally:
            queue.put(_DONE)

    worker = threading.Thread(target=produce, name="anivault-walk", daemon=True)
    worker.start()
    try:
        while (event := queue.get()) is not _DONE:
            if isinstance(event, _Failed):
                raise event.error
            yield event
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get(timeout=0.05)
            except Empty:
                pass
        worker.join()


class ScanRun:
    """An iterator of ``ScanRecord``; ``summary`` is complete once it is exhausted.

    ``ndjson()`` is the same scan as NDJSON text instead of records (what
    ``scan --json`` writes); use one or the other.
    """

    def __init__(self, roots: list[str], options: _Options, *, use_index: bool,
                 cache_dir: str | os.PathLike[str] | None, metrics: Metrics,
                 on_warning: Callable[[ScanWarning], None] | None, threaded: bool) -> None:
        self.summary = ScanSummary(roots=roots)
        self._threaded = threaded
        self.metrics = metrics
        self._options = options
        self._on_warning = on_warning
        self._use_index = use_index
        self._cache_dir = cache_dir
        self._series: set[int] = set()
        self._other_fields: dict[str, str] = {}  # ext -> fields of a file that is not parsed
        self._records: Iterator[Any] = self._run(as_json=False)
        self._started = False

    def __iter__(self) -> "ScanRun":
        return self

    def __next__(self) -> ScanRecord:
        self._started = True
        return next(self._records)  # type: ignore[no-any-return]

    def ndjson(self) -> Iterator[str]:
        """One chunk of NDJSON text per folder (whole lines, each ending in a newline)."""
        if self._started:
            raise RuntimeError("ndjson() on a scan that is already being iterated")
        self._started = True
        self._records.close()
        self._records = self._run(as_json=True)
        return self._records

    def close(self) -> None:
        """Stops early; the index keeps what was scanned so far."""
        self._records.close()

    def warn(self, path: str, message: str) -> None:
        warning = ScanWarning(path, message)
        summary = self.summary
        summary.warning_count += 1
        if len(summary.warnings) < WARNINGS_KEPT:
            summary.warnings.append(warning)
        self.metrics.count("warnings")
        if self._on_warning is not None:
            self._on_warning(warning)

    def _run(self, as_json: bool) -> Iterator[Any]:
        started = time.perf_counter()
        summary = self.summary
        index = Index.open(self._cache_dir, warn=self.warn) if self._use_index else None
        summary.index = index.path if index is not None else None
        load_rows = (lambda d: index.load_dir(d, as_json)) if index is not None else None
        walker = _Walker(self._options, summary.skipped, load_rows)
        events = walker.events(summary.roots)
        if self._threaded:
            events = _in_thread(events)
        try:
            for event in events:
                if isinstance(event, ScanWarning):
                    self.warn(*event)
                else:
                    summary.directories += 1
                    yield from self._directory(*event, index, as_json)
            summary.complete = True
        finally:
            events.close()  # type: ignore[attr-defined]
            for stage, seconds in walker.seconds.items():
                self.metrics.add_time(stage, seconds, summary.files if stage == "walk" else summary.directories)
            summary.series = len(self._series)
            if index is not None:
                options = self._options
                whole = options.recursive and options.exclude is None
                index.close(summary.complete, prune=[r for r in summary.roots if whole and os.path.isdir(r)])
            summary.seconds = time.perf_counter() - started

    def _directory(self, directory: str, files: list[tuple[str, int, int]], rows: dict[int, Any] | None,
                   index: Index | None, as_json: bool) -> Iterator[Any]:
        """One folder's records (or NDJSON chunk): parses reused from the index, the rest parsed.

        The hot loop of a scan: everything per file is inlined here.
        """
        if not files:
            return
        perf_counter = time.perf_counter
        parse_seconds = 0.0
        parses = 0
        parse = _PARSE
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        kinds = KIND_BY_EXT
        series = self._series
        by_kind = self.summary.by_kind
        other_fields = self._other_fields
        cached = rows if rows is not None else {}
        hits = nbytes = 0
        new_rows: list[tuple[int, int, int, str, str, int | None]] = []
        flagged: list[str] = []  # names that are not valid UTF-8
        out: list[Any] = []
        for name, size, mtime_ns in files:
            path = prefix + name
            stem, _, ext = name.rpartition(".")
            ext = ext.lower() if stem else ""  # no stem: no dot, or a name like ".mkv"
            kind = kinds.get(ext, "other")
            if name.isascii() or not _invalid_name(name):
                warnings: tuple[str, ...] = ()
                enc = encode_basestring
            else:
                warnings = _NAME_WARNING
                enc = encode_basestring_ascii
                flagged.append(path)
            parsed = None
            if kind == "other":
                if as_json:
                    fields = other_fields.get(ext) if not warnings else None
                    if fields is None:
                        fields = fields_json(None, path, enc)
                        if not warnings:
                            other_fields[ext] = fields
            else:
                key = path_hash(path)
                row = cached.pop(key, None)  # what is left at the end is gone from disk
                if row is not None and row[0] == size and row[1] == mtime_ns and \
                        (as_json or (parsed := _decoded(row[2])) is not None):
                    hits += 1
                    fields = row[2]
                    series_key = row[3]
                else:
                    t_parse = perf_counter()
                    parsed = parse(name, directory)
                    parse_seconds += perf_counter() - t_parse
                    parses += 1
                    series_key = _series_key(parsed) if kind == "video" else None
                    fields = fields_json(parsed, path, enc) if as_json or index is not None else ""
                    if index is not None:
                        new_rows.append((key, size, mtime_ns, encode_parsed(parsed), fields, series_key))
                if series_key:
                    series.add(series_key)
            nbytes += size
            by_kind[kind] += 1
            if as_json:
                if warnings:
                    out.append(_json_line(path, size, mtime_ns, kind, fields, warnings, enc))
                else:  # the common case, inlined
                    out.append(f'{{"path":{enc(path)},"size":{size},"mtime_ns":{mtime_ns},"kind":"{kind}",'
                               f'{fields},"warnings":[]}}')
            else:
                out.append(ScanRecord(path, size, mtime_ns, kind, parsed, warnings))
        if as_json:
            out.append("")
        misses = len(new_rows) if index is not None else 0
        t1 = perf_counter()
        if index is not None and (new_rows or cached or hits):
            index.store(directory, new_rows, stale=cached)
        self.metrics.add_time("index", perf_counter() - t1)
        if parses:
            self.metrics.add_time("parse", parse_seconds, parses)
        self._account(len(files), flagged, hits, misses, nbytes)
        if as_json:
            yield "\n".join(out)
        else:
            yield from out

    def _account(self, files: int, flagged: list[str], hits: int, misses: int, nbytes: int) -> None:
        summary, metrics = self.summary, self.metrics
        for path in flagged:
            self.warn(path, _NAME_WARNING[0])
        summary.files += files
        summary.bytes += nbytes
        summary.index_hits += hits
        summary.index_misses += misses
        metrics.count("files", files)
        metrics.count("bytes", nbytes)
        if hits:
            metrics.count("index_hits", hits)
        if misses:
            metrics.count("index_misses", misses)


def _decoded(text: str) -> ParsedName | None:
    """A cached parse, or None when the row is unreadable (then the file is parsed again)."""
    try:
        return decode_parsed(text)
    except (ValueError, TypeError, IndexError):
        return None


def _series_key(parsed: ParsedName) -> int | None:
    """Series are counted by series title (case-folded) and season; kept as a 64-bit hash, not text,
    so the set of series seen stays small on big libraries."""
    title = series_title(parsed)
    if not title:
        return None
    return signed_hash(path_hash(f"{title.casefold()}\x1f{'' if parsed.season is None else parsed.season}"))


_NAME_WARNING = ("name is not valid UTF-8 (shown with \\udcXX escapes)",)
_PARSE: Callable[[str, str], ParsedName] = parse_file


def scan(roots: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, recursive: bool = True,
         min_size: int = 0, exclude: Iterable[str] = (), follow_symlinks: bool = False,
         use_index: bool = True, cache_dir: str | os.PathLike[str] | None = None, workers: int = 0,
         metrics: Metrics | None = None,
         on_warning: Callable[[ScanWarning], None] | None = None) -> ScanRun:
    """Stream a ``ScanRecord`` for every file under ``roots`` (folders or files).

    Hidden (".*") and system folders are skipped; symlinks are followed only
    with ``follow_symlinks`` (loops are detected by device and inode).
    ``exclude`` globs match a file or folder name, or (with a "/") its path
    below the root. ``min_size`` skips smaller files. The index in
    ``cache_dir`` (default: the user cache dir) reuses the parse of unchanged
    files; ``use_index=False`` bypasses it. ``workers`` is accepted for the
    CLI's --workers; see docs/PERFORMANCE.md for what it changes.
    Raises UsageError when a root does not exist; every other problem is a
    warning (see ``ScanRun``).
    """
    if isinstance(roots, (str, os.PathLike)):
        roots = [roots]
    paths = [_root(r) for r in roots]
    if min_size < 0:
        raise UsageError(f"scan: --min-size must be >= 0, not {min_size}", hint="e.g. --min-size 50M")
    if workers < 0:
        raise UsageError(f"scan: --workers must be >= 0, not {workers}", hint="0 picks automatically")
    regex, with_paths = _compile_excludes(exclude)
    options = _Options(recursive=recursive, min_size=min_size, exclude=regex,
                       exclude_paths=with_paths, follow_symlinks=follow_symlinks)
    threaded = workers >= 2 or (workers == 0 and BACKEND == "c" and (os.cpu_count() or 1) >= 2)
    return ScanRun(paths, options, use_index=use_index, cache_dir=cache_dir,
                   metrics=metrics if metrics is not None else Metrics(), on_warning=on_warning,
                   threaded=threaded)


def _root(root: str | os.PathLike[str]) -> str:
    path = os.path.abspath(os.fspath(root))
    if not os.path.lexists(path):
        raise UsageError(f"scan: {path} does not exist", hint="check the path")
    return path


_SIZE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes from "700", "10M", "1.5G", "200KiB", "2 GB" (binary units)."""
    m = _SIZE.match(text)
    if m is None:
        raise UsageError(f"invalid size {text!r}", hint="use e.g. 500K, 10M, 1.5G")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()])
