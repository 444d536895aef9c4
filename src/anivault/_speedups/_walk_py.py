"""Reading one folder for the scanner (pure-Python twin of _walk_c.pyx).

``list_dir(path, min_size)`` lists a folder once and sorts what is in it,
each list in name order::

    files     [(name, size, mtime_ns)]  regular files of at least min_size bytes
    dirs      [name]                     sub-folders (a symlink is never one)
    links     [name]                     symlinks; following them is the scanner's call
    specials  [(name, st_mode)]          FIFOs, sockets, devices
    failed    [(name, errno)]            entries that could not be stat'ed (e.g. vanished)
    hidden    int                        entries whose name starts with "." (left out)
    small     int                        regular files under min_size (left out)
    error     int                        errno when the listing stopped early, else 0

Raises OSError when the folder cannot be opened. On POSIX the folder is
opened once and each entry is stat'ed relative to it (a short ``fstatat``).
"""
from __future__ import annotations

import errno as errno_mod
import os
from typing import Iterable

Listing = tuple[list[tuple[str, int, int]], list[str], list[str], list[tuple[str, int]],
                list[tuple[str, int]], int, int, int]

_BY_FD = os.scandir in os.supports_fd and os.name == "posix"
_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def list_dir(path: str, min_size: int = 0) -> Listing:
    """One folder's entries, sorted into files, dirs, links, specials and failures."""
    if not isinstance(path, str):
        raise TypeError(f"list_dir() path must be str, not {type(path).__name__}")
    files: list[tuple[str, int, int]] = []
    dirs: list[str] = []
    links: list[str] = []
    specials: list[tuple[str, int]] = []
    failed: list[tuple[str, int]] = []
    hidden = small = error = 0
    fd = os.open(path, _FLAGS) if _BY_FD else -1
    try:
        it = os.scandir(fd if fd >= 0 else path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        raise
    try:
        with it:
            for entry in it:
                name = entry.name
                if name[0] == ".":
                    hidden += 1
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        if st.st_size >= min_size:
                            files.append((name, st.st_size, st.st_mtime_ns))
                        else:
                            small += 1
                    elif entry.is_dir(follow_symlinks=False):
                        dirs.append(name)
                    elif entry.is_symlink():
                        links.append(name)
                    else:
                        specials.append((name, entry.stat(follow_symlinks=False).st_mode))
                except OSError as e:
                    failed.append((name, e.errno or errno_mod.EIO))
    except OSError as e:  # the listing itself broke off (the folder went away, an I/O error)
        error = e.errno or errno_mod.EIO
    finally:
        if fd >= 0:
            os.close(fd)
    for names in (files, dirs, links, specials, failed):
        names.sort()
    return files, dirs, links, specials, failed, hidden, small, error


class FolderWalk:
    """The folders under ``root``, depth first in name order, each with its ``list_dir``.

    Iterating gives ``(path, listing)``, or ``(path, OSError)`` for a folder that
    cannot be read. Hidden folders and those named in ``skip`` are not entered,
    symlinks not followed: the scanner's default walk. (The compiled twin lists
    ahead on a worker thread with ``ahead``; this one lists each folder when it
    is reached: same results.) Call ``close()`` when done.
    """

    def __init__(self, root: str, min_size: int = 0, skip: Iterable[str] = (), ahead: bool = True) -> None:
        if not isinstance(root, str):
            raise TypeError(f"walk_folders() root must be str, not {type(root).__name__}")
        if "\0" in root:
            raise ValueError("list_dir: embedded null byte")
        self.min_size = min_size
        self.skip = frozenset(skip)
        self._todo = [root]

    def __iter__(self) -> "FolderWalk":
        return self

    def __next__(self) -> tuple[str, Listing | OSError]:
        if not self._todo:
            raise StopIteration
        path = self._todo.pop()
        try:
            listing = list_dir(path, self.min_size)
        except OSError as e:
            return path, e
        prefix = path if path.endswith(os.sep) else path + os.sep
        self._todo += [prefix + name for name in reversed(listing[1]) if name not in self.skip]
        return path, listing

    def close(self) -> None:
        self._todo.clear()


def walk_folders(root: str, min_size: int = 0, skip: Iterable[str] = (), ahead: bool = True) -> FolderWalk:
    """A ``FolderWalk`` of ``root``."""
    return FolderWalk(root, min_size, skip, ahead)
