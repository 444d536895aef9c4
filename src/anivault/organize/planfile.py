"""Plan files: a header line, then one JSON line per entry.

A plan file is untrusted input when it comes back (``--from-plan``): every entry
is type-checked as it is read, and :func:`verify_plan` refuses a plan in which a
destination leaves the declared roots (after ``..`` and symlinks are resolved)
or a source is no longer the file that was planned (size, mtime, fingerprint).
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, fields
from typing import Any, Iterator

from .. import fileops
from ..errors import AniVaultError, UsageError
from .entries import PLAN_FORMAT, ROLES, STATUSES, Plan, PlanEntry, PlanOptions

_HINT = "make the plan again: `anivault organize SRC --dest DST --plan FILE` (plans are not meant to be edited)"
_OPTION_NAMES = {f.name for f in fields(PlanOptions)}


def write_plan(plan: Plan, path: str, *, fingerprints: bool = False) -> None:
    """Save a plan as JSON lines (a header, then one entry per line), atomically.

    ``fingerprints`` records each source to move's sampled fingerprint (16 KiB read per file),
    so a later ``--from-plan`` can tell that it is still the same file.
    """
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            header = {"anivault_plan": PLAN_FORMAT, "options": asdict(plan.options), "offline": plan.offline,
                      "created": plan.created, "left_in_place": plan.left_in_place}
            f.write(json.dumps(header, ensure_ascii=False) + "\n")
            for e in plan.entries:
                if fingerprints and e.status == "todo" and not e.fp:
                    e = e._replace(fp=_fingerprint(e.src, e.size))
                f.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise AniVaultError(f"cannot write plan {path}: {e.strerror}", hint="choose a writable path") from e


def _fingerprint(path: str, size: int) -> str:
    try:
        return fileops.fingerprint(path, size)
    except OSError:
        return ""  # unreadable now: --from-plan will refuse it, apply would fail it


def read_plan(path: str, *, verify: bool = False) -> Plan:
    """A plan saved by :func:`write_plan` (UsageError when it is not one); ``verify``: see verify_plan."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            header = json.loads(f.readline() or "{}")
            if not isinstance(header, dict) or header.get("anivault_plan") != PLAN_FORMAT:
                raise UsageError(f"{path} is not an AniVault plan (format {PLAN_FORMAT})",
                                 hint="make one with `anivault organize SRC --dest DST --plan FILE`")
            plan = Plan(_options(header.get("options")), _entries(f), offline=bool(header.get("offline", True)),
                        left_in_place=int(header.get("left_in_place", 0)),
                        created=float(header.get("created", 0.0)))
    except OSError as e:
        raise AniVaultError(f"cannot read plan {path}: {e.strerror}", hint="check the path") from e
    except (ValueError, TypeError, KeyError) as e:
        raise UsageError(f"{path} is not a valid AniVault plan: {e}", hint=_HINT) from e
    if verify:
        verify_plan(plan, path)
    return plan


def _options(options: Any) -> PlanOptions:
    if not isinstance(options, dict) or not set(options) <= _OPTION_NAMES or "dest" not in options:
        raise ValueError("bad options in the header")
    options = dict(options, sources=tuple(options.get("sources") or ()))
    for name, value in options.items():
        if name in ("windows",):
            ok = value is None or isinstance(value, bool)
        elif name in ("keep_names", "long_paths"):
            ok = isinstance(value, bool)
        elif name == "sources":
            ok = all(isinstance(s, str) for s in value)
        else:
            ok = isinstance(value, str) or (name == "movies_dest" and value is None)
        if not ok:
            raise ValueError(f"option {name!r} has the wrong type")
    result = PlanOptions(**options)
    result.validate()
    return result


def _entries(lines: Any) -> Iterator[PlanEntry]:
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError(f"line {number} is not an entry")
        try:
            entry = PlanEntry(**data)
        except TypeError as e:
            raise ValueError(f"line {number}: {e}") from None
        text = (entry.src, entry.dst, entry.role, entry.status, entry.reason, entry.fp)
        if (not all(isinstance(t, str) for t in text) or type(entry.size) is not int
                or type(entry.mtime_ns) is not int or entry.status not in STATUSES or entry.role not in ROLES
                or not os.path.isabs(entry.src) or (entry.dst and not os.path.isabs(entry.dst))):
            raise ValueError(f"line {number} is not a valid entry")
        yield entry


def verify_plan(plan: Plan, path: str = "the plan") -> None:
    """Refuse (UsageError, exit 2) a plan with a destination outside its roots or a changed source."""
    roots = [os.path.realpath(r) for r in (*plan.options.roots, plan.options.unsorted_dir) if r]
    refused, first = 0, ""
    for _, entry in plan.todo():
        why = _outside(entry.dst, roots) or _changed(entry)
        if why:
            refused += 1
            first = first or why
    if refused:
        raise UsageError(f"{path}: {refused:,} entries refused, e.g. {first}", hint=_HINT)


def _outside(dst: str, roots: list[str]) -> str:
    real = os.path.realpath(dst)  # resolves "..", and symlinks along what exists already
    if any(real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        return ""
    return f"{dst} is outside the destination roots ({', '.join(roots)})"


def _changed(entry: PlanEntry) -> str:
    try:
        st = os.lstat(entry.src)
        if not stat.S_ISREG(st.st_mode):
            return f"{entry.src} is no longer a regular file"
        if st.st_size != entry.size or st.st_mtime_ns != entry.mtime_ns:
            return f"{entry.src} changed since the plan was made (size or mtime)"
        if not entry.fp:
            return f"{entry.src} has no fingerprint in the plan"
        if fileops.fingerprint(entry.src, st.st_size) != entry.fp:
            return f"{entry.src} changed since the plan was made (content)"
    except OSError as e:
        return f"{entry.src}: {e.strerror or e}"
    return ""
