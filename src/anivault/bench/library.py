"""The library a bench runs on: a demo library kept under the cache dir, or the user's own.

A demo is generated once per (files, seed) and reused: ``summary.json`` beside
it is written last, so a library without one is an interrupted generation and
is made again (it lives in AniVault's own cache dir: nothing of the user's).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..settings import default_cache_dir


@dataclass(frozen=True)
class Library:
    root: str
    files: int
    generated: bool  # a demo made (or reused) by the bench, not the user's own tree
    seed: int | None = None


def demo_library(files: int, seed: int = 1, cache_dir: str | None = None) -> Library:
    """The cached demo of ``files`` files, generating it when missing or incomplete."""
    home = Path(cache_dir or default_cache_dir()) / "bench" / f"demo-{files}-seed{seed}"
    marker, root = home / "summary.json", home / "library"
    if marker.is_file() and root.is_dir():
        summary = json.loads(marker.read_text(encoding="utf-8"))
        return Library(str(root), int(summary["files"]), True, seed)
    from ..demo import make_demo

    if root.exists():
        shutil.rmtree(root)  # an interrupted generation of ours
    home.mkdir(parents=True, exist_ok=True)
    summary = make_demo(root, files=files, seed=seed)
    marker.write_text(json.dumps(summary.to_dict()), encoding="utf-8")
    return Library(str(root), summary.files, True, seed)


def own_library(path: str | os.PathLike[str]) -> Library:
    """A tree the user names (read-only stages only); its files are counted once."""
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"bench: {root} is not a directory", hint="pass --library an existing folder")
    files = sum(len(names) for _, _, names in os.walk(root))
    return Library(str(root.resolve()), files, False)


def file_paths(root: str) -> list[str]:
    """Every file under root, in walk order (setup work, outside any timing)."""
    return [os.path.join(d, n) for d, _, names in os.walk(root) for n in names]
