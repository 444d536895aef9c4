"""Helpers (no tests) for the crash trials: a library, runs to kill, a second filesystem, a check.

A trial runs the real ``anivault`` command in a child process and kills it
(SIGKILL, or SIGINT like Ctrl-C) once its journal has grown to a random
length, so the kill lands between intent and outcome records however fast or
loaded the machine is. Every trial is seeded: a failure names its seed.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from organize_support import manifest, write

BATCH = "3"  # many small group commits: more moments between intent and outcome


def build_library(root: Path, dst: Path | None = None, seed: int = 7) -> tuple[Path, Path]:
    """Episodes with subtitles, fonts, a second release (duplicates), a conflicting and an
    already-organized destination file; ``dst`` defaults to ``root/dst``."""
    rng = random.Random(seed)
    src, dst = root / "src", dst or root / "dst"

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


def env_for(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ANIVAULT_DATA_DIR=str(base / "data"), ANIVAULT_CACHE_DIR=str(base / "cache"),
               ANIVAULT_CONFIG=str(base / "config.toml"))
    return env


def organize_args(src: Path, dst: Path, action: str, conflict: str = "skip") -> list[str]:
    return ["organize", str(src), "--dest", str(dst), "--apply", "--action", action, "--conflict", conflict,
            "--duplicates", "keep-all", "--prune-empty", "--batch", BATCH, "--target", "posix", "--offline",
            "--unmatched", "parsed"]  # offline, nothing matches: file by parsed names


def anivault(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anivault", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    # SIGINT back to its default in the child: a run started in the background (CI) inherits it
    # ignored, and then Python installs no KeyboardInterrupt handler for the Ctrl-C trials.
    return subprocess.Popen([sys.executable, "-m", "anivault", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def journal_of(data: Path) -> Path | None:
    directory = data / "journal"
    found = sorted(p for p in directory.glob("*.jsonl") if not p.name.endswith(".plan.jsonl")) \
        if directory.is_dir() else []
    return found[-1] if found else None


def journal_lines(data: Path) -> int:
    path = journal_of(data)
    return path.read_bytes().count(b"\n") if path else 0


def finished(data: Path) -> bool:
    """Did the journal record the end of its run (last word: a later resume reopens it)?"""
    path = journal_of(data)
    if path is None:
        return False
    ends = [line[:12] for line in path.read_bytes().splitlines()
            if line.startswith((b'{"t":"end"', b'{"t":"resume"'))]
    return bool(ends) and ends[-1].startswith(b'{"t":"end"')


def interrupt_when(alive: Callable[[], bool], ready: Callable[[], bool], rng: random.Random,
                   stop: Callable[[], None]) -> bool:
    """Once ``ready()`` (or the run ended) and a random moment more, ``stop`` the run.
    Returns whether it was still running."""
    deadline = time.monotonic() + 60
    while alive() and not ready() and time.monotonic() < deadline:
        time.sleep(0.0003)
    time.sleep(rng.uniform(0.0, 0.003))
    if not alive():
        return False
    stop()
    return True


def interrupt_at(alive: Callable[[], bool], data: Path, lines: int, rng: random.Random,
                 stop: Callable[[], None]) -> bool:
    """``stop`` the run once its journal holds ``lines`` records: a point inside the run however
    fast or loaded the machine is."""
    return interrupt_when(alive, lambda: journal_lines(data) >= lines, rng, stop)


def kill_at(proc: subprocess.Popen, data: Path, lines: int, rng: random.Random,
            sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to ``proc`` at that moment; wait for it. Returns whether it was still running."""
    hit = interrupt_at(lambda: proc.poll() is None, data, lines, rng, lambda: proc.send_signal(sig))
    proc.wait(timeout=120)
    return hit


def copying(*roots: Path, at_least: int = 1 << 20) -> bool:
    """Is a temporary copy of at least ``at_least`` bytes being written under ``roots``?"""
    for path in leftovers(*roots):
        try:
            if os.path.getsize(path) >= at_least:
                return True
        except OSError:
            continue
    return False


def leftovers(*roots: Path) -> list[str]:
    """Temporary copies (``.anivault-*.part``, ``*.undo``) anywhere under ``roots``."""
    return [str(p) for root in roots for p in root.rglob("*")
            if p.name.startswith(".anivault-") or p.name.endswith(".undo")]


def assert_restored(before: dict[str, str], src: Path, dst: Path, context: str) -> None:
    """Every file back at its path with its bytes, none left in the destination, no temporary copy."""
    assert leftovers(src, dst) == [], context
    after = manifest(src, dst)
    lost = sorted(set(before) - set(after))
    changed = sorted(p for p in before if p in after and after[p] != before[p])
    extra = sorted(set(after) - set(before))
    assert (lost, changed, extra) == ([], [], []), context


# ---------------------------------------------------------------- an unprivileged user


NOBODY = 65534


class Forked:
    """``anivault ARGS`` run in a forked child as 'nobody' (uid/gid 65534), in-process.

    Forked rather than exec'd: the interpreter and the package may live in a
    directory only root may read (CI's venv under ``mktemp -d``); the parent
    imported everything a run needs before forking (see :func:`warm_up`).
    """

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
                os.environ.clear()
                os.environ.update(env)
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                from anivault.cli import main

                try:
                    main(args)
                    code = 0
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else 1
            finally:
                os._exit(code)
        self.code: int | None = None

    def poll(self) -> int | None:
        if self.code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def wait(self) -> int:
        if self.code is None:
            _, status = os.waitpid(self.pid, 0)
            self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)


def run_as_nobody(args: list[str], env: dict[str, str]) -> int:
    return Forked(args, env).wait()


def warm_up(scratch: Path) -> None:
    """Run organize, history and undo once in this process, so every module they import lazily is
    loaded before a child drops its privileges."""
    from click.testing import CliRunner

    from anivault.cli import cli

    src, dst = scratch / "src", scratch / "dst"
    write(src / "[G] Warm - 01.mkv", b"warm" * 100)
    env = env_for(scratch)
    runner = CliRunner(env=env)
    for args in (organize_args(src, dst, "move"), ["history"], ["undo", "--last"]):
        runner.invoke(cli, args)


def give_to_nobody(*roots: Path) -> None:
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            os.chown(dirpath, NOBODY, NOBODY)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), NOBODY, NOBODY)
