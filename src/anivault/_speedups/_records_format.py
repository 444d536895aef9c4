"""What a scan's records are made of, shared by the render twins and the scanner.

File kinds by extension, the NDJSON fields, and the index entry of a file:
``ENTRY`` (path hash, size, mtime_ns, series key or 0, len(fields),
len(parsed)) followed by the UTF-8 of the rendered NDJSON fields and the
encoded ParsedName (index.encode_parsed). A folder's index blob is its entries concatenated.
"""
from __future__ import annotations

import struct

VIDEO_EXTS = frozenset("mkv mp4 avi m4v webm mov wmv flv ts m2ts ogm".split())
SUBTITLE_EXTS = frozenset("ass ssa srt sup vtt idx sub".split())
KIND_BY_EXT = {**{e: "video" for e in VIDEO_EXTS}, **{e: "subtitle" for e in SUBTITLE_EXTS}}
# The NDJSON object has these parsed fields, null for files that are not parsed.
JSON_FIELDS = ("title", "season", "episode", "episode_end", "version", "group", "resolution",
               "year", "crc32", "ext")
ENTRY = struct.Struct("<QqqqII")
# The NDJSON fields of a file that is not parsed, up to its extension's value.
NULL_FIELDS = "".join(f'"{name}":null,' for name in JSON_FIELDS[:-1]) + '"ext":'

Entry = tuple[int, int, int, int, bytes, bytes]  # path hash, size, mtime_ns, series, fields, parsed


def extension(name: str) -> str:
    """A file name's extension as written (after the last dot, with a stem before it), or ""."""
    stem, dot, ext = name.rpartition(".")
    return ext if dot and stem else ""


def kind_of_ext(ext: str) -> str:
    """"video", "subtitle" or "other" for an extension (compared in lower case; not ASCII: other)."""
    return KIND_BY_EXT.get(ext.lower(), "other") if ext.isascii() else "other"


def encode_entry(key: int, size: int, mtime_ns: int, series: int | None, fields: str, parsed: bytes) -> bytes:
    """One file's index entry: ``fields`` is the NDJSON fields' text, ``parsed`` the encoded
    ParsedName (opaque here)."""
    f = fields.encode("utf-8", "surrogatepass")
    return ENTRY.pack(key, size, mtime_ns, series or 0, len(f), len(parsed)) + f + parsed


def decode_entries(blob: bytes) -> list[tuple[Entry, bytes]]:
    """Every (entry, its raw bytes) of a folder blob; raises ValueError when it is malformed."""
    out: list[tuple[Entry, bytes]] = []
    pos, end, head = 0, len(blob), ENTRY.size
    while pos < end:
        if end - pos < head:
            raise ValueError("truncated index entry")
        key, size, mtime_ns, series, nf, np_ = ENTRY.unpack_from(blob, pos)
        stop = pos + head + nf + np_
        if stop > end:
            raise ValueError("truncated index entry")
        fields = blob[pos + head:pos + head + nf]
        out.append(((key, size, mtime_ns, series, fields, blob[pos + head + nf:stop]), blob[pos:stop]))
        pos = stop
    return out
