"""AniVault: a fast, safe anime library organizer.

The library API is what the CLI calls; ``BACKEND`` says whether the compiled
twins ("c") or the pure-Python ones ("py") are in use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import AniVaultError
from .models import ParsedName

# Everything else loads on first use, so `import anivault` (and every CLI start) stays fast:
# the compiled twins, the scanner and parser, the matcher (httpx, rapidfuzz), the TMDB cache,
# the organizer. ``anivault.scan`` and ``anivault.parse`` are callable modules: the name is
# the module and, called, the function.
_LAZY = {
    "BACKEND": "_speedups",
    "scan": None, "parse": None,  # the modules themselves
    "parse_many": "parse",
    "ScanRecord": "scan", "ScanRun": "scan", "ScanSummary": "scan", "ScanWarning": "scan",
    "Match": "match", "Matcher": "match", "Series": "match",
    "match_files": "match", "match_records": "match",
    "TMDBClient": "tmdb",
    "TMDBCache": "cache",
    "Plan": "organize", "PlanEntry": "organize", "PlanOptions": "organize",
    "plan_organize": "organize", "scan_and_plan": "pipeline", "apply_plan": "organize",
    "read_plan": "organize", "write_plan": "organize",
    "resume": "undo",
    "history": "journal",
    "make_demo": "demo",
}

if TYPE_CHECKING:
    from . import parse, scan
    from ._speedups import BACKEND
    from .parse import parse_many
    from .scan import ScanRecord, ScanRun, ScanSummary, ScanWarning
    from .cache import TMDBCache
    from .demo import make_demo
    from .journal import history
    from .match import Match, Matcher, Series, match_files, match_records
    from .organize import Plan, PlanEntry, PlanOptions, apply_plan, plan_organize, read_plan, write_plan
    from .pipeline import scan_and_plan
    from .tmdb import TMDBClient
    from .undo import resume


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name] or name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BACKEND",
    "__version__",
    "AniVaultError",
    "ParsedName",
    "parse",
    "parse_many",
    "scan",
    "ScanRecord",
    "ScanRun",
    "ScanSummary",
    "ScanWarning",
    "make_demo",
    "Match",
    "Matcher",
    "Series",
    "match_files",
    "match_records",
    "TMDBClient",
    "TMDBCache",
    "Plan",
    "PlanEntry",
    "PlanOptions",
    "plan_organize",
    "scan_and_plan",
    "apply_plan",
    "read_plan",
    "write_plan",
    "resume",
    "history",
]
