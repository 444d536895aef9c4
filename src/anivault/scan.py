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

import marshal
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from ._speedups import BACKEND, path_hash, render_folder
from ._speedups._records_format import (JSON_FIELDS, KIND_BY_EXT, NULL_FIELDS, SUBTITLE_EXTS,  # noqa: F401
                                        VIDEO_EXTS, decode_entries, encode_entry, encode_parsed, entries_by_key,
                                        extension, fields_json, kind_of_ext, series_key)  # (re-exported)
from .errors import UsageError
from .gcpause import rare_gc_pauses
from .index import Index
from .models import ParsedName
from .monitor import Metrics
from .parse import parse_file
from .walk import SYSTEM_DIRS, ScanWarning, WalkOptions, Walker, compile_excludes, valid_utf8  # noqa: F401 (re-exported)

WARNINGS_KEPT = 1000  # on the summary; the count is always exact



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
        enc = encode_basestring if valid_utf8(self.path) else encode_basestring_ascii
        fields = fields_json(self.parsed, self.path, enc)
        return _json_line(self.path, self.size, self.mtime_ns, self.kind, fields, self.warnings, enc)


def _json_line(path: str, size: int, mtime_ns: int, kind: str, fields: str, warnings: tuple[str, ...],
               enc: Callable[[str], str]) -> str:
    warned = ",".join([enc(w) for w in warnings]) if warnings else ""
    return (f'{{"path":{enc(path)},"size":{size},"mtime_ns":{mtime_ns},"kind":"{kind}",{fields},'
            f'"warnings":[{warned}]}}')


def _extension(path: str) -> str:
    return extension(path.rpartition(os.sep)[2]).lower()


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


class ScanRun:
    """An iterator of ``ScanRecord``; ``summary`` is complete once it is exhausted.

    ``ndjson()`` is the same scan as NDJSON text instead of records (what
    ``scan --json`` writes; ``ndjson_bytes()`` as UTF-8); use one or the other.
    """

    def __init__(self, roots: list[str], options: WalkOptions, *, use_index: bool,
                 cache_dir: str | os.PathLike[str] | None, metrics: Metrics,
                 on_warning: Callable[[ScanWarning], None] | None, read_ahead: bool) -> None:
        self.summary = ScanSummary(roots=roots)
        self._read_ahead = read_ahead
        self.metrics = metrics
        self._options = options
        self._on_warning = on_warning
        self._use_index = use_index
        self._cache_dir = cache_dir
        self._series: set[int] = set()
        self._kinds = [0, 0, 0]  # videos, subtitles, others of --json (by_kind at the end)
        self._metered = (0, 0, 0, 0)  # files, bytes, index hits and misses the metrics have
        self._pending_index_seconds = 0.0
        self._pending_parse: list[Any] = [0.0, 0]  # seconds, files parsed
        self._records_seconds = 0.0  # making the records or lines, parsing aside
        self._records: Iterator[Any] = self._run(as_json=False)
        self._started = False
        self._by_folder = False  # folders(): one list of records per folder

    def __iter__(self) -> "ScanRun":
        return self

    def __next__(self) -> ScanRecord:
        self._started = True
        return next(self._records)  # type: ignore[no-any-return]

    def folders(self) -> Iterator[list[ScanRecord]]:
        """The same records, one list per folder (a pipeline's batches: no per-file step in between)."""
        if self._started:
            raise RuntimeError("folders() on a scan that is already being iterated")
        self._started = self._by_folder = True
        return self._records

    def ndjson(self) -> Iterator[str]:
        """One chunk of NDJSON text per folder (whole lines, each ending in a newline)."""
        return (chunk.decode("utf-8", "surrogatepass") for chunk in self.ndjson_bytes())

    def ndjson_bytes(self) -> Iterator[bytes]:
        """``ndjson()`` as UTF-8, what ``scan --json`` writes (no text layer in between)."""
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
        options = self._options
        whole = options.recursive and options.exclude is None and options.min_size == 0
        if index is not None and whole:  # the last whole scan's count: the live line's ETA
            self.metrics.expect(index.expected_files(summary.roots))
        self.metrics.add_time("index", time.perf_counter() - started)
        walker = Walker(self._options, summary.skipped, index.load_dir if index is not None else None,
                         self._read_ahead)
        events = walker.events(summary.roots)
        try:
            with rare_gc_pauses(20_000):
                for event in events:
                    if type(event) is ScanWarning:
                        self.warn(*event)
                        continue
                    summary.directories += 1
                    if not event[1]:
                        continue
                    out = self._directory(*event, index, as_json)  # type: ignore[misc]
                    if as_json or self._by_folder:
                        yield out
                    else:
                        yield from out
                    if summary.directories & 63 == 0:
                        self._flush_metrics()
                summary.complete = True
        finally:
            events.close()  # type: ignore[attr-defined]
            for kind, n in zip(("video", "subtitle", "other"), self._kinds):
                if n:
                    summary.by_kind[kind] += n
            self._flush_metrics()
            self.metrics.add_time("walk", walker.walk_seconds, summary.files)
            self.metrics.add_time("index", walker.index_seconds, summary.directories)
            summary.series = len(self._series)
            if index is not None:
                closing = time.perf_counter()
                if whole:
                    index.remember_files(summary.roots, summary.files)
                walked = options.recursive and options.exclude is None  # every folder seen
                index.close(summary.complete, prune=[r for r in summary.roots if walked and os.path.isdir(r)])
                self.metrics.add_time("index", time.perf_counter() - closing)
            self.metrics.add_time("records", self._records_seconds, summary.files)
            summary.seconds = time.perf_counter() - started

    def _directory(self, directory: str, files: Sequence[tuple[str, int, int]], blob: bytes | None,
                   whole: bool, index: Index | None, as_json: bool) -> Any:
        """One folder's NDJSON chunk (bytes) or records; its index entries stored."""
        started = time.perf_counter()
        prefix = directory if directory.endswith(os.sep) else directory + os.sep
        folder = _Folder(files, index is not None)
        if as_json:
            out: Any = self._folder_json(directory, prefix, blob, folder)
        else:
            out = self._folder_records(directory, prefix, blob, folder)
        self._records_seconds += time.perf_counter() - started - folder.parse_seconds
        if folder.blob is not None and blob and not whole:
            folder.keep_unseen(blob)
        if blob is None and folder.blob is None:
            folder.blob = b""  # a row even with no entries: the next scan finds it in the stream
        if index is not None:
            started = time.perf_counter()
            index.store(directory, folder.blob, folder.entries)
            self._pending_index_seconds += time.perf_counter() - started
        self._account(folder)
        return out

    def _folder_json(self, directory: str, prefix: str, blob: bytes | None, folder: "_Folder") -> bytes:
        """The render twin writes every line it can, parsing the files the index does not know;
        the misses (names that are not valid UTF-8) are parsed and rendered here."""
        files = folder.files
        started = time.perf_counter()
        segments, misses, order, counts, series_keys = render_folder(prefix, files, blob, directory,
                                                                     folder.indexed)
        folder.hits, folder.nbytes, videos, subtitles, others, parsed = counts
        if parsed:  # the render twin's time goes to "parse" when it parsed
            folder.parses += parsed
            folder.parse_seconds += time.perf_counter() - started
        kinds = self._kinds
        kinds[0] += videos
        kinds[1] += subtitles
        kinds[2] += others
        if series_keys:
            self._series.update(series_keys)
        if not misses:
            chunk: bytes = segments[0]
        else:
            parts = [segments[0]]
            entries: list[bytes | None] = []
            for (i, kind, key), segment in zip(misses, segments[1:]):
                name, size, mtime_ns = files[i]
                line, entry = self._new_file(folder, directory, prefix + name, name, size, mtime_ns, kind, key)
                parts += (line, segment)
                entries.append(entry)
            chunk = b"".join(parts)
        if order is not None:  # (only when indexed)
            folder.blob = b"".join([o if type(o) is bytes else entries[o] for o in order])  # type: ignore
            folder.entries = videos + subtitles
        return chunk

    def _new_file(self, folder: "_Folder", directory: str, path: str, name: str, size: int, mtime_ns: int,
                  kind: str, key: int) -> tuple[bytes, bytes | None]:
        """The NDJSON line of a file the render twin left (parsed here), and its index entry."""
        warnings: tuple[str, ...] = ()
        enc = encode_basestring
        if not valid_utf8(path):
            enc = encode_basestring_ascii
            if not valid_utf8(name):
                warnings = _NAME_WARNING
                folder.flagged.append(path)
        entry = None
        if kind == "other":
            fields = fields_json(None, path, enc)
        else:
            parsed, key_of_series = self._parse(folder, name, directory, kind)
            fields = fields_json(parsed, path, enc)
            if folder.indexed:
                entry = encode_entry(key or path_hash(path), size, mtime_ns, key_of_series, encode_parsed(parsed))
        line = _json_line(path, size, mtime_ns, kind, fields, warnings, enc) + "\n"
        return line.encode("utf-8", "surrogatepass"), entry

    def _parse(self, folder: "_Folder", name: str, directory: str, kind: str) -> tuple[ParsedName, int | None]:
        started = time.perf_counter()
        parsed = _PARSE(name, directory)
        folder.parse_seconds += time.perf_counter() - started
        folder.parses += 1
        key = series_key(parsed) if kind == "video" else None
        if key:
            self._series.add(key)
        return parsed, key

    def _folder_records(self, directory: str, prefix: str, blob: bytes | None,
                        folder: "_Folder") -> list[ScanRecord]:
        """The library API's records: entries reused from the index are decoded, the rest parsed.
        (The loop is written out: it runs per file, and a warm index makes it most of the scan.)"""
        try:
            cached = entries_by_key(blob) if blob else {}
            broken = False
        except ValueError:
            cached, broken = {}, True
        by_kind = self.summary.by_kind
        records: list[ScanRecord] = []
        entries: list[bytes] = []
        changed = broken
        new, loads, kinds, fields, nbytes = tuple.__new__, marshal.loads, KIND_BY_EXT, _PARSED_FIELDS, 0
        for name, size, mtime_ns in folder.files:
            path = prefix + name
            stem, dot, ext = name.rpartition(".")
            kind = kinds.get(ext.lower(), "other") if dot and stem and ext.isascii() else "other"
            warnings: tuple[str, ...] = ()
            if not name.isascii() and not valid_utf8(name):
                warnings = _NAME_WARNING
                folder.flagged.append(path)
            nbytes += size
            by_kind[kind] += 1
            parsed = None
            if kind != "other":
                key = path_hash(path)
                found = cached.pop(key, None)
                if found is not None and found[0][1] == size and found[0][2] == mtime_ns:
                    try:  # index.decode_parsed, written out (once per file of a warm scan)
                        values = loads(found[0][4])
                    except (ValueError, TypeError, IndexError, EOFError):
                        values = None
                    if values.__class__ is tuple and len(values) == fields:
                        parsed = new(ParsedName, values)
                if parsed is not None:
                    folder.hits += 1
                    entries.append(found[1])  # type: ignore[index]
                    if found[0][3]:  # type: ignore[index]
                        self._series.add(found[0][3])  # type: ignore[index]
                else:
                    changed = True
                    parsed, key_of_series = self._parse(folder, name, directory, kind)
                    if folder.indexed:
                        entries.append(encode_entry(key, size, mtime_ns, key_of_series, encode_parsed(parsed)))
            records.append(new(ScanRecord, (path, size, mtime_ns, kind, parsed, warnings)))
        folder.nbytes += nbytes
        if folder.indexed and (changed or cached):
            folder.blob = b"".join(entries)
            folder.entries = len(entries)
        return records

    def _account(self, folder: "_Folder") -> None:
        summary = self.summary
        for path in folder.flagged:
            self.warn(path, _NAME_WARNING[0])
        summary.files += len(folder.files)
        summary.bytes += folder.nbytes
        summary.index_hits += folder.hits
        if folder.indexed:
            summary.index_misses += folder.parses
        if folder.parses:
            self._pending_parse[0] += folder.parse_seconds
            self._pending_parse[1] += folder.parses

    def _flush_metrics(self) -> None:
        """Brings the shared metrics up to the summary (every 64 folders: cheap, and live enough)."""
        summary, done, metrics = self.summary, self._metered, self.metrics
        now = (summary.files, summary.bytes, summary.index_hits, summary.index_misses)
        for name, value, before in zip(("files", "bytes", "index_hits", "index_misses"), now, done):
            if value != before:
                metrics.count(name, value - before)
        self._metered = now
        if self._pending_index_seconds:
            metrics.add_time("index", self._pending_index_seconds)
            self._pending_index_seconds = 0.0
        if self._pending_parse[1]:
            metrics.add_time("parse", *self._pending_parse)
            self._pending_parse = [0.0, 0]


class _Folder:
    """What one folder's scan found and left for the index."""

    __slots__ = ("files", "indexed", "hits", "nbytes", "parses", "parse_seconds", "flagged", "blob", "entries")

    def __init__(self, files: Sequence[tuple[str, int, int]], indexed: bool) -> None:
        self.files = files
        self.indexed = indexed
        self.hits = self.nbytes = self.parses = 0
        self.parse_seconds = 0.0
        self.flagged: list[str] = []  # paths whose name is not valid UTF-8
        self.blob: bytes | None = None  # the folder's new index entries; None: unchanged
        self.entries = 0

    def keep_unseen(self, old_blob: bytes) -> None:
        """Keeps the old entries of files this scan left out (a filter, a single file)."""
        new = decode_entries(self.blob or b"")
        seen = {entry[0] for entry, _ in new}
        try:
            unseen = [raw for entry, raw in decode_entries(old_blob) if entry[0] not in seen]
        except ValueError:
            return
        self.blob = b"".join([raw for _, raw in new] + unseen)
        self.entries = len(new) + len(unseen)


_PARSED_FIELDS = len(ParsedName._fields)
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
    files; ``use_index=False`` bypasses it. ``workers``: 1 reads every folder
    on this thread; 2 or more let a worker thread list folders ahead of the
    walk; 0 (the default) does that on a multi-core machine with the compiled
    twins (docs/PERFORMANCE.md has the figures).
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
    regex, with_paths = compile_excludes(exclude)
    options = WalkOptions(recursive=recursive, min_size=min_size, exclude=regex,
                       exclude_paths=with_paths, follow_symlinks=follow_symlinks)
    read_ahead = workers >= 2 or (workers == 0 and BACKEND == "c" and (os.cpu_count() or 1) >= 2)
    return ScanRun(paths, options, use_index=use_index, cache_dir=cache_dir,
                   metrics=metrics if metrics is not None else Metrics(), on_warning=on_warning,
                   read_ahead=read_ahead)


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


class _CallableModule(ModuleType):
    """``anivault.scan`` is this module (``anivault.scan.ScanRun``) and, called, the function:
    the package loads it on first use, and exports ``scan`` while the module keeps its name."""

    def __call__(self, *args: Any, **kwargs: Any) -> ScanRun:
        return scan(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
