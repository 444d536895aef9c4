"""Plan files: a header line, then one JSON line per entry."""
from __future__ import annotations

import json
import os
from dataclasses import asdict

from ..errors import AniVaultError, UsageError
from .entries import PLAN_FORMAT, Plan, PlanEntry, PlanOptions

def write_plan(plan: Plan, path: str) -> None:
    """Save a plan as JSON lines (a header, then one entry per line), atomically."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            header = {"anivault_plan": PLAN_FORMAT, "options": asdict(plan.options), "offline": plan.offline,
                      "created": plan.created, "left_in_place": plan.left_in_place}
            f.write(json.dumps(header, ensure_ascii=False) + "\n")
            for e in plan.entries:
                f.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise AniVaultError(f"cannot write plan {path}: {e.strerror}", hint="choose a writable path") from e


def read_plan(path: str) -> Plan:
    """A plan saved by :func:`write_plan` (UsageError when it is not one)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            header = json.loads(f.readline() or "{}")
            if header.get("anivault_plan") != PLAN_FORMAT:
                raise UsageError(f"{path} is not an AniVault plan (format {PLAN_FORMAT})",
                                 hint="make one with `anivault organize SRC --dest DST --plan FILE`")
            options = header["options"]
            options["sources"] = tuple(options.get("sources") or ())
            entries = [PlanEntry(**json.loads(line)) for line in f if line.strip()]
    except OSError as e:
        raise AniVaultError(f"cannot read plan {path}: {e.strerror}", hint="check the path") from e
    except (ValueError, TypeError, KeyError) as e:
        raise UsageError(f"{path} is not a valid AniVault plan: {e}",
                         hint="plans are written by `anivault organize --plan FILE`; do not edit them") from e
    return Plan(PlanOptions(**options), entries, offline=header.get("offline", True),
                left_in_place=header.get("left_in_place", 0), created=header.get("created", 0.0))
