"""How a dry run shows its plan (output.render_plan): the tree, the stays list and NDJSON stream from
the plan store, print what the in-memory rendering printed, and take memory that does not grow with
the plan."""
from __future__ import annotations

import io
import json
import os
import sys
import tracemalloc
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anivault.cli import output
from anivault.organize import Plan, PlanEntry, PlanOptions
from anivault.organize.entries import CONFLICT, TODO, UNMATCHED

# Folder and file names whose str order and byte order disagree, or that need escaping: a prefix
# and its extension ("a" / "a b"), accents, CJK, an undecodable byte, controls and a bidi override.
NAMES = ["a", "a b", "a-b", "B", "é", "一", "x\udcff", "\x1b[31m", "\u202ecod", "z.mkv", "a.mkv"]


def reference(entries: list[PlanEntry]) -> str:
    """The rendering before it streamed (the whole plan in memory), kept here as the spec."""
    out = io.StringIO()
    by_dir: dict[str, list[PlanEntry]] = {}
    for e in entries:
        if e.status == TODO:
            by_dir.setdefault(os.path.dirname(e.dst), []).append(e)
    for directory in sorted(by_dir):
        output.line(f"{directory}{os.sep}", out)
        for e in sorted(by_dir[directory], key=lambda e: e.dst):
            output.line(f"    {os.path.basename(e.dst)}  <-  {e.src}" + (f"  ({e.reason})" if e.reason else ""), out)
    stays = [e for e in entries if e.status != TODO]
    if stays:
        output.line("not organized:", out)
        for e in stays:
            output.line(f"    [{e.status}] {e.src}" + (f" ({e.reason})" if e.reason else ""), out)
    return out.getvalue()


def rendered(entries: list[PlanEntry], as_json: bool, monkeypatch: pytest.MonkeyPatch) -> str:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    output.render_plan(Plan(PlanOptions(dest="/lib"), entries), as_json, "tree")
    monkeypatch.undo()
    return out.getvalue()


def paths(root: str) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(lambda parts: os.path.join(root, *parts))


entry_lists = st.lists(
    st.builds(lambda src, dst, status, reason: PlanEntry(src, dst if status == TODO else "", 1, 2, "video",
                                                         status, reason),
              paths("/in"), paths("/lib"), st.sampled_from([TODO, TODO, CONFLICT, UNMATCHED]),
              st.sampled_from(["", "why \x1b", "é"])),
    max_size=30, unique_by=lambda e: e.dst or e.src)


@settings(max_examples=150, deadline=None)
@given(entry_lists)
def test_the_tree_prints_what_the_in_memory_rendering_printed(entries: list[PlanEntry]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        assert rendered(entries, False, mp) == reference(entries)


@settings(max_examples=100, deadline=None)
@given(entry_lists)
def test_each_ndjson_line_is_json_text_of_the_entry(entries: list[PlanEntry]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        lines = rendered(entries, True, mp).splitlines()
    assert lines == [output.json_text(e.to_dict()) for e in entries]
    for line, e in zip(lines, entries):
        assert json.loads(line) == e.to_dict()  # strings exact
        assert line.isprintable() and "\x7f" not in line and "\u202e" not in line


def test_unsafe_characters_in_a_block_of_ascii_lines_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [PlanEntry(f"/in/{n}.mkv", f"/lib/{n}.mkv", 1, 2, "video") for n in range(5000)]
    entries.append(PlanEntry("/in/del\x7f\udcff.mkv", "/lib/x\x9b.mkv", 1, 2, "video", reason="\u202e"))
    lines = rendered(entries, True, monkeypatch).splitlines()
    assert lines[-1] == output.json_text(entries[-1].to_dict())
    assert all(code in lines[-1] for code in ("\\u007f", "\\u009b", "\\udcff", "\\u202e"))


def many(n: int) -> Iterator[PlanEntry]:
    for i in range(n):
        show = f"/lib/Show {i % 500:03}/Season {i % 3 + 1:02}"
        if i % 10 == 0:
            yield PlanEntry(f"/in/{i:06} stays.mkv", "", 100, 2, "video", CONFLICT, "the destination holds another file")
        else:
            yield PlanEntry(f"/in/[Grp] Show - {i:06}.mkv", f"{show}/Show - S01E{i:06}.mkv", 100, 2, "video")


def traced_peak(plan: Plan, as_json: bool, fmt: str) -> int:
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        tracemalloc.start()
        try:
            output.render_plan(plan, as_json, fmt)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            sys.stdout = saved


@pytest.mark.parametrize("as_json,fmt", [(False, "tree"), (True, "tree"), (False, "table")])
def test_rendering_memory_does_not_grow_with_the_plan(as_json: bool, fmt: str) -> None:
    small, big = (Plan(PlanOptions(dest="/lib"), many(n)) for n in (5_000, 20_000))
    traced_peak(small, as_json, fmt)  # first use: imports and caches
    peaks: dict[int, Any] = {n: traced_peak(plan, as_json, fmt) for n, plan in ((5_000, small), (20_000, big))}
    assert peaks[20_000] <= 1.5 * peaks[5_000], peaks
