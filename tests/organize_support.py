"""Helpers (no tests): small libraries on disk and scan-like records for organize, undo and crash tests."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, NamedTuple

from anivault.models import ParsedName

VIDEO_EXTS = {"mkv", "mp4", "avi"}
SUBTITLE_EXTS = {"ass", "srt", "ssa"}


class Record(NamedTuple):
    """What anivault.scan yields, built by hand so these tests do not depend on the parser."""

    path: str
    size: int
    mtime_ns: int
    kind: str
    parsed: ParsedName | None
    warnings: tuple[str, ...] = ()


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def record(path: Path | str, **parsed: Any) -> Record:
    """A record for an existing file; ``parsed`` fields make its ParsedName (kind from the extension)."""
    path = str(path)
    st = os.stat(path)
    ext = path.rpartition(".")[2].lower()
    kind = "video" if ext in VIDEO_EXTS else "subtitle" if ext in SUBTITLE_EXTS else "other"
    name = ParsedName(ext=ext, **parsed) if parsed or kind != "other" else None
    return Record(path, st.st_size, st.st_mtime_ns, kind, name)


def episode(root: Path, name: str, title: str, ep: int, content: bytes | str | None = None,
            **extra: Any) -> Record:
    path = write(root / name, content if content is not None else f"{name}\n".encode() * 50)
    return record(path, title=title, episode=ep, **extra)


def manifest(*roots: Path) -> dict[str, str]:
    """Every file's path → sha256 under ``roots`` (what must survive any crash)."""
    result = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for f in files:
                p = os.path.join(dirpath, f)
                with open(p, "rb") as fh:
                    result[p] = hashlib.sha256(fh.read()).hexdigest()
    return result
