"""Which stage the wall time went to: time, share and throughput per stage.

Stages may overlap (a walker thread beside a parse thread), so shares can add
up to more than 100%; time no stage claims is reported as "other".
"""
from __future__ import annotations

from typing import Any, Mapping

# Below this, "other" is clock noise and setup, not a stage worth naming.
_OTHER_FLOOR = 0.05


def bottleneck_report(stage_seconds: Mapping[str, float], stage_items: Mapping[str, int],
                      wall_s: float, files: int = 0) -> dict[str, Any]:
    """Rows per stage (largest first) and one sentence naming the bottleneck.

    A stage's throughput is its own items per minute of its own time; a stage
    that did not count items is measured against the run's file count.
    """
    rows = [_row(name, secs, stage_items.get(name) or files, wall_s)
            for name, secs in stage_seconds.items() if secs > 0]
    untimed = wall_s - sum(stage_seconds.values())
    if wall_s > 0 and untimed / wall_s > _OTHER_FLOOR:
        rows.append(_row("other", untimed, 0, wall_s))
    rows.sort(key=lambda r: r["seconds"], reverse=True)
    return {"wall_s": round(wall_s, 6), "stages": rows, "sentence": _sentence(rows)}


def _row(stage: str, seconds: float, items: int, wall_s: float) -> dict[str, Any]:
    return {
        "stage": stage,
        "seconds": round(seconds, 6),
        "share": round(seconds / wall_s, 4) if wall_s > 0 else 0.0,
        "items": items,
        "per_min": round(items * 60 / seconds) if items and seconds > 0 else None,
    }


def _sentence(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no stage was timed"
    top = rows[0]
    name = "untimed work" if top["stage"] == "other" else top["stage"]
    rate = f" ({top['items']:,} at {top['per_min']:,}/min)" if top["per_min"] else ""
    return f"{name}: {top['share'] * 100:.0f}% of wall time{rate}"


def format_report(report: dict[str, Any]) -> list[str]:
    """Plain lines: the sentence, then one line per stage."""
    lines = [f"bottleneck: {report['sentence']}"]
    for r in report["stages"]:
        rate = f", {r['per_min']:,}/min" if r["per_min"] else ""
        lines.append(f"  {r['stage']:<8} {r['seconds']:9.3f} s  {r['share'] * 100:5.1f}%{rate}")
    return lines
