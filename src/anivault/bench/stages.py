"""What each bench stage runs: AniVault's own variants and the peers measured beside them.

A stage is a list of variants timed one after another in every repeat. The
``gated`` variants are AniVault as a user runs it: they are normalized by the
calibration, compared against a baseline and slowed by the test-only switch.
The others give the context the targets ask for: ``find`` beside the scan,
the pure twins beside the compiled ones, anitopy beside the parser.
"""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import Callable

from .. import _speedups
from .library import Library, file_paths
from .measure import Outcome, command, in_process

ANIVAULT = (sys.executable, "-m", "anivault")
PURE_SAMPLE = 30_000  # names for the pure parser: enough for a stable rate, quick to run
ANITOPY_SAMPLE = 2_000  # anitopy parses ~1,700 names/s


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    run: Callable[[], Outcome]
    unit: str = "paths"
    gated: bool = False
    peer: bool = False


@dataclass(frozen=True)
class Ratio:
    """A per-repeat ratio of two variants (their medians over the repeats are reported)."""

    name: str
    numerator: str
    denominator: str
    of: str = "rate"  # "rate": items/s over items/s; "time": seconds over seconds


@dataclass
class Stage:
    name: str
    variants: list[Variant]
    ratios: list[Ratio] = field(default_factory=list)


@dataclass
class Context:
    """What the stages share: the library, a work dir, a sampler's view of peak RSS."""

    library: Library
    workdir: str
    peak_rss: Callable[[float, float], int]
    _paths: list[str] | None = None

    @property
    def paths(self) -> list[str]:
        if self._paths is None:
            self._paths = file_paths(self.library.root)
        return self._paths


def scan_stage(ctx: Context) -> Stage:
    root, files = ctx.library.root, ctx.library.files
    index_dir = os.path.join(ctx.workdir, "scan-index")
    scan = [*ANIVAULT, "scan", "--json"]
    # The warm variant re-scans with an index filled here, outside the timing.
    command([*scan, "--cache-dir", index_dir, root], files, metrics=True)
    variants = [
        Variant("scan", "anivault scan --json --no-cache", lambda: command(
            [*scan, "--no-cache", root], files, metrics=True), gated=True),
        Variant("scan_warm", "anivault scan --json (warm index)", lambda: command(
            [*scan, "--cache-dir", index_dir, root], files, metrics=True), gated=True),
    ]
    ratios = [Ratio("scan_warm_vs_cold", "scan_warm", "scan", of="time")]
    find = shutil.which("find")
    if find and os.name == "posix":
        variants.append(Variant("find", "find -type f -printf '%s %T@ %p\\n'", lambda: command(
            [find, root, "-type", "f", "-printf", "%s %T@ %p\\n"], files), peer=True))
        ratios.append(Ratio("scan_vs_find", "scan", "find", of="time"))
    return Stage("scan", variants, ratios)


def parse_stage(ctx: Context) -> Stage:
    names = [os.path.basename(p) for p in ctx.paths]
    backend = _speedups.BACKEND
    variants = [Variant("parse", f"parse_name ({backend} twin)",
                        _parse_run(_speedups.parse_name, names, ctx), unit="names", gated=True)]
    ratios = []
    if backend == "c":
        pure = _speedups.twin("parse", "py").parse_name
        variants.append(Variant("parse_py", "parse_name (pure twin)",
                                _parse_run(pure, names[:PURE_SAMPLE], ctx), unit="names"))
        ratios.append(Ratio("parse_compiled_vs_pure", "parse", "parse_py"))
    anitopy = _anitopy()
    if anitopy is not None:
        variants.append(Variant("anitopy", "anitopy.parse (peer)",
                                _parse_run(anitopy, names[:ANITOPY_SAMPLE], ctx), unit="names",
                                peer=True))
        ratios.append(Ratio("parse_vs_anitopy", "parse", "anitopy"))
    return Stage("parse", variants, ratios)


def hash_stage(ctx: Context) -> Stage:
    paths = ctx.paths
    variants = [Variant("hash", f"path_hashes ({_speedups.BACKEND} twin)",
                        _hash_run(_speedups.path_hashes, paths, ctx), gated=True)]
    ratios = []
    if _speedups.BACKEND == "c":
        variants.append(Variant("hash_py", "path_hashes (pure twin)",
                                _hash_run(_speedups.twin("hash", "py").path_hashes, paths, ctx)))
        ratios.append(Ratio("hash_compiled_vs_pure", "hash", "hash_py"))
    return Stage("hash", variants, ratios)


def _parse_run(parse: Callable[[str], object], names: list[str], ctx: Context) -> Callable[[], Outcome]:
    def work() -> int:
        for name in names:
            parse(name)
        return len(names)

    return lambda: in_process(work, ctx.peak_rss)


def _hash_run(hashes: Callable[[list[str]], list[int]], paths: list[str],
              ctx: Context) -> Callable[[], Outcome]:
    return lambda: in_process(lambda: len(hashes(paths)), ctx.peak_rss)


def _anitopy() -> Callable[[str], object] | None:
    try:
        import anitopy
    except ImportError:  # the `bench` extra is optional
        return None
    return anitopy.parse


BUILDERS: dict[str, Callable[[Context], Stage]] = {
    "scan": scan_stage,
    "parse": parse_stage,
    "hash": hash_stage,
}
