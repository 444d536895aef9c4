"""Organize: plan where each file goes, then apply the plan through the journal.

Planning is pure bookkeeping over scan records (no source is stat'ed again):
each video gets a destination from a template, subtitles and same-stem
extras follow their video, font/attachment folders follow their release,
duplicates and collisions are settled, and existing destinations are read
once per directory to find "already organized" files and conflicts.

Applying executes the plan in batches through :mod:`anivault.journal`, which
records every intent durably before the file is touched. Nothing is ever
overwritten: each file operation refuses an existing destination atomically.
"""
from __future__ import annotations

import errno
import gc
import json
import os
import re
import stat
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import xxhash

from . import names
from .errors import AniVaultError, RefusedError, UsageError
from .monitor import Metrics

DEFAULT_TEMPLATE = "{title} ({year})/Season {season:02}/{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}"
DEFAULT_MOVIE_TEMPLATE = "{title} ({year})/{title} ({year}).{ext}"
ACTIONS = ("move", "copy", "hardlink", "symlink")
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

    def summary(self) -> dict[str, Any]:
        statuses = Counter(e.status for e in self.entries)
        return {"entries": len(self.entries), "todo": statuses.get(TODO, 0),
                "bytes": sum(e.size for e in self.entries if e.status == TODO),
                "statuses": dict(sorted(statuses.items())), "left_in_place": self.left_in_place,
                "offline": self.offline, "matching": self.matching or ("offline" if self.offline else "tmdb"),
                "action": self.options.action, "dest": self.options.dest}


class _Source(NamedTuple):
    """A scan record reduced to what planning reads."""

    path: str
    size: int
    mtime_ns: int
    kind: str  # video | subtitle | other
    parsed: Any
    match: Any


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


# ---------------------------------------------------------------- planning

# Planning splits every path several times: on POSIX (normalized absolute paths) a string
# split does what os.path does, without its per-call overhead.
if os.sep == "/" and not os.altsep:
    def _dirname(path: str) -> str:
        return path[:path.rfind("/")] or "/"

    def _basename(path: str) -> str:
        return path[path.rfind("/") + 1:]

    def _join(head: str, *tail: str) -> str:
        return "/".join((head.rstrip("/"), *tail)) if head != "/" else "/" + "/".join(tail)
else:  # Windows: drives and two separators need ntpath
    _dirname, _basename, _join = os.path.dirname, os.path.basename, os.path.join


def _as_source(item: Any) -> _Source:
    record, match = item if isinstance(item, tuple) and len(item) == 2 else (item, None)
    return _Source(os.fspath(record.path), int(record.size), int(record.mtime_ns),
                   getattr(record, "kind", "video") or "other", getattr(record, "parsed", None), match)


def _ext(path: str) -> str:
    return os.path.splitext(path)[1][1:].lower()


def _stem(path: str) -> str:
    return os.path.splitext(_basename(path))[0]


def _fields(src: _Source) -> dict[str, Any] | None:
    """Template fields of a video from its match (when any) over its parsed name; None: unnameable."""
    p, m = src.parsed, src.match
    title = (getattr(m, "title", None) if m else None) or (p.title if p else None)
    if not title:
        return None
    episode = p.episode if p else None
    episode_end = p.episode_end if p else None
    season = p.season if p else None
    kind = p.kind if p else "episode"
    if p and kind == "special":
        season = 0
    if m is not None:
        if getattr(m, "episode", None) is not None:
            # The match maps absolute numbering to (season, episode); a range keeps its length.
            if episode is not None and episode_end is not None:
                episode_end = m.episode + (episode_end - episode)
            episode = m.episode
        if getattr(m, "season", None) is not None:
            season = m.season
    year = (getattr(m, "year", None) if m else None) or (p.year if p else None)
    return {"title": title, "year": year, "season": 1 if season is None else season,
            "episode": episode, "episode_end": episode_end,
            "ext": (p.ext if p and p.ext else _ext(src.path)) or None,
            "group": p.group if p else None, "resolution": p.resolution if p else None,
            "version": p.version if p else None, "episode_title": p.episode_title if p else None,
            "crc32": p.crc32 if p else None, "source": p.source if p else None,
            "original": _stem(src.path), "tmdb_id": getattr(m, "id", None) if m else None,
            "_movie": kind == "movie" or getattr(m, "media_type", None) == "movie"
            or (episode is None and year is not None and kind not in ("special", "extra")),
            # Openings, endings, menus, unnumbered OVAs: bonus material, not numbered episodes.
            "_bonus": (kind == "extra" and (m is None or getattr(m, "episode", None) is None))
            or (kind == "special" and episode is None)}


def _quality(src: _Source) -> tuple:
    """Sort key of releases of one episode: best first (resolution, version, size, then path)."""
    p = src.parsed
    res = 0
    if p is not None and p.resolution:
        digits = re.findall(r"\d+", str(p.resolution))
        res = int(digits[-1]) if digits else 0
    return (-res, -((p.version or 1) if p else 1), -src.size, src.path)


def _release_tag(src: _Source) -> str:
    """What tells one release from another in a keep-all file name: ``[Group 1080p v2]``."""
    p = src.parsed
    bits = [p.group, p.resolution, f"v{p.version}" if p.version else None] if p else []
    tag = " ".join(str(b) for b in bits if b)
    return tag or _stem(src.path)


class _Namer:
    """Renders destinations and keeps them inside their roots and under Windows limits."""

    def __init__(self, options: PlanOptions) -> None:
        self.options = options
        try:
            self.episode = names.Template(options.template, options.colon_style)
            self.movie = names.Template(options.movie_template, options.colon_style)
        except names.TemplateError as e:
            raise UsageError(str(e), hint="fields go in {braces}; optional parts in [brackets]") from e
        windows = options.windows
        if windows is None:
            windows = names.is_windows_target(options.dest)
        self.check_length = windows and not options.long_paths

    def destination(self, src: _Source, fields: dict[str, Any]) -> tuple[str, str]:
        """(absolute destination, "" or why none fits)."""
        movie = fields["_movie"]
        template, root = (self.movie, self.options.movies_root) if movie else (self.episode, self.options.dest)
        if not movie and fields["episode"] is None:
            return "", "no episode number in the name"
        parts = self._parts(template, fields)
        path = names.join_under(root, parts)
        if self.check_length and not self._fits(path):
            path = self._shortened(template, root, fields, path)
            if not path:
                return "", "destination path exceeds the Windows MAX_PATH (use --long-paths)"
        return path, ""

    def _parts(self, template: names.Template, fields: dict[str, Any],
               max_bytes: int = names.COMPONENT_MAX_BYTES) -> list[str]:
        parts = template.render(fields, max_bytes)
        if self.options.keep_names:
            parts[-1] = names.safe_component(fields["original"] + (f".{fields['ext']}" if fields["ext"] else ""),
                                             self.options.colon_style)
        return parts

    @staticmethod
    def _fits(path: str) -> bool:
        return names.path_fits_windows(path) and names.path_fits_windows(_dirname(path), is_dir=True)

    def _shortened(self, template: names.Template, root: str, fields: dict[str, Any], path: str) -> str:
        """Shorten the title until the path fits MAX_PATH; "" when even a short title cannot."""
        title = str(fields["title"])
        while len(title) > 8:
            excess = names.windows_length(path) - names.WINDOWS_MAX_PATH + 1
            title = title[:max(8, len(title) - max(excess, 1))].rstrip(" .")
            short = dict(fields, title=title + "…")
            path = names.join_under(root, self._parts(template, short))
            if self._fits(path):
                return path
        return ""


class _DestIndex:
    """Existing destination directories, listed once each: exists/case lookups without a stat per file."""

    def __init__(self) -> None:
        self._dirs: dict[str, dict[str, str]] = {}
        self._spelled: dict[str, str] = {}

    def listing(self, directory: str) -> dict[str, str]:
        """case_key(name) → name on disk; empty when the directory does not exist yet."""
        cached = self._dirs.get(directory)
        if cached is None:
            cached = {}
            try:
                with os.scandir(directory) as it:
                    for entry in it:
                        cached.setdefault(names.case_key(entry.name), entry.name)
            except OSError:
                pass
            self._dirs[directory] = cached
        return cached

    def existing(self, path: str) -> str | None:
        """The name on disk that ``path`` would collide with (same name, or differing only in case)."""
        return self.listing(_dirname(path)).get(names.case_key(_basename(path)))

    def adopt_case(self, root: str, path: str) -> str:
        """Spell existing folders as they are on disk, so ``show`` and ``Show`` stay one folder."""
        directory, name = os.path.split(path)
        spelled = self._spelled.get(directory)
        if spelled is None:
            current = root
            for part in directory[len(root):].split(os.sep):
                if part:
                    current = _join(current, self.listing(current).get(names.case_key(part)) or part)
            spelled = self._spelled[directory] = current
        return _join(spelled, name)


def plan_organize(items: Iterable[Any], options: PlanOptions, *, offline: bool = True,
                  metrics: Metrics | None = None) -> Plan:
    """Plan every scan record (or ``(record, match)`` pair) under ``options``.

    Records are consumed as they stream in; the plan holds one small tuple per file.
    """
    options.validate()
    metrics = metrics or Metrics()
    end = object()
    with _no_gc_pauses():
        planner = _Planner(options)
        # The items stream out of the scan (and matcher): the time spent waiting for the
        # next one is theirs, timed by their own stages, so "plan" is the planner's alone.
        clock = time.perf_counter
        started = clock()
        waited = 0.0
        source = iter(items)
        while True:
            t = clock()
            item = next(source, end)
            waited += clock() - t
            if item is end:
                break
            planner.add(_as_source(item))
        plan = planner.finish(offline)
    metrics.add_time("plan", clock() - started - waited, len(plan.entries))
    metrics.count("planned", len(plan.entries))
    return plan


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Planning allocates one small tuple per file and no reference cycles: the cyclic GC
    would only rescan the growing heap again and again (~20% of planning time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Planner:
    def __init__(self, options: PlanOptions) -> None:
        self.options = options
        self.namer = _Namer(options)
        self.dest_index = _DestIndex()
        self.by_dir: dict[str, list[_Source]] = defaultdict(list)
        self.videos: list[tuple[_Source, str, str, tuple]] = []  # (source, destination, reason, identity)
        self.bonus: list[tuple[_Source, dict[str, Any]]] = []
        self._near: dict[str, str | None] = {}
        self._suffixes: dict[str, str] = {}

    def add(self, src: _Source) -> None:
        self.by_dir[_dirname(src.path)].append(src)
        if src.kind == "video":
            fields = _fields(src)
            if fields is None:
                self.videos.append((src, "", "no title in the name", ()))
            elif fields["_bonus"]:
                self.bonus.append((src, fields))
            else:
                dst, reason = self.namer.destination(src, fields)
                # Releases of one episode: same title and numbers (a movie: same title and year).
                ident = (str(fields["title"]).casefold(), fields["_movie"], fields["year"] if fields["_movie"]
                         else None, fields["season"], fields["episode"], fields["episode_end"])
                self.videos.append((src, dst, reason, ident))

    def finish(self, offline: bool) -> Plan:
        entries: dict[str, PlanEntry] = {}
        for entry in self._settle_videos():
            entries[entry.src] = entry
        claimed = {names.case_key(e.dst): e.src for e in entries.values() if e.status == TODO}
        for entry in self._bonus_videos(entries):
            entries[entry.src] = self._settle(entry, claimed)
        followers = list(self._followers(entries)) + list(self._attachments(entries))
        for entry in followers:
            entries[entry.src] = self._settle(entry, claimed)
        ordered = sorted(entries.values(), key=lambda e: e.src)
        left = sum(len(v) for v in self.by_dir.values()) - len(ordered)
        return Plan(self.options, ordered, offline=offline, left_in_place=left)

    # -- videos: duplicates, collisions, conflicts

    def _settle_videos(self) -> Iterator[PlanEntry]:
        groups: dict[tuple, list[tuple[_Source, str]]] = defaultdict(list)
        for src, dst, reason, ident in self.videos:
            if not dst:
                yield PlanEntry(src.path, "", src.size, src.mtime_ns, "video", UNMATCHED
                                if "MAX_PATH" not in reason else TOO_LONG, reason)
                continue
            dst = self.dest_index.adopt_case(self._root_of(dst), dst)
            groups[(names.case_key(_dirname(dst)), *ident)].append((src, dst))
        claimed: dict[str, str] = {}
        for group in sorted(groups.values(), key=lambda rs: min(r[0].path for r in rs)):
            releases = sorted(group, key=lambda r: _quality(r[0]))
            yield from self._settle_duplicates(releases, claimed)

    def _root_of(self, dst: str) -> str:
        movies = self.options.movies_root
        return movies if dst.startswith(movies.rstrip(os.sep) + os.sep) else self.options.dest

    def _settle_duplicates(self, releases: list[tuple[_Source, str]],
                           claimed: dict[str, str]) -> Iterator[PlanEntry]:
        best_src, best_dst = releases[0]
        yield self._settle(PlanEntry(best_src.path, best_dst, best_src.size, best_src.mtime_ns, "video"),
                           claimed)
        policy = self.options.duplicates
        for src, dst in releases[1:]:
            entry = PlanEntry(src.path, dst, src.size, src.mtime_ns, "video")
            note = f"another release of {_basename(best_dst)} ({best_src.path})"
            if policy == "skip":
                yield entry._replace(status=DUPLICATE, reason=note + "; --duplicates skip")
                continue
            if policy == "keep-all" and self.options.keep_names:
                entry = entry._replace(reason=note)  # the original names already tell them apart
            elif policy == "keep-all":
                stem, ext = os.path.splitext(dst)
                tag = names.clean_text(_release_tag(src), self.options.colon_style)
                new_dst = names.safe_component(f"{_basename(stem)} - {tag}{ext}",
                                               self.options.colon_style)
                entry = entry._replace(dst=_join(_dirname(dst), new_dst))
            else:  # best: the others go beside the library, never deleted
                folder = _dirname(dst)
                sibling = _join(_dirname(folder), DUPLICATES_DIR, _basename(folder))
                entry = entry._replace(dst=_join(sibling, names.safe_component(
                    _basename(src.path), self.options.colon_style)), reason=note)
            yield self._settle(entry, claimed)

    def _settle(self, entry: PlanEntry, claimed: dict[str, str]) -> PlanEntry:
        """Collision with another planned source, then with what exists at the destination."""
        if entry.status != TODO:
            return entry
        if entry.src == entry.dst:  # both absolute and normalized (scan roots, PlanOptions)
            return entry._replace(status=ALREADY, reason="already in place")
        # A release's fonts and bonus videos are not library items: a clash just gets a number.
        policy = "rename" if entry.role in ("attachment", "bonus") else self.options.conflict
        key = names.case_key(entry.dst)
        if key in claimed:
            if same_content(entry.src, claimed[key]):
                return entry._replace(status=ALREADY, reason=f"identical to {claimed[key]}, which goes there")
            if policy != "rename":
                return entry._replace(status=COLLISION, reason=f"{claimed[key]} goes to the same destination")
            entry = entry._replace(dst=self._free_name(entry.dst, claimed))
            key = names.case_key(entry.dst)
        existing = self.dest_index.existing(entry.dst)
        if existing is not None:
            on_disk = _join(_dirname(entry.dst), existing)
            if os.path.normcase(os.path.abspath(on_disk)) == os.path.normcase(os.path.abspath(entry.src)):
                return entry._replace(status=ALREADY, reason="already in place")
            if same_content(entry.src, on_disk):
                return entry._replace(dst=on_disk, status=ALREADY, reason="identical file already there")
            if policy == "fail":
                raise RefusedError(f"{on_disk} already exists and differs from {entry.src}",
                                   hint="--conflict skip leaves such files, --conflict rename adds ' (2)'")
            if policy == "skip":
                return entry._replace(status=CONFLICT, reason=f"{on_disk} exists with other content")
            entry = entry._replace(dst=self._free_name(entry.dst, claimed))
            key = names.case_key(entry.dst)
        claimed[key] = entry.src
        return entry

    def _free_name(self, dst: str, claimed: dict[str, str]) -> str:
        """``name (2).ext``, ``name (3).ext``… free both on disk and in the plan."""
        stem, ext = os.path.splitext(dst)
        for n in range(2, 10_000):
            candidate = f"{stem} ({n}){ext}"
            if names.case_key(candidate) not in claimed and self.dest_index.existing(candidate) is None:
                return candidate
        raise AniVaultError(f"no free name for {dst}", hint="clean up the numbered copies there")

    # -- bonus videos (NCOP/NCED, menus, unnumbered OVAs) go to the Extras folder of their show

    def _bonus_videos(self, entries: dict[str, PlanEntry]) -> Iterator[PlanEntry]:
        for src, fields in self.bonus:
            folder = self._show_folder_near(_dirname(src.path), entries) or self._own_show_folder(src, fields)
            entry = PlanEntry(src.path, "", src.size, src.mtime_ns, "bonus")
            if not folder:
                yield entry._replace(status=UNMATCHED, reason="bonus video of an unknown show")
                continue
            name = names.safe_component(_basename(src.path), self.options.colon_style)
            yield entry._replace(dst=names.join_under(folder, [EXTRAS_DIR, name]))

    def _show_folder_near(self, directory: str, entries: dict[str, PlanEntry]) -> str | None:
        """The show (or movie) folder most episodes in this release folder, or the one above, go to."""
        if directory not in self._near:  # once per folder: a big flat folder is read once, not per file
            self._near[directory] = self._count_show_folders(directory, entries)
        return self._near[directory]

    def _count_show_folders(self, directory: str, entries: dict[str, PlanEntry]) -> str | None:
        for folder in (directory, _dirname(directory)):
            shows = Counter(self._show_folder(e.dst) for s in self.by_dir.get(folder, ())
                            if (e := entries.get(s.path)) is not None and e.role == "video"
                            and e.status in (TODO, ALREADY))
            if shows:
                return shows.most_common(1)[0][0]
        return None

    def _show_folder(self, dst: str) -> str:
        root = self._root_of(dst)
        return _join(root, dst[len(root):].lstrip(os.sep).split(os.sep)[0])

    def _own_show_folder(self, src: _Source, fields: dict[str, Any]) -> str:
        """No episode nearby: the first folder its own name renders to (or the root of a flat template)."""
        template, root = (self.namer.movie, self.options.movies_root) if fields["_movie"] else \
            (self.namer.episode, self.options.dest)
        parts = template.render(dict(fields, episode=fields["episode"] or 0))
        return names.join_under(root, parts[:1]) if len(parts) > 1 else root

    # -- subtitles, same-stem extras, attachment folders

    def _followers(self, entries: dict[str, PlanEntry]) -> Iterator[PlanEntry]:
        for directory, sources in self.by_dir.items():
            videos = {_stem(s.path): entries[s.path] for s in sources if s.path in entries}
            if _basename(directory).casefold() in SUBTITLE_DIRS:
                parent = _dirname(directory)
                videos.update({_stem(s.path): entries[s.path] for s in self.by_dir.get(parent, ())
                               if s.path in entries})
            if not videos:
                continue
            for src in sources:
                if src.path in entries:
                    continue
                name = _basename(src.path)
                stem = _video_stem(name, videos)
                if stem is None:
                    continue
                yield self._follow(src, videos[stem], name[len(stem):],
                                   "subtitle" if src.kind == "subtitle" else "extra")

    def _follow(self, src: _Source, video: PlanEntry, suffix: str, role: str) -> PlanEntry:
        entry = PlanEntry(src.path, "", src.size, src.mtime_ns, role)
        if video.status not in (TODO, ALREADY) or not video.dst:
            return entry._replace(status=FOLLOWS, reason=f"its video {video.src} stays ({video.status})")
        clean = self._suffixes.get(suffix)
        if clean is None:  # ".en.ass", ".nfo": a handful of distinct suffixes in a whole library
            clean = self._suffixes[suffix] = names.clean_text(suffix, self.options.colon_style)
        video_name = _basename(video.dst)
        dot = video_name.rfind(".")
        name = (video_name[:dot] if dot > 0 else video_name) + clean  # the video's name is safe already
        name = names.finish_component(name) if names.utf8_len(name) <= names.COMPONENT_MAX_BYTES \
            else names.safe_component(name, self.options.colon_style)
        return entry._replace(dst=_join(_dirname(video.dst), name))

    def _attachments(self, entries: dict[str, PlanEntry]) -> Iterator[PlanEntry]:
        """Files under a Fonts/Attachments folder go to where most of their release's videos go."""
        for directory, sources in self.by_dir.items():
            release, folder, rest = _attachment_root(directory)
            if release is None:
                continue
            targets = Counter(_dirname(e.dst) for s in self.by_dir.get(release, ())
                              if (e := entries.get(s.path)) is not None and e.status in (TODO, ALREADY))
            if not targets:
                continue
            target = targets.most_common(1)[0][0]
            for src in sources:
                if src.path in entries:
                    continue
                parts = [names.safe_component(p, self.options.colon_style)
                         for p in (folder, *rest, _basename(src.path))]
                yield PlanEntry(src.path, names.join_under(target, parts), src.size, src.mtime_ns,
                                "attachment")


def _video_stem(name: str, videos: dict[str, PlanEntry]) -> str | None:
    """The longest video stem that ``name`` extends with ".suffix" (``X.en.ass`` → ``X``), if any."""
    end = len(name)
    while (end := name.rfind(".", 0, end)) > 0:
        if name[:end] in videos:
            return name[:end]
    return None


def _attachment_root(directory: str) -> tuple[str | None, str, list[str]]:
    """(release folder, attachment folder name, sub-folders) when ``directory`` is inside one."""
    parts = directory.split(os.sep)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i].casefold() in ATTACHMENT_DIRS:
            return os.sep.join(parts[:i]) or os.sep, parts[i], parts[i + 1:]
    return None, "", []


# ---------------------------------------------------------------- plan files


def write_plan(plan: Plan, path: str) -> None:
    """Save a plan as JSON lines (a header, then one entry per line), atomically."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            header = {"anivault_plan": PLAN_FORMAT, "options": asdict(plan.options), "offline": plan.offline,
                      "created": plan.created, "left_in_place": plan.left_in_place}
            f.write(json.dumps(header, ensure_ascii=False) + "\n")
            for e in plan.entries:
                f.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise AniVaultError(f"cannot write plan {path}: {e.strerror}", hint="choose a writable path") from e


def read_plan(path: str) -> Plan:
    """A plan saved by :func:`write_plan` (UsageError when it is not one)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            header = json.loads(f.readline() or "{}")
            if header.get("anivault_plan") != PLAN_FORMAT:
                raise UsageError(f"{path} is not an AniVault plan (format {PLAN_FORMAT})",
                                 hint="make one with `anivault organize SRC --dest DST --plan FILE`")
            options = header["options"]
            options["sources"] = tuple(options.get("sources") or ())
            entries = [PlanEntry(**json.loads(line)) for line in f if line.strip()]
    except OSError as e:
        raise AniVaultError(f"cannot read plan {path}: {e.strerror}", hint="check the path") from e
    except (ValueError, TypeError, KeyError) as e:
        raise UsageError(f"{path} is not a valid AniVault plan: {e}",
                         hint="plans are written by `anivault organize --plan FILE`; do not edit them") from e
    return Plan(PlanOptions(**options), entries, offline=header.get("offline", True),
                left_in_place=header.get("left_in_place", 0), created=header.get("created", 0.0))


# ---------------------------------------------------------------- file operations (never overwrite)

FINGERPRINT_BYTES = 4096
# link() errors meaning "this filesystem or policy does not do hard links": fall back to rename.
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EINVAL}
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


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


def _place(src: str, dst: str) -> None:
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
        _place(tmp, dst)
        from .journal import fsync_dir

        fsync_dir(os.path.dirname(dst))
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return digest


def move_file(src: str, dst: str, tmp: str, mtime_ns: int | None = None) -> str | None:
    """Move without overwriting; across filesystems copy → verify → delete source. Hash when copied."""
    try:
        _place(src, dst)
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


def _error_text(e: OSError) -> str:
    if isinstance(e, FileExistsError):
        return "destination appeared since planning"
    return e.strerror or str(e)


# ---------------------------------------------------------------- apply


@dataclass
class ApplyReport:
    op: str
    planned: int = 0
    done: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    pruned: int = 0
    aborted: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "planned": self.planned, "done": self.done, "bytes": self.bytes,
                "failed": len(self.failed), "pruned": self.pruned, "aborted": self.aborted}


APPLIED = "applied"  # files handled by apply (moved, or failed), counted per batch


class _Executor:
    """Runs entries in journaled batches: intents committed before any file is touched."""

    def __init__(self, journal: Any, op: str, action: str, report: ApplyReport, *,
                 batch: int, metrics: Metrics, progress: Callable[[int], None] | None) -> None:
        self.journal = journal
        self.op = op
        self.action = action
        self.report = report
        self.batch = max(1, batch)
        self.metrics = metrics
        self.progress = progress or (lambda n: None)
        self.known_dirs: set[str] = set()
        self.moved_from: set[str] = set()

    def run(self, indexed: Iterable[tuple[int, PlanEntry]]) -> None:
        chunk: list[tuple[int, PlanEntry]] = []
        for item in indexed:
            chunk.append(item)
            if len(chunk) >= self.batch:
                self._batch(chunk)
                chunk = []
                if self.report.aborted:
                    return
        if chunk:
            self._batch(chunk)
        self.journal.commit()

    def _fail(self, i: int, entry: PlanEntry, why: str) -> None:
        self.journal.write({"t": "fail", "i": i, "error": why})
        self.report.failed.append((entry.src, why))
        self.metrics.count("apply_failed")

    def _prepare(self, i: int, entry: PlanEntry) -> dict[str, Any] | None:
        """The intent for ``entry``, or None (and a fail record) when its source is not as planned."""
        try:
            st = os.lstat(entry.src)
            if not stat.S_ISREG(st.st_mode):  # a symlink or device is never moved in a file's place
                self._fail(i, entry, "source is not a regular file")
                return None
            if st.st_size != entry.size or st.st_mtime_ns != entry.mtime_ns:
                self._fail(i, entry, "source changed since planning")
                return None
            fp = fingerprint(entry.src, st.st_size)
        except FileNotFoundError:
            self._fail(i, entry, "source vanished since planning")
            return None
        except OSError as e:
            self._fail(i, entry, f"cannot read source: {_error_text(e)}")
            return None
        self._plan_dirs(os.path.dirname(entry.dst))
        tmp = os.path.join(os.path.dirname(entry.dst), f".anivault-{self.op[-6:]}-{i}.part")
        intent = {"t": "do", "i": i, "a": self.action, "src": entry.src, "dst": entry.dst, "tmp": tmp,
                  "size": st.st_size, "mtime_ns": st.st_mtime_ns, "fp": fp}
        self.journal.write(intent)
        return intent

    def _plan_dirs(self, directory: str) -> None:
        """Journal each directory this batch will create (undo removes them when empty)."""
        missing = []
        while directory not in self.known_dirs and not os.path.isdir(directory):
            missing.append(directory)
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        self.known_dirs.add(directory)
        for d in reversed(missing):
            self.journal.write({"t": "mkdir", "path": d})
            self.known_dirs.add(d)
        if missing:
            self.metrics.count("folders_created", len(missing))

    def _batch(self, chunk: list[tuple[int, PlanEntry]]) -> None:
        intents = [(i, e, intent) for i, e in chunk if (intent := self._prepare(i, e)) is not None]
        created_dirs = {os.path.dirname(intent["dst"]) for _, _, intent in intents}
        self.journal.commit()  # write-ahead: every intent is durable before its file is touched
        for d in sorted(created_dirs):
            try:
                os.makedirs(d, exist_ok=True)
            except OSError:
                pass  # reported per file below
        for n, (i, entry, intent) in enumerate(intents):
            try:
                digest = do_action(self.action, entry.src, entry.dst, intent["tmp"], intent["mtime_ns"])
            except OSError as e:
                self._fail(i, entry, _error_text(e))
                if e.errno in _DISK_FULL:
                    self.report.aborted = f"disk full writing {entry.dst}"
                    for j, rest, _ in intents[n + 1:]:
                        self._fail(j, rest, "not attempted: the run stopped (disk full)")
                    return
                continue
            if digest:
                self.journal.write({"t": "ok", "i": i, "hash": digest})
            else:  # the common case, formatted directly: one dumps() less per file
                self.journal.write_raw(f'{{"t":"ok","i":{i}}}')
            self.report.done += 1
            self.report.bytes += entry.size
            if self.action == "move":
                self.moved_from.add(os.path.dirname(entry.src))
            self.progress(1)
        self.metrics.count(APPLIED, len(intents))

    def prune(self, roots: Iterable[str]) -> None:
        """Remove source folders emptied by the moves, deepest first, never a scanned root."""
        roots = [os.path.abspath(r) for r in roots]
        candidates = {d for d in self.moved_from if any(_strictly_inside(d, r) for r in roots)}
        while candidates:
            empty = sorted((d for d in candidates if _is_empty_dir(d)), key=len, reverse=True)
            if not empty:
                return
            for d in empty:
                self.journal.write({"t": "rmdir", "path": d})
            self.journal.commit()
            parents = set()
            for d in empty:
                try:
                    os.rmdir(d)
                    self.report.pruned += 1
                except OSError:
                    continue
                parent = os.path.dirname(d)
                if any(_strictly_inside(parent, r) for r in roots):
                    parents.add(parent)
            candidates = parents


def _strictly_inside(path: str, root: str) -> bool:
    return path != root and path.startswith(root.rstrip(os.sep) + os.sep)


def _is_empty_dir(path: str) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return False


def _begin_record(op: str, options: PlanOptions, entries: int) -> dict[str, Any]:
    from .journal import process_identity

    me = process_identity()
    return {"t": "begin", "v": 1, "op": op, "action": options.action, "dest": options.dest,
            "movies_dest": options.movies_root if len(options.roots) > 1 else None,
            "sources": list(options.sources), "entries": entries, "pid": me["pid"], "host": me["host"],
            "proc_started": me["proc_started"], "started": me["since"]}


def refuse_if_unfinished(dests: Iterable[str], data_dir: str | None = None) -> None:
    """An interrupted run on these destinations must be resumed or rolled back first."""
    from .journal import unfinished

    pending = unfinished(dests, data_dir)
    if pending:
        row = pending[-1]
        raise RefusedError(
            f"operation {row.op} on {row.dest} was interrupted ({row.done} of {row.planned} files done)",
            hint=f"finish it with `anivault organize --resume {row.op}` "
                 f"or roll it back with `anivault undo {row.op}`")


def apply_plan(plan: Plan, *, prune_empty: bool = False, batch: int = 512, metrics: Metrics | None = None,
               warn: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
               data_dir: str | None = None) -> ApplyReport:
    """Execute the plan's TODO entries under the destination lock, journaled; returns what happened."""
    from .journal import DestinationLock, Journal, journal_dir, new_op_id

    metrics = metrics or Metrics()
    options = plan.options
    options.validate()
    op = new_op_id()
    todo = [(i, e) for i, e in enumerate(plan.entries) if e.status == TODO]
    report = ApplyReport(op, planned=len(todo))
    if not todo:  # nothing to do is not an operation: history and `undo --last` skip it
        report.op = ""
        return report
    with DestinationLock(options.roots, op, data_dir, warn):
        refuse_if_unfinished(options.roots, data_dir)
        directory = journal_dir(data_dir)
        os.makedirs(directory, exist_ok=True)
        write_plan(plan, os.path.join(directory, f"{op}.plan.jsonl"))
        with Journal(os.path.join(directory, f"{op}.jsonl"), begin=_begin_record(op, options, len(todo))) \
                as journal, metrics.stage("apply"):
            executor = _Executor(journal, op, options.action, report, batch=batch, metrics=metrics,
                                 progress=progress)
            metrics.expect(len(todo), APPLIED, "files")  # the live line's rate and ETA
            metrics.add_time("apply", 0.0, len(todo))  # the stage's items, for its throughput
            try:
                executor.run(todo)
            finally:
                metrics.expect(None)
            if prune_empty and options.action == "move" and not report.aborted:
                executor.prune(options.sources)
            journal.write({"t": "end", "status": "aborted" if report.aborted else "complete",
                           "done": report.done, "failed": len(report.failed)})
    return report


# ---------------------------------------------------------------- scan → match → plan


def matching_source() -> str:
    """"tmdb" with a TMDB credential, "cache" with only a TMDB cache on disk, else "offline"."""
    from . import config

    values = config.settings()
    if values.get("tmdb_api_key") or values.get("tmdb_read_token"):
        return "tmdb"
    try:
        from .cache import FILENAME
    except ImportError:  # a build without the matcher's cache module
        FILENAME = "tmdb.sqlite"
    try:
        if (config.cache_dir() / FILENAME).stat().st_size > 0:
            return "cache"
    except OSError:
        pass
    return "offline"


def with_matches(records: Iterable[Any], *, offline: bool, metrics: Metrics,
                 warn: Callable[[str], None]) -> tuple[Iterable[Any], str]:
    """``(record, match)`` pairs when TMDB (or its cache alone) can answer; else the records as they are.

    Returns the items and how they were matched: "tmdb", "cache" or "offline".
    A file the matcher cannot place keeps its parsed name.
    """
    source = "offline" if offline else matching_source()
    if source == "offline":
        return records, source
    try:
        from .match import match_records
    except ImportError:
        warn("matching is not available in this build: planning from parsed names (offline)")
        return records, "offline"
    return match_records(records, offline=source == "cache", warn=warn, metrics=metrics), source


def scan_and_plan(roots: Iterable[str], options: PlanOptions, *, offline: bool = False,
                  metrics: Metrics | None = None, warn: Callable[[str], None] | None = None,
                  exclude: Iterable[str] = (), recursive: bool = True, use_index: bool = True,
                  on_record: Callable[[], None] | None = None) -> Plan:
    """Scan ``roots``, match when TMDB is configured (unless ``offline``), and plan."""
    from .scan import scan

    metrics = metrics or Metrics()
    warn = warn or (lambda message: None)
    roots = [os.path.abspath(r) for r in roots]
    options = replace(options, sources=tuple(roots))
    run = scan(roots, recursive=recursive, exclude=exclude, use_index=use_index, metrics=metrics,
               on_warning=lambda w: warn(str(w)))
    records: Iterable[Any] = run
    if on_record is not None:
        records = _tapped(run, on_record)
    items, source = with_matches(records, offline=offline, metrics=metrics, warn=warn)
    plan = plan_organize(items, options, offline=source == "offline", metrics=metrics)
    plan.matching = source
    return plan


def _tapped(records: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for record in records:
        tick()
        yield record
