"""Saved plans are checked before they run; failed files are counted and blamed on the right path."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from anivault.errors import UsageError
from anivault.journal import history
from anivault.organize import TODO, PlanOptions, apply_plan, plan_organize, read_plan, write_plan
from conftest import invoke
from organize_support import episode, write


def saved_plan(tmp_path: Path, n: int = 3) -> tuple[Path, Path, Path]:
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = [episode(src, f"[G] Show - {k:02}.mkv", "Show", k) for k in range(1, n + 1)]
    path = tmp_path / "plan.jsonl"
    write_plan(plan_organize(records, PlanOptions(dest=str(dst), windows=False)), str(path), fingerprints=True)
    return src, dst, path


def edit_plan(path: Path, change) -> None:
    header, *lines = path.read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    change(entries)
    path.write_text("\n".join([header, *(json.dumps(e) for e in entries)]) + "\n")


def test_a_saved_plan_records_source_fingerprints_and_verifies(tmp_path: Path) -> None:
    _, _, path = saved_plan(tmp_path)
    plan = read_plan(str(path), verify=True)
    assert all(e.fp for e in plan.entries if e.status == TODO)


@pytest.mark.parametrize("escape", ["../../outside.mkv", "/../../../tmp/outside.mkv"])
def test_an_edited_plan_pointing_outside_the_destination_is_refused(tmp_path: Path, escape: str) -> None:
    src, dst, path = saved_plan(tmp_path)

    def outside(entries):
        entries[0]["dst"] = str(dst) + "/" + escape if not escape.startswith("/") else str(dst) + escape

    edit_plan(path, outside)
    with pytest.raises(UsageError, match="outside"):
        read_plan(str(path), verify=True)
    result = invoke("organize", "--from-plan", str(path), "--apply")
    assert result.exit_code == 2 and "outside" in result.stderr
    assert len(list(src.iterdir())) == 3  # nothing moved


def test_a_symlinked_folder_leading_out_of_the_destination_is_refused(tmp_path: Path) -> None:
    src, dst, path = saved_plan(tmp_path)
    dst.mkdir()
    (dst / "escape").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    edit_plan(path, lambda entries: entries[0].update(dst=str(dst / "escape" / "x.mkv")))
    with pytest.raises(UsageError, match="outside"):
        read_plan(str(path), verify=True)


def test_a_source_changed_since_the_plan_is_refused(tmp_path: Path) -> None:
    src, _, path = saved_plan(tmp_path)
    victim = src / "[G] Show - 02.mkv"
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[0] ^= 0xFF  # same size, same mtime, other content
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(UsageError, match="changed since"):
        read_plan(str(path), verify=True)
    result = invoke("organize", "--from-plan", str(path), "--apply")
    assert result.exit_code == 2


def test_a_malformed_plan_entry_is_a_usage_error(tmp_path: Path) -> None:
    _, _, path = saved_plan(tmp_path)
    edit_plan(path, lambda entries: entries[0].update(size="big", status="whatever"))
    with pytest.raises(UsageError):
        read_plan(str(path), verify=True)


def test_an_unwritable_destination_fails_every_file_naming_the_destination(tmp_path: Path, monkeypatch) -> None:
    """The folder is made read-only, and (for a run as root, which writes there anyway) the kernel's
    answer is simulated too."""
    import errno

    real_makedirs = os.makedirs

    def denied(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path / "lib")):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_makedirs(path, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", denied)
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = [episode(src, f"[G] Show - {k:02}.mkv", "Show", k) for k in range(1, 4)]
    dst.mkdir()
    dst.chmod(0o555)
    try:
        plan = plan_organize(records, PlanOptions(dest=str(dst), windows=False))
        report = apply_plan(plan)
    finally:
        dst.chmod(0o755)
    assert (report.done, report.failed_count) == (0, 3)
    for path, why in report.failed:
        assert path.startswith(str(dst)) and "Permission denied" in why  # the destination, not the source
    (op,) = [h for h in history() if h["op"] == report.op]
    assert op["status"] == "finished with 3 failed"
    assert len(list(src.iterdir())) == 3


def test_failures_make_organize_exit_1_and_3_under_strict(tmp_path: Path, monkeypatch) -> None:
    import errno

    src, dst = tmp_path / "in", tmp_path / "lib"
    for k in (1, 2):
        episode(src, f"[G] Show - {k:02}.mkv", "Show", k)
        write(src / f"[G] Show - {k:02}.en.ass", "sub")
    real_makedirs = os.makedirs

    def denied(path, *args, **kwargs):
        if str(path).startswith(str(dst)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_makedirs(path, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", denied)
    args = ("organize", str(src), "--dest", str(dst), "--offline", "--unmatched", "parsed", "--apply")
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    assert str(dst) in result.stderr and "Permission denied" in result.stderr
    assert "4 files failed" in result.stderr
    assert invoke(*args, "--strict").exit_code == 3
