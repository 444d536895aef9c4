"""Builds the Cython twins in src/anivault/_speedups.

ANIVAULT_NO_EXTENSIONS=1 builds a pure-Python package. Otherwise every
extension must compile: a compiler error fails the build instead of
silently shipping the slow twins.
"""
from __future__ import annotations

import os
import sys
from glob import glob

from setuptools import Extension, setup

SPEEDUPS = "src/anivault/_speedups"


def _selected(pyx: str) -> bool:
    """ANIVAULT_BUILD_ONLY=_parse_c,_lru_c rebuilds just those (a developer convenience)."""
    only = os.environ.get("ANIVAULT_BUILD_ONLY", "")
    return not only or os.path.splitext(os.path.basename(pyx))[0] in only.split(",")


# setuptools compiles .pyx sources through Cython's build_ext when Cython is
# installed (the build backend requires it whenever extensions are wanted).
# Declaring them here without importing Cython keeps sdist and metadata
# builds free of it.
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "embedsignature": True,
}


def extensions() -> list[Extension]:
    if os.environ.get("ANIVAULT_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    optimize = ["/O2"] if sys.platform == "win32" else ["-O3"]
    modules = []
    for pyx in sorted(glob(SPEEDUPS + "/*.pyx")):
        if not _selected(pyx):
            continue
        stem = os.path.splitext(os.path.basename(pyx))[0]
        ext = Extension(
            "anivault._speedups." + stem,
            [pyx],
            include_dirs=[SPEEDUPS + "/include"],
            extra_compile_args=optimize,
            # its include'd .pxi parts (_parse_c.pyx -> _parse_*.pxi) and the .pxd files (its own and
            # those it may cimport: _records_c reads _walk_c's FileList)
            depends=sorted(glob(f"{SPEEDUPS}/{stem[:-2]}_*.pxi") + glob(f"{SPEEDUPS}/*.pxd")),
        )
        ext.cython_directives = DIRECTIVES
        modules.append(ext)
    return modules


setup(ext_modules=extensions())
