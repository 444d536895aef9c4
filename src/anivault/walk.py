"""The folder walk under a scan: which folders and files a scan sees, in order, and what it skips.

``Walker`` applies the rules (recursive or not, hidden, system and excluded names, a minimum
size, symlinks and their loops) to the walk twin's listings: ``walk_folders`` walks ahead on a
worker thread with the default rules; otherwise each folder is read with ``list_dir``. What it
skips is a ``ScanWarning``; the scanner (scan.py) turns the listings into records.
"""
from __future__ import annotations

import errno as errno_mod
import fnmatch
import os
import re
import stat as stat_mod
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from ._speedups import list_dir, walk_folders

# Folders that belong to the OS or a NAS, never to the library (names starting
# with "." are skipped too, and so are ".Trash-1000" style trash folders).
SYSTEM_DIRS = frozenset({"$RECYCLE.BIN", "System Volume Information", "@eaDir", "#recycle",
                         "@Recycle", "@Recently-Snapshot", "lost+found", "$Extend"})

_WIN_SKIP_ATTRS = 0x2 | 0x4  # FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM
_WINDOWS = os.name == "nt"
_FOLDER_NAME_WARNING = "folder name is not valid UTF-8 (paths below it are shown with \\udcXX escapes)"


class ScanWarning(NamedTuple):
    """Something a scan skipped or could not do, and where."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class WalkOptions:
    recursive: bool
    min_size: int
    exclude: re.Pattern[str] | None
    exclude_paths: bool  # some pattern has a "/": match the path below the root too
    follow_symlinks: bool


def compile_excludes(patterns: Iterable[str]) -> tuple[re.Pattern[str] | None, bool]:
    patterns = [p.replace("\\", "/").rstrip("/") for p in patterns if p]
    if not patterns:
        return None, False
    flags = re.IGNORECASE if os.name == "nt" else 0
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), flags)
    return regex, any("/" in p for p in patterns)


# A folder, its files (name, size, mtime_ns: a list, or the compiled walk's FileList, a sequence
# the compiled render twin reads without a Python object per file), its index blob (None
# without one), and whether the files are all of the folder's (no filter left some out).
Listing = tuple[str, Sequence[tuple[str, int, int]], "bytes | None", bool]


class Walker:
    """Depth-first walk of the roots: yields each folder's files, and warnings, in order.

    With the default rules (recursive, nothing excluded, symlinks not followed)
    the walk twin's ``walk_folders`` lists the tree, compiled on a worker
    thread ahead of the scan unless ``read_ahead`` is off; otherwise each
    folder is read with ``list_dir`` as the walk reaches it. This class
    applies the rules either way: hidden, system and excluded names, symlinks
    and their loops, and what to warn about.
    """

    def __init__(self, options: WalkOptions, skipped: Counter[str],
                 load_blob: Callable[[str], bytes | None] | None, read_ahead: bool) -> None:
        self.options = options
        self.skipped = skipped
        self.load_blob = load_blob  # the folder's index entries
        self.read_ahead = read_ahead
        self.whole_folders = options.exclude is None and options.min_size == 0
        self.walk_seconds = self.index_seconds = 0.0  # time spent here
        self.visited: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> path, with symlinks
        self._warnings: list[ScanWarning] = []

    def events(self, roots: list[str]) -> Iterator[Listing | ScanWarning]:
        options = self.options
        default_rules = options.recursive and options.exclude is None and not options.follow_symlinks
        for root in roots:
            if not os.path.isdir(root):
                yield from self._single_file(root)
            elif default_rules and not _WINDOWS:  # (Windows has hidden and system attributes)
                yield from self._walk_ahead(root)
            else:
                yield from self._walk(root)

    def _warn(self, path: str, message: str) -> None:
        self._warnings.append(ScanWarning(path, message))

    def _walk_ahead(self, root: str) -> Iterator[Listing | ScanWarning]:
        folders = walk_folders(root, self.options.min_size, SYSTEM_DIRS, self.read_ahead)
        try:
            while True:
                started = time.perf_counter()
                step = next(folders, None)
                self.walk_seconds += time.perf_counter() - started
                if step is None:
                    return
                directory, listing = step
                files, _ = self._apply(directory, listing, root)  # sub-folders: the walk has them
                if self._warnings:
                    yield from self._warnings
                    self._warnings.clear()
                yield directory, files, self._blob(directory) if files else None, self.whole_folders
        finally:
            folders.close()

    def _walk(self, root: str) -> Iterator[Listing | ScanWarning]:
        if self.options.follow_symlinks:
            self._first_visit(root)
        stack = [root]
        while stack:
            directory = stack.pop()
            started = time.perf_counter()
            try:
                listing: Any = list_dir(directory, self.options.min_size)
            except OSError as e:
                listing = e
            self.walk_seconds += time.perf_counter() - started
            files, subdirs = self._apply(directory, listing, root)
            yield from self._folder(directory, files)
            stack += reversed(subdirs)

    def _folder(self, directory: str, files: list[tuple[str, int, int]]) -> Iterator[Listing | ScanWarning]:
        if self._warnings:
            yield from self._warnings
            self._warnings.clear()
        yield directory, files, self._blob(directory) if files else None, self.whole_folders

    def _blob(self, directory: str) -> bytes | None:
        if self.load_blob is None:
            return None
        started = time.perf_counter()
        blob = self.load_blob(directory)
        self.index_seconds += time.perf_counter() - started
        return blob

    def _apply(self, directory: str, listing: Any, root: str) -> tuple[list[tuple[str, int, int]], list[str]]:
        """The rules applied to one folder's listing (or the OSError that stopped it):
        its files and the sub-folders to walk, and a warning for what is skipped."""
        options, skipped = self.options, self.skipped
        if isinstance(listing, OSError):
            self._warn(directory, _reason(listing, "cannot read folder"))
            return [], []
        files, dirs, links, specials, failed, hidden, small, error = listing
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
            for name in dirs:  # (names starting with "." are hidden: never here)
                if name in SYSTEM_DIRS or (_WINDOWS and _is_system_dir(name, prefix + name)):
                    skipped["system"] += 1
                elif not options.follow_symlinks or self._first_visit(prefix + name):
                    subdirs.append(prefix + name)
                    if not name.isascii() and not valid_utf8(name):
                        self._warn(prefix + name, _FOLDER_NAME_WARNING)
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
            yield directory, [(name, st.st_size, st.st_mtime_ns)], self._blob(directory), False
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


def valid_utf8(name: str) -> bool:
    """False when the name on disk is not valid UTF-8 (it carries surrogate escapes)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
