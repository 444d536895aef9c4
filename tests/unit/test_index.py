"""The incremental index: reuse of unchanged parses, invalidation, pruning, and a corrupt or busy file."""
from __future__ import annotations

import importlib
import os
import sqlite3
from pathlib import Path

import pytest

import anivault.index
from anivault.settings import default_cache_dir
from anivault.index import FILENAME, Index, decode_parsed, encode_parsed
from anivault.models import ParsedName
from anivault.scan import scan


scan_module = importlib.import_module("anivault.scan")


@pytest.fixture(autouse=True)
def _hash_backend(hash_twin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "path_hash", hash_twin.path_hash)
    monkeypatch.setattr(anivault.index, "path_hash", hash_twin.path_hash)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    for season in (1, 2):
        folder = root / f"[Group] Show S{season}"
        folder.mkdir(parents=True)
        for ep in range(1, 6):
            (folder / f"[Group] Show S{season} - {ep:02d} (1080p).mkv").write_bytes(b"x" * ep)
            (folder / f"[Group] Show S{season} - {ep:02d} (1080p).en.ass").write_bytes(b"s")
        (folder / "cover.jpg").write_bytes(b"j")
    return root


def run_scan(root: Path, **kwargs):
    run = scan(root, **kwargs)
    records = list(run)
    return records, run.summary


def index_path() -> Path:
    return default_cache_dir() / FILENAME


def test_second_scan_reuses_every_parse(library: Path) -> None:
    first, s1 = run_scan(library)
    assert (s1.index_hits, s1.index_misses) == (0, 20)  # videos and subtitles; cover.jpg is not parsed
    assert s1.index == str(index_path()) and index_path().exists()
    second, s2 = run_scan(library)
    assert (s2.index_hits, s2.index_misses) == (20, 0)
    assert second == first


def test_changed_files_are_parsed_again(library: Path) -> None:
    run_scan(library)
    changed = library / "[Group] Show S1" / "[Group] Show S1 - 01 (1080p).mkv"
    changed.write_bytes(b"longer now")
    st = os.stat(changed)
    os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    touched = library / "[Group] Show S2" / "[Group] Show S2 - 01 (1080p).mkv"
    st = os.stat(touched)
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # same size, mtime moved by 1 ns
    records, s = run_scan(library)
    assert (s.index_hits, s.index_misses) == (18, 2)
    assert {r.path: r.size for r in records}[str(changed)] == len(b"longer now")
    assert run_scan(library)[1].index_misses == 0


def test_deleted_files_are_pruned_from_the_index(library: Path) -> None:
    run_scan(library)
    (library / "[Group] Show S1" / "[Group] Show S1 - 05 (1080p).mkv").unlink()
    run_scan(library)
    with sqlite3.connect(index_path()) as db:
        assert db.execute("SELECT sum(files) FROM entries").fetchone()[0] == 19


def test_no_cache_neither_reads_nor_writes(library: Path) -> None:
    _, s = run_scan(library, use_index=False)
    assert s.index is None and (s.index_hits, s.index_misses) == (0, 0)
    assert not index_path().exists()


def test_cache_dir_override(library: Path, tmp_path: Path) -> None:
    _, s = run_scan(library, cache_dir=tmp_path / "elsewhere")
    assert s.index == str(tmp_path / "elsewhere" / FILENAME)
    assert not index_path().exists()


def test_corrupt_index_is_moved_aside_and_rebuilt(library: Path) -> None:
    index_path().parent.mkdir(parents=True, exist_ok=True)
    index_path().write_bytes(b"this is not a database" * 100)
    warnings: list = []
    run = scan(library, on_warning=warnings.append)
    records = list(run)
    assert len(records) == 22 and run.summary.complete
    assert len(warnings) == 1 and "corrupt" in warnings[0].message and "moved to" in warnings[0].message
    aside = [p for p in index_path().parent.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
    assert run_scan(library)[1].index_hits == 20  # the rebuilt index works


def test_index_corrupted_between_scans_pages(library: Path) -> None:
    run_scan(library)
    data = bytearray(index_path().read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)  # keep the header, wreck every page
    index_path().write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(str(index_path()) + suffix).unlink(missing_ok=True)
    warnings: list = []
    run = scan(library, on_warning=warnings.append)
    assert len(list(run)) == 22 and run.summary.complete
    assert warnings and all("index" in w.message for w in warnings)
    assert run_scan(library)[1].complete


def test_a_busy_index_is_skipped_for_the_run(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_scan(library)
    (library / "[Group] Show S1" / "[Group] Show S1 - 06 (1080p).mkv").write_bytes(b"new")
    monkeypatch.setattr(anivault.index, "BATCH_ROWS", 1)
    blocker = sqlite3.connect(index_path(), timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another scan is writing
    try:
        warnings: list = []
        run = scan(library, on_warning=warnings.append)
        assert len(list(run)) == 23 and run.summary.complete
        assert len(warnings) == 1 and "database is locked" in warnings[0].message
        assert "scanning without it" in warnings[0].message or "not cached" in warnings[0].message
    finally:
        blocker.rollback()
        blocker.close()
    assert not [p for p in index_path().parent.iterdir() if ".corrupt-" in p.name]  # busy is not corrupt


def journal_mode() -> str:
    db = sqlite3.connect(index_path())
    try:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        db.close()


def store_modes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The index's journal mode at each batch the writer stores (filled as the scan runs)."""
    modes: list[str] = []
    store = Index.store

    def spy(self: Index, *args) -> None:
        modes.append(self._db.execute("PRAGMA journal_mode").fetchone()[0])
        store(self, *args)

    monkeypatch.setattr(Index, "store", spy)
    return modes


def test_a_first_scan_fills_the_index_through_a_rollback_journal_and_leaves_wal(
        library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each new page written once (not to the log and again at the checkpoint), WAL again after."""
    modes = store_modes(monkeypatch)
    first, _ = run_scan(library)
    assert set(modes) == {"delete"} and journal_mode() == "wal"
    modes.clear()
    second, s2 = run_scan(library)
    assert set(modes) == {"wal"} and s2.index_hits == 20 and second == first


def test_a_first_scan_stopped_early_leaves_a_usable_wal_index(library: Path) -> None:
    run = scan(library)
    next(run)
    run.close()
    assert journal_mode() == "wal"
    records, summary = run_scan(library)
    assert len(records) == 22 and summary.index_hits + summary.index_misses == 20


def test_a_first_scan_keeps_wal_while_another_connection_has_the_index_open(
        library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process reading the empty index: no switch (and no wait); the scan writes in WAL."""
    Index.open().close()  # (an empty index)
    reader = sqlite3.connect(index_path())
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM entries").fetchone()  # a read transaction stays open
    modes = store_modes(monkeypatch)
    try:
        records, summary = run_scan(library)
        assert summary.index_misses == 20 and set(modes) == {"wal"} and journal_mode() == "wal"
    finally:
        reader.rollback()
        reader.close()
    assert run_scan(library)[1].index_hits == 20


def test_a_failing_index_writer_never_stops_the_scan(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error on the writer thread: reported once, the scan finishes uncached."""
    monkeypatch.setattr(anivault.index, "BATCH_ROWS", 1)
    monkeypatch.setattr(anivault.index, "COMMIT_ROWS", object())  # the thread's count check raises
    warnings: list = []
    run = scan(library, on_warning=warnings.append)
    assert len(list(run)) == 22 and run.summary.complete
    assert len(warnings) == 1 and "index writer failed" in warnings[0].message
    assert "not cached" in warnings[0].message


def test_a_new_parser_invalidates_cached_parses(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_scan(library)
    monkeypatch.setattr(anivault.index, "parser_fingerprint", lambda: "another parser")
    assert run_scan(library)[1].index_misses == 20


def test_index_rows_are_read_as_a_stream_not_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-scan reads folders in the order the first scan stored them, 64 to a query."""
    for i in range(200):
        folder = tmp_path / "lib" / f"Show {i:03d}"
        folder.mkdir(parents=True)
        for ep in (1, 2):
            (folder / f"Show {i:03d} - {ep:02d}.mkv").write_bytes(b"v")
    run_scan(tmp_path / "lib")
    queries: list[str] = []
    real_open = Index.open

    def traced_open(*args, **kwargs):
        index = real_open(*args, **kwargs)
        index._reads.set_trace_callback(queries.append)
        return index

    monkeypatch.setattr(Index, "open", traced_open)
    assert run_scan(tmp_path / "lib")[1].index_hits == 400
    selects = [q for q in queries if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 2 + -(-200 // 64)  # a point query for the first folder, then the stream


@pytest.mark.parametrize("parsed", [
    ParsedName(),
    ParsedName(title="進撃の巨人", season=2, episode=5, group="G", other=("batch", "dual audio")),
    ParsedName(title="Show \udcff", episode=1),
])
def test_parsed_names_round_trip_through_the_index(parsed: ParsedName) -> None:
    assert decode_parsed(encode_parsed(parsed)) == parsed


def test_folders_gone_from_disk_are_pruned(library: Path) -> None:
    import shutil

    run_scan(library)
    shutil.rmtree(library / "[Group] Show S2")
    run_scan(library / "[Group] Show S1")  # a scan of another folder prunes nothing
    run_scan(library, exclude=["*.nfo"])  # nor does a filtered one
    with sqlite3.connect(index_path()) as db:
        assert db.execute("SELECT sum(files) FROM entries").fetchone()[0] == 20
    run_scan(library)
    with sqlite3.connect(index_path()) as db:
        assert db.execute("SELECT sum(files) FROM entries").fetchone()[0] == 10
        assert db.execute("SELECT count(*) FROM entries WHERE files > 0").fetchone()[0] == 1
    assert run_scan(library)[1].index_hits == 10


def test_a_root_that_is_a_prefix_of_a_sibling_prunes_only_itself(tmp_path: Path) -> None:
    for name in ("Show", "Show 2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name} - 01.mkv").write_bytes(b"v")
    run_scan(tmp_path)
    (tmp_path / "Show" / "Show - 01.mkv").unlink()
    run_scan(tmp_path / "Show")
    assert run_scan(tmp_path / "Show 2")[1].index_hits == 1


def test_a_filtered_or_single_file_scan_keeps_the_folders_other_entries(library: Path) -> None:
    run_scan(library)
    folder = library / "[Group] Show S1"
    run_scan(folder / "[Group] Show S1 - 01 (1080p).mkv")  # one file of the folder
    run_scan(library, exclude=["*.ass"])  # the subtitles left out
    changed = folder / "[Group] Show S1 - 02 (1080p).mkv"
    changed.write_bytes(b"changed")
    run_scan(library, min_size=2)  # small files left out, one changed (and parsed again)
    s = run_scan(library)[1]
    assert (s.index_hits, s.index_misses) == (20, 0)


def test_a_rescan_expects_the_last_whole_scans_file_count(library: Path) -> None:
    """The count behind the live line's ETA: known from the last complete, unfiltered scan."""
    from anivault.monitor import Metrics

    first = Metrics()
    run = scan(library, metrics=first)
    list(run)
    assert first.expected is None  # never scanned: no ETA
    again = Metrics()
    list(scan(library, metrics=again))
    assert again.expected == run.summary.files == 22
    filtered = Metrics()
    list(scan(library, metrics=filtered, exclude=["*.jpg"]))
    assert filtered.expected is None  # another view of the library: no count to expect
    assert {"walk", "index", "records"} <= set(again.snapshot()["stages_s"])


def test_folders_are_written_several_to_a_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer sends ROWS_PER_STATEMENT folders per INSERT (a folder met twice in one keeps the last)."""
    monkeypatch.setattr(anivault.index, "ROWS_PER_STATEMENT", 3)
    root = tmp_path / "lib"
    for i in range(8):
        (root / f"Show {i}").mkdir(parents=True)
        (root / f"Show {i}" / f"Show {i} - 01.mkv").write_bytes(b"x")
    first, s1 = run_scan(root)
    assert s1.index_misses == 8
    folder = root / "Show 3"
    (folder / "Show 3 - 02.mkv").write_bytes(b"y")
    _, s2 = run_scan([folder / "Show 3 - 01.mkv", folder / "Show 3 - 02.mkv"])  # one folder, stored twice
    assert (s2.index_hits, s2.index_misses) == (1, 1)
    again, s3 = run_scan(root)
    assert (s3.index_hits, s3.index_misses) == (9, 0) and len(again) == 9
