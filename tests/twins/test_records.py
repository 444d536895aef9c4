"""The render twins: one folder's NDJSON lines from the listing and the folder's cached entries."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anivault._speedups import twin
from anivault._speedups._records_format import (JSON_FIELDS, decode_entries, decode_parsed, encode_entry,
                                                encode_parsed, fields_json, series_key)
from anivault.models import ParsedName
from anivault.parse import parse_file

from conftest import PURE_RUN
PREFIX = "/lib/Show/"


@pytest.fixture
def records(backend: str):
    return twin("records", backend)


def entry(name: str, size: int, mtime_ns: int, series: int = 0, title: str = "Show") -> bytes:
    key = twin("hash", "py").path_hash(PREFIX + name)
    return encode_entry(key, size, mtime_ns, series, encode_parsed(ParsedName(title=title, episode=3, ext="mkv")))


def lines(segments: list[bytes]) -> list[dict]:
    return [json.loads(line) for line in b"".join(segments).decode().splitlines()]


def test_cached_files_are_rendered_and_new_ones_left_as_misses(records) -> None:
    files = [("a.mkv", 10, 1), ("b.mkv", 20, 2), ("cover.JPG", 3, 3)]
    segments, misses, order, counts, series = records.render_folder(PREFIX, files, entry("a.mkv", 10, 1, 7))
    assert [m[:2] for m in misses] == [(1, "video")] and misses[0][2] == twin("hash", "py").path_hash(
        PREFIX + "b.mkv")
    assert len(segments) == 2
    first, cover = lines(segments)
    assert first == {"path": PREFIX + "a.mkv", "size": 10, "mtime_ns": 1, "kind": "video", **dict.fromkeys(
        JSON_FIELDS), "title": "Show", "episode": 3, "ext": "mkv", "warnings": []}
    assert cover["kind"] == "other" and cover["ext"] == "jpg" and \
        [cover[f] for f in JSON_FIELDS[:-1]] == [None] * (len(JSON_FIELDS) - 1)
    assert order == [entry("a.mkv", 10, 1, 7), 0]  # the folder's entries change: b.mkv is new
    assert counts == (1, 33, 2, 0, 1, 0) and series == [7]


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


def test_cached_entries_render_as_a_fresh_parse_would(records) -> None:
    """A re-scan renders the fields from the cached ParsedName: the same line as the first scan."""
    files = [("Show - 01 [ABCDEF01].mkv", 10, 1), ("Show - 01.en.ass", 2, 2), ("Ça - 12.5 \x01.mkv", 3, 3)]
    first, _, blob, _, series = records.render_folder(SHOW + "/", files, None, SHOW)
    again, misses, order, counts, series_again = records.render_folder(SHOW + "/", files, b"".join(blob), SHOW)
    assert again == first and misses == [] and order is None and counts[0] == 3 and series_again == series


def test_decode_entries_round_trips() -> None:
    blob = entry("a.mkv", 10, 1, -3) + entry("b.mkv", 20, 2)
    decoded = decode_entries(blob)
    assert [e[:4] for e, _ in decoded][0][1:] == (10, 1, -3) and decode_parsed(decoded[0][0][4]).title == "Show"
    assert b"".join(raw for _, raw in decoded) == blob
    with pytest.raises(ValueError):
        decode_entries(blob[:-1])


NAME = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"),
               min_size=1, max_size=12) | st.sampled_from(["bad\udcff.mkv", "a.b.MKV", ".mkv", "x.", "e.Ass"])
EXT = st.sampled_from(["mkv", "MP4", "ass", "srt", "jpg", "nfo", "", "tXt", "m2ts", "ÄB", "toolongext"])


TEXT = st.none() | st.text(max_size=8) | st.sampled_from(["Show", 'q"\\\n\x01 é', "\ud800x"])
NUMBER = st.none() | st.integers(-2**31, 2**31 - 1) | st.integers(2**31, 2**70) | st.sampled_from([12.5, 7.0])
# A cached ParsedName: as the twins write it, as marshal writes odd values, broken or of the wrong shape.
PARSED = (st.builds(lambda t, s, e, g, x, other: encode_parsed(ParsedName(title=t, season=s, episode=e, group=g,
                                                                          ext=x, other=other)),
                    TEXT, NUMBER, NUMBER, TEXT, st.sampled_from([None, "mkv", "Ass"]),
                    st.lists(st.text(max_size=4), max_size=2).map(tuple))
          | st.builds(lambda v: __import__("marshal").dumps(v, 2),
                      st.tuples(st.integers(), TEXT) | st.just(tuple(range(len(ParsedName._fields)))))
          | st.binary(max_size=40)
          | st.builds(lambda p, cut: p[:cut], st.just(encode_parsed(ParsedName(title="Show", group="G"))),
                      st.integers(0, 60)))


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run compares both")
@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.tuples(NAME, EXT), max_size=12, unique=True),
       sizes=st.lists(st.integers(0, 2**50), min_size=12, max_size=12),
       mtimes=st.lists(st.integers(-2**62, 2**62), min_size=12, max_size=12),
       cached=st.lists(st.tuples(st.integers(0, 11), st.booleans(), st.integers(-2**62, 2**62), st.data()),
                       max_size=12),
       garbage=st.binary(max_size=50), broken=st.booleans(),
       prefix=st.sampled_from([PREFIX, "/lib/\udcfe/", "C:\\x\\", "/"]))
def test_compiled_and_pure_twins_agree(names, sizes, mtimes, cached, garbage, broken, prefix) -> None:
    files = sorted({(f"{n}.{e}" if e else n, sizes[i], mtimes[i]) for i, (n, e) in enumerate(names)})
    blob = b""
    for i, same, series, data in cached:
        if i < len(files):
            name, size, mtime_ns = files[i]
            key = twin("hash", "py").path_hash(prefix + name)
            blob += encode_entry(key, size if same else size + 1, mtime_ns, series, data.draw(PARSED))
    blob = blob + garbage if broken else blob
    c = twin("records", "c").render_folder(prefix, files, blob or None)
    py = twin("records", "py").render_folder(prefix, files, blob or None)
    assert c == py


# ---------------------------------------------------------------- files the index does not know

SHOW = "/lib/[Grp] Show (2020) [1080p]"


def test_new_files_are_parsed_rendered_and_indexed_by_the_twin(records) -> None:
    """What the scanner did per file in Python: parse_file, the fields, the series key, the entry."""
    files = [("Show - 01 [ABCDEF01].mkv", 10, 1), ("Show - 01.en.ass", 2, 2), ("cover.jpg", 3, 3)]
    segments, misses, order, counts, series = records.render_folder(SHOW + "/", files, None, SHOW)
    assert misses == [] and counts == (0, 15, 1, 1, 1, 2)
    video, subtitle, _ = lines(segments)
    parsed = parse_file(files[0][0], SHOW)
    assert parsed.group == "Grp" and parsed.year == 2020  # filled from the folder
    for line, (name, _, _) in ((video, files[0]), (subtitle, files[1])):
        assert line == json.loads('{"path":' + json.dumps(SHOW + "/" + name) + ',"size":1,"mtime_ns":1,"kind":"x",'
                                  + fields_json(parse_file(name, SHOW), SHOW + "/" + name) + "}") | {
            "size": line["size"], "mtime_ns": line["mtime_ns"], "kind": line["kind"], "warnings": []}
    assert series == [series_key(parsed)] and series[0]
    (entry_video, raw), (entry_subtitle, _) = decode_entries(b"".join(order))
    assert len(order) == 1 and entry_video[:4] == (twin("hash", "py").path_hash(SHOW + "/" + files[0][0]), 10, 1,
                                                    series[0])
    assert decode_parsed(entry_video[4]) == parsed and entry_video[4] == encode_parsed(parsed)
    assert entry_subtitle[3] == 0  # subtitles name no series


def test_without_the_index_no_entries_are_made(records) -> None:
    segments, misses, order, counts, _ = records.render_folder(SHOW + "/", [("Show - 02.mkv", 1, 1)], None, SHOW,
                                                               False)
    assert misses == [] and order is None and counts[5] == 1 and lines(segments)[0]["episode"] == 2


def test_a_miss_keeps_its_place_among_new_entries(records) -> None:
    files = [("Show - 01.mkv", 1, 1), ("Show - 02\udcff.mkv", 1, 1), ("Show - 03.mkv", 1, 1)]
    segments, misses, order, counts, _ = records.render_folder(SHOW + "/", files, None, SHOW)
    assert [m[:2] for m in misses] == [(1, "video")] and len(segments) == 2 and counts[5] == 2
    assert [type(o) for o in order] == [bytes, int, bytes] and order[1] == 0


def test_the_folders_fill_and_change_the_kind(records) -> None:
    """parse._with_context: a file in "Specials/" is a special; in a show's season folder, an episode."""
    for directory, name in (("/lib/Show/Specials", "Show - 01.mkv"), ("/lib/Show/Season 2", "Pilot.mkv"),
                            ("/lib/Show/Extras", "NCOP1.mkv"), ("/lib/Show/1", "x.mkv")):
        segments, _, order, _, series = records.render_folder(directory + "/", [(name, 1, 1)], None, directory)
        parsed = parse_file(name, directory)
        (entry, _), = decode_entries(b"".join(order))
        assert decode_parsed(entry[4]) == parsed, directory
        assert series == ([series_key(parsed)] if series_key(parsed) else [])


@pytest.mark.parametrize("name", ["Show - 12.5.mkv", "Show - 07.5 (2160p).mkv", "Show - S01E99999999999.mkv"])
def test_unusual_values_are_written_as_marshal_writes_them(records, name: str) -> None:
    _, _, order, _, _ = records.render_folder(SHOW + "/", [(name, 1, 1)], None, SHOW)
    (entry, _), = decode_entries(b"".join(order))
    assert entry[4] == encode_parsed(parse_file(name, SHOW))


RELEASE = st.builds(
    lambda group, title, ep, tags, ext: f"{group}{title}{ep}{tags}.{ext}",
    st.sampled_from(["", "[SubsPlease] ", "[Grp] ", "(Raws) "]),
    st.sampled_from(["Show", "Attack on Titan", "Show S2", "Ça va", "進撃の巨人", "Show - NCOP1", "Movie (2019)",
                     "Title Menu01", "", "x"]),
    st.sampled_from(["", " - 01", " - 12.5", " 03v2", " - 01-12", " S02E05", " OVA", " - 00", " E99999999999"]),
    st.sampled_from(["", " (1080p)", " [BD 1080p HEVC FLAC]", " [ABCDEF01]", " [Batch]", " (Dual Audio)"]),
    st.sampled_from(["mkv", "MP4", "ass", "en.srt", "jpg"]))
FOLDER = st.sampled_from(["/lib", "/lib/Show", "/lib/Show/Season 2", "/lib/Show/Specials", "/lib/Show/Extras",
                          "/lib/[Grp] Show (2020) [1080p]", "/lib/Show/1", "/lib/Ça va/Season 1", "/lib/\udcfe",
                          "C:\\Anime\\Show"])


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run compares both")
@settings(max_examples=300, deadline=None)
@given(names=st.lists(RELEASE | NAME, max_size=10, unique=True), folder=FOLDER, index=st.booleans(),
       cached=st.lists(st.tuples(st.integers(0, 9), st.booleans(), st.integers(-2**62, 2**62), PARSED),
                       max_size=10))
def test_compiled_and_pure_twins_agree_on_files_they_parse(names, folder, index, cached) -> None:
    prefix = folder + ("\\" if folder.startswith("C:") else "/")
    files = sorted({(n, 7 * i, i) for i, n in enumerate(names)})
    blob = b""
    for i, same, series, parsed in cached:
        if i < len(files):
            name, size, mtime_ns = files[i]
            key = twin("hash", "py").path_hash(prefix + name)
            blob += encode_entry(key, size if same else size + 1, mtime_ns, series, parsed)
    c = twin("records", "c").render_folder(prefix, files, blob or None, folder, index)
    py = twin("records", "py").render_folder(prefix, files, blob or None, folder, index)
    assert c == py


# Folder paths made of what split_path treats specially: both separators, spaces, bracket pairs,
# digits (fractions, numbered seasons), ".", drive letters, generic and kind-giving folder names.
PATH_PIECES = st.sampled_from(["[", "]", "(", ")", "{", "}", "【", "】", "（", "）", " ", "/", "//", "\\", ".",
                               "..", ":", "C:", "1", "2", "05", "Season 2", "S1", "Specials", "Extras", "NCOP",
                               "[Group] ", "Show", " - ", "Title 1/2 ", "1080p", "BD", "x", "ä", "第2季", "\udcfe"])


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run compares both")
@settings(max_examples=500, deadline=None)
@given(st.lists(PATH_PIECES, max_size=14).map("".join), st.booleans())
def test_compiled_and_pure_twins_agree_on_folder_context(path: str, absolute: bool) -> None:
    path = "/" + path if absolute else path
    assert twin("records", "c").folder_context(path) == twin("records", "py").folder_context(path)
    parent = path.rpartition("/")[0]  # (the walk reaches the parent first: its context is reused)
    assert twin("records", "c").folder_context(parent) == twin("records", "py").folder_context(parent)


def test_a_folder_context_fills_from_the_nearest_folder_first(records) -> None:
    got = records.folder_context("/lib/TV/[Grp] Show (2020) [1080p]/Specials")
    assert got.title == "Show" and got.group == "Grp" and got.year == 2020 and got.kind == "special"
    assert records.folder_context("/lib/Show/2").season == 2
    assert records.folder_context("Show") is None or records.folder_context("Show").title == "Show"


# ---------------------------------------------------------------- the compiled walk's listing, read in C

ON_DISK = st.sampled_from(["Show - 01.mkv", "[Grp] Show - 02 (1080p) [ABCDEF01].mkv", "Show - 01.en.ass",
                           "cover.JPG", "x.ÄVI", "Ça va - 03.mp4", "進撃の巨人 - 04.mkv", "noext", "a.b.MKV",
                           "Show S2 - 12.5.srt", "q\"\\.mkv"]) | NAME.filter(lambda n: n not in (".", ".."))


@pytest.mark.skipif(PURE_RUN or os.name != "posix",
                    reason="the compiled walk's FileList (POSIX; this run forces the pure twins)")
@settings(max_examples=60, deadline=None)
@given(names=st.lists(ON_DISK, max_size=8, unique=True), bad_name=st.booleans(), index=st.booleans(),
       cached=st.lists(st.tuples(st.integers(0, 7), st.booleans(), PARSED), max_size=4))
def test_a_listing_read_in_c_renders_as_its_tuples_do(tmp_path_factory, names, bad_name, index, cached) -> None:
    """render_folder reads the walk's FileList without a Python object per file: same result as the
    list of (name, size, mtime_ns) tuples it stands for, in both twins (a name that is not UTF-8
    makes the compiled twin take the tuples)."""
    folder = tmp_path_factory.mktemp("Show")
    for i, name in enumerate(names):
        if name.startswith("."):
            continue  # (hidden: not listed)
        path = folder / name
        path.write_bytes(b"x" * i)
        os.utime(path, ns=(i, 10**18 + i))
    if bad_name:
        (folder / os.fsdecode(b"bad\xff - 01.mkv")).write_bytes(b"")
    walk = twin("walk", "c").walk_folders(str(folder), 0, (), False)
    try:
        (directory, listing), = list(walk)
    finally:
        walk.close()
    files = listing[0]
    assert type(files).__name__ == "FileList"
    tuples = list(files)
    prefix = directory + "/"
    blob = b""
    for i, same, parsed in cached:
        if i < len(tuples):
            name, size, mtime_ns = tuples[i]
            key = twin("hash", "py").path_hash(prefix + name)
            blob += encode_entry(key, size if same else size + 1, mtime_ns, 0, parsed)
    c = twin("records", "c")
    expected = twin("records", "py").render_folder(prefix, tuples, blob or None, directory, index)
    assert c.render_folder(prefix, files, blob or None, directory, index) == expected
    assert c.render_folder(prefix, files, blob or None) == c.render_folder(prefix, tuples, blob or None)
