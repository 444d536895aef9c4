"""Terminal output: rich progress and tables on a TTY, plain text when piped."""
from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable, Iterable, Sequence, TextIO


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def json_line(obj: Any, out: TextIO | None = None) -> None:
    """One NDJSON line; non-UTF-8 path bytes survive as surrogate escapes in JSON."""
    (out or sys.stdout).write(json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
                                         default=str).encode("utf-8", "surrogateescape")
                              .decode("utf-8", "replace") + "\n")


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None,
          out: TextIO | None = None) -> None:
    """A rich table on a TTY; tab-separated lines with a header otherwise."""
    out = out or sys.stdout
    if is_tty(out):
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for c in columns:
            t.add_column(c)
        for r in rows:
            t.add_row(*("" if v is None else str(v) for v in r))
        Console(file=out).print(t)
        return
    out.write("\t".join(columns) + "\n")
    for r in rows:
        out.write("\t".join("" if v is None else str(v) for v in r) + "\n")


class Progress:
    """A one-line live status on stderr when it is a TTY; otherwise nothing.

    ``status`` is called at most ~8 times a second and returns the line to show,
    so the hot loop only bumps a counter.
    """

    def __init__(self, status: Callable[[], str], enabled: bool | None = None,
                 interval: float = 0.125) -> None:
        self.enabled = is_tty(sys.stderr) if enabled is None else enabled
        self._status = status
        self._interval = interval
        self._next = 0.0
        self._live: Any = None

    def __enter__(self) -> "Progress":
        if self.enabled:
            from rich.console import Console
            from rich.live import Live
            from rich.text import Text

            self._text = Text
            self._live = Live(Text(""), console=Console(file=sys.stderr), transient=True,
                              auto_refresh=False)
            self._live.__enter__()
        return self

    def tick(self) -> None:
        if self._live is None:
            return
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval
            line = self._status()
            self._live.update(self._text(line + _run_status(line)), refresh=True)

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None


def _run_status(line: str = "") -> str:
    """Rate, ETA, RSS and hit rate of the command in progress (see anivault.monitor),
    without a second rate when the command's own line shows one."""
    from .monitor import active

    monitor = active()
    return " · " + monitor.live_status(rate="/s" not in line) if monitor is not None else ""
