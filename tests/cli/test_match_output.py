"""`match --json`'s lines (output.match_window_writer): the bytes json_text wrote per file, a window
at a time, every unsafe character escaped."""
from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from anivault.cli import output
from anivault.match import Match
from anivault.models import ParsedName
from anivault.scan import ScanRecord

TEXT = st.text(alphabet=st.sampled_from(list("ab é一/ \x1b\x7f\x85\u202e\udcff\u2028\"\\\n")), max_size=12)
NUMBER = st.none() | st.integers(-3, 3000) | st.floats(allow_nan=True, allow_infinity=True)


def reference(rec: ScanRecord, m: Match | None, why: str | None) -> str:
    """What the writer wrote before: json_text of the line's dict (output._tmdb_dict for the match)."""
    p = rec.parsed
    return output.json_text({"path": rec.path, "kind": rec.kind, "title": p.title if p else None,
                             "season": p.season if p else None, "episode": p.episode if p else None,
                             "tmdb": output._tmdb_dict(m), "reason": why})


records = st.builds(lambda path, kind, parsed: ScanRecord(path, 1, 2, kind, parsed),
                    TEXT, st.sampled_from(["video", "subtitle", "other"]),
                    st.none() | st.builds(lambda t, s, e: ParsedName(title=t, season=s, episode=e),
                                          st.none() | TEXT, st.none() | st.integers(0, 99), NUMBER))
matches = st.none() | st.builds(Match, st.integers(1, 10**6), st.sampled_from(["tv", "movie"]), TEXT, TEXT,
                                st.none() | st.integers(1900, 2100), st.none() | st.integers(0, 30),
                                st.none() | st.integers(0, 3000), st.floats(0, 1),
                                st.none() | TEXT, st.none() | st.integers(1, 3000), st.none() | TEXT,
                                st.sampled_from(["tmdb", "absolute", "group:x"]), st.none() | TEXT)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(records, matches, st.none() | TEXT), max_size=6))
def test_each_line_is_json_text_of_the_file(files: list[tuple[ScanRecord, Match | None, str | None]]) -> None:
    out = io.StringIO()
    output.match_window_writer(out)(files)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    assert lines[:-1] == [reference(*f) for f in files]
    assert all(json.loads(line) is not None for line in lines[:-1])
    assert not output.UNSAFE.search(out.getvalue().replace("\n", ""))


def test_a_window_is_one_write() -> None:
    writes: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            writes.append(text)

    rec = ScanRecord("/a/b.mkv", 1, 2, "video", ParsedName(title="b", episode=1))
    output.match_window_writer(Out())([(rec, None, "why")] * 3)  # type: ignore[arg-type]
    assert len(writes) == 1 and writes[0].count("\n") == 3
