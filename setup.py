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


def extensions() -> list[Extension]:
    if os.environ.get("ANIVAULT_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    from Cython.Build import cythonize

    optimize = ["/O2"] if sys.platform == "win32" else ["-O3"]
    modules = [
        Extension(
            "anivault._speedups." + os.path.splitext(os.path.basename(pyx))[0],
            [pyx],
            include_dirs=[SPEEDUPS + "/include"],
            extra_compile_args=optimize,
        )
        for pyx in sorted(glob(SPEEDUPS + "/*.pyx"))
        if _selected(pyx)
    ]
    return cythonize(
        modules,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )


setup(ext_modules=extensions())
