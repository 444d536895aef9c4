"""The journal (group commit, torn lines, history) and the destination lock."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from anivault.cli import cli
from anivault.errors import RefusedError
from anivault.journal import DestinationLock, Journal, history, load, new_op_id, read_records
from organize_support import episode


def test_records_are_buffered_until_commit(tmp_path: Path) -> None:
    path = str(tmp_path / "op.jsonl")
    with Journal(path, begin={"t": "begin", "op": "x"}) as journal:
        journal.write({"t": "do", "i": 0})
        assert journal.pending == 1
        assert [r["t"] for r in read_records(path)] == ["begin"]  # not on disk yet
        journal.commit()
        assert [r["t"] for r in read_records(path)] == ["begin", "do"]
    assert not os.path.exists(path + ".new")


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "op.jsonl"
    path.write_text('{"t":"begin"}\n{"t":"do","i":0}\n{"t":"ok","i"')
    assert [r["t"] for r in read_records(str(path))] == ["begin", "do"]
    assert load(str(path)).unsettled == [0]


def test_op_ids_sort_by_start_time() -> None:
    first = new_op_id()
    time.sleep(0.002)
    assert new_op_id() > first


def test_secrets_never_reach_the_journal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TMDB_API_KEY", "super-secret-key-123")
    src, dst = tmp_path / "in", tmp_path / "lib"
    episode(src, "[G] Show - 01.mkv", "Show", 1)
    result = CliRunner().invoke(cli, ["organize", str(src), "--dest", str(dst), "--apply", "--offline", "--unmatched", "parsed",
                                      "--plan", str(tmp_path / "plan.jsonl")])
    assert result.exit_code == 0, result.output
    data = Path(os.environ["ANIVAULT_DATA_DIR"])
    for f in [*data.rglob("*"), tmp_path / "plan.jsonl"]:
        if f.is_file():
            assert "super-secret-key-123" not in f.read_text(errors="replace"), f
    assert "super-secret-key-123" not in result.output


def test_history_lists_operations(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    episode(src, "[G] Show - 01.mkv", "Show", 1)
    runner = CliRunner()
    assert runner.invoke(cli, ["organize", str(src), "--dest", str(dst), "--apply", "--offline", "--unmatched", "parsed"]).exit_code == 0
    rows = history()
    assert len(rows) == 1 and rows[0]["status"] == "complete" and rows[0]["done"] == 1
    shown = runner.invoke(cli, ["history", "--json"])
    assert json.loads(shown.stdout.splitlines()[0])["op"] == rows[0]["op"]
    assert runner.invoke(cli, ["undo", "--last"]).exit_code == 0
    assert history()[0]["status"] == "undone"


# ---------------------------------------------------------------- the lock


def test_a_second_run_on_the_same_destination_exits_6_naming_the_holder(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    episode(src, "[G] Show - 01.mkv", "Show", 1)
    with DestinationLock([str(dst)], op="first"):
        result = CliRunner().invoke(cli, ["organize", str(src), "--dest", str(dst), "--apply", "--offline", "--unmatched", "parsed"])
    assert result.exit_code == 6
    assert f"locked by pid {os.getpid()} on {socket.gethostname()} since" in result.stderr
    assert "operation first" in result.stderr
    assert (src / "[G] Show - 01.mkv").exists()


def test_locks_are_per_destination(tmp_path: Path) -> None:
    with DestinationLock([str(tmp_path / "a")]):
        with DestinationLock([str(tmp_path / "b")]):
            pass
        with pytest.raises(RefusedError):
            DestinationLock([str(tmp_path / "a" / ".." / "a")]).acquire()


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_warning(tmp_path: Path) -> None:
    dest = str(tmp_path / "lib")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from anivault.journal import DestinationLock\n"
         f"DestinationLock([{dest!r}], op='doomed').acquire()\n"
         "print('locked', flush=True)\n"
         "time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(RefusedError, match=f"pid {holder.pid}"):
        DestinationLock([dest]).acquire()
    holder.kill()  # SIGKILL: the holder gets no chance to release
    holder.wait()
    warnings: list[str] = []
    with DestinationLock([dest], warn=warnings.append):
        pass
    assert len(warnings) == 1 and f"pid {holder.pid}" in warnings[0] and "stale lock" in warnings[0]
    with DestinationLock([dest], warn=warnings.append):  # released cleanly: no warning now
        pass
    assert len(warnings) == 1


def test_conflict_fail_exits_6(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    episode(src, "[G] Show - 01.mkv", "Show", 1, b"new")
    target = dst / "Show" / "Season 01" / "Show - S01E01.mkv"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    result = CliRunner().invoke(cli, ["organize", str(src), "--dest", str(dst), "--conflict", "fail", "--apply", "--offline",
                                       "--unmatched", "parsed"])
    assert result.exit_code == 6 and "already exists" in result.stderr
    assert target.read_bytes() == b"old" and (src / "[G] Show - 01.mkv").read_bytes() == b"new"
