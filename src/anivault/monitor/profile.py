"""``--profile FILE``: run the command under pyinstrument (the optional ``profile`` extra).

The report's format follows the file's suffix: .html (interactive), .json
(speedscope), anything else plain text.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import AniVaultError, UsageError


class Profile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            from pyinstrument import Profiler
        except ImportError as e:
            raise UsageError("--profile needs pyinstrument, which is not installed",
                             hint="pip install 'anivault[profile]'") from e
        # Sampling every 1 ms: fine enough for stages that take seconds, cheap enough
        # not to move the bottleneck it is looking for.
        self._profiler: Any = Profiler(interval=0.001)

    def start(self) -> "Profile":
        self._profiler.start()
        return self

    def stop_and_write(self) -> Path:
        session = self._profiler.stop()
        try:
            self.path.write_text(self._render(session), encoding="utf-8")
        except OSError as e:
            raise AniVaultError(f"cannot write profile {self.path}: {e.strerror or e}",
                                hint="pass --profile a writable file path") from e
        return self.path

    def _render(self, session: Any) -> str:
        from pyinstrument import renderers

        suffix = self.path.suffix.lower()
        if suffix in (".html", ".htm"):
            return renderers.HTMLRenderer().render(session)
        if suffix == ".json":
            return renderers.SpeedscopeRenderer().render(session)
        return renderers.ConsoleRenderer(unicode=True, color=False, show_all=False).render(session)
