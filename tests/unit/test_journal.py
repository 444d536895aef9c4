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
from anivault.journal import DestinationLock, Journal, history, load, new_op_id, read_records, unfinished
from organize_support import episode

DO = '{"t":"do","i":0,"a":"move","src":"/a","dst":"/b","size":1,"mtime_ns":2,"fp":"f"}\n'


def unsettled(path: Path) -> list[int]:
    with load(str(path)) as state:
        return [i for i, _ in state.unsettled()]


def test_records_are_buffered_until_commit(tmp_path: Path) -> None:
    path = str(tmp_path / "op.jsonl")
    with Journal(path, begin={"t": "begin", "op": "x"}) as journal:
        journal.write({"t": "mkdir", "path": "/x"})
        assert journal.pending == 1
        assert [r["t"] for r in read_records(path)] == ["begin"]  # not on disk yet
        journal.commit()
        assert [r["t"] for r in read_records(path)] == ["begin", "mkdir"]
    assert not os.path.exists(path + ".new")


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "op.jsonl"
    path.write_text('{"t":"begin"}\n' + DO + '{"t":"ok","i"')
    assert [r["t"] for r in read_records(str(path))] == ["begin", "do"]
    assert unsettled(path) == [0]


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


# ---------------------------------------------------------------- reading a damaged journal


def test_a_torn_or_malformed_line_is_reported_with_its_position_and_the_rest_is_used(tmp_path: Path) -> None:
    path = tmp_path / "op.jsonl"
    path.write_text('{"t":"begin"}\n'
                    + DO +
                    '[1, 2]\n'
                    '{"t":"ok","i":"zero"}\n'
                    'not json at all\n'
                    '{"t":"ok","i":0}\n'
                    '{"t":"fail","i"')
    state = load(str(path))
    assert state.entry(0).outcome == "ok" and state.counts.done == 1 and not state.counts.unsettled
    assert state.problem_count == 4
    assert [p.split(": ", 1)[0] for p in state.problems] == [f"{path}:{n}" for n in (3, 4, 5, 7)]
    assert "not a JSON object" in state.problems[0] and "'i'" in state.problems[1]
    assert "torn last line" in state.problems[3]


def test_appending_after_a_torn_line_keeps_the_new_record_whole(tmp_path: Path) -> None:
    path = tmp_path / "op.jsonl"
    path.write_text('{"t":"begin"}\n{"t":"ok","i"')
    with Journal(str(path)) as journal:
        journal.write({"t": "fail", "i": 3, "error": "x"})
    state = load(str(path))
    assert state.entry(3).outcome == "failed" and state.entry(3).detail == "x" and state.counts.failed == 1
    assert state.problem_count == 1


def test_the_latest_record_about_an_entry_is_the_last_word(tmp_path: Path) -> None:
    path = tmp_path / "op.jsonl"
    do = DO
    # failed, retried by a resume (a new intent), and killed before its outcome: unsettled again
    path.write_text('{"t":"begin"}\n' + do + '{"t":"fail","i":0,"error":"interrupted before it happened"}\n'
                    + do)
    assert unsettled(path) == [0] and not load(str(path)).counts.failed
    with open(path, "a") as f:
        f.write('{"t":"ok","i":0}\n{"t":"kept","i":0,"why":"busy"}\n{"t":"undone","i":0}\n')
    state = load(str(path))
    assert state.entry(0) == ("ok", None, "undone", None)
    assert state.counts == (1, 0, 0, 1, 0)  # done, failed, unsettled, undone, kept


def _two_files_moved(tmp_path: Path, src: Path) -> tuple[CliRunner, Path]:
    """Two episodes under ``src`` moved by organize --apply: the runner and the operation's journal."""
    episode(src, "[G] Show - 01.mkv", "Show", 1)
    episode(src, "[G] Show - 02.mkv", "Show", 2)
    runner = CliRunner()
    assert runner.invoke(cli, ["organize", str(src), "--dest", str(tmp_path / "lib"), "--apply", "--offline",
                               "--unmatched", "parsed"]).exit_code == 0
    journal = next(p for p in (Path(os.environ["ANIVAULT_DATA_DIR"]) / "journal").glob("*.jsonl")
                   if not p.name.endswith(".plan.jsonl"))
    return runner, journal


def test_an_intent_found_malformed_when_used_is_reported_and_never_acted_on(tmp_path: Path) -> None:
    """Intents are parsed when used: one torn by a crash (no outcome) settles as not happened; an
    edited one with an outcome is left alone by undo. Both are named with their line."""
    src = tmp_path / "in"
    runner, journal = _two_files_moved(tmp_path, src)
    lines = journal.read_text().splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith('{"t":"do","i":0,'))
    lines[first] = '{"t":"do","i":0,"a":"move"}'  # edited: the file it moved is no longer named
    lines.append('{"t":"do","i":7,"a":"move","src":"/x/{a}"}')  # torn after a brace, newline added on reopen
    journal.write_text("\n".join(lines) + "\n")
    with load(str(journal)) as state:
        assert state.problem_count == 0  # the common records are read without parsing them
        assert [i for i, intent in state.unsettled()] == [7] and state.problem_count == 1
    result = runner.invoke(cli, ["undo", "--last"])
    assert result.exit_code == 1 and "entry 0: its intent in the journal is malformed" in result.stderr
    assert f"{journal}:{first + 1}:" in result.stderr and f"{journal}:{len(lines)}:" in result.stderr
    with load(str(journal)) as state:
        assert state.entry(7).outcome == "failed" and state.entry(0).undo == "kept"
        assert state.counts.undone == 1  # the other file was put back
    assert sorted(p.name for p in src.rglob("*.mkv")) == ["[G] Show - 02.mkv"]


def test_undo_and_history_survive_a_malformed_journal(tmp_path: Path) -> None:
    src = tmp_path / "in"
    runner, journal = _two_files_moved(tmp_path, src)
    lines = journal.read_text().splitlines()
    lines.insert(2, '{"t":"do","i":"bogus"}')
    journal.write_text("\n".join(lines) + "\n")
    assert runner.invoke(cli, ["history"]).exit_code == 0
    result = runner.invoke(cli, ["undo", "--last"])
    assert result.exit_code == 0, result.output
    assert f"{journal}:3:" in result.stderr
    assert sorted(p.name for p in src.iterdir()) == ["[G] Show - 01.mkv", "[G] Show - 02.mkv"]


# ---------------------------------------------------------------- the catalog


def _organize(tmp_path: Path, name: str) -> None:
    src, dst = tmp_path / name, tmp_path / "lib"
    episode(src, f"[G] {name} - 01.mkv", name, 1)
    result = CliRunner().invoke(cli, ["organize", str(src), "--dest", str(dst), "--apply", "--offline",
                                      "--unmatched", "parsed"])
    assert result.exit_code == 0, result.output


def test_history_reads_the_catalog_alone(tmp_path: Path, monkeypatch) -> None:
    _organize(tmp_path, "Show")
    _organize(tmp_path, "Other")

    def no_journal_reading(*args, **kwargs):
        raise AssertionError("history opened a journal")

    monkeypatch.setattr("anivault.opstate._lines", no_journal_reading)
    rows = history()
    assert [r["status"] for r in rows] == ["complete", "complete"] and [r["done"] for r in rows] == [1, 1]
    assert history(limit=1) == rows[1:]
    assert unfinished() == []


def test_journals_without_a_catalog_are_catalogued_once(tmp_path: Path, monkeypatch) -> None:
    _organize(tmp_path, "Show")
    assert CliRunner().invoke(cli, ["undo", "--last"]).exit_code == 0
    _organize(tmp_path, "Other")
    expected = history()
    directory = Path(os.environ["ANIVAULT_DATA_DIR"]) / "journal"
    for p in directory.glob("catalog.sqlite*"):
        p.unlink()  # journals written before the catalog existed
    assert history() == expected
    assert [r["status"] for r in expected] == ["undone", "complete"]
    folded = []
    monkeypatch.setattr("anivault.opstate._lines", lambda *a, **k: folded.append(a) or iter(()))
    history()
    assert folded == []  # catalogued once: not read again


def test_a_damaged_catalog_is_rebuilt_from_the_journals(tmp_path: Path) -> None:
    _organize(tmp_path, "Show")
    expected = history()
    catalog = Path(os.environ["ANIVAULT_DATA_DIR"]) / "journal" / "catalog.sqlite"
    for p in catalog.parent.glob("catalog.sqlite-*"):
        p.unlink()
    catalog.write_bytes(b"this is not a database" * 100)
    assert history() == expected


def test_undo_last_after_an_undo_picks_the_latest_operation_not_undone(tmp_path: Path) -> None:
    _organize(tmp_path, "Show")
    _organize(tmp_path, "Other")
    runner = CliRunner()
    assert runner.invoke(cli, ["undo", "--last"]).exit_code == 0
    assert runner.invoke(cli, ["undo", "--last"]).exit_code == 0
    assert [r["status"] for r in history()] == ["undone", "undone"]
    third = runner.invoke(cli, ["undo", "--last"])
    assert third.exit_code == 1 and "no organize operation left to undo" in third.stderr


def _stale(op: str, status: str) -> None:
    """The catalog row as if the run was killed after its journal's last record, before the row heard."""
    from anivault.journal import catalog

    catalog().update(op, status=status, holder={"pid": 2 ** 22 + 1, "host": socket.gethostname()})


def test_a_row_that_missed_its_runs_end_is_set_right_from_the_journals_last_record(tmp_path: Path) -> None:
    _organize(tmp_path, "Show")
    op = history()[0]["op"]
    _stale(op, "running")
    assert history()[0]["status"] == "interrupted"
    assert unfinished() == []  # the journal's last record says it ended: not blocking
    assert history()[0]["status"] == "complete"
    _organize(tmp_path, "Other")  # not refused
    assert CliRunner().invoke(cli, ["undo", "--last"]).exit_code == 0
    assert CliRunner().invoke(cli, ["undo", op]).exit_code == 0
    _stale(op, "undoing")
    result = CliRunner().invoke(cli, ["undo", "--last"])
    assert result.exit_code == 1 and "left to undo" in result.stderr
    assert [r["status"] for r in history()] == ["undone", "undone"]


def test_cataloguing_a_journal_counts_what_folding_it_counts(tmp_path: Path) -> None:
    from anivault.catalog import from_state, summarize

    path = tmp_path / "op.jsonl"
    do = [DO.replace('"i":0', f'"i":{i}') for i in range(4)]
    path.write_text('{"t":"begin","entries":4,"dest":"/d"}\n' + "".join(do)
                    + '{"t":"ok","i":0}\n{"t":"fail","i":1,"error":"x"}\n{"t":"ok","i":2}\n{"t":"end"}\n'
                    + '{"t":"resume"}\n' + do[1] + '{"t":"ok","i":1}\n{"t":"fail","i":3,"error":"y"}\n'
                    + '{"t":"end","status":"complete"}\n{"t":"undo","pid":1}\n{"t":"kept","i":2,"why":"z"}\n'
                    + '{"t":"undone","i":0}\n{"t":"undone","i":2}\n{"t":"undone","i":1}\n{"t":"undo-end","kept":0}\n')
    row = summarize(str(path))
    assert row == from_state(load(str(path)))
    assert (row.done, row.failed, row.undone, row.kept, row.status) == (3, 1, 3, 0, "undone")
