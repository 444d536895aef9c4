"""Pins: a user's word on what a folder or a title is in TMDB, kept in the data dir.

``anivault pin PATH|TITLE --tmdb ID [--movie] [--season N] [--offset K] [--order ...]``
stores one pin; match, organize and run honour it for every file below PATH
(or every file titled TITLE): no search, the pinned TMDB entry, the named
episodes read as TMDB season N (when the name has no season) with K added.

The file (``pins.json``) is small and rewritten atomically. It is checked
when read: an unreadable file is an error with a hint, a malformed entry is
reported and skipped.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import AniVaultError, UsageError
from .numbering import check_order

FILENAME = "pins.json"
VERSION = 1


@dataclass(frozen=True)
class Pin:
    target: str  # an absolute folder or file path, or a title
    is_path: bool
    tmdb_id: int
    movie: bool = False
    season: int | None = None
    offset: int = 0
    order: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        bits = [f"{'movie' if self.movie else 'tv'} {self.tmdb_id}"]
        if self.season is not None:
            bits.append(f"season {self.season}")
        if self.offset:
            bits.append(f"offset {self.offset:+d}")
        if self.order:
            bits.append(f"order {self.order}")
        return ", ".join(bits)


def make_pin(target: str, tmdb_id: int, *, movie: bool = False, season: int | None = None,
             offset: int = 0, order: str | None = None) -> Pin:
    """A checked pin; a target naming an existing file or folder pins that path, else a title."""
    if not isinstance(tmdb_id, int) or tmdb_id <= 0:
        raise UsageError(f"--tmdb {tmdb_id!r} is not a TMDB id", hint="the number in the TMDB page's URL")
    if season is not None and season < 0:
        raise UsageError(f"--season {season} must be 0 or more")
    if movie and (season is not None or offset or order):
        raise UsageError("a movie pin takes no --season, --offset or --order")
    if order is not None:
        try:
            check_order(order)
        except ValueError as e:
            raise UsageError(str(e)) from e
    text = target.strip()
    if not text:
        raise UsageError("pin what? give a PATH or a TITLE")
    is_path = os.path.exists(text)
    return Pin(os.path.abspath(text) if is_path else text, is_path, tmdb_id, movie, season, offset, order)


def _entry(raw: Any) -> Pin:
    """One stored entry, validated (ValueError says what is wrong)."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    target, is_path, tmdb_id = raw.get("target"), raw.get("is_path"), raw.get("tmdb_id")
    if not isinstance(target, str) or not target.strip() or "\x00" in target:
        raise ValueError("target is not a non-empty string")
    if not isinstance(is_path, bool) or (is_path and not os.path.isabs(target)):
        raise ValueError("is_path must be true (with an absolute path) or false")
    if not isinstance(tmdb_id, int) or isinstance(tmdb_id, bool) or tmdb_id <= 0:
        raise ValueError("tmdb_id is not a positive integer")
    season, offset, order = raw.get("season"), raw.get("offset", 0), raw.get("order")
    if season is not None and (not isinstance(season, int) or isinstance(season, bool) or season < 0):
        raise ValueError("season is not an integer >= 0")
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise ValueError("offset is not an integer")
    if order is not None and not isinstance(order, str):
        raise ValueError("order is not a string")
    if order is not None:
        check_order(order)
    return Pin(target, is_path, tmdb_id, bool(raw.get("movie", False)), season, offset, order)


class Pins:
    """The pins of one data dir; look-ups are cheap (a few pins, checked per distinct folder)."""

    def __init__(self, pins: list[Pin] | None = None, path: Path | None = None) -> None:
        self.path = path
        self._pins = list(pins or [])
        self._by_title: dict[str, Pin] = {}
        self._folders: dict[str, Pin | None] = {}
        self._fold: Callable[[str], str] | None = None
        self._index()

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None,
             warn: Callable[[str], None] | None = None) -> "Pins":
        """The stored pins (none when the file does not exist)."""
        file = Path(path) if path is not None else default_path()
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls([], file)
        except (OSError, UnicodeDecodeError) as e:
            raise AniVaultError(f"pins file {file} is unreadable ({e})", hint=_FIX_HINT) from e
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise AniVaultError(f"pins file {file} is not JSON ({e})", hint=_FIX_HINT) from e
        if not isinstance(doc, dict) or not isinstance(doc.get("pins"), list):
            raise AniVaultError(f"pins file {file} has no list of pins", hint=_FIX_HINT)
        pins = []
        for n, raw in enumerate(doc["pins"], start=1):
            try:
                pins.append(_entry(raw))
            except ValueError as e:
                (warn or (lambda m: None))(f"pins file {file}: entry {n} skipped: {e}")
        return cls(pins, file)

    def save(self) -> Path:
        file = self.path or default_path()
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"version": VERSION, "pins": [p.to_dict() for p in self._pins]},
                                  ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, file)
        return file

    def _index(self) -> None:
        from .titles import clean_title, fold

        self._fold = lambda title: fold(clean_title(title).query)
        self._by_title = {self._fold(p.target): p for p in self._pins if not p.is_path}
        self._paths = sorted((p for p in self._pins if p.is_path), key=lambda p: -len(p.target))
        self._folders.clear()

    def __iter__(self) -> Iterator[Pin]:
        return iter(self._pins)

    def __len__(self) -> int:
        return len(self._pins)

    def add(self, pin: Pin) -> Pin | None:
        """Store ``pin``; the pin it replaces (same target), if any."""
        old = self.find(pin.target)
        self._pins = [p for p in self._pins if p is not old] + [pin]
        self._index()
        return old

    def find(self, target: str) -> Pin | None:
        """The pin of exactly this PATH or TITLE."""
        path = os.path.abspath(target) if os.path.exists(target) else None
        for p in self._pins:
            if (p.is_path and p.target == path) or (not p.is_path and self._fold and
                                                    self._fold(p.target) == self._fold(target)):
                return p
        return None

    def remove(self, target: str) -> Pin | None:
        old = self.find(target)
        if old is not None:
            self._pins = [p for p in self._pins if p is not old]
            self._index()
        return old

    def for_file(self, path: str, folded_title: str | None) -> Pin | None:
        """The pin a file follows: the deepest pinned path holding it, else its title's pin."""
        if self._paths:
            folder = os.path.dirname(path)
            if folder not in self._folders:
                if len(self._folders) > 50_000:  # per-folder memo, bounded
                    self._folders.clear()
                self._folders[folder] = self._path_pin(folder)
            pin = self._folders[folder] or self._exact(path)
            if pin is not None:
                return pin
        return self._by_title.get(folded_title) if folded_title else None

    def _path_pin(self, folder: str) -> Pin | None:
        for p in self._paths:  # deepest first
            if folder == p.target or folder.startswith(p.target.rstrip(os.sep) + os.sep):
                return p
        return None

    def _exact(self, path: str) -> Pin | None:
        return next((p for p in self._paths if p.target == path), None)


_FIX_HINT = "fix or delete the file (`anivault pins` lists what is pinned; `anivault pin` re-adds)"


def default_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """pins.json in ``data_dir`` (default: the user data dir)."""
    from .settings import default_data_dir

    return Path(data_dir or default_data_dir()) / FILENAME
