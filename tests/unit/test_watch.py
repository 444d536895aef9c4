"""watch: a growing file is imported once, after it is complete; restarts do not re-import; stops cleanly."""
from __future__ import annotations

import os
import queue
import threading

from anivault import importer, watch
from anivault.organize import PlanOptions
from memory_support import assert_flat

NAME = "[Group] Frieren - 0{n} [1080p].mkv"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """An import_batch that records its batches (and can fail once)."""

    def __init__(self, fail: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    def __call__(self, paths):
        if self.fail:
            self.fail -= 1
            raise OSError("disk went away")
        self.batches.append([(p, open(p, "rb").read()) for p in paths])
        return None


def _watcher(tmp_path, recorder, **kw):
    src = tmp_path / "incoming"
    src.mkdir(exist_ok=True)
    clock = Clock()
    events: list[dict] = []
    w = watch.Watcher([str(src)], recorder, settle=5.0, batch=1.0, clock=clock, on_event=events.append, **kw)
    return w, src, clock, events


def _tick(w, clock, seconds, path=None):
    clock.now += seconds
    if path is not None:
        w.touch(str(path))
    w.step()


def test_a_growing_file_is_imported_once_after_it_is_complete(tmp_path):
    rec = Recorder()
    w, src, clock, events = _watcher(tmp_path, rec)
    path = src / NAME.format(n=1)
    for chunk in range(6):  # a download writing for 6 x 3 s: never stable for the 5 s settle time
        with open(path, "ab") as f:
            f.write(bytes([chunk]) * 1000)
        os.utime(path, ns=(chunk, chunk * 1_000_000_000))
        _tick(w, clock, 3, path)
    assert rec.batches == []
    for _ in range(4):  # complete: stable for 6 s, then the 1 s burst window
        _tick(w, clock, 2)
    for _ in range(5):  # later events for the same, unchanged file
        _tick(w, clock, 10, path)
    assert len(rec.batches) == 1
    (filed_path, content), = rec.batches[0]
    assert filed_path == str(path) and len(content) == 6000
    assert [e["event"] for e in events].count("ready") == 1


def test_temporary_download_names_wait_for_the_rename(tmp_path):
    rec = Recorder()
    w, src, clock, _ = _watcher(tmp_path, rec)
    for suffix in (".part", ".!qB", ".crdownload"):
        part = src / (NAME.format(n=1) + suffix)
        part.write_bytes(b"x" * 100)
        _tick(w, clock, 10, part)
        _tick(w, clock, 10)
        assert rec.batches == []
        part.unlink()
    final = src / NAME.format(n=1)
    final.write_bytes(b"y" * 100)
    _tick(w, clock, 1, final)
    _tick(w, clock, 10)
    _tick(w, clock, 2)
    assert [[p for p, _ in b] for b in rec.batches] == [[str(final)]]


def test_a_burst_of_files_is_one_batch(tmp_path):
    rec = Recorder()
    w, src, clock, _ = _watcher(tmp_path, rec)
    for n in range(1, 6):
        (src / NAME.format(n=n)).write_bytes(b"z" * n)
        _tick(w, clock, 0.5, src / NAME.format(n=n))
    for _ in range(10):
        _tick(w, clock, 1)
    assert len(rec.batches) == 1 and len(rec.batches[0]) == 5


def test_a_failed_batch_is_retried_later_not_lost(tmp_path):
    rec = Recorder(fail=1)
    w, src, clock, events = _watcher(tmp_path, rec, retry=30.0)
    path = src / NAME.format(n=1)
    path.write_bytes(b"a" * 10)
    _tick(w, clock, 0, path)
    for _ in range(4):
        _tick(w, clock, 3)
    assert rec.batches == [] and events[-1]["event"] == "error" and "disk went away" in events[-1]["error"]
    for _ in range(15):
        _tick(w, clock, 3)
    assert len(rec.batches) == 1


def test_restart_recognises_imported_files_through_the_journal(tmp_path):
    src = tmp_path / "incoming"
    src.mkdir()
    path = src / NAME.format(n=1)
    path.write_bytes(os.urandom(3000))
    options = PlanOptions(unmatched="parsed", dest=str(tmp_path / "Anime"), action="hardlink")
    done = importer.import_paths([str(path)], options, offline=True)
    assert done.applied.done == 1
    assert dict(watch.imported_from([str(src)]).items()) == {str(path): (path.stat().st_size, path.stat().st_mtime_ns)}
    rec = Recorder()
    w, _, clock, _ = _watcher(tmp_path, rec)
    w._done = watch.imported_from(w.sources)  # what run() loads at start
    w.touch(str(src), folder=True)  # the start-up sweep
    for _ in range(10):
        _tick(w, clock, 2)
    assert rec.batches == []
    os.utime(path, ns=(1, 1))  # the same name, changed since: a new file to import
    _tick(w, clock, 1, path)
    for _ in range(10):
        _tick(w, clock, 2)
    assert len(rec.batches) == 1


def test_ignored_names():
    assert watch.ignored("/x/a.mkv.part") and watch.ignored("/x/a.mkv.!qB") and watch.ignored("/x/a.crdownload")
    assert watch.ignored("/x/.anivault-abc-1.part") and not watch.ignored("/x/a.mkv")


def test_watching_for_real_imports_a_download_once_and_stops_cleanly(tmp_path):
    """Real watchdog events and the real importer: the file is filed once, complete."""
    src, lib = tmp_path / "incoming", tmp_path / "Anime"
    src.mkdir()
    events: queue.Queue = queue.Queue()
    options = PlanOptions(unmatched="parsed", dest=str(lib), action="hardlink")
    w = watch.Watcher([str(src)], lambda paths: importer.import_paths(paths, options, offline=True),
                      settle=0.3, batch=0.1, on_event=events.put)
    runner = threading.Thread(target=w.run)
    runner.start()
    try:
        assert _next(events, "start")
        part = src / (NAME.format(n=1) + ".part")
        data = os.urandom(1 << 20)
        with open(part, "wb") as f:  # written in pieces, then renamed by the client
            for i in range(0, len(data), 1 << 16):
                f.write(data[i:i + (1 << 16)])
                f.flush()
        os.rename(part, src / NAME.format(n=1))
        imported = _next(events, "imported")
        assert imported["applied"]["done"] == 1
    finally:
        w.stop()
        runner.join(30)
    assert not runner.is_alive()
    filed = [os.path.join(d, f) for d, _, fs in os.walk(lib) for f in fs]
    assert len(filed) == 1 and open(filed[0], "rb").read() == data
    rest = []
    while not events.empty():
        rest.append(events.get()["event"])
    assert "imported" not in rest and rest[-1] == "stop"


def _next(events: queue.Queue, name: str) -> dict:
    while True:
        event = events.get(timeout=60)
        if event["event"] == name:
            return event
        assert event["event"] != "error", event


def _seeded(root, files):
    """``files`` files in ``root/incoming`` that a journaled hardlink run already imported (written
    directly: thousands in a second), so a restarted watcher must recognise every one."""
    import gc

    from anivault import fileops
    from anivault.journal import Journal, journal_dir, new_op_id

    src = root / "incoming"
    op = new_op_id()
    begin = {"t": "begin", "v": 1, "op": op, "action": "hardlink", "dest": str(root / "lib"),
             "sources": [str(src)], "entries": files, "pid": 0, "host": "elsewhere",
             "started": "2026-01-01T00:00:00Z"}
    with Journal(os.path.join(journal_dir(), f"{op}.jsonl"), begin=begin) as journal:
        for i in range(files):
            folder = src / f"Show {i // 50}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"[G] Show {i // 50} - {i % 50 + 1:02}.mkv"
            path.touch()
            st = os.lstat(path)
            journal.write({"t": "do", "i": i, "a": "hardlink", "src": str(path), "dst": str(root / "lib" / str(i)),
                           "tmp": "", "size": 0, "fp": fileops.fingerprint(str(path), 0),
                           **fileops.metadata_record(st)})
            journal.write_raw(f'{{"t":"ok","i":{i}}}')
        journal.write({"t": "end", "status": "complete", "done": files, "failed": 0})
    gc.collect()
    return src


def _restart_peak(root, files):
    """Peak bytes traced while a restarted watcher loads what was imported and sweeps ``files`` files."""
    import tracemalloc

    src = _seeded(root, files)
    rec, clock, events = Recorder(), Clock(), []
    tracemalloc.start()
    try:
        w = watch.Watcher([str(src)], rec, settle=5.0, batch=1.0, clock=clock, on_event=events.append)
        w._done = watch.imported_from(w.sources)  # what run() loads at start
        w.touch(str(src), folder=True)  # the start-up sweep
        while w._sweeps:
            _tick(w, clock, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(w._done) == files and rec.batches == [] and not w._pending
    w._done.close()
    return peak


def test_a_restarted_watcher_streams_what_it_already_imported(tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "SWEEP_PER_TICK", 500)
    assert_flat(_restart_peak, tmp_path, 5_000, 20_000, "restarting over")


def test_a_huge_drop_is_imported_in_bounded_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "MAX_WAITING", 30)
    monkeypatch.setattr(watch, "MAX_BATCH", 20)
    monkeypatch.setattr(watch, "SWEEP_PER_TICK", 25)
    rec = Recorder()
    w, src, clock, _ = _watcher(tmp_path, rec)
    for i in range(70):
        (src / f"[G] Show - {i:02}.mkv").write_bytes(b"x")
    w.touch(str(src), folder=True)
    for _ in range(40):
        _tick(w, clock, 3)
        assert len(w._pending) + len(w._ready) <= 30
    assert sorted(len(b) for b in rec.batches)[-1] <= 20
    assert sorted(p for b in rec.batches for p, _ in b) == sorted(str(p) for p in src.iterdir())
