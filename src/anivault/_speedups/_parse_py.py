"""TEMPORARY first parser; the parser issue (#3) replaces this file."""
from __future__ import annotations

import re

from ..models import ParsedName

_FANSUB = re.compile(r"^\[(?P<group>[^\]]+)\]\s*(?P<title>.+?)\s+-\s+(?P<ep>\d{1,4})(?:v(?P<v>\d))?\b")
_SCENE = re.compile(r"^(?P<title>.+?)[. _]S(?P<s>\d{1,2})E(?P<ep>\d{1,4})", re.I)
_RES = re.compile(r"\b(\d{3,4})p\b", re.I)
_CRC = re.compile(r"\[([0-9A-Fa-f]{8})\]")


def parse_name(name: str) -> ParsedName:
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 5 or " " in ext:
        stem, ext = name, ""
    res = _RES.search(stem)
    crc = _CRC.search(stem)
    common = dict(ext=ext.lower() or None, resolution=res and res.group(1) + "p",
                  crc32=crc and crc.group(1).upper())
    m = _FANSUB.match(stem)
    if m:
        return ParsedName(title=m["title"], episode=int(m["ep"]), group=m["group"],
                          version=m["v"] and int(m["v"]), **common)
    m = _SCENE.match(stem)
    if m:
        group = stem.rpartition("-")[2] if "-" in stem else None
        return ParsedName(title=m["title"].replace(".", " "), season=int(m["s"]),
                          episode=int(m["ep"]), group=group, **common)
    return ParsedName(title=stem.strip() or None, **common)
