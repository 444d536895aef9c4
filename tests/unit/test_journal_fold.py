"""Folding a journal into its store keeps the rule "the latest record about an entry is the last word"."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from anivault.opstate import load

_DO = {"a": "move", "src": "/a", "dst": "/b", "size": 1, "mtime_ns": 2, "fp": "f"}
record = st.tuples(st.sampled_from(["do", "ok", "fail", "undone", "kept"]), st.integers(0, 5), st.booleans())


def reference(records: list[tuple[str, int, bool]]) -> dict[int, tuple]:
    """The fold, spelled out with dicts: (outcome, detail, undo, why) per entry."""
    state: dict[int, list] = {}
    for n, (kind, i, hashed) in enumerate(records):
        row = state.setdefault(i, [None, None, None, None])
        if kind == "do":
            row[:2] = ["intent", None]
        elif kind == "ok":
            row[:2] = ["ok", f"h{n}" if hashed else None]
        elif kind == "fail":
            row[:2] = ["failed", f"e{n}"]
        elif kind == "undone":
            row[2:] = ["undone", None]
        else:
            row[2:] = ["kept", f"w{n}"]
    return {i: tuple(row) for i, row in state.items()}


def line(kind: str, i: int, hashed: bool, n: int) -> str:
    if kind == "do":
        return json.dumps({"t": "do", "i": i, **_DO, "n": n}, separators=(",", ":"))  # as AniVault writes it
    extra = {"ok": {"hash": f"h{n}"} if hashed else {}, "fail": {"error": f"e{n}"}, "undone": {},
             "kept": {"why": f"w{n}"}}[kind]
    return json.dumps({"t": kind, "i": i, **extra}, separators=(",", ":"))


@settings(max_examples=200, deadline=None)
@given(st.lists(record, max_size=60), st.integers(1, 8))
def test_the_store_agrees_with_a_plain_fold(tmp_path_factory, records, window) -> None:
    import anivault.opstate as opstate

    path = tmp_path_factory.mktemp("fold") / "op.jsonl"
    path.write_text("".join(line(kind, i, hashed, n) + "\n" for n, (kind, i, hashed) in enumerate(records)))
    real = opstate.FOLD_BATCH
    opstate.FOLD_BATCH = window  # many small windows: intents merged with outcomes across their edges
    try:
        with load(str(path)) as state:
            folded = {i: tuple(state.entry(i)) for i in range(6) if state.entry(i) is not None}
            last_intents = {i: intent["n"] for i, intent in state.unsettled()}
    finally:
        opstate.FOLD_BATCH = real
    assert folded == reference(records)
    expected = {i: n for n, (kind, i, _) in enumerate(records) if kind == "do"}
    assert last_intents == {i: n for i, n in expected.items() if folded[i][0] == "intent"}
