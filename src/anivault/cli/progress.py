"""The live status line on a TTY (stderr), and the adapters commands hand to the library.

Hot loops only bump a counter; the line is rebuilt at most ~8 times a second.
Piped or redirected, nothing is drawn.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, Iterable, Iterator

from ..monitor.metrics import FILES
from .context import current_metrics
from .output import escape, is_tty


class Progress:
    """A one-line live status on stderr when it is a TTY; otherwise nothing.

    ``status`` is called at most every ``interval`` seconds and returns the line to show.
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
            text = self._status()
            self._live.update(self._text(escape(text + _run_status(text))), refresh=True)

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None


def _run_status(text: str = "") -> str:
    """Rate, ETA, RSS and hit rate of the command in progress (see anivault.monitor),
    without a second rate when the command's own line shows one."""
    from ..monitor import active

    monitor = active()
    return " · " + monitor.live_status(rate="/s" not in text) if monitor is not None else ""


def scan_progress(run: Any) -> Progress:
    """Files scanned, their rate and the time so far."""
    def status() -> str:
        s = run.summary
        elapsed = run.metrics.elapsed
        rate = s.files / elapsed if elapsed > 0 else 0.0
        return f"scanning: {s.files:,} files · {rate:,.0f} files/s · {elapsed:,.1f}s"

    return Progress(status)


def counting_progress(label: str, counts: dict[str, int]) -> Progress:
    """``label: scanned 1,024 · applied 512 · 3.2s`` from counters the command keeps."""
    metrics = current_metrics()

    def status() -> str:
        done = " · ".join(f"{k} {v:,}" for k, v in counts.items())
        return f"{label}: {done} · {metrics.elapsed:,.1f}s"

    return Progress(status)


class SeriesProgress:
    """Scanning, then series resolved one by one (match, cache warm)."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.done = 0
        self._live = Progress(self._status, enabled=enabled)

    def _status(self) -> str:
        metrics = current_metrics()
        if metrics.progress_counter == FILES:  # still scanning
            return f"{self.label}: scanning, {metrics.counters.get(FILES, 0):,} files"
        if metrics.expected is not None:  # the live status adds done/total, rate and ETA
            return f"{self.label}: series"
        return f"{self.label}: {self.done:,} series"

    def series_done(self, series: Any) -> None:
        self.done += 1
        self._live.tick()

    def ticking(self, folders: Iterable[list[Any]], every: int = 1024) -> Iterator[list[Any]]:
        """Lists of records (a scan's folders), refreshing the line every ``every`` records or so
        (the scan before the match)."""
        seen = 0
        for records in folders:
            if seen == 0 or (seen + len(records)) // every != seen // every:
                self._live.tick()
            seen += len(records)
            yield records

    def __enter__(self) -> "SeriesProgress":
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)


class PhaseProgress:
    """A live line for a library call that reports each file with ``progress(n)``: the phase's
    own counter, total, rate and ETA come from the shared metrics (``Metrics.expect``)."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.done = 0
        self._live = Progress(self._status, enabled=enabled)

    def _status(self) -> str:
        if current_metrics().expected is not None:  # the live status adds done/total, rate and ETA
            return self.label
        return f"{self.label}: {self.done:,} files"

    def __call__(self, n: int = 1) -> None:
        self.done += n
        self._live.tick()

    def __enter__(self) -> "PhaseProgress":
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)


class StepProgress:
    """A live line showing the latest step a long call reports (``bench``)."""

    def __init__(self, label: str, first: str) -> None:
        self.step = first
        self._live = Progress(lambda: f"{label}: {self.step}")

    def __call__(self, step: str) -> None:
        self.step = step
        self._live.tick()

    def __enter__(self) -> "StepProgress":
        self._live.__enter__()
        self._live.tick()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)
