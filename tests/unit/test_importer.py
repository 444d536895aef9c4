"""import: a finished download is hard-linked into the library and keeps seeding; hooks queue on the lock."""
from __future__ import annotations

import os
import threading

import pytest

from anivault import importer
from anivault.errors import RefusedError, UsageError
from anivault.journal import DestinationLock
from anivault.organize import PlanOptions

NAME = "[Group] Frieren - 0{n} [1080p].mkv"


def _download(root, episodes=(1,), folder="Frieren S1"):
    target = root / "downloads" / folder
    target.mkdir(parents=True)
    for n in episodes:
        (target / NAME.format(n=n)).write_bytes(os.urandom(2048) + bytes([n]))
    return target


def _filed(lib):
    return sorted(os.path.join(d, f) for d, _, files in os.walk(lib) for f in files)


def test_hook_import_hardlinks_and_leaves_the_source_seeding(tmp_path):
    download = _download(tmp_path, (1, 2))
    lib = tmp_path / "Anime"
    report = importer.import_paths([str(download)], PlanOptions(unmatched="parsed", dest=str(lib), action="hardlink"), offline=True)
    assert report.action == "hardlink" and report.applied.done == 2 and not report.applied.failed
    sources = sorted(str(p) for p in download.iterdir())
    filed = _filed(lib)
    assert len(filed) == 2 and all("Frieren" in f and "S01E0" in f for f in filed)
    for src, dst in zip(sources, filed):
        assert os.path.samefile(src, dst) and os.stat(src).st_nlink == 2  # one file, two names
    assert sorted(str(p) for p in download.iterdir()) == sources  # the torrent's files are untouched


def test_a_single_file_imports_too(tmp_path):
    download = _download(tmp_path, (3,))
    file = next(download.iterdir())
    report = importer.import_paths([str(file)], PlanOptions(unmatched="parsed", dest=str(tmp_path / "Anime"), action="hardlink"),
                                   offline=True)
    assert report.applied.done == 1 and file.exists()


def test_another_filesystem_copies_or_skips_never_moves(tmp_path, monkeypatch):
    download = _download(tmp_path, (1,))
    src = next(download.iterdir())
    monkeypatch.setattr(importer, "same_filesystem", lambda sources, dests: False)
    warnings: list[str] = []
    skipped = importer.import_paths([str(download)], PlanOptions(unmatched="parsed", dest=str(tmp_path / "A"), action="hardlink"),
                                    cross_fs="skip", offline=True, warn=warnings.append)
    assert skipped.skipped and skipped.applied is None and not (tmp_path / "A").exists()
    copied = importer.import_paths([str(download)], PlanOptions(unmatched="parsed", dest=str(tmp_path / "B"), action="hardlink"),
                                   cross_fs="copy", offline=True, warn=warnings.append)
    dst, = _filed(tmp_path / "B")
    assert copied.action == "copy" and not os.path.samefile(src, dst)
    assert open(src, "rb").read() == open(dst, "rb").read() and src.exists()
    assert any("skip" in w for w in warnings) and any("copying instead" in w for w in warnings)
    with pytest.raises(UsageError, match="never a move"):
        importer.import_paths([str(download)], PlanOptions(unmatched="parsed", dest=str(tmp_path / "C"), action="hardlink"),
                              cross_fs="move", offline=True)


def test_same_filesystem_for_a_destination_that_does_not_exist_yet(tmp_path):
    assert importer.same_filesystem([str(tmp_path)], [str(tmp_path / "not" / "yet")])


def test_concurrent_hooks_queue_on_the_destination_lock(tmp_path, monkeypatch):
    download = _download(tmp_path, (1,))
    lib = tmp_path / "Anime"
    waiting = threading.Event()
    real_sleep = importer._sleep
    monkeypatch.setattr(importer, "_sleep", lambda s: (waiting.set(), real_sleep(0.01)))
    holder = DestinationLock([str(lib)], "another hook").acquire()
    result: dict = {}
    hook = threading.Thread(target=lambda: result.update(report=importer.import_paths(
        [str(download)], PlanOptions(unmatched="parsed", dest=str(lib), action="hardlink"), offline=True, lock_wait=60)))
    hook.start()
    try:
        assert waiting.wait(30), "the hook did not queue on the lock"
        assert _filed(lib) == []  # nothing filed while the other run holds the library
    finally:
        holder.release()
    hook.join(60)
    assert result["report"].applied.done == 1 and result["report"].waited > 0


def test_the_wait_is_bounded_with_a_clear_message(tmp_path):
    download = _download(tmp_path, (1,))
    lib = tmp_path / "Anime"
    with DestinationLock([str(lib)], "another hook"):
        with pytest.raises(RefusedError, match="locked by .*gave up waiting") as e:
            importer.import_paths([str(download)], PlanOptions(unmatched="parsed", dest=str(lib), action="hardlink"), offline=True,
                                  lock_wait=0)
    assert "import lock wait" in e.value.hint
    assert not lib.exists() or _filed(lib) == []


def test_a_missing_download_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="nothing to import"):
        importer.import_paths([str(tmp_path / "nope")], PlanOptions(unmatched="parsed", dest=str(tmp_path / "A"), action="hardlink"))
