"""What a plan is made of: options, entries and their statuses."""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator, NamedTuple

from .. import names
from ..errors import UsageError
from ..fileops import ACTIONS

DEFAULT_TEMPLATE = "{title} ({year})/Season {season:02}/{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}"
DEFAULT_MOVIE_TEMPLATE = "{title} ({year})/{title} ({year}).{ext}"
DUPLICATE_POLICIES = ("keep-all", "best", "skip")
CONFLICT_POLICIES = ("skip", "rename", "fail")
UNMATCHED_POLICIES = ("leave", "parsed")  # or a directory
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
UNMATCHED = "unmatched"  # no destination could be named (or no TMDB match, under --unmatched leave)
FOLLOWS = "follows"  # a subtitle/extra whose video stays where it is
TOO_LONG = "too-long"  # the path cannot fit a Windows target's MAX_PATH
STATUSES = (TODO, ALREADY, CONFLICT, DUPLICATE, COLLISION, UNMATCHED, FOLLOWS, TOO_LONG)
ROLES = ("video", "bonus", "subtitle", "extra", "attachment")


class PlanEntry(NamedTuple):
    """One source and where it goes. ``size``/``mtime_ns`` are the scan's, checked again at apply."""

    src: str
    dst: str
    size: int
    mtime_ns: int
    role: str  # video | bonus | subtitle | extra | attachment
    status: str = TODO
    reason: str = ""
    fp: str = ""  # the source's sampled fingerprint, in saved plans (checked by --from-plan)

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
    # A video matching found nothing for: "leave" it in place (listed with the reason), file it
    # under its "parsed" name, or move it into a folder (any other value: that folder's path).
    unmatched: str = "leave"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dest", os.path.abspath(self.dest))
        if self.movies_dest:
            object.__setattr__(self, "movies_dest", os.path.abspath(self.movies_dest))
        object.__setattr__(self, "sources", tuple(os.path.abspath(s) for s in self.sources))
        if self.unmatched not in UNMATCHED_POLICIES:
            object.__setattr__(self, "unmatched", os.path.abspath(self.unmatched))

    def validate(self) -> None:
        for value, allowed, flag in ((self.duplicates, DUPLICATE_POLICIES, "--duplicates"),
                                     (self.conflict, CONFLICT_POLICIES, "--conflict"),
                                     (self.action, ACTIONS, "--action"),
                                     (self.colon_style, names.COLON_STYLES, "--colon-style")):
            if value not in allowed:
                raise UsageError(f"{flag} {value!r} is not one of {', '.join(allowed)}")

    @property
    def unsorted_dir(self) -> str | None:
        """The folder unmatched videos go to (``--unmatched DIR``), or None."""
        return None if self.unmatched in UNMATCHED_POLICIES else self.unmatched

    @property
    def movies_root(self) -> str:
        return self.movies_dest or os.path.join(self.dest, "Movies")

    @property
    def roots(self) -> list[str]:
        """Destination roots to lock and to keep plans inside: ``dest``, and the movies and unmatched
        folders when they are outside it."""
        roots = [self.dest]
        for other in (self.movies_root, self.unsorted_dir):
            if other and not other.startswith(self.dest.rstrip(os.sep) + os.sep) and other not in roots:
                roots.append(other)
        return roots


@dataclass
class Plan:
    """Entries in source order (held in a plan store on disk) plus what planning noticed.

    ``entries`` may be given as any iterable of PlanEntry; it is kept as a
    :class:`~anivault.organize.store.PlanEntries` (sized, iterable, indexable).
    """

    options: PlanOptions
    entries: Any
    offline: bool = True
    left_in_place: int = 0  # files that are neither media nor attached to media
    matching: str = ""  # "tmdb", "cache" (TMDB cache only) or "offline"; "" when not said
    created: float = field(default_factory=time.time)
    tmdb_unavailable: int = 0  # videos left unmatched because TMDB did not answer (stderr said so)

    def __post_init__(self) -> None:
        from .store import PlanEntries  # the store reads PlanEntry from here

        if not isinstance(self.entries, PlanEntries):
            self.entries = PlanEntries.from_iterable(self.entries)

    def todo(self) -> Iterator[tuple[int, PlanEntry]]:
        """(index, entry) of every entry to apply, in plan order."""
        return self.entries.todo()

    def count(self, status: str) -> int:
        return self.entries.counts().get(status, (0, 0))[0]

    def summary(self) -> "PlanSummary":
        counts = self.entries.counts()  # one GROUP BY over the plan store
        todo, size = counts.get(TODO, (0, 0))
        return PlanSummary(entries=len(self.entries), todo=todo, bytes=size,
                           statuses={status: n for status, (n, _) in sorted(counts.items())},
                           left_in_place=self.left_in_place, offline=self.offline,
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
    tried: bool = False  # matching was asked about this file (a match of None then means "not found")
    reason: str = ""  # why matching found nothing
