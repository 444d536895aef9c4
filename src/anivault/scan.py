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

import fnmatch
import os
import re
import stat as stat_mod
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from ._speedups import path_hash
from .errors import UsageError
from .index import Index
from .models import ParsedName
from .monitor import Metrics

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

_SCANDIR_FD = os.scandir in os.supports_fd and os.name == "posix"
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
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
        parsed = self.parsed
        if parsed is None:
            ext = _extension(self.path)
            fields = (_NULL_FIELDS + (enc(ext) if ext else "null"))
        else:
            fields = ",".join([f'"{name}":{_value(getattr(parsed, name), enc)}'
                               for name in JSON_FIELDS])
        warnings = ",".join(enc(w) for w in self.warnings)
        return (f'{{"path":{enc(self.path)},"size":{self.size},"mtime_ns":{self.mtime_ns},'
                f'"kind":"{self.kind}",{fields},"warnings":[{warnings}]}}')


_NULL_FIELDS = "".join(f'"{name}":null,' for name in JSON_FIELDS[:-1]) + '"ext":'


def _value(v: Any, enc: Callable[[str], str]) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return enc(v)
    return str(int(v))


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


class _Walker:
    """Depth-first walk yielding (directory, [(name, size, mtime_ns)]) in name order."""

    def __init__(self, options: _Options, warn: Callable[[str, str], None],
                 skipped: Counter[str]) -> None:
        self.options = options
        self.warn = warn
        self.skipped = skipped
        self.visited: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> path, with symlinks

    def walk(self, root: str) -> Iterator[tuple[str, list[tuple[str, int, int]]]]:
        if self.options.follow_symlinks:
            self._first_visit(root, root)
        stack = [root]
        while stack:
            directory = stack.pop()
            listing = self._read(directory, root)
            if listing is None:
                continue
            files, subdirs = listing
            yield directory, files
            stack.extend(reversed(subdirs))

    def _read(self, directory: str, root: str) -> tuple[list[tuple[str, int, int]], list[str]] | None:
        fd = -1
        try:
            if _SCANDIR_FD:
                fd = os.open(directory, _DIR_FLAGS)
                it = os.scandir(fd)
            else:
                it = os.scandir(directory)
        except OSError as e:
            if fd >= 0:
                os.close(fd)
            self.warn(directory, _reason(e, "cannot read folder"))
            return None
        files: list[tuple[str, int, int]] = []
        subdirs: list[str] = []
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        try:
            with it:
                for entry in it:
                    self._classify(entry, prefix, root, files, subdirs)
        except OSError as e:  # the folder went away or broke while being listed
            self.warn(directory, _reason(e, "listing stopped"))
        finally:
            if fd >= 0:
                os.close(fd)
        files.sort()
        subdirs.sort()
        return files, subdirs

    def _classify(self, entry: os.DirEntry[str], prefix: str, root: str,
                  files: list[tuple[str, int, int]], subdirs: list[str]) -> None:
        name = entry.name
        options = self.options
        if name[0] == ".":
            self.skipped["hidden"] += 1
            return
        if options.exclude is not None and self._excluded(name, prefix, root):
            self.skipped["excluded"] += 1
            return
        try:
            if entry.is_dir(follow_symlinks=False):
                if _is_system_dir(name, entry):
                    self.skipped["system"] += 1
                elif options.recursive:
                    if options.follow_symlinks and not self._first_visit(prefix + name, prefix + name, entry):
                        return
                    subdirs.append(prefix + name)
                return
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
            elif entry.is_symlink():
                st = self._symlink(entry, prefix + name, subdirs)
                if st is None:
                    return
            else:
                self.warn(prefix + name, _special_kind(entry) + ", skipped")
                return
        except FileNotFoundError:
            self.warn(prefix + name, "vanished during the scan, skipped")
            return
        except OSError as e:
            self.warn(prefix + name, _reason(e, "cannot stat"))
            return
        if st.st_size < options.min_size:
            self.skipped["below_min_size"] += 1
            return
        files.append((name, st.st_size, st.st_mtime_ns))

    def _excluded(self, name: str, prefix: str, root: str) -> bool:
        assert self.options.exclude is not None
        if self.options.exclude.match(name):
            return True
        if self.options.exclude_paths:
            relative = (prefix + name)[len(root):].lstrip(os.sep).replace(os.sep, "/")
            return self.options.exclude.match(relative) is not None
        return False

    def _symlink(self, entry: os.DirEntry[str], path: str, subdirs: list[str]) -> os.stat_result | None:
        if not self.options.follow_symlinks:
            self.skipped["symlink"] += 1
            return None
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.warn(path, "broken symlink, skipped")
            return None
        except OSError as e:  # ELOOP lands here for a link pointing at itself
            self.warn(path, _reason(e, "cannot follow symlink"))
            return None
        if stat_mod.S_ISDIR(st.st_mode):
            if self.options.recursive and self._first_visit(path, path, st):
                subdirs.append(path)
            return None
        if not stat_mod.S_ISREG(st.st_mode):
            self.warn(path, "symlink to a " + _special_kind_of_mode(st.st_mode) + ", skipped")
            return None
        return st

    def _first_visit(self, path: str, shown: str, entry: Any = None) -> bool:
        """Remembers a directory by (device, inode); False (and a warning) the second time."""
        try:
            st = entry.stat(follow_symlinks=True) if isinstance(entry, os.DirEntry) else \
                entry if entry is not None else os.stat(path)
        except OSError as e:
            self.warn(path, _reason(e, "cannot stat folder"))
            return False
        key = (st.st_dev, st.st_ino)
        first = self.visited.setdefault(key, path)
        if first != path:
            self.warn(shown, f"symlink loop: folder already scanned as {first}, skipped")
            return False
        return True


def _is_system_dir(name: str, entry: os.DirEntry[str]) -> bool:
    if name in SYSTEM_DIRS or name.startswith(".Trash-"):
        return True
    if os.name == "nt":  # hidden/system attributes come with the listing on Windows
        try:
            return bool(entry.stat(follow_symlinks=False).st_file_attributes & _WIN_SKIP_ATTRS)
        except OSError:
            return False
    return False


def _special_kind(entry: os.DirEntry[str]) -> str:
    try:
        return _special_kind_of_mode(entry.stat(follow_symlinks=False).st_mode)
    except OSError:
        return "special file"


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


def _parser() -> Callable[[str, str], ParsedName]:
    """The parser entry point: parse.parse_file (name, folder) when present."""
    try:
        from .parse import parse_file  # type: ignore[attr-defined]
    except ImportError:  # the first parser: names only
        from ._speedups import parse_name

        return lambda name, folder: parse_name(name)
    return parse_file  # type: ignore[no-any-return]


class ScanRun:
    """An iterator of ``ScanRecord``; ``summary`` is complete once it is exhausted."""

    def __init__(self, roots: list[str], options: _Options, *, use_index: bool,
                 cache_dir: str | os.PathLike[str] | None, metrics: Metrics,
                 on_warning: Callable[[ScanWarning], None] | None) -> None:
        self.summary = ScanSummary(roots=roots)
        self.metrics = metrics
        self._options = options
        self._on_warning = on_warning
        self._use_index = use_index
        self._cache_dir = cache_dir
        self._records = self._run()

    def __iter__(self) -> "ScanRun":
        return self

    def __next__(self) -> ScanRecord:
        return next(self._records)

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

    def _run(self) -> Iterator[ScanRecord]:
        started = time.perf_counter()
        summary = self.summary
        index = Index.open(self._cache_dir, warn=self.warn) if self._use_index else None
        summary.index = index.path if index is not None else None
        self._series: set[tuple[str, int | None]] = set()
        walker = _Walker(self._options, self.warn, summary.skipped)
        try:
            for root in summary.roots:
                if os.path.isdir(root):
                    for directory, files in walker.walk(root):
                        summary.directories += 1
                        yield from self._directory(directory, files, index)
                else:
                    yield from self._single_file(root, index)
            summary.complete = True
        finally:
            summary.series = len(self._series)
            if index is not None:
                index.close(summary.complete)
            summary.seconds = time.perf_counter() - started

    def _single_file(self, path: str, index: Index | None) -> Iterator[ScanRecord]:
        try:
            st = os.stat(path) if self._options.follow_symlinks else os.lstat(path)
        except OSError as e:
            self.warn(path, _reason(e, "cannot stat"))
            return
        if not stat_mod.S_ISREG(st.st_mode):
            self.warn(path, _special_kind_of_mode(st.st_mode) + ", skipped")
            return
        directory, _, name = path.rpartition(os.sep)
        yield from self._directory(directory or os.sep, [(name, st.st_size, st.st_mtime_ns)], index)

    def _directory(self, directory: str, files: list[tuple[str, int, int]],
                   index: Index | None) -> Iterator[ScanRecord]:
        """Records for one folder's files: parses reused from the index, the rest parsed."""
        if not files:
            return
        t0 = time.perf_counter()
        parse = _PARSE
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        kinds = KIND_BY_EXT
        series = self._series
        by_kind = self.summary.by_kind
        cached: dict[int, Any] | None = None  # loaded at the folder's first video or subtitle
        hits = nbytes = 0
        new_rows: list[tuple[int, int, int, ParsedName]] = []
        records: list[ScanRecord] = []
        for name, size, mtime_ns in files:
            path = prefix + name
            stem, dot, ext = name.rpartition(".")
            kind = kinds.get(ext.lower(), "other") if dot and stem else "other"
            warnings = _NAME_WARNING if not name.isascii() and _invalid_name(name) else ()
            parsed = None
            if kind != "other":
                if cached is None:
                    cached = index.load_dir(directory) if index is not None else {}
                key = path_hash(path)
                row = cached.pop(key, None)  # what is left at the end is gone from disk
                if row is not None and row[0] == size and row[1] == mtime_ns:
                    parsed = row[2]
                    hits += 1
                else:
                    parsed = parse(name, directory)
                    new_rows.append((key, size, mtime_ns, parsed))
                if kind == "video" and parsed.title:
                    series.add((parsed.title.casefold(), parsed.season))
            nbytes += size
            by_kind[kind] += 1
            records.append(ScanRecord(path, size, mtime_ns, kind, parsed, warnings))
        if index is not None and (new_rows or cached):
            index.store(directory, new_rows, stale=cached or ())
        misses = len(new_rows) if index is not None else 0
        self._account(records, hits, misses, nbytes, time.perf_counter() - t0)
        yield from records

    def _account(self, records: list[ScanRecord], hits: int, misses: int, nbytes: int,
                 seconds: float) -> None:
        summary, metrics = self.summary, self.metrics
        for record in records:
            for warning in record.warnings:
                self.warn(record.path, warning)
        summary.files += len(records)
        summary.bytes += nbytes
        summary.index_hits += hits
        summary.index_misses += misses
        metrics.count("files", len(records))
        metrics.count("bytes", nbytes)
        if hits:
            metrics.count("index_hits", hits)
        if misses:
            metrics.count("index_misses", misses)
        metrics.add_time("parse", seconds, len(records))


_NAME_WARNING = ("name is not valid UTF-8 (shown with \\udcXX escapes)",)
_PARSE: Callable[[str, str], ParsedName] = _parser()


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
    return ScanRun(paths, options, use_index=use_index, cache_dir=cache_dir,
                   metrics=metrics if metrics is not None else Metrics(), on_warning=on_warning)


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
