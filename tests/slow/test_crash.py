"""SIGKILL `anivault organize --apply` at random moments, recover, and prove nothing was lost or changed.

The library has subtitles, a fonts folder, two releases of several episodes
(duplicates) and destination files that conflict or are already there. Each
trial kills a real subprocess (seeded, so a failure can be replayed), then
either undoes the run or resumes it and then undoes it, and compares every
file's path and checksum under source and destination with a manifest taken
before: 0 lost, 0 changed, no temporary copy left.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from organize_support import manifest, write

pytestmark = pytest.mark.slow  # tests/slow: deselected by default, run once by .ci/run

TRIALS = 24
BATCH = "3"  # many small group commits: more moments between intent and outcome
FULL_RUN_LINES = 135  # a whole run of this library writes about 140 journal records
FULL_UNDO_LINES = 65  # undoing it appends about 70 more


def build_library(root: Path, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    src, dst = root / "src", root / "dst"

    def blob() -> bytes:
        return rng.randbytes(rng.randint(2_000, 120_000))

    for ep in range(1, 13):
        write(src / "[GrpA] Alpha [1080p]" / f"[GrpA] Alpha - {ep:02} [1080p].mkv", blob())
        write(src / "[GrpA] Alpha [1080p]" / f"[GrpA] Alpha - {ep:02} [1080p].en.ass", blob()[:3000])
    for font in ("Alpha Sans.ttf", "Beta Serif.otf", "symbols.ttc"):
        write(src / "[GrpA] Alpha [1080p]" / "Fonts" / font, blob()[:5000])
    for ep in range(1, 7):  # a second release of episodes 1-6: duplicates
        write(src / "[GrpB] Alpha [720p]" / f"[GrpB] Alpha - {ep:02} [720p].mkv", blob())
        write(src / "[GrpB] Alpha [720p]" / f"[GrpB] Alpha - {ep:02} [720p].en.ass", blob()[:2000])
    for ep in range(1, 17):
        content = blob()
        write(src / "Beta" / f"[GrpC] Beta - {ep:02} [1080p].mkv", content)
        if ep % 2:
            write(src / "Beta" / f"[GrpC] Beta - {ep:02} [1080p].pt-BR.srt", blob()[:1500])
        if ep == 4:  # already organized: identical content at the destination
            write(dst / "Beta" / "Season 01" / "Beta - S01E04.mkv", content)
    write(dst / "Beta" / "Season 01" / "Beta - S01E03.mkv", b"the user's own, different file")  # conflict
    for ep in range(1, 7):
        write(src / "Gamma" / f"Gamma.S02E{ep:02}.1080p.WEB.x264-GRP.mkv", blob())
    write(src / "notes.txt", b"not media: stays")
    return src, dst


def anivault(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anivault", *args], env=env, capture_output=True,
                          text=True, timeout=60, **kwargs)


def journals(data: Path) -> list[Path]:
    directory = data / "journal"
    if not directory.is_dir():
        return []
    return [p for p in directory.iterdir() if p.suffix == ".jsonl" and not p.name.endswith(".plan.jsonl")]


def finished(data: Path) -> bool:
    """Did the (only) journal record the end of its run?"""
    lines = journals(data)[0].read_text(errors="replace").splitlines()
    return any(line.startswith('{"t":"end"') for line in lines)


def env_for(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ANIVAULT_DATA_DIR=str(base / "data"), ANIVAULT_CACHE_DIR=str(base / "cache"),
               ANIVAULT_CONFIG=str(base / "config.toml"))
    return env


def organize_args(src: Path, dst: Path, action: str, conflict: str) -> list[str]:
    return ["organize", str(src), "--dest", str(dst), "--apply", "--action", action, "--conflict", conflict,
            "--duplicates", "keep-all", "--prune-empty", "--batch", BATCH, "--target", "posix",
            "--offline", "--unmatched", "parsed"]


def leftovers(*roots: Path) -> list[str]:
    return [str(p) for root in roots for p in root.rglob("*.anivault-*")]


def test_a_full_run_organizes_the_library_and_undo_restores_it(tmp_path: Path) -> None:
    src, dst = build_library(tmp_path)
    env = env_for(tmp_path)
    before = manifest(src, dst)
    done = anivault(organize_args(src, dst, "move", "skip") + ["--json"], env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])["summary"]
    assert summary["apply"]["done"] == 66 and summary["apply"]["failed"] == 0
    assert summary["statuses"]["conflict"] == 1 and summary["statuses"]["already"] == 1
    assert (dst / "Alpha" / "Season 01" / "Fonts" / "symbols.ttc").exists()
    assert (dst / "Alpha" / "Season 01" / "Alpha - S01E01 - GrpB 720p.en.ass").exists()
    undone = anivault(["undo", "--last"], env)
    assert undone.returncode == 0, undone.stderr
    assert manifest(src, dst) == before
    assert not (dst / "Alpha").exists()  # folders the run created are gone again


def _journal_lines(data: Path) -> int:
    found = journals(data)
    return found[0].read_bytes().count(b"\n") if found else 0


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "anivault", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for_journal(proc: subprocess.Popen, data: Path, lines: int, rng: random.Random) -> None:
    """Until the journal holds ``lines`` records (or the run ends), then a moment into the next batch:
    a point inside the run however fast or loaded the machine is."""
    deadline = time.monotonic() + 30
    while proc.poll() is None and _journal_lines(data) < lines and time.monotonic() < deadline:
        time.sleep(0.0003)
    time.sleep(rng.uniform(0.0, 0.003))


def _kill(proc: subprocess.Popen) -> bool:
    """SIGKILL (TerminateProcess on Windows: no cleanup either way); False if it had already ended."""
    killed = proc.poll() is None
    if killed:
        proc.kill()
    proc.wait(timeout=30)
    return killed


def _kill_at_random_moment(args: list[str], env: dict[str, str], data: Path,
                           rng: random.Random) -> tuple[bool, bool]:
    """Start organize and SIGKILL it: anywhere from start-up on (1 in 5), or once its journal has
    grown to a random length (inside the apply phase). Returns (whether it was killed, whether its
    journal existed)."""
    proc = _start(args, env)
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 0.6))
    else:
        _wait_for_journal(proc, data, rng.randint(1, FULL_RUN_LINES), rng)
    had_journal = bool(journals(data))
    return _kill(proc), had_journal


@pytest.mark.slow
def test_sigkill_at_random_moments_then_undo_or_resume_loses_nothing(tmp_path: Path) -> None:
    killed_mid_run = 0
    for trial in range(TRIALS):
        rng = random.Random(1000 + trial)
        base = tmp_path / f"trial{trial}"
        src, dst = build_library(base)
        env, data = env_for(base), base / "data"
        before = manifest(src, dst)
        action = "copy" if trial % 3 == 0 else "move"
        conflict = "rename" if trial % 4 == 1 else "skip"
        killed, had_journal = _kill_at_random_moment(organize_args(src, dst, action, conflict), env, data, rng)
        context = f"trial {trial} (seed {1000 + trial}, {action}, conflict {conflict}, killed={killed})"
        interrupted = killed and had_journal and not finished(data)
        killed_mid_run += interrupted
        if interrupted:  # the next organize finds the unfinished journal and refuses until it is settled
            again = anivault(organize_args(src, dst, action, conflict), env)
            assert again.returncode == 6 and "--resume" in again.stderr, context + again.stderr
        if interrupted and trial % 2:  # resume first, then undo everything
            resumed = anivault(["organize", "--resume", "--batch", BATCH], env)
            assert resumed.returncode == 0, context + resumed.stderr
            assert "taking over the stale lock" in resumed.stderr, context
        if had_journal:
            undone = anivault(["undo", "--last"], env)
            assert undone.returncode == 0, context + undone.stderr
            assert "left alone" not in undone.stderr, context + undone.stderr
        assert leftovers(src, dst) == [], context
        after = manifest(src, dst)
        lost = sorted(set(before) - set(after))
        changed = sorted(p for p in before if p in after and after[p] != before[p])
        extra = sorted(set(after) - set(before))
        assert (lost, changed, extra) == ([], [], []), context
    print(f"{killed_mid_run} of {TRIALS} SIGKILLs interrupted a run in progress; 0 files lost or changed")
    assert killed_mid_run >= TRIALS // 2  # most kills really hit a run in progress


@pytest.mark.slow
def test_sigkill_during_undo_then_undo_again_loses_nothing(tmp_path: Path) -> None:
    """Undo is journaled and idempotent: killed anywhere, running it again finishes the job."""
    trials = 6
    finished_early = 0
    for trial in range(trials):
        rng = random.Random(2000 + trial)
        base = tmp_path / f"undo{trial}"
        src, dst = build_library(base)
        env, data = env_for(base), base / "data"
        before = manifest(src, dst)
        action = "copy" if trial % 4 == 3 else "move"
        done = anivault(organize_args(src, dst, action, "rename"), env)
        assert done.returncode == 0, done.stderr
        # Kill once the journal has grown by a random number of undo records.
        target = _journal_lines(data) + rng.randint(1, FULL_UNDO_LINES)
        proc = _start(["undo", "--last"], env)
        _wait_for_journal(proc, data, target, rng)
        finished_early += not _kill(proc)
        context = f"undo trial {trial} (seed {2000 + trial}, {action})"
        again = anivault(["undo", "--last"], env)
        assert again.returncode == 0 or "already undone" in again.stderr, context + again.stderr
        assert "left alone" not in again.stderr, context + again.stderr
        assert leftovers(src, dst) == [], context
        assert manifest(src, dst) == before, context
    assert finished_early < trials // 2
