"""``anivault bench``: every stage timed on a demo library, normalized, gated against a baseline.

- library.py: the demo library (generated once under the cache dir) or the user's own tree.
- stages.py: what each stage runs — AniVault's variants and the peers beside them.
- runner.py: interleaved repeats, calibration pairing, the result (docs/BENCH_FORMAT.md).
- compare.py: ``--compare``: each regressed metric and by how much.
- gate.py: a regression is confirmed by running its stages again before it is reported.
- report.py: the text a person reads.
"""
from __future__ import annotations

from .compare import DEFAULT_THRESHOLD, Change, compare, comparable, load, save
from .gate import gate
from .library import Library, demo_library, own_library
from .runner import DEFAULT_STAGES, FORMAT, INJECT_ENV, run_bench
from .stages import BUILDERS, default_stages

STAGES = tuple(BUILDERS)

__all__ = ["DEFAULT_STAGES", "DEFAULT_THRESHOLD", "FORMAT", "INJECT_ENV", "STAGES", "Change",
           "Library", "comparable", "compare", "default_stages", "demo_library", "gate", "load", "own_library", "run_bench",
           "save"]
