"""Verify: the CRC32 of each file against the ``[ABCD1234]`` tag in its name, at disk speed.

Files are read in large buffers (8 MiB) on a small thread pool. The checksum is
ISA-L's (``isal``: SIMD, about 3x zlib's on one core), with ``zlib.crc32`` where
isal has no wheel; both release the GIL for large buffers, so checksums run in
parallel with the reads and with each other. Results are remembered by (path, size, mtime_ns) in
a small SQLite file in the cache dir, so verifying an unchanged file again costs
one lookup. Results stream in input order; at most ``workers * 2`` files are in
flight, whatever the number of files.
"""
from __future__ import annotations

import os
import re
import sqlite3
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple

try:
    from isal.isal_zlib import crc32
except ImportError:  # a platform without isal wheels: zlib's is correct, only slower
    from zlib import crc32

if TYPE_CHECKING:
    from .organize import Plan

BUFFER = 8 << 20
FILENAME = "verify.sqlite"

OK = "ok"
MISMATCH = "mismatch"
NO_TAG = "no-tag"  # nothing to check against: not a failure
ERROR = "error"  # unreadable: reported and counted as a failure

# The tag is 8 hex digits in brackets or parentheses; the last one in the name wins
# ("[Group] Show - 01 [1080p][ABCD1234].mkv").
_TAG = re.compile(r"[\[(]([0-9A-Fa-f]{8})[\])]")
# An all-digit tag that reads as a date (YYYYMMDD) is a date, not a checksum.
_DATE = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")


# Subtitles are named after their video, tag included: the tag is the video's checksum, not theirs.
BORROWED_TAG_EXTS = frozenset({".ass", ".ssa", ".srt", ".sub", ".idx", ".vtt", ".sup", ".nfo"})


class VerifyResult(NamedTuple):
    path: str
    size: int
    status: str  # ok | mismatch | no-tag | error
    expected: str | None = None  # the tag, upper-case hex
    actual: str | None = None  # the computed CRC32, upper-case hex
    cached: bool = False
    error: str = ""
    mtime_ns: int = 0

    @property
    def failed(self) -> bool:
        return self.status in (MISMATCH, ERROR)

    def to_dict(self) -> dict[str, object]:
        return self._asdict()


def expected_crc(name: str) -> str | None:
    """The CRC32 tag in a file name (upper-case hex), or None when it carries none (or names another file)."""
    if os.path.splitext(name)[1].lower() in BORROWED_TAG_EXTS:
        return None
    for tag in reversed(_TAG.findall(os.path.basename(name))):
        if not (tag.isdigit() and _DATE.fullmatch(tag)):
            return tag.upper()
    return None


def crc32_file(path: str, buffer_size: int = BUFFER, progress: Callable[[int], None] | None = None) -> int:
    """CRC32 of a file's bytes, read into one reused buffer (no allocation per read)."""
    buf = bytearray(buffer_size)
    view = memoryview(buf)
    crc = 0
    with open(path, "rb", buffering=0) as f:
        if hasattr(os, "posix_fadvise"):  # ask for aggressive read-ahead: we read it all, in order
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while n := f.readinto(buf):
            crc = crc32(view[:n], crc)
            if progress:
                progress(n)
    return crc


class VerifyCache:
    """(path, size, mtime_ns) → CRC32, in its own SQLite file; a changed file simply misses."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
        self.db = sqlite3.connect(os.fspath(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS crc (path BLOB PRIMARY KEY, size INTEGER, "
                        "mtime_ns INTEGER, crc INTEGER)")

    def get(self, path: str, size: int, mtime_ns: int) -> int | None:
        row = self.db.execute("SELECT crc FROM crc WHERE path = ? AND size = ? AND mtime_ns = ?",
                              (_key(path), size, mtime_ns)).fetchone()
        return row[0] if row else None

    def put(self, path: str, size: int, mtime_ns: int, crc: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO crc VALUES (?, ?, ?, ?)", (_key(path), size, mtime_ns, crc))

    def close(self) -> None:
        self.db.commit()
        self.db.close()

    def __enter__(self) -> "VerifyCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_cache(path: str | os.PathLike[str], warn: Callable[[str], None] | None = None) -> VerifyCache | None:
    """The cache, or None (with a warning) when it cannot be opened: verifying works without it."""
    try:
        return VerifyCache(path)
    except (OSError, sqlite3.Error) as e:
        (warn or (lambda m: None))(f"verify cache {os.fspath(path)} unusable ({e}): checking without it")
        return None


def _key(path: str) -> bytes:
    return os.fsencode(os.path.abspath(path))  # bytes: names that are not UTF-8 are keys too


def _hex(crc: int) -> str:
    return f"{crc:08X}"


def _start(path: str, cache: VerifyCache | None) -> VerifyResult:
    """What is known before reading: the tag, the size, and a cached CRC (``actual``) when unchanged."""
    expected = expected_crc(path)
    try:
        st = os.stat(path)
    except OSError as e:
        return VerifyResult(path, 0, ERROR, expected, error=e.strerror or str(e))
    if expected is None:
        return VerifyResult(path, st.st_size, NO_TAG)
    cached = cache.get(path, st.st_size, st.st_mtime_ns) if cache else None
    if cached is None:
        return VerifyResult(path, st.st_size, "", expected, mtime_ns=st.st_mtime_ns)
    return _judge(VerifyResult(path, st.st_size, "", expected, mtime_ns=st.st_mtime_ns, cached=True), cached)


def _judge(result: VerifyResult, crc: int) -> VerifyResult:
    actual = _hex(crc)
    return result._replace(status=OK if actual == result.expected else MISMATCH, actual=actual)


def _read(result: VerifyResult, progress: Callable[[int], None] | None) -> VerifyResult:
    """The worker's part: read and checksum (an unreadable file becomes an ``error`` result)."""
    try:
        crc = crc32_file(result.path, progress=progress)
        st = os.stat(result.path)
    except OSError as e:
        return result._replace(status=ERROR, error=e.strerror or str(e))
    if (st.st_size, st.st_mtime_ns) != (result.size, result.mtime_ns):
        result = result._replace(mtime_ns=0)  # changed while read: the result stands, the cache skips it
    return _judge(result, crc)


def verify_files(paths: Iterable[str], *, cache: VerifyCache | None = None, workers: int = 4,
                 progress: Callable[[int], None] | None = None) -> Iterator[VerifyResult]:
    """A result for every path, in input order; files are read and checksummed on ``workers`` threads.

    ``progress`` receives byte counts as they are read (from worker threads).
    The cache is read and written from the calling thread only. At most
    ``2 * workers`` files are in flight.
    """
    workers = max(1, workers)
    pending: deque[Future[VerifyResult] | VerifyResult] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
        for path in paths:
            first = _start(path, cache)
            if first.status:
                if first.cached and progress:
                    progress(first.size)
                pending.append(first)
            else:
                pending.append(pool.submit(_read, first, progress))
            while len(pending) > 2 * workers or (pending and not isinstance(pending[0], Future)):
                yield _finish(pending.popleft(), cache)
        while pending:
            yield _finish(pending.popleft(), cache)


def _finish(item: "Future[VerifyResult] | VerifyResult", cache: VerifyCache | None) -> VerifyResult:
    result = item.result() if isinstance(item, Future) else item
    if cache is not None and result.actual is not None and not result.cached and result.mtime_ns:
        cache.put(result.path, result.size, result.mtime_ns, int(result.actual, 16))
    return result


def iter_files(paths: Iterable[str]) -> Iterator[str]:
    """Every regular file under ``paths`` (files as given, folders walked, sorted per folder)."""
    for path in paths:
        if os.path.isdir(path):
            for directory, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield os.path.join(directory, name)
        else:
            yield path


BAD_CRC = "crc-mismatch"  # plan status of a file --verify refused to file
CHECKED_ROLES = ("video", "bonus")  # subtitles and attachments carry their video's tag, not their own


def refuse_mismatched(plan: "Plan", *, cache: VerifyCache | None = None, workers: int = 4,
                      warn: Callable[[str], None] | None = None) -> list[VerifyResult]:
    """``--verify``: set aside (status ``crc-mismatch``) every planned video whose CRC32 is not its tag.

    Subtitles and extras following a refused video stay with it. Unreadable
    videos are refused too. Streams over the plan store; returns the refused
    files' results (the state kept is per refused file).
    """
    warn = warn or (lambda message: None)
    in_flight: deque[tuple[int, str]] = deque()

    def videos() -> Iterator[str]:
        for i, entry in plan.todo():
            if entry.role in CHECKED_ROLES:
                in_flight.append((i, entry.dst))
                yield entry.src

    refused: list[tuple[int, VerifyResult, str]] = []
    for result in verify_files(videos(), cache=cache, workers=workers):
        i, dst = in_flight.popleft()
        if result.failed:
            why = f"CRC32 {result.actual} does not match the name's [{result.expected}]" \
                if result.status == MISMATCH else f"cannot verify: {result.error}"
            refused.append((i, result, os.path.splitext(dst)[0]))
            warn(f"not filed {result.path}: {why}")
            plan.entries.set_status(i, BAD_CRC, why)
    stems = {stem + "." for _, _, stem in refused}
    if stems:
        followers = [i for i, e in plan.todo() if e.dst.startswith(tuple(stems))]
        for i in followers:
            plan.entries.set_status(i, BAD_CRC, "its video failed the CRC check")
    return [result for _, result, _ in refused]
