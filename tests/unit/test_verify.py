"""verify: CRC32 against the name's tag, the cache, streaming order, unreadable files."""
from __future__ import annotations

import os
import threading
import zlib

import pytest

from anivault import verify
from anivault.verify import MISMATCH, NO_TAG, OK, ERROR, VerifyCache, expected_crc, verify_files


def _tagged(folder, stem: str, data: bytes, ext: str = "mkv") -> str:
    path = folder / f"{stem} [{zlib.crc32(data):08X}].{ext}"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("name, tag", [
    ("[SubsPlease] Frieren - 01 (1080p) [ABCD1234].mkv", "ABCD1234"),
    ("[Group] Show - 02 [1080p][deadbeef].mkv", "DEADBEEF"),
    ("[Group] Show - 02 (DEADBEEF).mkv", "DEADBEEF"),
    ("[12345678] Show - 02 [0BADF00D].mkv", "0BADF00D"),  # the last tag wins
    ("Show - 02 [20230115].mkv", None),  # a date, not a checksum
    ("Show - 02 [1080p].mkv", None),
    ("Show - 02 ABCD1234.mkv", None),  # bare hex is not a tag
    ("Show - 02 [ABCD1234].ass", None),  # a subtitle carries its video's checksum
])
def test_expected_crc(name, tag):
    assert expected_crc(name) == tag


def test_flipped_byte_is_a_mismatch(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)
    good = _tagged(tmp_path, "good", data)
    bad = _tagged(tmp_path, "bad", data)
    with open(bad, "r+b") as f:  # one bit of one byte in the middle
        f.seek(len(data) // 2)
        byte = f.read(1)[0]
        f.seek(len(data) // 2)
        f.write(bytes([byte ^ 0x01]))
    results = list(verify_files([good, bad]))
    assert [r.status for r in results] == [OK, MISMATCH]
    assert results[1].expected == f"{zlib.crc32(data):08X}"
    assert results[1].actual == f"{zlib.crc32(open(bad, 'rb').read()):08X}"
    assert results[1].failed and not results[0].failed


def test_small_buffers_give_the_same_crc(tmp_path):
    data = os.urandom(100_003)
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    assert verify.crc32_file(str(path), buffer_size=4096) == zlib.crc32(data)


def test_results_stream_in_input_order_with_untagged_and_missing(tmp_path):
    paths = [_tagged(tmp_path, f"ep{i:02}", os.urandom(1000 + i)) for i in range(20)]
    untagged = tmp_path / "notes.txt"
    untagged.write_text("x")
    paths[3:3] = [str(untagged), str(tmp_path / "gone [ABCD1234].mkv")]
    results = list(verify_files(iter(paths), workers=3))
    assert [r.path for r in results] == paths
    assert results[3].status == NO_TAG and results[4].status == ERROR and results[4].failed
    assert sum(r.status == OK for r in results) == 20


def test_reverify_is_answered_by_the_cache_until_the_file_changes(tmp_path, monkeypatch):
    path = _tagged(tmp_path, "ep", os.urandom(50_000))
    db = tmp_path / "cache" / verify.FILENAME
    with VerifyCache(db) as cache:
        first, = verify_files([path], cache=cache)
    reads = []
    real = verify.crc32_file
    monkeypatch.setattr(verify, "crc32_file", lambda p, **kw: reads.append(p) or real(p, **kw))
    with VerifyCache(db) as cache:  # a new process: the cache is on disk
        again, = verify_files([path], cache=cache)
    assert (first.status, first.cached) == (OK, False)
    assert (again.status, again.cached, reads) == (OK, True, [])
    with open(path, "r+b") as f:
        f.write(b"\0")
    os.utime(path, ns=(1, 1))  # a different mtime: the cached CRC no longer applies
    with VerifyCache(db) as cache:
        changed, = verify_files([path], cache=cache)
    assert reads == [path] and changed.cached is False


def test_progress_counts_every_byte(tmp_path):
    sizes = [10, 9 << 20, 12345]
    paths = [_tagged(tmp_path, f"f{i}", os.urandom(n)) for i, n in enumerate(sizes)]
    seen = []
    lock = threading.Lock()

    def progress(n):
        with lock:
            seen.append(n)

    list(verify_files(paths, progress=progress, workers=2))
    assert sum(seen) == sum(sizes)


def test_a_corrupt_cache_file_is_skipped_with_a_warning(tmp_path):
    db = tmp_path / verify.FILENAME
    db.write_bytes(b"not a database" * 100)
    warnings = []
    assert verify.open_cache(db, warnings.append) is None
    assert len(warnings) == 1 and "checking without it" in warnings[0]


def test_iter_files_walks_folders_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.mkv").write_bytes(b"")
    (tmp_path / "a.mkv").write_bytes(b"")
    assert list(verify.iter_files([str(tmp_path)])) == [str(tmp_path / "a.mkv"), str(tmp_path / "b" / "2.mkv")]


def test_verify_option_refuses_a_mismatched_file_and_its_subtitle(tmp_path):
    from anivault.organize import TODO, PlanOptions, apply_plan, plan_organize
    from organize_support import record

    good_data, bad_data = os.urandom(9000), os.urandom(9000)
    (tmp_path / "dl").mkdir()
    good = _tagged(tmp_path / "dl", "Show - 01", good_data)
    bad = tmp_path / "dl" / f"Show - 02 [{zlib.crc32(bad_data) ^ 1:08X}].mkv"  # a tag that does not fit
    bad.write_bytes(bad_data)
    sub = tmp_path / "dl" / f"{bad.stem}.ass"
    sub.write_text("[Script Info]")
    plan = plan_organize([record(good, title="Show", episode=1), record(bad, title="Show", episode=2),
                          record(sub, title="Show", episode=2)], PlanOptions(unmatched="parsed", dest=str(tmp_path / "lib")))
    warnings: list[str] = []
    refused = verify.refuse_mismatched(plan, warn=warnings.append)
    assert [r.path for r in refused] == [str(bad)] and len(warnings) == 1
    statuses = {os.path.basename(e.src): e.status for e in plan.entries}
    assert statuses == {os.path.basename(good): TODO, bad.name: verify.BAD_CRC, sub.name: verify.BAD_CRC}
    assert apply_plan(plan).done == 1 and bad.exists() and sub.exists()
