"""Undo reverses a run newest-first, touching only files that are still the ones it put there; resume finishes one."""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from anivault import fileops
from anivault.cli import cli
from anivault.errors import AniVaultError, RefusedError
from anivault.journal import find_op
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
    report = apply_plan(plan)
    undo(None)
    with pytest.raises(AniVaultError, match="already undone"):
        undo(report.op)
    with pytest.raises(AniVaultError, match="no organize operation left to undo"):
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


def _half_move(src: Path, out: Path) -> tuple[Path, dict]:
    """A move killed between link and unlink: the file under both names, and its journal intent."""
    dst = out / "b.mkv"
    out.mkdir()
    os.link(src, dst)
    st = os.stat(src)
    return dst, {"a": "move", "src": str(src), "dst": str(dst), "tmp": str(out / ".t.part"),
                 "size": st.st_size, "mtime_ns": st.st_mtime_ns, "fp": fileops.fingerprint(str(src), st.st_size)}


def test_settle_finishes_a_move_killed_between_link_and_unlink(tmp_path: Path) -> None:
    src = write(tmp_path / "a.mkv", b"x" * 10)
    dst, intent = _half_move(src, tmp_path / "out")
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
    write_plan(plan, str(path), fingerprints=True)
    with open(plan.entries[0].src, "ab") as f:
        f.write(b"changed")
    # A saved plan is checked whole before anything moves (issue 13): refused, exit 2.
    result = CliRunner().invoke(cli, ["organize", "--from-plan", str(path), "--apply", "--json"])
    assert result.exit_code == 2, result.output
    assert "changed since the plan was made" in result.stderr
    assert all(os.path.exists(e.src) for e in plan.entries)


def test_undo_cli_needs_an_operation(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["undo"])
    assert result.exit_code == 2 and "OPERATION_ID or --last" in result.stderr


# ---------------------------------------------------------------- crashes in resume, honest undo


def test_undo_after_a_resume_killed_midway_puts_every_file_back(tmp_path: Path, monkeypatch) -> None:
    """A resume retries entries an earlier record called failed; killed, its moves are undone too."""
    plan, src, dst = setup(tmp_path, n=6)
    before = manifest(src)
    _killed_after(lambda: apply_plan(plan, batch=3), 4, monkeypatch)
    _killed_after(lambda: resume(None, batch=3), 2, monkeypatch)
    report = undo(None)
    assert not report.kept and report.complete
    assert manifest(src) == before
    assert not dst.exists() or not [p for p in dst.rglob("*") if p.is_file()]
    assert find_op(None).status == "undone"


def _killed_after(call, after: int, monkeypatch) -> None:
    """Run ``call`` in a forked child that ends like SIGKILL (no cleanup, buffered records lost)
    right after ``after`` file operations."""
    real = fileops.do_action
    count = [0]

    def dying(*args, **kwargs):
        if count[0] == after:
            os._exit(0)
        count[0] += 1
        return real(*args, **kwargs)

    pid = os.fork()
    if pid == 0:
        try:
            monkeypatch.setattr(fileops, "do_action", dying)
            call()
        finally:
            os._exit(1)  # not killed: the call ended before the given step
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child was not killed where asked"


def test_undo_exits_1_naming_what_it_could_not_restore(tmp_path: Path) -> None:
    plan, src, dst = setup(tmp_path)
    apply_plan(plan)
    with open(plan.entries[0].dst, "ab") as f:
        f.write(b"user edit")
    result = CliRunner().invoke(cli, ["undo", "--last"])
    assert result.exit_code == 1
    assert f"left alone: {plan.entries[0].dst} changed since it was moved" in result.stderr
    assert "1 files were not restored" in result.stderr and "partly undone" in result.stderr
    assert find_op(None).status == "partly undone"
    os.truncate(plan.entries[0].dst, plan.entries[0].size)  # the edit taken back: undo can finish
    os.utime(plan.entries[0].dst, ns=(plan.entries[0].mtime_ns, plan.entries[0].mtime_ns))
    again = CliRunner().invoke(cli, ["undo", "--last"])
    assert again.exit_code == 0, again.output
    assert find_op(None).status == "undone"


def test_undo_names_the_first_files_left_alone_and_counts_them_all(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("anivault.undo.KEPT_NAMED", 2)  # a report stays small however many are left
    plan, src, dst = setup(tmp_path)
    apply_plan(plan)
    for i in (0, 2, 4):
        with open(plan.entries[i].dst, "ab") as f:
            f.write(b"user edit")
    report = undo(None)
    assert (report.kept_count, len(report.kept), report.undone) == (3, 2, 5)
    assert report.to_dict()["kept"] == 3 and not report.complete
    assert find_op(None).status == "partly undone"


def test_a_half_move_out_of_a_read_only_folder_is_taken_back(tmp_path: Path, monkeypatch) -> None:
    """Killed between link and unlink, and the source folder refuses the unlink (0555 for an ordinary
    user): settling removes the new name instead, so undo and later runs are not blocked."""
    src = write(tmp_path / "ro" / "a.mkv", b"x" * 10)
    dst, intent = _half_move(src, tmp_path / "out")
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if os.fspath(path) == str(src):
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    assert settle(intent) is False
    assert src.read_bytes() == b"x" * 10 and not dst.exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_killed_run_in_a_read_only_folder_settles_as_an_ordinary_user() -> None:
    """The same for real: a 0555 folder, settled by 'nobody' when the tests run as root."""
    from unprivileged import check_as_nobody

    base = Path(tempfile.mkdtemp())
    try:
        os.chmod(base, 0o755)
        src = write(base / "ro" / "a.mkv", b"x" * 10)
        dst = base / "out" / "b.mkv"
        dst.parent.mkdir()
        os.chmod(dst.parent, 0o777)
        os.link(src, dst)
        st = os.stat(src)
        intent = {"a": "move", "src": str(src), "dst": str(dst), "tmp": str(base / "out" / ".t.part"),
                  "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                  "fp": fileops.fingerprint(str(src), st.st_size)}
        os.chmod(base / "ro", 0o555)
        check_as_nobody(lambda: settle(intent) is False and not dst.exists())
        assert src.read_bytes() == b"x" * 10 and not dst.exists()
    finally:
        os.chmod(base / "ro", 0o755)
        shutil.rmtree(base)


# ---------------------------------------------------------------- metadata kept


XATTRS = hasattr(os, "setxattr")


def _dress(path: Path, mode: int) -> None:
    """Give a file or folder metadata a naive copy would lose: mode, owner (as root), mtime, an xattr."""
    if os.geteuid() == 0:
        os.chown(path, 1234, 4321)
    os.chmod(path, mode)
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_500_000_000_123_456_789))
    if XATTRS:
        os.setxattr(path, "user.anivault.test", b"kept")


def _metadata(path: Path, times: bool = True) -> tuple:
    st = os.stat(path)
    xattr = os.getxattr(path, "user.anivault.test") if XATTRS else None
    return (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid, st.st_mtime_ns if times else None, xattr)


def _exdev_between(monkeypatch, a: Path, b: Path) -> None:
    """os.link/os.rename between trees ``a`` and ``b`` fail as across filesystems (EXDEV)."""
    for name in ("link", "rename"):
        real = getattr(os, name)

        def crossing(x, y, *args, _real=real, **kwargs):
            x, y = os.fspath(x), os.fspath(y)
            if {x.startswith(str(a)), y.startswith(str(a))} == {True, False} and \
                    (x.startswith(str(b)) or y.startswith(str(b))):
                raise OSError(errno.EXDEV, "Invalid cross-device link", x)
            return _real(x, y, *args, **kwargs)

        monkeypatch.setattr(os, name, crossing)


def _dressed_library(tmp_path: Path, dst: Path):
    src = tmp_path / "in"
    records = [episode(src / "rel", f"[G] Show - {i:02}.mkv", "Show", i, os.urandom(3000 + i)) for i in (1, 2)]
    for r, mode in zip(records, (0o600, 0o640)):
        _dress(Path(r.path), mode)
    _dress(src / "rel", 0o750)
    records = [record(r.path, title="Show", episode=i) for i, r in enumerate(records, 1)]
    return src, records


def _check_metadata_survives_a_move_and_its_undo(src: Path, dst: Path, records, action: str = "move") -> None:
    before = {r.path: _metadata(Path(r.path)) for r in records}
    folder = _metadata(src / "rel")
    plan = plan_organize(records, PlanOptions(dest=str(dst), windows=False, sources=(str(src),), action=action))
    report = apply_plan(plan, prune_empty=True)
    assert report.done == 2 and not report.failed
    for entry in plan.entries:
        assert _metadata(Path(entry.dst)) == before[entry.src], entry.dst
    if action == "move":
        assert not (src / "rel").exists()  # pruned: undo must recreate it as it was
    assert undo(None).complete
    for path, meta in before.items():
        assert _metadata(Path(path)) == meta, path
    assert _metadata(src / "rel", times=False) == folder[:3] + (None,) + folder[4:]


def test_metadata_survives_a_cross_filesystem_move_and_its_undo(tmp_path: Path, monkeypatch) -> None:
    dst = tmp_path / "lib"
    src, records = _dressed_library(tmp_path, dst)
    _exdev_between(monkeypatch, src, dst)
    _check_metadata_survives_a_move_and_its_undo(src, dst, records)


def test_a_copy_keeps_its_sources_mode_owner_times_and_xattrs(tmp_path: Path) -> None:
    dst = tmp_path / "lib"
    src, records = _dressed_library(tmp_path, dst)
    _check_metadata_survives_a_move_and_its_undo(src, dst, records, action="copy")


@pytest.mark.skipif(os.name != "posix", reason="POSIX mounts")
def test_metadata_survives_a_move_to_a_real_second_filesystem_and_its_undo(tmp_path: Path) -> None:
    """The destination on a tmpfs mount: the kernel's own EXDEV (needs root; skipped only when the
    mount is not permitted)."""
    from filesystems import other_filesystem, tmpfs

    with tmpfs() as mount:
        if mount is None:
            pytest.skip("mounting a tmpfs is not permitted here (not root)")
        dst = mount / "lib"
        src, records = _dressed_library(tmp_path, dst)
        dst.mkdir()
        assert other_filesystem(dst, src)
        _check_metadata_survives_a_move_and_its_undo(src, dst, records)


def test_ctrl_c_during_a_copy_leaves_no_temporary_file_and_undo_restores(tmp_path: Path, monkeypatch) -> None:
    import signal

    plan, src, dst = setup(tmp_path, action="copy")
    before = manifest(src)
    real = fileops._write_chunk
    calls, deferred = [0], []

    def interrupted(f, data):
        calls[0] += 1
        if calls[0] == 3:  # mid-run, inside a copy: like pressing Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)
            deferred.append(True)  # not raised here, in the middle of a step: at its next safe point
        real(f, data)

    monkeypatch.setattr(fileops, "_write_chunk", interrupted)
    # A process started in the background (CI, `cmd &`) may begin with SIGINT ignored: give it
    # Python's own handler for this test, as a terminal would, and put back what was there.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            apply_plan(plan, batch=3)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is given back
    finally:
        signal.signal(signal.SIGINT, previous)
    assert deferred and calls[0] == 3  # raised at the safe point right after that chunk
    assert not [p for p in dst.rglob("*") if p.name.startswith(".anivault-")]
    _mark_dead(monkeypatch)
    assert find_op(None).status == "interrupted"
    assert undo(None).complete
    assert manifest(src) == before and not [p for p in dst.rglob("*") if p.is_file()]
