"""The walk twins: ``list_dir`` reads one folder the same way compiled and pure."""
from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anivault._speedups import twin

from unprivileged import check_as_nobody

from conftest import PURE_RUN
POSIX = os.name == "posix"


@pytest.fixture
def walk_twin(backend: str):
    return twin("walk", backend)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "b.mkv").write_bytes(b"x" * 100)
    (tmp_path / "a.ass").write_bytes(b"x" * 10)
    (tmp_path / "tiny.nfo").write_bytes(b"")
    (tmp_path / ".hidden.mkv").write_bytes(b"x")
    (tmp_path / ".hiddendir").mkdir()
    (tmp_path / "Season 2").mkdir()
    (tmp_path / "Extras").mkdir()
    if POSIX:
        os.symlink("b.mkv", tmp_path / "link.mkv")
        os.symlink("Season 2", tmp_path / "dirlink")
        os.mkfifo(tmp_path / "pipe")
    return tmp_path


def test_sorts_a_folder_into_files_dirs_links_and_specials(walk_twin, folder: Path) -> None:
    files, dirs, links, specials, failed, hidden, small, error = walk_twin.list_dir(str(folder), 0)
    st_b = os.stat(folder / "b.mkv")
    assert files == [("a.ass", 10, os.stat(folder / "a.ass").st_mtime_ns),
                     ("b.mkv", 100, st_b.st_mtime_ns), ("tiny.nfo", 0, os.stat(folder / "tiny.nfo").st_mtime_ns)]
    assert dirs == ["Extras", "Season 2"]
    assert hidden == 2 and failed == [] and error == 0 and small == 0
    if POSIX:
        assert links == ["dirlink", "link.mkv"]
        assert [(name, stat.S_ISFIFO(mode)) for name, mode in specials] == [("pipe", True)]


def test_min_size_counts_the_small_files(walk_twin, folder: Path) -> None:
    files, *_, small, error = walk_twin.list_dir(str(folder), 50)
    assert [name for name, _, _ in files] == ["b.mkv"] and small == 2


def test_missing_or_unreadable_folder_raises(walk_twin, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        walk_twin.list_dir(str(tmp_path / "nope"), 0)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        walk_twin.list_dir(str(tmp_path / "file"), 0)
    with pytest.raises(ValueError):
        walk_twin.list_dir(str(tmp_path) + "\0x", 0)
    with pytest.raises(TypeError):
        walk_twin.list_dir(os.fsencode(tmp_path), 0)


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_permission_denied_for_real(walk_twin) -> None:
    """A real chmod 000 folder, listed as 'nobody' (root would read it anyway)."""
    base = tempfile.mkdtemp()
    try:
        os.chmod(base, 0o755)
        locked = os.path.join(base, "locked")
        os.mkdir(locked, 0o000)

        def check() -> bool:
            try:
                walk_twin.list_dir(locked, 0)
            except PermissionError:
                return True
            return False

        check_as_nobody(check)
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(sys.platform != "linux", reason="raw-byte names need a byte-oriented filesystem")
def test_non_utf8_names_decode_like_os_listdir(walk_twin, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad \xff\xfe.mkv"
    with open(raw, "wb"):
        pass
    files, *_ = walk_twin.list_dir(str(tmp_path), 0)
    assert [name for name, _, _ in files] == os.listdir(tmp_path)
    assert os.fsencode(files[0][0]) == b"bad \xff\xfe.mkv"


def test_empty_folder(walk_twin, tmp_path: Path) -> None:
    assert walk_twin.list_dir(str(tmp_path), 0) == ([], [], [], [], [], 0, 0, 0)


def test_pure_twin_reports_an_entry_that_vanished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race between listing and stat, forced (the compiled twin stats in C, no hook there)."""
    py = twin("walk", "py")
    (tmp_path / "stays.mkv").write_bytes(b"x")
    gone = tmp_path / "gone.mkv"
    gone.write_bytes(b"x")
    real = os.scandir

    class Racing:
        def __init__(self, arg):
            with real(arg) as it:
                self.entries = list(it)
            gone.unlink()

        def __iter__(self):
            return iter(self.entries)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(os, "scandir", Racing)
    files, dirs, links, specials, failed, *_ = py.list_dir(str(tmp_path), 0)
    assert [f[0] for f in files] == ["stays.mkv"] and failed == [("gone.mkv", errno.ENOENT)]


NAMES = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\\\0:*?\"<>|"), min_size=1,
                max_size=40).filter(lambda n: n not in (".", "..") and len(n.encode()) <= 255)


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run compares both")
@settings(max_examples=40, deadline=None)
@given(entries=st.lists(st.tuples(NAMES, st.sampled_from(["file", "dir", "link"]), st.integers(0, 5000)),
                        max_size=25, unique_by=lambda e: e[0].casefold()),
       min_size=st.integers(0, 3000))
def test_compiled_and_pure_twins_agree(entries, min_size: int) -> None:
    c, py = twin("walk", "c"), twin("walk", "py")
    base = tempfile.mkdtemp()
    try:
        for name, kind, size in entries:
            path = os.path.join(base, name)
            if kind == "dir":
                os.mkdir(path)
            elif kind == "link" and POSIX:
                os.symlink("target", path)
            else:
                with open(path, "wb") as f:
                    f.truncate(size)
        assert c.list_dir(base, min_size) == py.list_dir(base, min_size)
    finally:
        shutil.rmtree(base)


# ---- walk_folders: the scanner's default walk, listed ahead on a worker thread


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for i in range(40):
        for j in range(3):
            sub = tmp_path / f"show {i:02d}" / f"season {j}"
            sub.mkdir(parents=True)
            for k in range(5):
                (sub / f"{k:02d}.mkv").write_bytes(b"v" * k)
    (tmp_path / "show 03" / "@eaDir" / "inner").mkdir(parents=True)
    (tmp_path / ".hidden" / "x").mkdir(parents=True)
    if POSIX:
        os.symlink(tmp_path / "show 01", tmp_path / "show 02" / "link")
    return tmp_path


def expected_walk(list_dir, root: str, min_size: int, skip: set[str]) -> list[tuple[str, tuple]]:
    """The scanner's own depth-first walk with list_dir: what walk_folders must give."""
    out, stack = [], [root]
    while stack:
        path = stack.pop()
        listing = list_dir(path, min_size)
        out.append((path, listing))
        stack += [os.path.join(path, d) for d in reversed(listing[1]) if d not in skip]
    return out


@pytest.mark.parametrize("ahead", [True, False])
def test_walk_folders_is_the_depth_first_walk_in_name_order(walk_twin, tree: Path, ahead: bool) -> None:
    walk = walk_twin.walk_folders(str(tree), 2, ["@eaDir"], ahead)
    try:
        walked = list(walk)
    finally:
        walk.close()
    assert walked == expected_walk(walk_twin.list_dir, str(tree), 2, {"@eaDir"})
    paths = [p for p, _ in walked]
    assert paths[:3] == [str(tree), str(tree / "show 00"), str(tree / "show 00" / "season 0")]
    assert not any("@eaDir" in p or ".hidden" in p or p.endswith("link") for p in paths)
    assert len(paths) == 1 + 40 + 120


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
@pytest.mark.parametrize("ahead", [True, False])
def test_walk_folders_reports_a_folder_it_cannot_read_and_goes_on(walk_twin, ahead: bool) -> None:
    """A real chmod 000 folder; as root (who reads it anyway) the walk runs in a child as 'nobody'."""
    base = tempfile.mkdtemp()
    try:
        os.chmod(base, 0o755)
        for name in ("a", "b", "c"):
            os.makedirs(os.path.join(base, name, "inner"))
        os.chmod(os.path.join(base, "b"), 0)

        def check() -> bool:
            walk = walk_twin.walk_folders(base, 0, (), ahead)
            walked = [(p, isinstance(x, PermissionError)) for p, x in walk]
            walk.close()
            return walked == [(base, False), (f"{base}/a", False), (f"{base}/a/inner", False),
                              (f"{base}/b", True), (f"{base}/c", False), (f"{base}/c/inner", False)]

        check_as_nobody(check)
    finally:
        os.chmod(os.path.join(base, "b"), 0o755)
        shutil.rmtree(base)


def test_walk_folders_stopped_early_frees_what_it_read_ahead(walk_twin, tree: Path) -> None:
    for _ in range(20):  # the worker is mid-walk, or waiting on a full ring, when it is closed
        walk = walk_twin.walk_folders(str(tree), 0, (), True)
        assert next(walk)[0] == str(tree)
        walk.close()
    with pytest.raises(ValueError):
        walk_twin.walk_folders(str(tree) + "\0x")


def test_walk_folders_of_a_missing_root_is_one_error(walk_twin, tmp_path: Path) -> None:
    walk = walk_twin.walk_folders(str(tmp_path / "nope"))
    try:
        ((path, error),) = list(walk)
    finally:
        walk.close()
    assert path == str(tmp_path / "nope") and isinstance(error, FileNotFoundError)


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem that stores raw bytes")
def test_name_order_is_str_order_even_with_names_that_are_not_utf8(walk_twin, tmp_path: Path) -> None:
    """Byte order and str order differ once a name is not valid UTF-8 ("a\\xff" decodes to
    U+DCFF, which sorts before U+FFFD although 0xff sorts after 0xef)."""
    raws = (b"a\xef\xbf\xbd.mkv", b"a\xff.mkv", "aé.mkv".encode(), b"B.mkv", b"a.mkv",
            b"a\xe3\x81.mkv", b"a\xe3\x81\x82.mkv", b"a\xc0\xaf.mkv", b"a\xed\xa0\x80.mkv",
            "a\U0001f600.mkv".encode(), b"a\xf0\x9f\x98.mkv", b"a\x80\x80.mkv", b"a\xe3")
    for raw in raws:
        with open(os.fsencode(tmp_path) + b"/" + raw, "wb"):
            pass
    names = [f[0] for f in walk_twin.list_dir(str(tmp_path))[0]]
    assert names == sorted(names) and len(names) == len(raws)


@pytest.mark.skipif(PURE_RUN or not POSIX, reason="the compiled walk lists in C on POSIX (this run forces the pure twins)")
def test_the_compiled_walks_files_are_a_sequence_of_tuples(folder: Path) -> None:
    """walk_folders_c hands each folder's files as a FileList: read in C by the render twin, and to
    Python the list of (name, size, mtime_ns) that list_dir gives."""
    walk_c = twin("walk", "c")
    walk = walk_c.walk_folders(str(folder), 0, (), False)
    try:
        files = next(walk)[1][0]
    finally:
        walk.close()
    expected = walk_c.list_dir(str(folder), 0)[0]
    assert files == expected and expected == files and list(files) == expected and len(files) == 3
    assert files[0] == expected[0] and files[-1] == expected[-1] and files[1:] == expected[1:]
    assert [name for name, _, _ in files] == ["a.ass", "b.mkv", "tiny.nfo"]
    with pytest.raises(IndexError):
        files[3]
    assert files != expected[:2] and repr(files).startswith("FileList([('a.ass'")
    from collections.abc import Sequence
    assert isinstance(files, Sequence)
