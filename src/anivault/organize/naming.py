"""Naming: template fields of a file, its destination, and the destination tree as it is on disk."""
from __future__ import annotations

import os
from typing import Any

from .. import names
from ..errors import UsageError
from .entries import PlanOptions, _Source
from .store import Lru

# Planning splits every path several times: on POSIX (normalized absolute paths) a string
# split does what os.path does, without its per-call overhead.
if os.sep == "/" and not os.altsep:
    def parent_dir(path: str) -> str:
        return path[:path.rfind("/")] or "/"

    def base_name(path: str) -> str:
        return path[path.rfind("/") + 1:]

    def join_path(head: str, *tail: str) -> str:
        return "/".join((head.rstrip("/"), *tail)) if head != "/" else "/" + "/".join(tail)
else:  # Windows: drives and two separators need ntpath
    parent_dir, base_name, join_path = os.path.dirname, os.path.basename, os.path.join


def as_source(item: Any) -> _Source:
    """A scan record, or what matching made of one: ``(record, match)`` or ``(record, match, reason)``.

    A bare record was never matched (plan from its parsed name); a pair or triple whose match is
    None is a file matching found nothing for.
    """
    if item.__class__ is tuple and len(item) == 3:  # what the pipeline feeds: (record, match, reason)
        record, match, reason = item
        tried = True
    else:
        tried = isinstance(item, tuple) and len(item) in (2, 3) and not hasattr(item, "_fields")
        record, match, reason = (item if len(item) == 3 else (*item, "")) if tried else (item, None, "")
    path = record.path
    return _Source(path if path.__class__ is str else os.fspath(path), int(record.size), int(record.mtime_ns),
                   getattr(record, "kind", "video") or "other", getattr(record, "parsed", None), match,
                   tried, reason or "")


def ext_of(path: str) -> str:
    return os.path.splitext(path)[1][1:].lower()


def stem_of(path: str) -> str:
    """``os.path.splitext(base_name(path))[0]`` (leading dots are no extension), without its frames."""
    name = base_name(path)
    dot = name.rfind(".")
    return name[:dot] if dot > 0 and name[:dot].lstrip(".") else name


def fields_of(src: _Source) -> dict[str, Any] | None:
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
    if isinstance(episode, float) and not episode.is_integer():
        return None  # "S00E12.5" is no name a media server reads: only TMDB's season 0 entry names it
    year = (getattr(m, "year", None) if m else None) or (p.year if p else None)
    return {"title": title, "year": year, "season": 1 if season is None else season,
            "episode": episode, "episode_end": episode_end,
            "ext": (p.ext if p and p.ext else ext_of(src.path)) or None,
            "group": p.group if p else None, "resolution": p.resolution if p else None,
            "version": p.version if p else None,
            "episode_title": (getattr(m, "episode_title", None) if m else None) or (p.episode_title if p else None),
            "absolute": getattr(m, "absolute", None) if m else None, "audio": names.audio_tag(p) if p else None,
            "crc32": p.crc32 if p else None, "source": p.source if p else None,
            "original": stem_of(src.path), "tmdb_id": getattr(m, "id", None) if m else None,
            "_movie": kind == "movie" or getattr(m, "media_type", None) == "movie"
            or (episode is None and year is not None and kind not in ("special", "extra")),
            # Openings, endings, menus, unnumbered OVAs: bonus material, not numbered episodes.
            "_bonus": (kind == "extra" and (m is None or getattr(m, "episode", None) is None))
            or (kind == "special" and episode is None)}


def release_tag(src: _Source) -> str:
    """What tells one release from another (``Group 1080p v2``); "" when the name says none of it."""
    p = src.parsed
    bits = [p.group, p.resolution, f"v{p.version}" if p.version else None] if p else []
    return " ".join(str(b) for b in bits if b)


class Namer:
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
        return names.path_fits_windows(path) and names.path_fits_windows(parent_dir(path), is_dir=True)

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


class DestIndex:
    """Existing destination directories, listed once each: exists/case lookups without a stat per file.

    Listings are memoized for the most recently used directories only (planning meets the
    files of one season together), so memory stays flat however large the library is.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._dirs = Lru(capacity)
        self._spelled = Lru(capacity * 4)

    def listing(self, directory: str) -> dict[str, str]:
        """case_key(name) → name on disk; empty when the directory does not exist yet."""
        return self._dirs.get(directory, lambda: self._list(directory))

    @staticmethod
    def _list(directory: str) -> dict[str, str]:
        found: dict[str, str] = {}
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    found.setdefault(names.case_key(entry.name), entry.name)
        except OSError:
            pass
        return found

    def existing(self, path: str) -> str | None:
        """The name on disk that ``path`` would collide with (same name, or differing only in case)."""
        return self.listing(parent_dir(path)).get(names.case_key(base_name(path)))

    def adopt_case(self, root: str, path: str) -> str:
        """Spell existing folders as they are on disk, so ``show`` and ``Show`` stay one folder."""
        directory, name = os.path.split(path)
        return join_path(self._spelled.get(directory, lambda: self._spell(root, directory)), name)

    def _spell(self, root: str, directory: str) -> str:
        current = root
        for part in directory[len(root):].split(os.sep):
            if part:
                current = join_path(current, self.listing(current).get(names.case_key(part)) or part)
        return current
