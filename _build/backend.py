"""PEP 517 backend: setuptools, plus Cython only when extensions are built."""
from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403  (re-export the backend hooks)


def _wants_extensions() -> bool:
    return os.environ.get("ANIVAULT_NO_EXTENSIONS", "") in ("", "0")


def _extra() -> list[str]:
    return ["Cython>=3.0"] if _wants_extensions() else []


def get_requires_for_build_wheel(config_settings=None):
    return _setuptools.get_requires_for_build_wheel(config_settings) + _extra()


def get_requires_for_build_editable(config_settings=None):
    return _setuptools.get_requires_for_build_editable(config_settings) + _extra()


def get_requires_for_build_sdist(config_settings=None):
    # setup.py declares the extensions (and so imports Cython) for every command.
    return _setuptools.get_requires_for_build_sdist(config_settings) + _extra()
