"""``--compare FILE``: judge a bench result against a saved baseline.

Only figures that both runs measured are compared. Throughput regresses when
its CPU-time score falls by more than the threshold *and* its wall-time score
does too: the CPU score is what other processes' load hardly moves, the wall
score confirms users would notice (a burst of load inflates wall time alone;
slower code costs both). On a machine of the baseline's speed (the quietest
calibrations within ``SAME_MACHINE`` of each other) the raw CPU throughput,
not normalized, must have fallen past the threshold as well: a calibration
is ~10 ms, and a burst of someone else's work that lands on several of them
inflates the yardstick more than the stage run it brackets, which makes a
score look better (a baseline) or worse (a later run) than the code is. Slower
code costs raw CPU time too; a contaminated yardstick does not. Memory regresses when it grows by more than the
threshold *and* by more than ``RSS_FLOOR`` bytes (a few MiB of allocator
noise on a small run is not a regression).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .runner import FORMAT

DEFAULT_THRESHOLD = 10.0  # percent
RSS_FLOOR = 4 << 20
# Two results whose quietest calibration runs differ by less than this came from machines
# (or CPU clocks) of one speed: their raw CPU throughput is comparable too.
SAME_MACHINE = 0.15


@dataclass(frozen=True)
class Change:
    metric: str
    baseline: float
    current: float
    change_pct: float  # signed: + is more, - is less
    regressed: bool
    better: str
    wall_change_pct: float | None = None  # the confirming wall-time score's change
    raw_change_pct: float | None = None  # raw CPU throughput's change (same-speed machines only)

    def sentence(self) -> str:
        direction = "slower" if self.better == "higher" else "larger"
        worse = -self.change_pct if self.better == "higher" else self.change_pct
        wall = "" if self.wall_change_pct is None else f"; wall time {_signed(-self.wall_change_pct)}"
        if self.raw_change_pct is not None:
            wall += f"; raw CPU {_signed(-self.raw_change_pct)}"
        return f"{self.metric}: {abs(worse):.1f}% {direction if worse > 0 else 'better'}" \
               f" ({_fmt(self.baseline)} -> {_fmt(self.current)}{wall})"

    def to_dict(self) -> dict[str, Any]:
        d = {"metric": self.metric, "baseline": self.baseline, "current": self.current,
             "change_pct": round(self.change_pct, 2), "regressed": self.regressed}
        if self.wall_change_pct is not None:
            d["wall_change_pct"] = round(self.wall_change_pct, 2)
        if self.raw_change_pct is not None:
            d["raw_change_pct"] = round(self.raw_change_pct, 2)
        return d


def _signed(slower_pct: float) -> str:
    return f"{slower_pct:.1f}% slower" if slower_pct > 0 else f"{-slower_pct:.1f}% faster"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise UsageError(f"cannot read baseline {path}: {e.strerror or e}",
                         hint="make one with `anivault bench --save FILE`") from e
    except ValueError as e:
        raise UsageError(f"baseline {path} is not JSON: {e}",
                         hint="make one with `anivault bench --save FILE`") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"baseline {path} is not an {FORMAT} file",
                         hint="see docs/BENCH_FORMAT.md; make one with `anivault bench --save FILE`")
    return data


def save(result: dict[str, Any], path: str | os.PathLike[str]) -> None:
    tmp = f"{os.fspath(path)}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}",
                         hint="pass --save a writable file path") from e


def compare(current: dict[str, Any], baseline: dict[str, Any],
            threshold_pct: float = DEFAULT_THRESHOLD) -> list[Change]:
    """Every metric both results share, with its change and verdict."""
    changes = []
    same = same_machine(current, baseline)
    for name, base in baseline.get("metrics", {}).items():
        now = current.get("metrics", {}).get(name)
        if now is None or not base.get("value"):
            continue
        pct = _pct(now["value"], base["value"])
        wall_pct = _pct(now["wall_value"], base["wall_value"]) \
            if base.get("wall_value") and "wall_value" in now else None
        raw_pct = _pct(now["cpu_value"], base["cpu_value"]) \
            if same and base.get("cpu_value") and "cpu_value" in now else None
        if base["better"] == "higher":
            regressed = pct < -threshold_pct and all(
                p is None or p < -threshold_pct for p in (wall_pct, raw_pct))
        else:
            regressed = pct > threshold_pct and now["value"] - base["value"] > RSS_FLOOR
        changes.append(Change(name, base["value"], now["value"], pct, regressed, base["better"],
                              wall_pct, raw_pct))
    return changes


def same_machine(current: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """Both results' quietest calibration within SAME_MACHINE of each other."""
    a = current.get("calibration", {}).get("min_cpu_s")
    b = baseline.get("calibration", {}).get("min_cpu_s")
    return bool(a and b) and abs(a - b) / b <= SAME_MACHINE


def _pct(now: float, base: float) -> float:
    return (now - base) / base * 100


def comparable(current: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Why the two results may not be comparable (different library size, backend…)."""
    notes = []
    for key in ("files", "seed"):
        if current["config"].get(key) != baseline.get("config", {}).get(key):
            notes.append(f"{key} differs: baseline {baseline.get('config', {}).get(key)},"
                         f" now {current['config'].get(key)}")
    if current.get("backend") != baseline.get("backend"):
        notes.append(f"backend differs: baseline {baseline.get('backend')}, now {current.get('backend')}")
    return notes
