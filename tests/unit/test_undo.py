"""Undo reverses a run newest-first, touching only files that are still the ones it put there; resume finishes one."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from anivault import fileops
from anivault.cli import cli
from anivault.errors import AniVaultError, RefusedError
from anivault.journal import Journal, find_op, journal_dir
from anivault.organize import PlanOptions, apply_plan, plan_organize, write_plan
from anivault.undo import resume, settle, undo
from organize_support import episode, manifest, record, write


def setup(tmp_path: Path, n: int = 4, **options):
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = []
    for i in range(1, n + 1):
        records.append(episode(src / "rel", f"[G] Show - {i:02}.mkv", "Show", i, os.urandom(1000 + i)))
        records.append(record(write(src / "rel" / f"[G] Show - {i:02}.en.ass", f"sub {i}")))
    plan = plan_organize(records, PlanOptions(dest=str(dst), windows=False, sources=(str(src),), **options))
    return plan, src, dst


@pytest.mark.parametrize("action", ["move", "copy", "hardlink", "symlink"])
def test_undo_restores_every_file_and_removes_created_folders(tmp_path: Path, action: str) -> None:
    plan, src, dst = setup(tmp_path, action=action)
    before = manifest(src)
    apply_plan(plan, prune_empty=True)
    report = undo(None)
    assert report.undone == 8 and not report.kept
    assert manifest(src) == before
    assert not dst.exists() or not any(dst.iterdir())


def test_undo_leaves_changed_files_alone_and_reports_them(tmp_path: Path) -> None:
    plan, src, dst = setup(tmp_path)
    apply_plan(plan)
    edited = plan.entries[0].dst
    with open(edited, "ab") as f:
        f.write(b"user edit")
    replaced = plan.entries[2].dst
    os.unlink(replaced)
    write(Path(replaced), b"something else entirely")
    report = undo(None)
    assert {p for p, _ in report.kept} == {edited, replaced}
    assert all("changed since" in why for _, why in report.kept)
    assert open(edited, "rb").read().endswith(b"user edit")  # untouched
    assert report.undone == 6
    assert find_op(None).status == "partly undone"


def test_undo_never_overwrites_a_file_now_at_the_original_place(tmp_path: Path) -> None:
    plan, src, dst = setup(tmp_path)
    apply_plan(plan)
    squatter = write(Path(plan.entries[1].src), b"new file with the old name")
    report = undo(None)
    assert any("taken by another file" in why for _, why in report.kept)
    assert squatter.read_bytes() == b"new file with the old name"
    assert os.path.exists(plan.entries[1].dst)


def test_undo_twice_is_refused_and_a_partial_undo_can_be_finished(tmp_path: Path) -> None:
    plan, src, dst = setup(tmp_path)
    apply_plan(plan)
    undo(None)
    with pytest.raises(AniVaultError, match="already undone"):
        undo(None)


def test_undo_across_filesystems_copies_back(tmp_path: Path, monkeypatch) -> None:
    plan, src, dst = setup(tmp_path)
    before = manifest(src)
    apply_plan(plan)
    real_link = os.link

    def link(a, b, *args, **kw):
        if str(dst) in os.fspath(a) and str(src) in os.fspath(b):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_link(a, b, *args, **kw)

    monkeypatch.setattr(os, "link", link)
    assert undo(None).undone == 8
    assert manifest(src) == before


def test_unknown_and_ambiguous_operation_ids(tmp_path: Path) -> None:
    with pytest.raises(AniVaultError, match="no organize operation"):
        undo(None)
    plan, _, _ = setup(tmp_path)
    report = apply_plan(plan)
    with pytest.raises(AniVaultError, match="no operation matches"):
        undo("19990101")
    assert undo(report.op[:18]).undone == 8  # a unique prefix is enough


def _interrupt(plan, after: int, monkeypatch) -> None:
    """Apply ``plan`` but die (like SIGKILL) right after ``after`` file operations."""
    real = fileops.do_action
    count = [0]

    class Killed(BaseException):
        pass

    def dying(*args, **kwargs):
        if count[0] == after:
            raise Killed()
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(fileops, "do_action", dying)
    with pytest.raises(Killed):
        apply_plan(plan, batch=3)
    monkeypatch.setattr(fileops, "do_action", real)


def _mark_dead(monkeypatch) -> None:
    """The killed run's pid is this test's own: pretend it has exited."""
    monkeypatch.setattr("anivault.journal.holder_alive", lambda holder: False)


def test_an_interrupted_run_blocks_new_runs_until_resumed_or_rolled_back(tmp_path: Path, monkeypatch) -> None:
    plan, src, dst = setup(tmp_path)
    _interrupt(plan, 5, monkeypatch)
    _mark_dead(monkeypatch)
    with pytest.raises(RefusedError, match="interrupted") as info:
        apply_plan(plan)
    assert "--resume" in str(info.value) and "anivault undo" in str(info.value)
    report = resume(None)
    assert report.done == 8 and not report.failed
    for e in plan.entries:
        assert os.path.exists(e.dst) and not os.path.exists(e.src)
    assert find_op(None).status == "complete"


def test_rollback_of_an_interrupted_run_restores_everything(tmp_path: Path, monkeypatch) -> None:
    plan, src, dst = setup(tmp_path)
    before = manifest(src)
    _interrupt(plan, 4, monkeypatch)
    _mark_dead(monkeypatch)
    result = CliRunner().invoke(cli, ["organize", "--rollback"])
    assert result.exit_code == 0, result.output
    assert manifest(src) == before


def test_settle_finishes_a_move_killed_between_link_and_unlink(tmp_path: Path) -> None:
    src = write(tmp_path / "a.mkv", b"x" * 10)
    dst = tmp_path / "out" / "b.mkv"
    dst.parent.mkdir()
    os.link(src, dst)
    st = os.stat(src)
    intent = {"a": "move", "src": str(src), "dst": str(dst), "tmp": str(tmp_path / "out" / ".t.part"),
              "size": st.st_size, "mtime_ns": st.st_mtime_ns, "fp": fileops.fingerprint(str(src), st.st_size)}
    assert settle(intent) is True
    assert not src.exists() and dst.read_bytes() == b"x" * 10


def test_settle_discards_a_half_copy(tmp_path: Path) -> None:
    src = write(tmp_path / "a.mkv", b"x" * 1000)
    tmp = write(tmp_path / "out" / ".anivault-x-1.part", b"x" * 10)
    st = os.stat(src)
    intent = {"a": "copy", "src": str(src), "dst": str(tmp_path / "out" / "b.mkv"), "tmp": str(tmp),
              "size": st.st_size, "mtime_ns": st.st_mtime_ns, "fp": fileops.fingerprint(str(src), st.st_size)}
    assert settle(intent) is False
    assert not tmp.exists() and not (tmp_path / "out" / "b.mkv").exists() and src.exists()


def test_settle_does_not_claim_someone_elses_file(tmp_path: Path) -> None:
    src = write(tmp_path / "a.mkv", b"mine" * 100)
    dst = write(tmp_path / "out" / "b.mkv", b"theirs")
    st = os.stat(src)
    intent = {"a": "move", "src": str(src), "dst": str(dst), "tmp": "", "size": st.st_size,
              "mtime_ns": st.st_mtime_ns, "fp": fileops.fingerprint(str(src), st.st_size)}
    assert settle(intent) is False
    assert src.exists() and dst.read_bytes() == b"theirs"


def test_from_plan_refuses_sources_changed_since_planning(tmp_path: Path) -> None:
    plan, src, dst = setup(tmp_path)
    path = tmp_path / "plan.jsonl"
    write_plan(plan, str(path))
    with open(plan.entries[0].src, "ab") as f:
        f.write(b"changed")
    result = CliRunner().invoke(cli, ["organize", "--from-plan", str(path), "--apply", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]
    assert summary["apply"]["done"] == 7 and summary["apply"]["failed"] == 1
    assert "source changed since planning" in result.stderr
    assert os.path.exists(plan.entries[0].src)


def test_undo_cli_needs_an_operation(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["undo"])
    assert result.exit_code == 2 and "OPERATION_ID or --last" in result.stderr
