"""AniVault: a fast, safe anime library organizer.

The library API is what the CLI calls; ``BACKEND`` says whether the compiled
twins ("c") or the pure-Python ones ("py") are in use.
"""
from __future__ import annotations

from ._speedups import BACKEND
from ._version import __version__
from .errors import AniVaultError
from .models import ParsedName
from .scan import ScanRecord, ScanRun, ScanSummary, ScanWarning, scan
from .demo import make_demo
from . import parse  # a callable module: anivault.parse(name) and anivault.parse.parse_file(...)
from .parse import parse_many

__all__ = [
    "BACKEND",
    "__version__",
    "AniVaultError",
    "ParsedName",
    "parse",
    "parse_many",
    "ScanRecord",
    "ScanRun",
    "ScanSummary",
    "ScanWarning",
    "scan",
    "make_demo",
]
