"""``--metrics FILE``: one NDJSON event per line, ``{"ts", "phase", "event", "fields"}``.

Events: start, progress, complete, warning, error. The file is appended to
(never truncated: it may hold earlier runs), each line written whole under a
lock because the sampler thread writes progress beside the main thread.
Configured secrets are masked in every line before it reaches the disk.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from ..errors import UsageError

EVENTS = ("start", "progress", "complete", "warning", "error")


class EventLog:
    def __init__(self, path: str | os.PathLike[str], secrets: tuple[str, ...] = ()) -> None:
        self.path = os.fspath(path)
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        try:
            self._file = open(self.path, "a", encoding="utf-8", errors="surrogateescape")
        except OSError as e:
            raise UsageError(f"cannot write metrics file {self.path}: {e.strerror or e}",
                             hint="pass --metrics a writable file path") from e

    def write(self, phase: str, event: str, fields: dict[str, Any]) -> None:
        line = json.dumps({"ts": round(time.time(), 3), "phase": phase, "event": event,
                           "fields": fields}, ensure_ascii=False, default=str)
        for secret in self._secrets:
            line = line.replace(secret, "***")
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
