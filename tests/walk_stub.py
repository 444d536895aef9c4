"""Folder reading with a stand-in ``list_dir``, for tests that simulate a failing folder."""
from __future__ import annotations

import importlib
from typing import Any, Callable

import pytest

from anivault._speedups import twin

walk_module = importlib.import_module("anivault.walk")


def read_folders_with(monkeypatch: pytest.MonkeyPatch, list_dir: Callable[..., Any]) -> None:
    """Scans in this test read every folder through ``list_dir``, whichever walk they take
    (the pure walk twin's ``walk_folders`` calls its module's ``list_dir``)."""
    walk_py = twin("walk", "py")
    monkeypatch.setattr(walk_py, "list_dir", list_dir)
    monkeypatch.setattr(walk_module, "list_dir", list_dir)
    monkeypatch.setattr(walk_module, "walk_folders", walk_py.walk_folders)
