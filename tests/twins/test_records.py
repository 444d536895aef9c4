"""The render twins: one folder's NDJSON lines from the listing and the folder's cached entries."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anivault._speedups import twin
from anivault._speedups._records_format import JSON_FIELDS, decode_entries, encode_entry

from conftest import PURE_RUN
PREFIX = "/lib/Show/"


@pytest.fixture
def records(backend: str):
    return twin("records", backend)


def entry(name: str, size: int, mtime_ns: int, series: int = 0, title: str = "Show") -> bytes:
    key = twin("hash", "py").path_hash(PREFIX + name)
    return encode_entry(key, size, mtime_ns, series, f'"title":"{title}","ext":"mkv"', b"P")


def lines(segments: list[bytes]) -> list[dict]:
    return [json.loads(line) for line in b"".join(segments).decode().splitlines()]


def test_cached_files_are_rendered_and_new_ones_left_as_misses(records) -> None:
    files = [("a.mkv", 10, 1), ("b.mkv", 20, 2), ("cover.JPG", 3, 3)]
    segments, misses, order, counts, series = records.render_folder(PREFIX, files, entry("a.mkv", 10, 1, 7))
    assert [m[:2] for m in misses] == [(1, "video")] and misses[0][2] == twin("hash", "py").path_hash(
        PREFIX + "b.mkv")
    assert len(segments) == 2
    first, cover = lines(segments)
    assert first == {"path": PREFIX + "a.mkv", "size": 10, "mtime_ns": 1, "kind": "video",
                     "title": "Show", "ext": "mkv", "warnings": []}
    assert cover["kind"] == "other" and cover["ext"] == "jpg" and \
        [cover[f] for f in JSON_FIELDS[:-1]] == [None] * (len(JSON_FIELDS) - 1)
    assert order == [entry("a.mkv", 10, 1, 7), 0]  # the folder's entries change: b.mkv is new
    assert counts == (1, 33, 2, 0, 1) and series == [7]


def test_an_unchanged_folder_needs_no_new_entries(records) -> None:
    blob = entry("a.mkv", 10, 1, 7) + entry("b.mkv", 20, 2, 7)
    segments, misses, order, counts, series = records.render_folder(
        PREFIX, [("a.mkv", 10, 1), ("b.mkv", 20, 2)], blob)
    assert misses == [] and order is None and counts[0] == 2 and series == [7]


@pytest.mark.parametrize("change", ["size", "mtime", "gone"])
def test_a_changed_or_deleted_file_changes_the_entries(records, change: str) -> None:
    blob = entry("a.mkv", 10, 1) + entry("b.mkv", 20, 2)
    files = {"size": [("a.mkv", 11, 1), ("b.mkv", 20, 2)], "mtime": [("a.mkv", 10, 9), ("b.mkv", 20, 2)],
             "gone": [("b.mkv", 20, 2)]}[change]
    _, misses, order, counts, _ = records.render_folder(PREFIX, files, blob)
    assert order is not None
    if change == "gone":
        assert misses == [] and order == [entry("b.mkv", 20, 2)]
    else:
        assert [m[0] for m in misses] == [0] and order == [0, entry("b.mkv", 20, 2)]


@pytest.mark.parametrize("name, kind", [("bad\udcff.mkv", "video"), ("x.ÄVI", "other")])
def test_names_the_scanner_must_handle_are_misses(records, name: str, kind: str) -> None:
    """A name that is not UTF-8 (flagged by the scanner), an extension it must lowercase."""
    _, misses, _, counts, _ = records.render_folder(PREFIX, [(name, 1, 1)], None)
    assert misses == [(0, kind, 0)]
    assert counts[2 if kind == "video" else 4] == 1


def test_a_folder_that_is_not_utf8_leaves_every_file(records) -> None:
    _, misses, _, _, _ = records.render_folder("/lib/\udcfe/", [("a.mkv", 1, 1), ("b.txt", 1, 1)], None)
    assert [m[:2] for m in misses] == [(0, "video"), (1, "other")]


def test_a_malformed_blob_is_ignored_and_rewritten(records) -> None:
    blob = entry("a.mkv", 10, 1)
    _, misses, order, _, _ = records.render_folder(PREFIX, [("a.mkv", 10, 1)], blob[:-1])
    assert [m[0] for m in misses] == [0] and order == [0]
    _, misses, order, _, _ = records.render_folder(PREFIX, [("z.txt", 1, 1)], b"\x00" * 5)
    assert misses == [] and order == []  # nothing to keep, but the blob must go


def test_json_escapes_match_the_json_module(records) -> None:
    name = 'q"\\\n\t\x01\x7f é 漢.Srt'
    segments, misses, *_ = records.render_folder(PREFIX, [(name, 1, -5)], None)
    assert misses[0][1] == "subtitle"
    segments, misses, *_ = records.render_folder(PREFIX, [(name[:-4] + ".TXT", 1, -5)], None)
    text = b"".join(segments).decode()
    assert json.loads(text)["path"] == PREFIX + name[:-4] + ".TXT"
    assert text.startswith('{"path":' + json.dumps(PREFIX + name[:-4] + ".TXT", ensure_ascii=False))


def test_decode_entries_round_trips() -> None:
    blob = entry("a.mkv", 10, 1, -3) + entry("b.mkv", 20, 2)
    decoded = decode_entries(blob)
    assert [e[:4] for e, _ in decoded][0][1:] == (10, 1, -3)
    assert b"".join(raw for _, raw in decoded) == blob
    with pytest.raises(ValueError):
        decode_entries(blob[:-1])


NAME = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"),
               min_size=1, max_size=12) | st.sampled_from(["bad\udcff.mkv", "a.b.MKV", ".mkv", "x.", "e.Ass"])
EXT = st.sampled_from(["mkv", "MP4", "ass", "srt", "jpg", "nfo", "", "tXt", "m2ts", "ÄB", "toolongext"])


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run compares both")
@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.tuples(NAME, EXT), max_size=12, unique=True),
       sizes=st.lists(st.integers(0, 2**50), min_size=12, max_size=12),
       mtimes=st.lists(st.integers(-2**62, 2**62), min_size=12, max_size=12),
       cached=st.lists(st.tuples(st.integers(0, 11), st.booleans(), st.integers(-2**62, 2**62)), max_size=12),
       garbage=st.binary(max_size=50), broken=st.booleans(),
       prefix=st.sampled_from([PREFIX, "/lib/\udcfe/", "C:\\x\\", "/"]))
def test_compiled_and_pure_twins_agree(names, sizes, mtimes, cached, garbage, broken, prefix) -> None:
    files = sorted({(f"{n}.{e}" if e else n, sizes[i], mtimes[i]) for i, (n, e) in enumerate(names)})
    blob = b""
    for i, same, series in cached:
        if i < len(files):
            name, size, mtime_ns = files[i]
            key = twin("hash", "py").path_hash(prefix + name)
            blob += encode_entry(key, size if same else size + 1, mtime_ns, series, f'"t":"{name}"', b"")
    blob = blob + garbage if broken else blob
    c = twin("records", "c").render_folder(prefix, files, blob or None)
    py = twin("records", "py").render_folder(prefix, files, blob or None)
    assert c == py
