"""AniVault: a fast, safe anime library organizer.

The library API is what the CLI calls; ``BACKEND`` says whether the compiled
twins ("c") or the pure-Python ones ("py") are in use.
"""
from __future__ import annotations

from ._speedups import BACKEND
from ._version import __version__
from .errors import AniVaultError
from .models import ParsedName
from .match import Match, Matcher, Series, match_files, match_records
from .tmdb import TMDBClient
from .cache import TMDBCache
from .organize import (Plan, PlanEntry, PlanOptions, apply_plan, plan_organize, read_plan, scan_and_plan,
                       write_plan)
from .undo import resume
from .journal import history
from .scan import ScanRecord, ScanRun, ScanSummary, ScanWarning, scan
from .demo import make_demo
from . import parse  # a callable module: anivault.parse(name) and anivault.parse.parse_file(...)
from .parse import parse_many

__all__ = [
    "BACKEND",
    "__version__",
    "AniVaultError",
    "ParsedName",
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
    "parse",
    "parse_many",
    "ScanRecord",
    "ScanRun",
    "ScanSummary",
    "ScanWarning",
    "scan",
    "make_demo",
    "Match",
    "Matcher",
    "Series",
    "match_files",
    "match_records",
    "TMDBClient",
    "TMDBCache",
]
