"""What a scan's records are made of, shared by the render twins and the scanner.

File kinds by extension, the NDJSON fields, and the index entry of a file:
``ENTRY`` (path hash, size, mtime_ns, series key or 0, len(parsed)) followed by
the encoded ParsedName (``encode_parsed``); a re-scan renders the NDJSON fields
from it (``cached_fields``). A folder's index blob is its entries concatenated.

A file the index does not know is parsed (``parse.parse_file``) and becomes its
NDJSON fields (``fields_json``), its series key (``series_key``) and its entry;
the render twins do that per file, the scanner only for names that are not
valid UTF-8.
"""
from __future__ import annotations

import marshal
import operator
import os
import struct
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, Callable

VIDEO_EXTS = frozenset("mkv mp4 avi m4v webm mov wmv flv ts m2ts ogm".split())
SUBTITLE_EXTS = frozenset("ass ssa srt sup vtt idx sub".split())
KIND_BY_EXT = {**{e: "video" for e in VIDEO_EXTS}, **{e: "subtitle" for e in SUBTITLE_EXTS}}
# The NDJSON object has these parsed fields, null for files that are not parsed.
JSON_FIELDS = ("title", "season", "episode", "episode_end", "version", "group", "resolution",
               "year", "crc32", "ext")
ENTRY = struct.Struct("<QqqqI")
# The NDJSON fields of a file that is not parsed, up to its extension's value.
NULL_FIELDS = "".join(f'"{name}":null,' for name in JSON_FIELDS[:-1]) + '"ext":'

Entry = tuple[int, int, int, int, bytes]  # path hash, size, mtime_ns, series, encoded ParsedName


_SEP = os.sep


def extension(name: str) -> str:
    """A file name's extension as written (after the last dot, with a stem before it), or ""."""
    stem, dot, ext = name.rpartition(".")
    return ext if dot and stem else ""


def kind_of_ext(ext: str) -> str:
    """"video", "subtitle" or "other" for an extension (compared in lower case; not ASCII: other)."""
    return KIND_BY_EXT.get(ext.lower(), "other") if ext.isascii() else "other"


def encode_entry(key: int, size: int, mtime_ns: int, series: int | None, parsed: bytes) -> bytes:
    """One file's index entry; ``parsed`` is the encoded ParsedName (opaque here)."""
    return ENTRY.pack(key, size, mtime_ns, series or 0, len(parsed)) + parsed


def decode_entries(blob: bytes) -> list[tuple[Entry, bytes]]:
    """Every (entry, its raw bytes) of a folder blob; raises ValueError when it is malformed."""
    out: list[tuple[Entry, bytes]] = []
    pos, end, head = 0, len(blob), ENTRY.size
    while pos < end:
        if end - pos < head:
            raise ValueError("truncated index entry")
        key, size, mtime_ns, series, n = ENTRY.unpack_from(blob, pos)
        stop = pos + head + n
        if stop > end:
            raise ValueError("truncated index entry")
        out.append(((key, size, mtime_ns, series, blob[pos + head:stop]), blob[pos:stop]))
        pos = stop
    return out


def entries_by_key(blob: bytes) -> dict[int, tuple[Entry, bytes]]:
    """decode_entries by path hash: ``{key: (entry, raw bytes)}``; raises ValueError when malformed."""
    out: dict[int, tuple[Entry, bytes]] = {}
    pos, end, head, unpack = 0, len(blob), ENTRY.size, ENTRY.unpack_from
    while pos < end:
        if end - pos < head:
            raise ValueError("truncated index entry")
        key, size, mtime_ns, series, n = unpack(blob, pos)
        stop = pos + head + n
        if stop > end:
            raise ValueError("truncated index entry")
        out[key] = ((key, size, mtime_ns, series, blob[pos + head:stop]), blob[pos:stop])
        pos = stop
    return out


_get_fields = operator.attrgetter(*JSON_FIELDS)


def fields_json(parsed: Any, path: str, enc: Callable[[str], str] = encode_basestring) -> str:
    """The parsed fields of a file's NDJSON object, rendered once: ``"title":…,…,"ext":…``.
    ``parsed`` is a ParsedName or None (then every field is null but the path's extension)."""
    if parsed is None:
        ext = extension(path.rpartition(_SEP)[2]).lower()
        return NULL_FIELDS + (enc(ext) if ext else "null")
    title, season, episode, episode_end, version, group, resolution, year, crc32, ext = _get_fields(parsed)
    if ext is None:
        ext = extension(path.rpartition(_SEP)[2]).lower() or None
    null = "null"
    return (f'"title":{null if title is None else enc(title)},'
            f'"season":{null if season is None else season},'
            f'"episode":{null if episode is None else episode},'
            f'"episode_end":{null if episode_end is None else episode_end},'
            f'"version":{null if version is None else version},'
            f'"group":{null if group is None else enc(group)},'
            f'"resolution":{null if resolution is None else enc(resolution)},'
            f'"year":{null if year is None else year},'
            f'"crc32":{null if crc32 is None else enc(crc32)},'
            f'"ext":{null if ext is None else enc(ext)}')


MARSHAL_VERSION = 2


def encode_parsed(parsed: Any) -> bytes:
    """A ParsedName as stored in an index entry: marshal version 2, an exact form of a tuple of
    str, int, float and None that, unlike later versions, writes no back-references, so its bytes
    depend on the values alone (the compiled render twin writes the same bytes)."""
    return marshal.dumps(tuple(parsed), MARSHAL_VERSION)


def decode_parsed(data: bytes) -> Any:
    """The ParsedName of an entry; raises ValueError (or EOFError, TypeError) when ``data`` is not
    an encoded ParsedName."""
    from ..models import ParsedName

    values = marshal.loads(data)
    if type(values) is not tuple or len(values) != len(ParsedName._fields):
        raise ValueError("not an encoded ParsedName")
    return ParsedName._make(values)


def cached_fields(data: bytes, path: str) -> str | None:
    """``fields_json`` of an entry's encoded ParsedName, None when it is unusable (then the file
    is parsed again)."""
    try:
        return fields_json(decode_parsed(data), path)
    except (ValueError, TypeError, EOFError, IndexError, AttributeError):
        return None


def series_key(parsed: Any) -> int | None:
    """Series are counted by series title (case-folded) and season; kept as a signed 64-bit hash,
    not text, so the set of series seen stays small on big libraries."""
    from ..parse import series_title  # (parse imports the twins: not at module level)
    from . import path_hash  # the selected twin

    title = series_title(parsed)
    if not title:
        return None
    season = "" if parsed.season is None else parsed.season
    h = path_hash(f"{title.casefold()}\x1f{season}")
    return h - (1 << 64) if h >= 1 << 63 else h
