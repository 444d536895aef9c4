"""The bench result as text: one row per variant, the ratios, the bottlenecks, the verdict."""
from __future__ import annotations

from typing import Any, Sequence

from ..monitor import human_bytes
from .compare import Change


def variant_rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, v in result["variants"].items():
        rows.append([
            v["stage"], key + (" (peer)" if v["peer"] else ""), f"{v['items']:,} {v['unit']}",
            f"{v['median_per_min']:,.0f}", f"{v['p95_per_min']:,.0f}",
            f"{v['score']:.4g}" if "score" in v else "",
            human_bytes(v["peak_rss"]) if v["peak_rss"] else "",
            f"{v['hit_rate'] * 100:.1f}%" if "hit_rate" in v else "",
            v.get("bottleneck", ""),
        ])
    return rows


VARIANT_COLUMNS = ["stage", "variant", "items", "median /min", "P95 /min", "score", "peak RSS",
                   "hit rate", "bottleneck"]


def ratio_lines(result: dict[str, Any]) -> list[str]:
    lines = []
    for name, r in result["ratios"].items():
        what = "time ratio" if r["of"] == "time" else "speed ratio"
        lines.append(f"{name}: {what} median {r['median']:.3g}, P95 {r['p95']:.3g}")
    return lines


def verdict_lines(changes: Sequence[Change], threshold: float) -> list[str]:
    regressed = [c for c in changes if c.regressed]
    lines = [c.sentence() for c in changes]
    if regressed:
        lines.append(f"REGRESSION: {len(regressed)} of {len(changes)} metrics beyond {threshold:g}%")
    else:
        lines.append(f"ok: no metric regressed beyond {threshold:g}% ({len(changes)} compared)")
    return lines
