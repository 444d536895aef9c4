"""Timing one run of a variant: in this process, or as a command in a child process.

Both report wall seconds, CPU seconds and peak RSS. A child's CPU time comes
from ``os.wait4``, the kernel's figure for that process alone; an AniVault
child also writes ``--metrics`` events, whose complete event carries its
peak RSS, counters and bottleneck report.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import AniVaultError


@dataclass
class Outcome:
    items: int  # over all passes
    wall_s: float
    cpu_s: float
    peak_rss: int = 0  # bytes; 0 when not measured
    counters: dict[str, int] = field(default_factory=dict)
    bottleneck: dict[str, Any] | None = None
    passes: int = 1


MIN_SECONDS = 0.3  # an in-process run repeats its work at least this long: a 5 ms run is all noise


def in_process(work: Callable[[], int], peak_rss: Callable[[float, float], int],
               min_seconds: float = MIN_SECONDS) -> Outcome:
    """Time ``work`` (which returns how many items it handled) here, in whole passes."""
    wall, cpu = time.perf_counter(), time.process_time()
    items = passes = 0
    while True:
        items += work()
        passes += 1
        end = time.perf_counter()
        if end - wall >= min_seconds:
            break
    return Outcome(items, end - wall, time.process_time() - cpu, peak_rss(wall, end), passes=passes)


def command(argv: Sequence[str], items: int, env: dict[str, str] | None = None,
            metrics: bool = False) -> Outcome:
    """Run argv with stdout to /dev/null; with ``metrics`` it is an AniVault command
    and gets ``--metrics FILE`` right after the program name."""
    with tempfile.TemporaryDirectory(prefix="anivault-bench-") as tmp:
        events = os.path.join(tmp, "events.ndjson")
        argv = [*argv[:3], "--metrics", events, *argv[3:]] if metrics else list(argv)
        with open(os.path.join(tmp, "stderr"), "w+b") as err:
            wall, cpu, code = _run(argv, env, err)
            if code != 0:
                err.seek(0)
                tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                raise AniVaultError(f"bench: `{' '.join(argv)}` exited {code}: {' '.join(tail)}",
                                    hint="run that command by hand to see what fails")
        done = _complete_event(events) if metrics else {}
    # An AniVault child reports its own peak (VmHWM); the kernel's per-child ru_maxrss
    # would include the bench's own size at fork, so other commands get none.
    rss = done.get("resources", {}).get("peak_rss", 0)
    return Outcome(items, wall, cpu, rss, done.get("counters", {}), done.get("bottleneck"))


def _run(argv: Sequence[str], env: dict[str, str] | None, err: Any) -> tuple[float, float, int]:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                             env={**os.environ, **(env or {})})
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        return wall, usage.ru_utime + usage.ru_stime, child.returncode
    code = child.wait()  # Windows: wall time stands in for CPU time
    return time.perf_counter() - start, time.perf_counter() - start, code


def _complete_event(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            events = [json.loads(line) for line in f if line.strip()]
    except OSError:
        return {}
    done = [e["fields"] for e in events if e.get("event") == "complete"]
    return done[-1] if done else {}


def spin(cpu_seconds: float) -> None:
    """Busy work until this process has used ``cpu_seconds`` more CPU time: the test-only
    injected slowdown costs what slower code would, however busy the machine is."""
    end = time.process_time() + cpu_seconds
    while time.process_time() < end:
        pass
