"""Applying a plan: every action, never an overwrite, and the failures a real disk throws at it."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from anivault import fileops
from anivault.journal import journal_dir, load
from anivault.fileops import file_hash
from anivault.organize import PlanOptions, apply_plan, plan_organize
from organize_support import episode, manifest, record, write


def library(src: Path, n: int = 3) -> list:
    records = []
    for i in range(1, n + 1):
        records.append(episode(src, f"[G] Show - {i:02}.mkv", "Show", i, os.urandom(3000 + i)))
        records.append(record(write(src / f"[G] Show - {i:02}.en.ass", f"sub {i}")))
    return records


def plan_for(tmp_path: Path, n: int = 3, **options):
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = library(src, n)
    return plan_organize(records, PlanOptions(dest=str(dst), windows=False, sources=(str(src),), **options)), src, dst


def cross_device(real, source_root: Path):
    """``real`` (os.link/os.rename), failing with EXDEV from under ``source_root`` to anywhere else."""
    def call(a, b, *args, **kwargs):
        inside = [os.fspath(p).startswith(str(source_root)) for p in (a, b)]
        if inside[0] != inside[1]:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(a, b, *args, **kwargs)
    return call


@pytest.mark.parametrize("action", ["move", "copy", "hardlink", "symlink"])
def test_every_action_puts_files_in_place(tmp_path: Path, action: str) -> None:
    plan, src, dst = plan_for(tmp_path, action=action)
    before = {e.dst: file_hash(e.src) for e in plan.entries}
    report = apply_plan(plan)
    assert report.done == 6 and not report.failed
    for e in plan.entries:
        assert file_hash(e.dst) == before[e.dst]
        assert os.path.exists(e.src) == (action != "move")
        if action == "symlink":
            assert os.readlink(e.dst) == e.src
        if action == "hardlink":
            assert os.path.samefile(e.src, e.dst)


def test_intents_are_durable_before_any_file_is_touched(tmp_path: Path, monkeypatch) -> None:
    plan, _, _ = plan_for(tmp_path, n=4)
    real = fileops.do_action
    seen = []

    def checked(action, src, dst, tmp, mtime_ns=None):
        (path,) = [p for p in Path(journal_dir()).glob("*.jsonl") if not p.name.endswith(".plan.jsonl")]
        on_disk = [json.loads(line) for line in path.read_text().splitlines()]
        assert any(r.get("t") == "do" and r["src"] == src and r["dst"] == dst for r in on_disk)
        seen.append(src)
        return real(action, src, dst, tmp, mtime_ns)

    monkeypatch.setattr(fileops, "do_action", checked)
    report = apply_plan(plan, batch=3)
    assert report.done == 8 and len(seen) == 8


def test_group_commit_batches_fsyncs(tmp_path: Path, monkeypatch) -> None:
    plan, _, _ = plan_for(tmp_path, n=10)
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    apply_plan(plan, batch=100)
    assert len(calls) < 10  # 20 files, a handful of commits: not one fsync per file


def test_cross_filesystem_move_copies_verifies_then_deletes(tmp_path: Path, monkeypatch) -> None:
    plan, src, dst = plan_for(tmp_path)
    before = {e.dst: file_hash(e.src) for e in plan.entries}

    monkeypatch.setattr(os, "link", cross_device(os.link, src))
    monkeypatch.setattr(os, "rename", cross_device(os.rename, src))
    report = apply_plan(plan)
    assert report.done == 6 and not report.failed
    for e in plan.entries:
        assert not os.path.exists(e.src)
        assert file_hash(e.dst) == before[e.dst]
    state = load(str(next(p for p in Path(journal_dir()).glob("*.jsonl") if ".plan." not in p.name)))
    with state:  # copies record their full xxh3
        assert state.counts.done == 6 and all(state.entry(i).detail for i, _ in state.placed())
    assert not list(dst.rglob("*.part"))


def test_full_disk_during_a_copy_stops_the_run_and_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    plan, src, dst = plan_for(tmp_path, action="copy")
    before = manifest(src)
    written = []

    def enospc(f, data):
        if len(written) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        f.write(data)

    monkeypatch.setattr(fileops, "_write_chunk", enospc)
    report = apply_plan(plan, batch=100)
    assert report.aborted.startswith("disk full")
    assert report.done == 2
    assert manifest(src) == before  # sources untouched
    assert not list(dst.rglob("*.part"))  # no half copy anywhere
    assert all(file_hash(e.dst) == file_hash(e.src) for e in plan.entries if os.path.exists(e.dst))


def test_resume_after_a_full_disk_retries_the_file_that_hit_it(tmp_path: Path, monkeypatch) -> None:
    from anivault.undo import resume

    plan, src, dst = plan_for(tmp_path, action="copy")
    real, written = fileops._write_chunk, []

    def enospc(f, data):
        if len(written) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(len(data))
        real(f, data)

    monkeypatch.setattr(fileops, "_write_chunk", enospc)
    first = apply_plan(plan, batch=100)
    assert first.aborted and any(why.startswith("disk full") for _, why in first.failed)
    monkeypatch.setattr(fileops, "_write_chunk", real)  # room again
    report = resume(first.op)
    assert report.failed_count == 0 and report.done == len(plan.entries)
    assert all(file_hash(e.dst) == file_hash(e.src) for e in plan.entries)


def test_permission_denied_source_is_reported_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    plan, src, dst = plan_for(tmp_path)
    locked = plan.entries[0].src
    real_unlink = os.unlink

    def unlink(path, *a, **k):
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_unlink(path, *a, **k)

    monkeypatch.setattr(os, "unlink", unlink)
    report = apply_plan(plan)
    assert [src for src, _ in report.failed] == [locked]
    assert "Permission denied" in report.failed[0][1]
    assert os.path.exists(locked) and not os.path.exists(plan.entries[0].dst)  # one copy, where it was
    assert report.done == 5


def test_unreadable_source_is_reported_whoever_runs_it(tmp_path: Path, monkeypatch) -> None:
    plan, _, _ = plan_for(tmp_path)
    denied = plan.entries[1].src
    real = fileops.fingerprint

    def fingerprint(path, size):
        if path == denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path, size)

    monkeypatch.setattr(fileops, "fingerprint", fingerprint)
    report = apply_plan(plan)
    assert report.failed == [(denied, "cannot read source: Permission denied")]
    assert os.path.exists(denied) and report.done == 5


def test_sources_that_vanish_or_change_after_planning_are_refused(tmp_path: Path) -> None:
    plan, src, dst = plan_for(tmp_path)
    gone, changed = plan.entries[0].src, plan.entries[2].src
    os.unlink(gone)
    with open(changed, "ab") as f:
        f.write(b"edited")
    before = file_hash(changed)
    report = apply_plan(plan)
    reasons = dict(report.failed)
    assert reasons == {gone: "source vanished since planning", changed: "source changed since planning"}
    assert file_hash(changed) == before and report.done == 4


def test_a_destination_that_appears_after_planning_is_never_overwritten(tmp_path: Path) -> None:
    plan, src, dst = plan_for(tmp_path)
    intruder = write(Path(plan.entries[0].dst), b"someone else's file")
    report = apply_plan(plan)
    # The path that failed is the destination (the source is fine, and still where it was).
    assert dict(report.failed) == {plan.entries[0].dst: "destination appeared since planning"}
    assert intruder.read_bytes() == b"someone else's file"
    assert os.path.exists(plan.entries[0].src)


def test_prune_empty_removes_only_emptied_source_folders(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = [episode(src / "Show" / "S1", "[G] Show - 01.mkv", "Show", 1),
               episode(src / "Keep", "[G] Keep - 01.mkv", "Keep", 1)]
    write(src / "Keep" / "notes.txt", "mine")
    plan = plan_organize(records, PlanOptions(dest=str(dst), windows=False, sources=(str(src),)))
    report = apply_plan(plan, prune_empty=True)
    assert report.pruned == 2
    assert not (src / "Show").exists() and (src / "Keep" / "notes.txt").exists() and src.is_dir()


def test_without_prune_empty_folders_stay(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    plan = plan_organize([episode(src / "Show", "[G] Show - 01.mkv", "Show", 1)],
                         PlanOptions(dest=str(dst), windows=False, sources=(str(src),)))
    apply_plan(plan)
    assert (src / "Show").is_dir()


def test_nothing_is_lost_across_apply(tmp_path: Path) -> None:
    plan, src, dst = plan_for(tmp_path, n=5)
    before = sorted(manifest(src).values())
    apply_plan(plan)
    assert sorted(manifest(src, dst).values()) == before


def test_a_source_replaced_by_a_symlink_is_refused(tmp_path: Path) -> None:
    plan, src, dst = plan_for(tmp_path)
    victim = plan.entries[0].src
    os.rename(victim, victim + ".real")
    os.symlink(victim + ".real", victim)
    report = apply_plan(plan)
    assert dict(report.failed) == {victim: "source is not a regular file"}
    assert os.path.islink(victim) and not os.path.lexists(plan.entries[0].dst)


def _prune_by_passes(moved_from: set[str], root: str) -> int:
    """The rule, spelled out as repeated passes (the old implementation): remove every empty folder
    moved from, then every parent that leaves empty, until none is; never ``root`` or above it."""
    def inside(path: str) -> bool:
        return path != root and path.startswith(root + os.sep)

    removed, candidates = 0, {d for d in moved_from if inside(d)}
    while candidates:
        parents = set()
        for d in sorted(candidates, key=len, reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                continue
            removed += 1
            if inside(os.path.dirname(d)):
                parents.add(os.path.dirname(d))
        candidates = parents
    return removed


@pytest.mark.parametrize("seed", range(40))
def test_prune_in_one_pass_removes_what_repeated_passes_remove(tmp_path: Path, seed: int) -> None:
    import random
    import shutil

    from anivault.organize.prune import MovedFrom, prune

    class Journal:
        def write(self, record: dict) -> None:
            pass

        def commit(self) -> None:
            pass

    rng = random.Random(seed)
    a = tmp_path / "a" / "src"
    folders = [str(a)]
    for _ in range(rng.randint(1, 40)):  # names that sort between a folder and its children ("a-b", "a b")
        folder = os.path.join(rng.choice(folders), rng.choice(["a", "b", "a-b", "a b", "ä", "a.b"]) + str(rng.randint(0, 3)))
        os.makedirs(folder, exist_ok=True)
        folders.append(folder)
    folders = sorted(set(folders))
    for folder in rng.sample(folders, rng.randint(0, len(folders) // 3)):
        Path(folder, "kept.txt").touch()
    b = tmp_path / "b" / "src"
    shutil.copytree(a, b)
    moved_from = rng.sample(folders, rng.randint(0, len(folders)))
    expected = _prune_by_passes(set(moved_from), str(a))
    moved, removed = MovedFrom(), []
    moved.add_all(f.replace(str(a), str(b), 1) for f in moved_from)
    prune(moved, [str(b)], Journal(), lambda: removed.append(1))
    moved.close()
    listing = [sorted(os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root)
                      for n in dirs + files) for root in (a, b)]
    assert listing[0] == listing[1] and len(removed) == expected
