"""Release-name parsing: a file name or path in, a ParsedName out.

The file name is parsed by the compiled twin (or the pure one); a path's
folders fill what the file name lacks (``Title/Season 2/Episode 05.mkv``,
``[Group] Title [BD 1080p]/05.mkv``, ``Title (2023)/S01E04.mkv``). Folder
parses are cached, so a folder of 500 episodes is parsed once.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from types import ModuleType
from typing import Iterable

from ._speedups import parse_name
from .models import ParsedName

__all__ = ["parse", "parse_many", "parse_file", "split_path", "ParsedName"]

# Folder levels above the file that may supply a title, season, group...
FOLDER_DEPTH = 3

# Folder names that organize a library rather than name a show.
GENERIC_FOLDERS = frozenset(
    "season seasons specials special sps sp extras extra bonus featurettes ova ovas oad movies "
    "movie ncop nced nc op ed openings endings menus menu pv pvs cm cms trailers previews "
    "subs subtitles fonts attachments anime animes series tv shows video videos downloads "
    "complete batch bd bdmv dvd".split())
SPECIAL_FOLDERS = frozenset("specials special sps sp ova ovas oad bonus".split())
EXTRA_FOLDERS = frozenset(
    "extras extra featurettes ncop nced nc op ed openings endings menus menu pv pvs cm cms "
    "trailers previews".split())


def split_path(name_or_path: str) -> tuple[list[str], str]:
    """(folder names, file name). "/" and "\\" separate folders, except a " / " between
    spaces, which is part of a title ("Episode 3 - Despair / Comeback")."""
    parts: list[str] = []
    start = 0
    n = len(name_or_path)
    for i, c in enumerate(name_or_path):
        if c != "/" and c != "\\":
            continue
        if 0 < i < n - 1 and name_or_path[i - 1] == " " and name_or_path[i + 1] == " ":
            continue
        parts.append(name_or_path[start:i])
        start = i + 1
    file_name = name_or_path[start:]
    folders = [p for p in parts if p and p not in (".", "..") and not (len(p) == 2 and p[1] == ":")]
    return folders, file_name


def parse(name_or_path: str) -> ParsedName:
    """Parse a file name, or a path whose folders fill in what the name lacks."""
    folders, file_name = split_path(name_or_path)
    if not folders:
        return parse_name(file_name)
    return _with_context(parse_name(file_name), _folder_context(tuple(folders[-FOLDER_DEPTH:])))


def parse_many(names: Iterable[str]) -> list[ParsedName]:
    """parse() of each name or path, in order."""
    return [parse(n) for n in names]


def parse_file(name: str, parent_dir: str) -> ParsedName:
    """The scanner's call: a file name plus its folder path (folders parsed once, cached)."""
    folders, _ = split_path(parent_dir + "/")
    if not folders:
        return parse_name(name)
    return _with_context(parse_name(name), _folder_context(tuple(folders[-FOLDER_DEPTH:])))


@lru_cache(maxsize=8192)
def _parse_folder(folder: str) -> ParsedName:
    return parse_name(folder)


@lru_cache(maxsize=8192)
def _folder_context(folders: tuple[str, ...]) -> ParsedName:
    """What the folders say, nearest folder first; generic names ("Season 2") give no title."""
    context = ParsedName(kind="")
    for folder in reversed(folders):
        parsed = _parse_folder(folder)
        key = folder.strip().lower()
        kind = ("special" if key in SPECIAL_FOLDERS else "extra" if key in EXTRA_FOLDERS
                else "")
        if parsed.title and parsed.title.lower() in GENERIC_FOLDERS:
            parsed = parsed._replace(title=None)
        if parsed.title and parsed.title.isdigit() and parsed.season is None:
            parsed = parsed._replace(title=None)  # "Title/01/..." numbered disc folders
        if parsed.season is not None and parsed.title is None and parsed.group is None:
            parsed = parsed._replace(kind="")  # "Season 2" says nothing about kind
        context = _fill(context, parsed._replace(kind=kind or context.kind))
    return context


def _fill(base: ParsedName, extra: ParsedName) -> ParsedName:
    """base with its empty fields taken from extra (not episode numbers: those are the file's)."""
    changes = {}
    for field in ("title", "season", "group", "resolution", "year", "source", "video_codec",
                  "audio_codec", "language", "subtitles"):
        if getattr(base, field) is None and getattr(extra, field) is not None:
            changes[field] = getattr(extra, field)
    if not base.kind and extra.kind:
        changes["kind"] = extra.kind
    return base._replace(**changes) if changes else base


def _with_context(parsed: ParsedName, context: ParsedName) -> ParsedName:
    filled = _fill(parsed, context._replace(kind=""))
    if context.kind in ("special", "extra") and parsed.kind in ("episode", "movie"):
        filled = filled._replace(kind=context.kind)
    elif parsed.kind == "movie" and parsed.episode is None and context.title and (
            context.season is not None or not parsed.title):
        # "Show/Season 1/Pilot.mkv": a file in a show's folder is not a movie of its own.
        filled = filled._replace(kind="episode" if parsed.title else "batch")
    if parsed.title is None and context.title and parsed.episode is None and parsed.kind != "movie":
        filled = filled._replace(title=context.title)
    if parsed.season is None and context.season is not None and filled.season is None:
        filled = filled._replace(season=context.season)
    return filled


class _CallableModule(ModuleType):
    """``anivault.parse`` is this module (``anivault.parse.parse_file``) and, called, the
    function: the package exports ``parse`` while the module keeps its name."""

    def __call__(self, name_or_path: str) -> ParsedName:
        return parse(name_or_path)


sys.modules[__name__].__class__ = _CallableModule
