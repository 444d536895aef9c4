"""Kill AniVault at random journal positions, recover, and prove every file is back and none is left.

Trials (seeded; a failure names its seed), 35 kills in all, plus one full run:

* SIGKILL during ``organize --apply`` — moves on one filesystem, moves across
  filesystems (the destination on a tmpfs mount: the real EXDEV path) and
  copies — then ``undo``, or ``organize --resume`` and then ``undo``;
* SIGKILL during ``organize --resume`` of such a run, then ``undo``;
* SIGKILL during ``undo``, then ``undo`` again;
* SIGINT (Ctrl-C) during apply and during undo: exit 130 and no temporary
  copy left behind, then ``undo``;
* as an unprivileged user, when the tests run as root: a read-only (0555)
  source folder and an unreadable (000) file, killed anywhere, then undo;
  later runs into that destination are not blocked.

After recovery every file is at its path with its bytes, nothing AniVault
put in the destination is left there, and no temporary copy remains.
"""
from __future__ import annotations

import json
import os
import random
import signal
import tempfile
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import pytest

from crash_support import (Forked, anivault, assert_restored, build_library, copying, env_for, finished,
                           give_to_nobody, interrupt_at, interrupt_when, journal_lines, journal_of, kill_at, leftovers,
                           organize_args, run_as_nobody, start, warm_up)
from filesystems import other_filesystem, tmpfs
from organize_support import manifest

pytestmark = pytest.mark.slow  # tests/slow: deselected by default, run once by .ci/run

FULL_RUN_LINES = 135  # a whole run of the library writes about 140 journal records
FULL_UNDO_LINES = 65  # undoing it appends about 70 more
KINDS = ("move", "move-exdev", "copy")


@pytest.fixture(scope="module")
def second_fs() -> Iterator[Path | None]:
    with tmpfs() as mount:
        yield mount


def _place(kind: str, base: Path, second_fs: Path | None, seed: int) -> tuple[Path, Path, str]:
    """The library of one trial: (source, destination, action); ``move-exdev`` puts the destination
    on the tmpfs mount, so every move crosses filesystems."""
    if kind == "move-exdev":
        if second_fs is None:
            pytest.skip("mounting a tmpfs is not permitted here (not root): the EXDEV trials need one")
        dst = second_fs / base.name
        src, dst = build_library(base, dst, seed)
        assert other_filesystem(dst, src)
        return src, dst, "move"
    src, dst = build_library(base, seed=seed)
    return src, dst, kind


class _Trial(NamedTuple):
    rng: random.Random
    src: Path
    dst: Path
    action: str
    env: dict[str, str]
    data: Path
    before: Any  # the manifest assert_restored compares with


def _trial(kind: str, base: Path, second_fs: Path | None, seed: int) -> _Trial:
    """One seeded trial's library, placed under ``base``, with its environment and manifest."""
    src, dst, action = _place(kind, base, second_fs, seed)
    return _Trial(random.Random(seed), src, dst, action, env_for(base), base / "data", manifest(src, dst))


def test_a_full_run_organizes_the_library_and_undo_restores_it(tmp_path: Path) -> None:
    src, dst = build_library(tmp_path)
    env = env_for(tmp_path)
    before = manifest(src, dst)
    done = anivault(organize_args(src, dst, "move") + ["--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])["summary"]
    assert summary["apply"]["done"] == 66 and summary["apply"]["failed"] == 0
    assert summary["statuses"]["conflict"] == 1 and summary["statuses"]["already"] == 1
    assert (dst / "Alpha" / "Season 01" / "Fonts" / "symbols.ttc").exists()
    undone = anivault(["undo", "--last"], env)
    assert undone.returncode == 0, undone.stderr
    assert_restored(before, src, dst, "full run")
    assert not (dst / "Alpha").exists()  # folders the run created are gone again


def _recover(env: dict[str, str], context: str, resume: bool) -> None:
    """Resume (when asked) then undo the latest operation; both must succeed and leave nothing."""
    if resume:
        resumed = anivault(["organize", "--resume", "--batch", "3"], env)
        assert resumed.returncode == 0, context + resumed.stderr
        assert "taking over the stale lock" in resumed.stderr, context
    undone = anivault(["undo", "--last"], env)
    assert undone.returncode == 0, context + undone.stderr
    assert "left alone" not in undone.stderr, context + undone.stderr


@pytest.mark.parametrize("kind,trials", [("move", 6), ("move-exdev", 5), ("copy", 5)])
def test_sigkill_during_apply_then_undo_or_resume_loses_nothing(tmp_path: Path, second_fs: Path | None,
                                                                 kind: str, trials: int) -> None:
    hits = 0
    for trial in range(trials):
        seed = 1000 + 10 * KINDS.index(kind) + trial
        rng, src, dst, action, env, data, before = _trial(kind, tmp_path / f"trial{trial}", second_fs, seed)
        conflict = "rename" if trial % 2 else "skip"
        hit = kill_at(start(organize_args(src, dst, action, conflict), env), data,
                      rng.randint(1, FULL_RUN_LINES), rng)
        context = f"apply trial {trial} (seed {seed}, {kind}, conflict {conflict}) "
        interrupted = hit and journal_lines(data) > 0 and not finished(data)
        hits += interrupted
        if interrupted:  # the next organize finds the unfinished journal and refuses until it is settled
            again = anivault(organize_args(src, dst, action, conflict), env)
            assert again.returncode == 6 and "--resume" in again.stderr, context + again.stderr
        if journal_lines(data):
            _recover(env, context, resume=interrupted and trial % 2 == 1)
        assert_restored(before, src, dst, context)
    assert hits >= trials // 2, f"only {hits} of {trials} kills hit a run in progress"


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_during_resume_then_undo_loses_nothing(tmp_path: Path, second_fs: Path | None, kind: str) -> None:
    """The resumed run retries entries an earlier record called failed: undo must see its moves."""
    for trial in range(2):
        seed = 3000 + 10 * KINDS.index(kind) + trial
        rng, src, dst, action, env, data, before = _trial(kind, tmp_path / f"resume{trial}", second_fs, seed)
        context = f"resume trial {trial} (seed {seed}, {kind}) "
        assert kill_at(start(organize_args(src, dst, action), env), data,
                       rng.randint(10, FULL_RUN_LINES // 2), rng), context + "the run ended before the kill"
        so_far = journal_lines(data)
        kill_at(start(["organize", "--resume", "--batch", "3"], env), data,
                so_far + rng.randint(2, FULL_RUN_LINES - so_far), rng)
        _recover(env, context, resume=False)
        assert_restored(before, src, dst, context)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_during_undo_then_undo_again_loses_nothing(tmp_path: Path, second_fs: Path | None,
                                                           kind: str) -> None:
    """Undo is journaled and idempotent: killed anywhere, running it again finishes the job."""
    for trial in range(2):
        seed = 2000 + 10 * KINDS.index(kind) + trial
        rng, src, dst, action, env, data, before = _trial(kind, tmp_path / f"undo{trial}", second_fs, seed)
        done = anivault(organize_args(src, dst, action, "rename"), env)
        assert done.returncode == 0, done.stderr
        target = journal_lines(data) + rng.randint(1, FULL_UNDO_LINES)
        kill_at(start(["undo", "--last"], env), data, target, rng)
        context = f"undo trial {trial} (seed {seed}, {kind}) "
        again = anivault(["undo", "--last"], env)
        assert again.returncode == 0 or "left to undo" in again.stderr, context + again.stderr
        assert "left alone" not in again.stderr, context + again.stderr
        assert_restored(before, src, dst, context)


@pytest.mark.parametrize("phase", ["apply", "undo"])
def test_ctrl_c_leaves_no_temporary_copy_and_undo_restores(tmp_path: Path, second_fs: Path | None,
                                                           phase: str) -> None:
    """SIGINT while a large file is being copied (a copy, a move across filesystems, or undo copying
    it back): exit 130, no temporary copy left, and undo restores everything."""
    for trial, kind in enumerate(("copy", "move-exdev")):
        seed = 4000 + 10 * (phase == "undo") + trial
        rng = random.Random(seed)
        base = tmp_path / f"int{trial}"
        src, dst, action = _place(kind, base, second_fs, seed)
        (src / "Gamma" / "Gamma.S02E07.1080p.WEB.x264-GRP.mkv").write_bytes(os.urandom(48 << 20))
        env, data = env_for(base), base / "data"
        before = manifest(src, dst)
        context = f"SIGINT {phase} trial {trial} (seed {seed}, {kind}) "
        if phase == "undo":
            done = anivault(organize_args(src, dst, action), env)
            assert done.returncode == 0, context + done.stderr
        lines = journal_lines(data) + rng.randint(2, 20)
        proc = start(["undo", "--last"] if phase == "undo" else organize_args(src, dst, action), env)
        mid_copy = (lambda: copying(src, dst)) if (phase, kind) != ("undo", "copy") else \
            (lambda: journal_lines(data) >= lines)  # undoing a copy deletes it: nothing to catch mid-copy
        hit = interrupt_when(lambda: proc.poll() is None, mid_copy, rng, lambda: proc.send_signal(signal.SIGINT))
        proc.wait(timeout=120)
        if hit:  # exit 130; or the signal's own status when it came after the run's last record, at exit
            ended = (journal_of(data) or Path("/")).read_bytes().rstrip().rsplit(b"\n", 1)[-1] \
                .startswith((b'{"t":"end"', b'{"t":"undo-end"'))
            assert proc.returncode == 130 or (ended and proc.returncode in (0, -signal.SIGINT)), \
                context + proc.stderr.read()
        assert leftovers(src, dst) == [], context
        again = anivault(["undo", "--last"], env)
        assert again.returncode == 0 or "left to undo" in again.stderr, context + again.stderr
        assert_restored(before, src, dst, context)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to act as another user")
def test_unprivileged_user_with_read_only_folders_can_always_recover() -> None:
    """As 'nobody', locks are enforced: files in a 0555 folder cannot be moved out, a 000 file cannot
    be read. Killed anywhere, undo settles the run and the destination stays usable."""
    base = Path(tempfile.mkdtemp(prefix="anivault-nobody-"))
    try:
        warm_up(base / "warm")
        os.chmod(base, 0o755)
        for trial in range(3):
            seed = 5000 + trial
            rng = random.Random(seed)
            root = base / f"nobody{trial}"
            src, dst = build_library(root, seed=seed)
            give_to_nobody(root)
            locked = src / "[GrpB] Alpha [720p]"
            (src / "Gamma" / "Gamma.S02E01.1080p.WEB.x264-GRP.mkv").chmod(0o000)
            locked.chmod(0o555)
            env, data = env_for(root), root / "data"
            before = manifest(src, dst)
            context = f"nobody trial {trial} (seed {seed}) "
            child = Forked(organize_args(src, dst, "move"), env)
            interrupt_at(lambda: child.poll() is None, data, rng.randint(1, FULL_RUN_LINES), rng, child.kill)
            child.wait()
            assert run_as_nobody(["undo", "--last"], env) == 0, context
            assert_restored(before, src, dst, context)
            # The destination is not blocked: a new run goes through (its failures are the locked files).
            assert run_as_nobody(organize_args(src, dst, "move"), env) in (0, 1), context
            assert run_as_nobody(["undo", "--last"], env) == 0, context
            assert_restored(before, src, dst, context)
    finally:
        for dirpath, _, _ in os.walk(base):
            os.chmod(dirpath, 0o755)
        import shutil

        shutil.rmtree(base, ignore_errors=True)
