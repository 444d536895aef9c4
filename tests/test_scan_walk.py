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

PURE_RUN = os.environ.get("ANIVAULT_NO_EXTENSIONS", "") not in ("", "0")
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


@pytest.mark.skipif(not POSIX or os.geteuid() != 0, reason="needs root to drop to another user")
def test_permission_denied_for_real(walk_twin) -> None:
    """chmod 000 does not stop root: a forked child drops to 'nobody' and lists the folder."""
    base = tempfile.mkdtemp()
    try:
        os.chmod(base, 0o755)
        locked = os.path.join(base, "locked")
        os.mkdir(locked, 0o000)
        pid = os.fork()
        if pid == 0:  # the child: exit 0 only when the twin raised PermissionError
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                walk_twin.list_dir(locked, 0)
            except PermissionError:
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
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


# ---- ReadAhead: the folders a depth-first walk wants, listed ahead


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for i in range(40):
        for j in range(3):
            sub = tmp_path / f"show {i:02d}" / f"season {j}"
            sub.mkdir(parents=True)
            for k in range(5):
                (sub / f"{k:02d}.mkv").write_bytes(b"v" * k)
    return tmp_path


def walk_with(reader, root: str) -> list[tuple[str, tuple]]:
    """A depth-first walk as the scanner does it: each folder's listing, in visiting order."""
    out = []
    stack = [(root, reader.want(root))]
    while stack:
        path, ticket = stack.pop()
        listing = reader.take(ticket)
        out.append((path, listing))
        stack += [(os.path.join(path, d), reader.want(os.path.join(path, d))) for d in reversed(listing[1])]
    return out


@pytest.mark.parametrize("ahead", [True, False])
def test_read_ahead_gives_what_list_dir_gives_in_walk_order(walk_twin, tree: Path, ahead: bool) -> None:
    reader = walk_twin.ReadAhead(2, ahead)
    try:
        walked = walk_with(reader, str(tree))
    finally:
        reader.close()
    assert len(walked) == 1 + 40 + 120
    assert [p for p, _ in walked][:3] == [str(tree), str(tree / "show 00"), str(tree / "show 00" / "season 0")]
    for path, listing in walked:
        assert listing == walk_twin.list_dir(path, 2)


def test_read_ahead_takes_in_any_order_and_reports_errors(walk_twin, tree: Path) -> None:
    reader = walk_twin.ReadAhead()
    try:
        tickets = [reader.want(str(tree / f"show {i:02d}")) for i in range(40)]  # beyond nothing: fine
        missing = reader.want(str(tree / "nope"))
        for i in (39, 0, 20):
            assert reader.take(tickets[i]) == walk_twin.list_dir(str(tree / f"show {i:02d}"))
        with pytest.raises(FileNotFoundError):
            reader.take(missing)
        with pytest.raises(ValueError):
            reader.want(str(tree) + "\0x")
    finally:
        reader.close()  # with 37 folders wanted and never taken


def test_read_ahead_stays_a_bounded_distance_ahead(walk_twin, tree: Path) -> None:
    """Far more folders wanted than the worker may hold: it waits, and every one is still right."""
    reader = walk_twin.ReadAhead()
    try:
        folders = [str(tree / f"show {i % 40:02d}" / f"season {i % 3}") for i in range(1200)]
        tickets = [reader.want(f) for f in folders]
        for folder, ticket in zip(reversed(folders), reversed(tickets)):
            assert reader.take(ticket)[0] == walk_twin.list_dir(folder)[0]
    finally:
        reader.close()


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem that stores raw bytes")
def test_name_order_is_str_order_even_with_names_that_are_not_utf8(walk_twin, tmp_path: Path) -> None:
    """Byte order and str order differ once a name is not valid UTF-8 ("a\\xff" decodes to
    U+DCFF, which sorts before U+FFFD although 0xff sorts after 0xef)."""
    for raw in (b"a\xef\xbf\xbd.mkv", b"a\xff.mkv", "aé.mkv".encode(), b"B.mkv", b"a.mkv"):
        with open(os.fsencode(tmp_path) + b"/" + raw, "wb"):
            pass
    names = [f[0] for f in walk_twin.list_dir(str(tmp_path))[0]]
    assert names == sorted(names) and len(names) == 5
