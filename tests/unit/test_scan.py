"""The scanner: streaming records, classification, filters, symlinks, and every odd file it may meet."""
from __future__ import annotations

import errno
import importlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import anivault.index
import anivault.walk
from anivault._speedups import twin
from anivault.errors import UsageError
from anivault.scan import ScanRecord, parse_size, scan

from unprivileged import check_as_nobody
from walk_stub import read_folders_with

# `anivault.scan` is the function (exported by the package); the module is this:
scan_module = importlib.import_module("anivault.scan")
POSIX = os.name == "posix"
LIST_DIR: list = [None]  # the list_dir twin of the test's backend


@pytest.fixture(autouse=True)
def _twins(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scan test runs with the compiled and the pure hash and walk twins."""
    hash_twin = twin("hash", backend)
    monkeypatch.setattr(scan_module, "path_hash", hash_twin.path_hash)
    monkeypatch.setattr(anivault.index, "path_hash", hash_twin.path_hash)
    walk = twin("walk", backend)
    monkeypatch.setattr(anivault.walk, "list_dir", walk.list_dir)
    monkeypatch.setattr(anivault.walk, "walk_folders", walk.walk_folders)
    LIST_DIR[0] = walk.list_dir


def touch(path: Path, size: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    show = root / "[SubsPlease] Frieren"
    touch(show / "[SubsPlease] Sousou no Frieren - 01 (1080p) [ABCD1234].mkv", 1000)
    touch(show / "[SubsPlease] Sousou no Frieren - 02 (1080p) [ABCD1235].mkv", 1000)
    touch(show / "[SubsPlease] Sousou no Frieren - 01 (1080p) [ABCD1234].en.ass", 10)
    touch(show / "Fonts" / "arial.ttf", 5)
    touch(root / "Scene" / "Spy.x.Family.S02E05.1080p.WEB.H264-VARYG.MP4", 2000)
    touch(root / "notes.txt", 3)
    return root


def paths(records) -> list[str]:
    return [r.path for r in records]


def test_records_carry_path_size_mtime_kind_and_parse(library: Path) -> None:
    records = list(scan(library, use_index=False))
    by_name = {os.path.basename(r.path): r for r in records}
    assert len(records) == 6
    ep = by_name["[SubsPlease] Sousou no Frieren - 01 (1080p) [ABCD1234].mkv"]
    st = os.stat(ep.path)
    assert (ep.size, ep.mtime_ns, ep.kind) == (1000, st.st_mtime_ns, "video")
    assert ep.parsed is not None and ep.parsed.episode == 1 and ep.parsed.group == "SubsPlease"
    assert by_name["Spy.x.Family.S02E05.1080p.WEB.H264-VARYG.MP4"].kind == "video"  # case-insensitive ext
    assert by_name["[SubsPlease] Sousou no Frieren - 01 (1080p) [ABCD1234].en.ass"].kind == "subtitle"
    assert by_name["arial.ttf"].kind == "other" and by_name["arial.ttf"].parsed is None
    assert by_name["notes.txt"].warnings == ()


def test_every_extension_of_the_issue_is_classified(tmp_path: Path) -> None:
    videos = "mkv mp4 avi m4v webm mov wmv flv ts m2ts ogm".split()
    subs = "ass ssa srt sup vtt idx sub".split()
    for ext in videos + subs + ["nfo", "jpg", "ttf"]:
        touch(tmp_path / f"Show - 01.{ext}")
    touch(tmp_path / "mkv")  # no extension at all
    kinds = {os.path.basename(r.path): r.kind for r in scan(tmp_path, use_index=False)}
    assert {e for e in videos if kinds[f"Show - 01.{e}"] == "video"} == set(videos)
    assert {e for e in subs if kinds[f"Show - 01.{e}"] == "subtitle"} == set(subs)
    assert kinds["Show - 01.nfo"] == kinds["mkv"] == "other"


def test_scan_streams_and_can_stop_early(library: Path) -> None:
    run = scan(library)
    assert isinstance(run, Iterator)
    first = next(run)
    assert isinstance(first, ScanRecord)
    run.close()
    assert run.summary.complete is False


def test_output_order_is_deterministic_and_sorted_per_folder(library: Path) -> None:
    a = paths(scan(library, use_index=False))
    b = paths(scan(library, use_index=False))
    assert a == b
    show = [p for p in a if os.path.dirname(p).endswith("Frieren")]
    assert show == sorted(show)


def test_summary_counts_kinds_series_and_bytes(library: Path) -> None:
    run = scan(library, use_index=False)
    records = list(run)
    s = run.summary
    assert s.complete and s.files == len(records) == 6
    assert dict(s.by_kind) == {"video": 3, "subtitle": 1, "other": 2}
    assert s.bytes == sum(r.size for r in records)
    assert s.series == 2  # Frieren, Spy x Family S2
    assert s.directories == 4
    assert s.to_dict()["by_kind"] == {"video": 3, "subtitle": 1, "other": 2}


def test_hidden_and_system_folders_are_skipped(tmp_path: Path) -> None:
    for d in (".hidden", "$RECYCLE.BIN", "System Volume Information", "@eaDir", ".Trash-1000", "Show"):
        touch(tmp_path / d / "Show - 01.mkv")
    touch(tmp_path / "._Show - 01.mkv")  # macOS resource fork
    run = scan(tmp_path, use_index=False)
    assert [os.path.relpath(p, tmp_path) for p in paths(run)] == [os.path.join("Show", "Show - 01.mkv")]
    assert run.summary.skipped["system"] == 3 and run.summary.skipped["hidden"] == 3


def test_exclude_globs_match_names_and_relative_paths(library: Path) -> None:
    names = {os.path.basename(p) for p in paths(scan(library, exclude=["*.ass", "Fonts"], use_index=False))}
    assert "arial.ttf" not in names and not any(n.endswith(".ass") for n in names)
    left = paths(scan(library, exclude=["Scene/*.MP4", "[[]SubsPlease] Frieren"], use_index=False))
    assert [os.path.basename(p) for p in left] == ["notes.txt"]


def test_min_size_and_no_recursive(library: Path) -> None:
    big = {os.path.basename(p) for p in paths(scan(library, min_size=1000, use_index=False))}
    assert big == {"[SubsPlease] Sousou no Frieren - 01 (1080p) [ABCD1234].mkv",
                   "[SubsPlease] Sousou no Frieren - 02 (1080p) [ABCD1235].mkv",
                   "Spy.x.Family.S02E05.1080p.WEB.H264-VARYG.MP4"}
    top = paths(scan(library, recursive=False, use_index=False))
    assert top == [str(library / "notes.txt")]


def test_a_file_root_and_several_roots(library: Path) -> None:
    one = library / "notes.txt"
    records = list(scan([one, library / "Scene"], use_index=False))
    assert paths(records) == [str(one), str(library / "Scene" / "Spy.x.Family.S02E05.1080p.WEB.H264-VARYG.MP4")]


def test_a_missing_root_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        scan(tmp_path / "nope")


@pytest.mark.parametrize("text, size", [("0", 0), ("700", 700), ("10M", 10 << 20), ("1.5G", 3 << 29),
                                        ("200KiB", 200 << 10), ("2 GB", 2 << 30), ("5k", 5 << 10)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "ten", "-5M", "5X", "1.2.3G"])
def test_parse_size_rejects_garbage(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_size(bad)


def test_json_line_equals_to_dict(library: Path) -> None:
    for record in scan(library, use_index=False):
        line = record.to_json()
        assert "\n" not in line
        assert json.loads(line) == record.to_dict()
        assert set(record.to_dict()) == {"path", "size", "mtime_ns", "kind", "title", "season", "episode",
                                         "episode_end", "version", "group", "resolution", "year", "crc32",
                                         "ext", "warnings"}


# ---- symlinks


@pytest.mark.skipif(not POSIX, reason="symlinks need privileges on Windows")
def test_symlinks_are_not_followed_by_default(tmp_path: Path) -> None:
    real = touch(tmp_path / "real" / "Show - 01.mkv")
    (tmp_path / "lib").mkdir()
    os.symlink(real, tmp_path / "lib" / "link.mkv")
    os.symlink(tmp_path / "real", tmp_path / "lib" / "dirlink")
    run = scan(tmp_path / "lib", use_index=False)
    assert list(run) == []
    assert run.summary.skipped["symlink"] == 2  # the folder link is not descended either


@pytest.mark.skipif(not POSIX, reason="symlinks need privileges on Windows")
def test_follow_symlinks_detects_loops_by_device_and_inode(tmp_path: Path) -> None:
    touch(tmp_path / "lib" / "a" / "Show - 01.mkv")
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "a" / "loop")  # points back up
    os.symlink("missing", tmp_path / "lib" / "broken.mkv")
    os.symlink(tmp_path / "lib" / "a" / "Show - 01.mkv", tmp_path / "lib" / "alias.mkv")
    warnings: list = []
    run = scan(tmp_path / "lib", follow_symlinks=True, use_index=False, on_warning=warnings.append)
    names = sorted(os.path.relpath(p, tmp_path / "lib") for p in paths(run))
    assert names == ["a/Show - 01.mkv", "alias.mkv"]
    text = [str(w) for w in warnings]
    assert any("loop" in w and w.startswith(str(tmp_path / "lib" / "a" / "loop")) for w in text)
    assert any("broken symlink" in w for w in text)
    assert run.summary.complete and run.summary.warning_count == 2


# ---- what must never stop a scan


def _deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Simulates a folder the user may not read (tests run as root, who may read everything)."""
    real = LIST_DIR[0]

    def guarded(path: str, min_size: int = 0):
        if path == str(denied):
            raise PermissionError(13, "Permission denied", path)
        return real(path, min_size)

    read_folders_with(monkeypatch, guarded)


def test_unreadable_folder_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "ok" / "Show - 01.mkv")
    touch(tmp_path / "secret" / "Show - 02.mkv")
    _deny(monkeypatch, tmp_path / "secret")
    run = scan(tmp_path, use_index=False)
    assert [os.path.basename(p) for p in paths(run)] == ["Show - 01.mkv"]
    assert [str(w) for w in run.summary.warnings] == [
        f"{tmp_path / 'secret'}: permission denied (cannot read folder), skipped"]


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_unreadable_folder_for_real() -> None:
    """A real chmod 000 folder; as root (who reads it anyway) the scan runs in a child as 'nobody'."""
    base = tempfile.mkdtemp()
    try:
        os.chmod(base, 0o755)
        touch(Path(base) / "ok.mkv")
        touch(Path(base) / "secret" / "Show - 02.mkv")
        os.chmod(os.path.join(base, "secret"), 0)

        def check() -> bool:
            run = scan(base, use_index=False)
            return [os.path.basename(p) for p in paths(run)] == ["ok.mkv"] and \
                [str(w) for w in run.summary.warnings] == [
                    f"{base}/secret: permission denied (cannot read folder), skipped"]

        check_as_nobody(check)
    finally:
        os.chmod(os.path.join(base, "secret"), 0o755)
        shutil.rmtree(base)


def test_a_file_vanishing_mid_scan_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "Show - 01.mkv")
    real = LIST_DIR[0]

    def racing(path: str, min_size: int = 0):
        """As if "Show - 02.mkv" was deleted between the listing and its stat."""
        files, dirs, links, specials, failed, hidden, small, error = real(path, min_size)
        return files, dirs, links, specials, failed + [("Show - 02.mkv", errno.ENOENT)], hidden, small, error

    read_folders_with(monkeypatch, racing)
    run = scan(tmp_path, use_index=False)
    assert [os.path.basename(p) for p in paths(run)] == ["Show - 01.mkv"]
    assert [str(w) for w in run.summary.warnings] == [
        f"{tmp_path / 'Show - 02.mkv'}: vanished during the scan, skipped"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_a_warning_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.mkv")
    touch(tmp_path / "Show - 01.mkv")
    run = scan(tmp_path, use_index=False)
    assert [os.path.basename(p) for p in paths(run)] == ["Show - 01.mkv"]
    assert [str(w) for w in run.summary.warnings] == [f"{tmp_path / 'pipe.mkv'}: FIFO, skipped"]


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem that stores raw bytes")
def test_non_utf8_name_is_listed_with_a_warning_and_round_trips(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/[Group] Show - 01 \xff\xfe.mkv"
    with open(raw, "wb"):
        pass
    warnings: list = []
    records = list(scan(tmp_path, use_index=False, on_warning=warnings.append))
    assert len(records) == 1 and records[0].kind == "video"
    assert records[0].warnings and "not valid UTF-8" in records[0].warnings[0]
    assert len(warnings) == 1 and warnings[0].path == records[0].path
    line = records[0].to_json()
    line.encode("utf-8")  # strict: writable to any UTF-8 stream
    assert os.fsencode(json.loads(line)["path"]) == raw


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem that stores raw bytes")
def test_non_utf8_folder_is_warned_once_and_its_paths_round_trip(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    folder = os.fsencode(library) + b"/Show \xff"
    os.makedirs(folder)
    for name in (b"[G] Show - 01.mkv", b"cover.jpg"):
        with open(folder + b"/" + name, "wb"):
            pass
    cache = tmp_path / "cache"
    for run in (scan(library, use_index=False), scan(library, cache_dir=cache), scan(library, cache_dir=cache)):
        lines = "".join(run.ndjson()).splitlines()
        assert [str(w) for w in run.summary.warnings] == [
            f"{os.fsdecode(folder)}: folder name is not valid UTF-8 (paths below it are shown with \\udcXX escapes)"]
        for line in lines:
            line.encode("ascii")  # escaped, so any UTF-8 reader takes it
            assert os.fsencode(json.loads(line)["path"]).startswith(folder + b"/")
        assert [json.loads(line)["title"] for line in lines] == ["Show", None]
        assert lines == [r.to_json() for r in scan(library, use_index=False)]


def test_255_byte_name(tmp_path: Path) -> None:
    name = "[Group] " + "x" * (255 - len("[Group]  - 01.mkv")) + " - 01.mkv"
    assert len(name.encode()) == 255
    touch(tmp_path / name, 7)
    (record,) = scan(tmp_path, use_index=False)
    assert os.path.basename(record.path) == name and record.size == 7 and record.warnings == ()
    assert record.parsed is not None and record.parsed.episode == 1


def test_ndjson_is_exactly_the_records_as_json(library: Path, tmp_path: Path) -> None:
    """The --json fast path (pre-rendered fields, index rows) writes what the records say."""
    (library / "Show - 01 \u9032\u6483.mkv").write_bytes(b"v")  # non-ASCII, valid UTF-8
    (library / 'odd "name"\t.TXT').write_bytes(b"t")  # escapes; an extension to lowercase
    (library / "x.\u00c4VI").write_bytes(b"t")  # a non-ASCII extension
    cache = tmp_path / "cache"
    expected = [r.to_json() for r in scan(library, use_index=False)]
    assert "".join(scan(library, use_index=False).ndjson()).splitlines() == expected  # no index
    assert "".join(scan(library, cache_dir=cache).ndjson()).splitlines() == expected  # index written
    warm = scan(library, cache_dir=cache)
    assert "".join(warm.ndjson()).splitlines() == expected  # every parse from the index
    assert warm.summary.index_hits > 0 and warm.summary.index_misses == 0
    assert [r.to_json() for r in scan(library, cache_dir=cache)] == expected  # records from the index


def test_ndjson_cannot_follow_a_started_iteration(library: Path) -> None:
    run = scan(library, use_index=False)
    next(run)
    with pytest.raises(RuntimeError):
        run.ndjson()


@pytest.mark.skipif(not POSIX, reason="symlinks need privileges on Windows")
def test_paths_given_by_name_are_followed_and_broken_ones_reported(tmp_path: Path) -> None:
    real = touch(tmp_path / "real" / "Show - 01.mkv", 5)
    os.symlink(real, tmp_path / "named.mkv")
    os.symlink(tmp_path / "real", tmp_path / "named-dir")
    os.symlink(tmp_path / "missing.mkv", tmp_path / "broken.mkv")
    run = scan([tmp_path / "named.mkv", tmp_path / "named-dir", tmp_path / "broken.mkv"], use_index=False)
    assert [(os.path.basename(r.path), r.size) for r in run] == [("named.mkv", 5), ("Show - 01.mkv", 5)]
    assert [w.path for w in run.summary.warnings] == [str(tmp_path / "broken.mkv")]
