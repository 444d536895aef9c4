"""Release-name parsing: a file name or path in, a ParsedName out.

The file name is parsed by the compiled twin (or the pure one); a path's
folders fill what the file name lacks (``Title/Season 2/Episode 05.mkv``,
``[Group] Title [BD 1080p]/05.mkv``, ``Title (2023)/S01E04.mkv``). Folder
parses are cached, so a folder of 500 episodes is parsed once.
"""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from types import ModuleType
from typing import Iterable

from ._speedups import parse_name, parse_names
from .models import ParsedName

__all__ = ["parse", "parse_many", "parse_file", "series_title", "split_path", "ParsedName"]

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


# A "/" or "\\" separates folders, except a run of them between two spaces
# ("Title A / Title B", "Title // 05 // 720p") and one inside a bracket pair ("[A/B/C]").
_SEPARATOR = re.compile(r"(?<![ /\\])[/\\]+|[/\\]+(?![ /\\])")
_BRACKETS = {"[": "]", "(": ")", "{": "}", "【": "】", "（": "）"}


def _in_brackets(name: str) -> list[tuple[int, int]]:
    """The spans of the top-level bracket pairs of name (an unmatched opener is no pair)."""
    spans = []
    i = 0
    n = len(name)
    while i < n:
        close = _BRACKETS.get(name[i])
        if close is not None:
            j = name.find(close, i + 1)
            if j > 0:
                spans.append((i, j))
                i = j
        i += 1
    return spans


_SEASON_FOLDER = re.compile(r"(?:season|series|staffel|saison|s)?\s*\d+", re.IGNORECASE)


def _fraction(name: str, start: int, i: int, j: int) -> bool:
    """Whether the "/" at name[i:j] is a title's ("[Group] Ranma 1/2 - 03"): one slash between
    digits, in a release name that starts with its [Group], followed by a space; not after a
    season folder ("Season 2/7 - Title.avi") nor before a file ("Show 2/05.mkv")."""
    if not (j == i + 1 and 0 < i and j < len(name) and name[i - 1].isdigit() and name[j].isdigit()
            and name[start] in "[【"):
        return False
    k = j
    while k < len(name) and name[k].isdigit():
        k += 1
    return k < len(name) and name[k] == " " and not _SEASON_FOLDER.fullmatch(name[start:i].strip())


def split_path(name_or_path: str) -> tuple[list[str], str]:
    """(folder names, file name). "/" and "\\" separate folders, except a " / " or " // "
    between spaces, which is part of a title ("Episode 3 - Despair / Comeback"), and a "/"
    inside brackets ("[Title A/Title B][05]")."""
    if "/" not in name_or_path and "\\" not in name_or_path:
        return [], name_or_path
    spans = _in_brackets(name_or_path) if "[" in name_or_path or "(" in name_or_path \
        or "【" in name_or_path or "（" in name_or_path or "{" in name_or_path else []
    parts = []
    start = 0
    for m in _SEPARATOR.finditer(name_or_path):
        if spans and any(a < m.start() < b for a, b in spans):
            continue
        if _fraction(name_or_path, start, m.start(), m.end()):
            continue
        parts.append(name_or_path[start:m.start()])
        start = m.end()
    parts.append(name_or_path[start:])
    folders = [p for p in parts[:-1]
               if p and p not in (".", "..") and not (len(p) == 2 and p[1] == ":")]
    return folders, parts[-1]


def parse(name_or_path: str) -> ParsedName:
    """Parse a file name, or a path whose folders fill in what the name lacks."""
    folders, file_name = split_path(name_or_path)
    if not folders:
        return parse_name(file_name)
    return _with_context(parse_name(file_name), _folder_context(tuple(folders[-FOLDER_DEPTH:])))


def parse_many(names: Iterable[str]) -> list[ParsedName]:
    """parse() of each name or path, in order: plain names without a Python call each
    (compiled twin), paths through parse()."""
    return parse_names(names, parse)


def parse_file(name: str, parent_dir: str) -> ParsedName:
    """The scanner's call: a file name plus its folder path (each folder parsed once)."""
    context = _dir_context(parent_dir)
    parsed = parse_name(name)
    return parsed if context is None else _with_context(parsed, context)


# Release names leave an extra's type in its title ("Title - NCOP1", "Title - Menu01"),
# as the Anitomy suites expect; the series the extra belongs to is the title without it.
_EXTRA_SUFFIX = re.compile(
    r"[\s_~-]*\b(?:NC(?:OP|ED)|Creditless\s+(?:OP|ED)|OP|ED|Menu|PV|CM|Preview|Trailer)\s*\d*\s*$",
    re.IGNORECASE)


def series_title(parsed: ParsedName) -> str | None:
    """The title of the series a parse belongs to: an extra's type word ("- NCOP") removed."""
    title = parsed.title
    if title and parsed.kind == "extra":
        return _extra_series_title(title)
    return title


@lru_cache(maxsize=4096)
def _extra_series_title(title: str) -> str:
    """An extra's title without its type word (a library has a few per series: cached)."""
    return _EXTRA_SUFFIX.sub("", title) or title


@lru_cache(maxsize=16384)
def _dir_context(parent_dir: str) -> ParsedName | None:
    folders = _plain_folders(parent_dir)
    if folders is None:  # a path split_path splits otherwise than at each "/"
        folders = _split_folders(parent_dir)
    return _folder_context(folders) if folders else None


def _split_folders(parent_dir: str) -> tuple[str, ...]:
    """The last FOLDER_DEPTH folder names of a folder path, as split_path finds them (the spec)."""
    folders, last = split_path(parent_dir)
    if last:
        folders.append(last)
    folders = [f for f in folders if not _skipped_folder(f)]
    return tuple(folders[-FOLDER_DEPTH:])


def _skipped_folder(name: str) -> bool:
    return name in (".", "..") or (len(name) == 2 and name[1] == ":")


_OPENER = re.compile("[\\[({【（]")


@lru_cache(maxsize=4096)
def _plain_folders(path: str) -> tuple[str, ...] | None:
    """_split_folders of a path that split_path splits at each "/" and nowhere else, worked out
    from its parent's (a walk reaches the parent first, so this is a few string checks per
    folder); None for any other path, e.g. one with a "\\", a " / ", a bracket pair across a
    "/" or a "[Group] Title 1/2" fraction."""
    head, sep, last = path.rpartition("/")
    if not sep or not last or "\\" in last or not _brackets_closed(last):
        return None
    above: tuple[str, ...] | None = ()
    if head:
        above = _plain_folders(head)
        if above is None:
            return None
        before = head[-1]
        if before == " " and last[0] == " ":
            return None  # " / ": part of a title
        if before.isdigit() and last[0].isdigit() and head.rpartition("/")[2][:1] in ("[", "【"):
            return None  # maybe a fraction ("[Group] Ranma 1/2 - 03")
    if _skipped_folder(last):
        return above
    return (above + (last,))[-FOLDER_DEPTH:]  # type: ignore[operator]


def _brackets_closed(name: str) -> bool:
    """Whether each top-level bracket pair _in_brackets finds in name opens and closes in it."""
    m = _OPENER.search(name)
    while m is not None:
        j = name.find(_BRACKETS[m.group()], m.start() + 1)
        if j < 0:
            return False
        m = _OPENER.search(name, j + 1)
    return True


@lru_cache(maxsize=8192)
def _parse_folder(folder: str) -> ParsedName:
    return parse_name(folder)


@lru_cache(maxsize=8192)
def _folder_context(folders: tuple[str, ...]) -> ParsedName:
    """What the folders say, nearest folder first; generic names ("Season 2") give no title.
    Worked out from the context of the folders above (shared by sibling folders)."""
    level = _folder_level(folders[-1])
    if len(folders) == 1:
        return level
    above = _folder_context(folders[:-1])
    context = _fill(level, above)
    if not context.kind and above.kind:
        context = context._replace(kind=above.kind)
    return context


@lru_cache(maxsize=8192)
def _folder_level(folder: str) -> ParsedName:
    """What one folder says: the fields folders may fill, and its kind ("" for none)."""
    parsed = _parse_folder(folder)
    key = folder.strip().lower()
    kind = "special" if key in SPECIAL_FOLDERS else "extra" if key in EXTRA_FOLDERS else ""
    if parsed.title and parsed.title.lower() in GENERIC_FOLDERS:
        parsed = parsed._replace(title=None)  # "Specials", "Extras"
    elif folder.isascii() and folder.isdigit() and len(folder) <= 2:
        parsed = ParsedName(season=int(folder))  # "Show/1/01.mkv": numbered season folders
    return _fill(ParsedName(kind=kind), parsed)


# The fields folders may supply (never episode numbers: those are the file's own).
_FILLED = tuple(ParsedName._fields.index(f) for f in (
    "title", "season", "group", "resolution", "year", "source", "video_codec", "audio_codec",
    "language", "subtitles"))
_KIND = ParsedName._fields.index("kind")


def _fill(base: ParsedName, extra: ParsedName) -> ParsedName:
    """base with its empty fields (of _FILLED) taken from extra."""
    values = None
    for i in _FILLED:
        if base[i] is None and extra[i] is not None:
            if values is None:
                values = list(base)
            values[i] = extra[i]
    return base if values is None else ParsedName._make(values)


def _with_context(parsed: ParsedName, context: ParsedName) -> ParsedName:
    filled = _fill(parsed, context)
    kind = parsed.kind
    if context.kind and kind in ("episode", "movie"):
        kind = context.kind  # a file in "Specials/" or "Extras/"
    elif kind == "movie" and parsed.episode is None and context.title and not parsed.extra_type and (
            context.season is not None or not parsed.title):
        # "Show/Season 1/Pilot.mkv": a file in a show's folder is not a movie of its own.
        kind = "episode" if parsed.title else "batch"
    return filled if kind == filled.kind else filled._replace(kind=kind)


class _CallableModule(ModuleType):
    """``anivault.parse`` is this module (``anivault.parse.parse_file``) and, called, the
    function: the package exports ``parse`` while the module keeps its name."""

    def __call__(self, name_or_path: str) -> ParsedName:
        return parse(name_or_path)


sys.modules[__name__].__class__ = _CallableModule
