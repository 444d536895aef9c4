"""Folder reading with a stand-in ``list_dir``, for tests that simulate a failing folder."""
from __future__ import annotations

import importlib
from typing import Any, Callable

import pytest

scan_module = importlib.import_module("anivault.scan")


class InlineReader:
    """The scanner's folder reader (the ``ReadAhead`` interface) over any ``list_dir``."""

    def __init__(self, list_dir: Callable[..., Any], min_size: int = 0) -> None:
        self.list_dir = list_dir
        self.min_size = min_size
        self.paths: dict[int, str] = {}
        self.tickets = 0

    def want(self, path: str) -> int:
        self.tickets += 1
        self.paths[self.tickets] = path
        return self.tickets

    def take(self, ticket: int) -> Any:
        return self.list_dir(self.paths.pop(ticket), self.min_size)

    def close(self) -> None:
        self.paths.clear()


def read_folders_with(monkeypatch: pytest.MonkeyPatch, list_dir: Callable[..., Any]) -> None:
    """Scans in this test read every folder through ``list_dir``."""
    monkeypatch.setattr(scan_module, "ReadAhead",
                        lambda min_size=0, ahead=True: InlineReader(list_dir, min_size))
