"""A second filesystem for tests of moves across filesystems (the EXDEV path)."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator



@contextlib.contextmanager
def tmpfs() -> Iterator[Path | None]:
    """A fresh tmpfs mount (moves into it cross filesystems: the EXDEV path), or None when this
    process may not mount one (not root, or no CAP_SYS_ADMIN in a container)."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("mount"):
        yield None
        return
    point = Path(tempfile.mkdtemp(prefix="anivault-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m,mode=0755", "tmpfs", str(point)],
                             capture_output=True).returncode == 0
    try:
        yield point if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)
        shutil.rmtree(point, ignore_errors=True)


def other_filesystem(path: Path, than: Path) -> bool:
    return os.stat(path).st_dev != os.stat(than).st_dev
