"""File operations that never overwrite: hashing, fingerprints, verified copies, moves, placing.

Every function here refuses an existing destination atomically (link, then
unlink the old name; rename only where links are unavailable and the caller
holds the destination lock). A copy is written under a temporary name, synced
and verified before it takes its final name, so a destination appears complete
or not at all.
"""
from __future__ import annotations

import errno
import os
from typing import Any

import xxhash

from .errors import UsageError
from .journal import fsync_dir

ACTIONS = ("move", "copy", "hardlink", "symlink")

# ---------------------------------------------------------------- hashing


def file_hash(path: str, chunk: int = 1 << 20) -> str:
    """xxh3_128 of the whole file, streamed."""
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def same_content(a: str, b: str) -> bool:
    """Size first (free), then xxh3 of both: equal files are "already organized"."""
    try:
        if os.stat(a).st_size != os.stat(b).st_size:
            return False
        return file_hash(a) == file_hash(b)
    except OSError:
        return False


FINGERPRINT_BYTES = 4096
# link() errors meaning "this filesystem or policy does not do hard links": fall back to rename.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EINVAL}
DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


# Link a symlink itself, not its target, where the OS lets us say so (Windows does not take the flag).
_LINK_SELF: dict[str, bool] = {"follow_symlinks": False} if os.link in os.supports_follow_symlinks else {}


class VerifyError(OSError):
    """A copy whose size or hash differs from its source."""


def fingerprint(path: str, size: int) -> str:
    """Sampled xxh3_128 over (size, first 4 KiB, last 4 KiB): cheap identity for moved files.

    Moves on one filesystem keep mtime and inode too, so undo checks size +
    mtime_ns + this; copies also record the full xxh3.
    """
    h = xxhash.xxh3_128(size.to_bytes(8, "little"))
    with open(path, "rb", buffering=0) as f:  # two small reads: a buffer would only add copies
        h.update(f.read(FINGERPRINT_BYTES))
        if size > 2 * FINGERPRINT_BYTES:
            f.seek(size - FINGERPRINT_BYTES)
            h.update(f.read(FINGERPRINT_BYTES))
        elif size > FINGERPRINT_BYTES:
            h.update(f.read())
    return h.hexdigest()


def _rename_no_replace(src: str, dst: str) -> None:
    """rename() where hard links are unavailable; checks first (we hold the destination lock)."""
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, "destination exists", dst)
    os.rename(src, dst)


def place(src: str, dst: str) -> None:
    """Give ``src`` the name ``dst`` atomically and without replacing: link, then unlink the old name."""
    try:
        os.link(src, dst, **_LINK_SELF)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in _NO_LINKS:
            raise
        _rename_no_replace(src, dst)
        return
    try:
        os.unlink(src)
    except OSError:
        os.unlink(dst)  # the move did not happen: take our new name back
        raise


def _write_chunk(f: Any, data: bytes) -> None:
    f.write(data)


def copy_verified(src: str, dst: str, tmp: str, mtime_ns: int | None = None) -> str:
    """Copy under ``tmp`` → fsync → verify size and xxh3 → link to ``dst`` → fsync dir. Returns the hash.

    A half-written copy only ever exists under ``tmp``; ``dst`` appears complete or not at all.
    """
    h = xxhash.xxh3_128()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(1 << 20):
                h.update(chunk)
                _write_chunk(fout, chunk)
            fout.flush()
            os.fsync(fout.fileno())
            st = os.fstat(fin.fileno())
        os.utime(tmp, ns=(st.st_atime_ns, mtime_ns if mtime_ns is not None else st.st_mtime_ns))
        digest = h.hexdigest()
        if os.stat(tmp).st_size != st.st_size or file_hash(tmp) != digest:
            raise VerifyError(errno.EIO, "copy does not match its source (size or xxh3)", tmp)
        place(tmp, dst)
        fsync_dir(os.path.dirname(dst))
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return digest


def move_file(src: str, dst: str, tmp: str, mtime_ns: int | None = None) -> str | None:
    """Move without overwriting; across filesystems copy → verify → delete source. Hash when copied."""
    try:
        place(src, dst)
        return None
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
    digest = copy_verified(src, dst, tmp, mtime_ns)
    try:
        os.unlink(src)
    except OSError:
        os.unlink(dst)  # keep exactly one copy: the move did not happen
        raise
    return digest


def do_action(action: str, src: str, dst: str, tmp: str, mtime_ns: int | None = None) -> str | None:
    if action == "move":
        return move_file(src, dst, tmp, mtime_ns)
    if action == "copy":
        return copy_verified(src, dst, tmp, mtime_ns)
    if action == "hardlink":
        os.link(src, dst, **_LINK_SELF)
    elif action == "symlink":
        os.symlink(os.path.abspath(src), dst)
    else:
        raise UsageError(f"unknown action {action!r}", hint="use " + ", ".join(ACTIONS))
    return None


def error_text(e: OSError) -> str:
    if isinstance(e, FileExistsError):
        return "destination appeared since planning"
    return e.strerror or str(e)
