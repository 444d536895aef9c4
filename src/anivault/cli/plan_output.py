"""How a dry run shows its plan: the tree of destination folders, what stays, or NDJSON entries.

Part of output.py (the only place that formats for a terminal), split off by size: every line
goes through output's escaping writers. Streams from the plan store: memory does not grow
with the plan.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Iterator

from .json_lines import entry_line
from .output import _MATCHING, human_bytes, json_line, resource_rows, table, write_json_lines, write_lines


def render_plan(plan: Any, as_json: bool, fmt: str) -> None:
    """The plan: NDJSON entries, or a tree (default) / table of where each file goes and what stays.

    Streams from the plan store (the tree in folder order from its own query): memory does not
    grow with the plan."""
    from ..organize import TODO

    if as_json:
        write_json_lines(map(entry_line, plan.entries))
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


def render_organize_summary(summary: Any, report: Any, snapshot: dict[str, Any], as_json: bool) -> None:
    """The plan's summary and, after --apply, what was done: one JSON object or a table."""
    if as_json:
        data = summary.to_dict()
        if report is not None:
            data["apply"] = report.to_dict()
        json_line({"summary": {**data, "metrics": snapshot}})
        return
    stays = ", ".join(f"{n:,} {status}" for status, n in summary.statuses.items() if status != "todo") or "none"
    rows = [("planned", f"{summary.todo:,} files to {summary.action} ({human_bytes(summary.bytes)}) "
                        f"into {summary.dest}"),
            ("not organized", stays),
            ("left in place", f"{summary.left_in_place:,} other files"),
            ("matching", _MATCHING.get(summary.matching, "offline (parsed names only)"))]
    if report is None:
        rows.append(("mode", "dry run: nothing was changed (add --apply to execute)"))
    else:
        rows += [("applied", f"{report.done:,} of {report.planned:,} ({human_bytes(report.bytes)})"),
                 ("failed", f"{report.failed_count:,}"), ("operation", report.op or "none (nothing to do)")]
        if report.pruned:
            rows.append(("pruned", f"{report.pruned:,} empty folders"))
        if report.done:
            rows.append(("undo", f"anivault undo {report.op}"))
    table(["organize", ""], rows + resource_rows(snapshot), title="Summary")
