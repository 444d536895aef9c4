"""Memory that must not grow with the number of files: one comparison for every streaming test."""
from __future__ import annotations

from pathlib import Path
from typing import Callable


def assert_flat(peak_of: Callable[[Path, int], int], tmp_path: Path, small: int, large: int, doing: str) -> None:
    """``peak_of(root, n)``: the tracemalloc peak of ``doing`` over ``n`` files under ``root``.
    ``large`` files may peak at most 1.5× what ``small`` files do."""
    peak_of(tmp_path / "warm", 100)  # imports and first-use caches, outside the comparison
    low = peak_of(tmp_path / "small", small)
    high = peak_of(tmp_path / "large", large)
    assert high <= 1.5 * low, f"{doing} {large:,} files peaked at {high:,} B against {low:,} B for {small:,}"
