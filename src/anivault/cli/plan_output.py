"""How a dry run shows its plan: the tree of destination folders, what stays, or NDJSON entries.

Part of output.py (the only place that formats for a terminal), split off by size: every line
goes through output's escaping writers. Streams from the plan store: memory does not grow
with the plan.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Iterator

from json.encoder import encode_basestring as _json_str  # type: ignore[attr-defined]

from .output import table, write_json_lines, write_lines


def render_plan(plan: Any, as_json: bool, fmt: str) -> None:
    """The plan: NDJSON entries, or a tree (default) / table of where each file goes and what stays.

    Streams from the plan store (the tree in folder order from its own query): memory does not
    grow with the plan."""
    from ..organize import TODO

    if as_json:
        write_json_lines(map(_entry_json, plan.entries))
    elif fmt == "table":
        table(["status", "source", "destination", "reason"],
              ((e.status, e.src, e.dst, e.reason) for e in plan.entries), title="Plan")
    else:
        write_lines(_tree_lines(plan.entries.tree_rows(TODO)))
        write_lines(_stays_lines(plan.entries.without_status(TODO)))


def _tree_lines(rows: Iterable[tuple[str, str, str]]) -> Iterator[str]:
    """Each destination folder, then the files going into it: ``(src, dst, reason)`` rows come
    folder by folder (PlanEntries.tree_rows)."""
    folder = None
    sep = os.sep
    for src, dst, reason in rows:
        directory, name = _split(dst)
        if directory != folder:
            folder = directory
            yield f"{directory}{sep}"
        yield f"    {name}  <-  {src}  ({reason})" if reason else f"    {name}  <-  {src}"


if os.sep == "/" and not os.altsep:  # what os.path.split does to a plan's clean absolute paths, faster
    def _split(path: str) -> tuple[str, str]:
        cut = path.rfind("/")
        return path[:cut] or "/", path[cut + 1:]
else:
    _split = os.path.split


def _stays_lines(entries: Iterable[Any]) -> Iterator[str]:
    for i, e in enumerate(entries):
        if i == 0:
            yield "not organized:"
        yield f"    [{e.status}] {e.src}" + (f" ({e.reason})" if e.reason else "")


def _entry_json(e: Any) -> str:
    """A PlanEntry as json_text(e.to_dict()) writes it, before the unsafe-character pass, in a
    fraction of the time (one C string encoder call per field; tests/cli compare the two)."""
    return (f'{{"src":{_json_str(e.src)},"dst":{_json_str(e.dst)},"size":{int(e.size)},'
            f'"mtime_ns":{int(e.mtime_ns)},"role":{_json_str(e.role)},"status":{_json_str(e.status)},'
            f'"reason":{_json_str(e.reason)},"fp":{_json_str(e.fp)}}}')
