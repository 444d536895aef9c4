"""One folder of a scan as NDJSON lines (pure-Python twin of _records_c.pyx).

``render_folder(prefix, files, cached, directory=None, index=True)`` does the
per-file work of ``scan --json`` (``files``: a sequence of (name, size, mtime_ns), a list or
the compiled walk's FileList): it classifies each file by extension,
hashes the path of each video and subtitle, reuses the folder's cached index
entries whose size and mtime_ns are unchanged (their NDJSON fields rendered
from the cached ParsedName), and renders the NDJSON line of every file it can. With ``directory`` (the folder's path, whose names give
the parse its context) a video or subtitle with no usable cached entry is
parsed here (``parse.parse_file``): its line, series key and, with
``index``, its new index entry are made here too. What is left is a *miss*,
for the scanner:

- a video or subtitle with no usable cached entry (none, another size or
  mtime_ns, or one that does not decode), when ``directory`` is None;
- any file whose path is not valid UTF-8, or whose extension is not ASCII
  (the scanner flags or lowercases those itself).

It returns ``(segments, misses, order, counts, series)``:

``segments``  len(misses) + 1 byte strings of whole lines; the folder's
              NDJSON is segments[0] + line(miss 0) + segments[1] + ...
``misses``    (position in files, kind, path hash or 0) per miss, in order
``order``     None when the folder's cached entries are still exactly right
              (always None when ``index`` is false); else the folder's new
              blob as a list of byte strings (entries reused or made here,
              consecutive ones joined) and, where a miss's entry goes, the
              index of that miss in ``misses`` (int)
``counts``    (hits, bytes, videos, subtitles, others, parsed here)
``series``    the series keys of the reused and parsed entries (consecutive repeats dropped)

The cached entries are a folder's index blob (see _records_format.py).
"""
from __future__ import annotations

from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, Sequence

from ._hash_py import path_hash
from ._records_format import (NULL_FIELDS, cached_fields, decode_entries, encode_entry, encode_parsed, extension,
                              fields_json, kind_of_ext, series_key)


def _utf8(text: str) -> bytes | None:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def render_folder(prefix: str, files: Sequence[tuple[str, int, int]], cached: bytes | None,
                  directory: str | None = None, index: bool = True) -> tuple[Any, ...]:
    """The NDJSON of one folder's files, and what is left for the scanner (see the module doc)."""
    from ..parse import parse_file  # (parse imports the twins: not at module level)

    try:
        entries = decode_entries(cached) if cached else []
        broken = False
    except ValueError:
        entries, broken = [], True  # every file is parsed again and the blob rewritten
    by_key = {entry[0]: (entry, raw) for entry, raw in entries}
    used = 0
    prefix_ok = _utf8(prefix) is not None
    segments: list[bytes] = []
    out: list[str] = []
    misses: list[tuple[int, str, int]] = []
    order: list[bytes | int] = []
    series: list[int] = []
    hits = nbytes = videos = subtitles = others = parsed_here = 0
    new = False
    for i, (name, size, mtime_ns) in enumerate(files):
        nbytes += size
        ext = extension(name)
        kind = kind_of_ext(ext)
        if kind == "video":
            videos += 1
        elif kind == "subtitle":
            subtitles += 1
        else:
            others += 1
        path = prefix + name
        if not (prefix_ok and ext.isascii() and _utf8(name) is not None):
            _miss(i, kind, 0, segments, out, misses, order)
            continue
        head = f'{{"path":{encode_basestring(path)},"size":{size},"mtime_ns":{mtime_ns},"kind":"{kind}",'
        if kind == "other":
            ext_json = encode_basestring(ext.lower()) if ext else "null"
            out.append(f'{head}{NULL_FIELDS}{ext_json},"warnings":[]}}\n')
            continue
        key = path_hash(path)
        found = by_key.get(key)
        fields = None
        if found is not None and found[0][1] == size and found[0][2] == mtime_ns:
            fields = cached_fields(found[0][4], path)
        if fields is not None:
            (_, _, _, key_of_series, _), raw = found  # type: ignore[misc]
            used += 1
            hits += 1
            order.append(raw)
        elif directory is None:
            _miss(i, kind, key, segments, out, misses, order)
            continue
        else:
            parsed = parse_file(name, directory)
            parsed_here += 1
            new = True
            fields = fields_json(parsed, path)
            key_of_series = (series_key(parsed) if kind == "video" else None) or 0
            order.append(encode_entry(key, size, mtime_ns, key_of_series, encode_parsed(parsed)))
        if key_of_series and (not series or series[-1] != key_of_series):
            series.append(key_of_series)
        out.append(f'{head}{fields},"warnings":[]}}\n')
    segments.append(_encode("".join(out)))
    changed = broken or new or used != len(entries) or any(isinstance(o, int) for o in order)
    blob = _joined(order) if changed and index else None
    return segments, misses, blob, (hits, nbytes, videos, subtitles, others, parsed_here), series


def folder_context(path: str) -> Any:
    """The context a folder's names give the files in it: parse._dir_context (the spec)."""
    from ..parse import _dir_context

    return _dir_context(path)


def _miss(i: int, kind: str, key: int, segments: list[bytes], out: list[str],
          misses: list[tuple[int, str, int]], order: list[bytes | int]) -> None:
    segments.append(_encode("".join(out)))
    out.clear()
    if kind != "other":
        order.append(len(misses))
    misses.append((i, kind, key))


def _joined(order: list[bytes | int]) -> list[bytes | int]:
    """Consecutive entries as one byte string; the misses' places stay ints."""
    out: list[bytes | int] = []
    run: list[bytes] = []
    for o in order:
        if isinstance(o, bytes):
            run.append(o)
            continue
        if run:
            out.append(b"".join(run))
            run.clear()
        out.append(o)
    if run:
        out.append(b"".join(run))
    return out


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
