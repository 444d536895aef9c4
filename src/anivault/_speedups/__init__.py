"""Selects the compiled twins, or the pure-Python ones.

Every hot path has two implementations that behave identically:
``_x_c.pyx`` (Cython) and ``_x_py.py``. ANIVAULT_NO_EXTENSIONS=1 forces the
pure twins; otherwise the compiled ones are used when they were built.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

TWINS = ("hash", "lru", "parse", "records", "walk")
BACKENDS = ("c", "py")


def twin(name: str, backend: str) -> ModuleType:
    """The ``name`` twin of ``backend`` ("c" or "py"); tests use it to run both."""
    return importlib.import_module(f"{__name__}._{name}_{backend}")


def _load(backend: str) -> dict[str, ModuleType]:
    return {name: twin(name, backend) for name in TWINS}


BACKEND = "py"
if os.environ.get("ANIVAULT_NO_EXTENSIONS", "") in ("", "0"):
    try:
        _modules = _load("c")
        BACKEND = "c"
    except ImportError:  # not built (e.g. a pure-Python install): use the twins below
        pass
if BACKEND == "py":
    _modules = _load("py")

parse_name = _modules["parse"].parse_name
parse_names = _modules["parse"].parse_names
if TYPE_CHECKING:  # the pure twin is the spec: type checkers read its signatures
    from ._parse_py import parse_name, parse_names  # noqa: F811
path_hash = _modules["hash"].path_hash
path_hashes = _modules["hash"].path_hashes
change_key = _modules["hash"].change_key
LRUCache = _modules["lru"].LRUCache
list_dir = _modules["walk"].list_dir
walk_folders = _modules["walk"].walk_folders
render_folder = _modules["records"].render_folder

__all__ = ["BACKEND", "BACKENDS", "TWINS", "twin", "parse_name", "parse_names", "path_hash", "path_hashes",
           "change_key", "LRUCache", "list_dir", "walk_folders", "render_folder"]
