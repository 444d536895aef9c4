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
import shutil
import stat
from typing import Any, BinaryIO, Callable

import xxhash

from .errors import UsageError
from .interrupts import check_interrupt
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


def same_file(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` hold the same content, without reading either whole.

    One inode (a hard link, or the same path) is the same file; otherwise equal size and
    equal sampled fingerprints count as the same. Planning decides with this alone (a
    dry run reads at most 16 KiB per pair); apply verifies in full whatever it copies.
    """
    try:
        sa, sb = os.stat(a), os.stat(b)
        if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
            return True
        return sa.st_size == sb.st_size and fingerprint(a, sa.st_size) == fingerprint(b, sb.st_size)
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
    check_interrupt()  # a Ctrl-C lands here, where the except below removes the temporary copy


def write_staged(tmp: str, dst: str, write: Callable[[BinaryIO], None],
                 before_place: Callable[[str], None] | None = None) -> None:
    """Write a new file at ``dst`` that appears complete or not at all.

    ``write`` fills an exclusive temporary file ``tmp``; it is fsynced, ``before_place`` may
    check or stamp it, then it takes the name ``dst`` without replacing anything and the
    folder is fsynced. On any failure (Ctrl-C included) the temporary file is removed.
    """
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if before_place is not None:
            before_place(tmp)
        place(tmp, dst)
        fsync_dir(os.path.dirname(dst))
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def copy_verified(src: str, dst: str, tmp: str, mtime_ns: int | None = None) -> str:
    """Copy under ``tmp`` → fsync → verify size and xxh3 → link to ``dst`` → fsync dir. Returns the hash.

    A half-written copy only ever exists under ``tmp``; ``dst`` appears complete or not at all.
    """
    h = xxhash.xxh3_128()
    with open(src, "rb") as fin:
        st = os.fstat(fin.fileno())

        def copy(fout: BinaryIO) -> None:
            while chunk := fin.read(1 << 20):
                h.update(chunk)
                _write_chunk(fout, chunk)

        def verify(staged: str) -> None:
            copy_metadata(src, staged, st, mtime_ns)
            if os.stat(staged).st_size != st.st_size or file_hash(staged) != h.hexdigest():
                raise VerifyError(errno.EIO, "copy does not match its source (size or xxh3)", staged)

        write_staged(tmp, dst, copy, verify)
    return h.hexdigest()


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


# ---------------------------------------------------------------- metadata (mode, owner, times, xattrs)


def copy_metadata(src: str, dst: str, src_st: os.stat_result, mtime_ns: int | None = None) -> None:
    """Give the copy ``dst`` its source's owner (when permitted), mode, times and extended attributes.

    The owner first: a chown clears set-id bits that the mode then restores.
    ``shutil.copystat`` copies mode, times, flags and (on Linux) xattrs,
    skipping xattrs the target filesystem or our privileges do not allow.
    """
    try:
        os.chown(dst, src_st.st_uid, src_st.st_gid)
    except OSError:
        pass  # not permitted (an ordinary user keeps files as their own): best effort
    try:
        shutil.copystat(src, dst)
    except OSError:
        os.chmod(dst, stat.S_IMODE(src_st.st_mode))  # a filesystem without xattrs or flags: mode at least
    os.utime(dst, ns=(src_st.st_atime_ns, mtime_ns if mtime_ns is not None else src_st.st_mtime_ns))


def metadata_record(st: os.stat_result) -> dict[str, Any]:
    """What a journal record keeps of a file or folder so undo can give it back: its mtime and
    ``meta`` = [mode, uid, gid] (one list, not three keys: the journal writes one intent per file)."""
    return {"mtime_ns": st.st_mtime_ns, "meta": [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]}


def folder_record(path: str) -> dict[str, Any]:
    """:func:`metadata_record` of a folder plus its extended attributes (hex), which a recreated
    folder cannot copy from anywhere else."""
    record: dict[str, Any] = metadata_record(os.stat(path))
    xattrs = {}
    try:
        for name in os.listxattr(path) if hasattr(os, "listxattr") else ():
            xattrs[name] = os.getxattr(path, name).hex()
    except OSError:
        pass  # not supported here: nothing to keep
    if xattrs:
        record["xattrs"] = xattrs
    return record


def restore_metadata(path: str, record: dict[str, Any]) -> None:
    """Give ``path`` the owner (when permitted), mode and mtime a journal record kept (see
    :func:`metadata_record`); fields the record lacks (older journals) are left as they are."""
    meta, mtime_ns = record.get("meta"), record.get("mtime_ns")
    mode, uid, gid = meta if isinstance(meta, list) and len(meta) == 3 else (None, None, None)
    if isinstance(uid, int) and isinstance(gid, int):
        try:
            os.chown(path, uid, gid)
        except OSError:
            pass  # not permitted: best effort
    xattrs = record.get("xattrs")
    if isinstance(xattrs, dict) and hasattr(os, "setxattr"):
        for name, value in xattrs.items():
            try:
                os.setxattr(path, name, bytes.fromhex(value))
            except (OSError, ValueError, TypeError):
                pass  # best effort, like the copy's own xattrs
    if isinstance(mode, int):
        os.chmod(path, stat.S_IMODE(mode))
    if isinstance(mtime_ns, int):
        os.utime(path, ns=(os.stat(path).st_atime_ns, mtime_ns))
