"""What a plan is made of: options, entries and their statuses."""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from .. import names
from ..errors import UsageError
from ..fileops import ACTIONS

DEFAULT_TEMPLATE = "{title} ({year})/Season {season:02}/{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}"
DEFAULT_MOVIE_TEMPLATE = "{title} ({year})/{title} ({year}).{ext}"
DUPLICATE_POLICIES = ("keep-all", "best", "skip")
CONFLICT_POLICIES = ("skip", "rename", "fail")
PLAN_FORMAT = 1

# Folders of a release that travel with it (fonts for styled subtitles, MKV attachments).
ATTACHMENT_DIRS = frozenset({"fonts", "font", "attachments", "attachment"})
# Subtitle folders whose files belong to the videos one level up.
SUBTITLE_DIRS = frozenset({"subs", "sub", "subtitles", "subtitle"})
DUPLICATES_DIR = "Duplicates"
EXTRAS_DIR = "Extras"  # where Plex and Jellyfin look for bonus videos of a show or movie

# Entry statuses. Only TODO entries are applied; every other one says why the file stays.
TODO = "todo"
ALREADY = "already"  # the destination holds identical content (size + xxh3)
CONFLICT = "conflict"  # the destination holds something else (--conflict skip)
DUPLICATE = "duplicate"  # another release of the same episode (--duplicates skip)
COLLISION = "collision"  # another source of this plan takes the same destination
UNMATCHED = "unmatched"  # no destination could be named
FOLLOWS = "follows"  # a subtitle/extra whose video stays where it is
TOO_LONG = "too-long"  # the path cannot fit a Windows target's MAX_PATH


class PlanEntry(NamedTuple):
    """One source and where it goes. ``size``/``mtime_ns`` are the scan's, checked again at apply."""

    src: str
    dst: str
    size: int
    mtime_ns: int
    role: str  # video | bonus | subtitle | extra | attachment
    status: str = TODO
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


@dataclass(frozen=True)
class PlanOptions:
    """How to name and place files. Defaults follow Plex/Jellyfin conventions."""

    dest: str
    movies_dest: str | None = None  # None: <dest>/Movies
    template: str = DEFAULT_TEMPLATE
    movie_template: str = DEFAULT_MOVIE_TEMPLATE
    keep_names: bool = False
    duplicates: str = "keep-all"
    conflict: str = "skip"
    action: str = "move"
    colon_style: str = "dash"
    windows: bool | None = None  # None: detect from the destination's filesystem
    long_paths: bool = False
    sources: tuple[str, ...] = ()  # the scanned roots: --prune-empty never removes them or above

    def __post_init__(self) -> None:
        object.__setattr__(self, "dest", os.path.abspath(self.dest))
        if self.movies_dest:
            object.__setattr__(self, "movies_dest", os.path.abspath(self.movies_dest))
        object.__setattr__(self, "sources", tuple(os.path.abspath(s) for s in self.sources))

    def validate(self) -> None:
        for value, allowed, flag in ((self.duplicates, DUPLICATE_POLICIES, "--duplicates"),
                                     (self.conflict, CONFLICT_POLICIES, "--conflict"),
                                     (self.action, ACTIONS, "--action"),
                                     (self.colon_style, names.COLON_STYLES, "--colon-style")):
            if value not in allowed:
                raise UsageError(f"{flag} {value!r} is not one of {', '.join(allowed)}")

    @property
    def movies_root(self) -> str:
        return self.movies_dest or os.path.join(self.dest, "Movies")

    @property
    def roots(self) -> list[str]:
        """Destination roots to lock (the movies root only when it is outside ``dest``)."""
        inside = self.movies_root.startswith(self.dest.rstrip(os.sep) + os.sep)
        return [self.dest] if inside else [self.dest, self.movies_root]


@dataclass
class Plan:
    """Entries in source order plus what planning noticed."""

    options: PlanOptions
    entries: list[PlanEntry]
    offline: bool = True
    left_in_place: int = 0  # files that are neither media nor attached to media
    matching: str = ""  # "tmdb", "cache" (TMDB cache only) or "offline"; "" when not said
    created: float = field(default_factory=time.time)

    def todo(self) -> list[PlanEntry]:
        return [e for e in self.entries if e.status == TODO]

    def summary(self) -> "PlanSummary":
        statuses = Counter(e.status for e in self.entries)
        return PlanSummary(entries=len(self.entries), todo=statuses.get(TODO, 0),
                           bytes=sum(e.size for e in self.entries if e.status == TODO),
                           statuses=dict(sorted(statuses.items())), left_in_place=self.left_in_place,
                           offline=self.offline,
                           matching=self.matching or ("offline" if self.offline else "tmdb"),
                           action=self.options.action, dest=self.options.dest)


@dataclass(frozen=True)
class PlanSummary:
    """What a plan will do: files to organize, what stays and why, where they go."""

    entries: int
    todo: int
    bytes: int  # of the files to organize
    statuses: dict[str, int]  # status -> entries
    left_in_place: int  # non-media files not planned at all
    offline: bool
    matching: str  # "tmdb", "cache" or "offline"
    action: str
    dest: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Source(NamedTuple):
    """A scan record reduced to what planning reads."""

    path: str
    size: int
    mtime_ns: int
    kind: str  # video | subtitle | other
    parsed: Any
    match: Any
