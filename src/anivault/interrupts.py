"""Ctrl-C during a journaled run, deferred to safe points.

While a :class:`~anivault.journal.Journal` is open, SIGINT only sets a flag;
the next journal record, or the next MiB of a copy, raises the
KeyboardInterrupt. At those points the interrupted step has either finished
or not begun, and a copy in progress removes its temporary file on the way
out, so Ctrl-C never leaves a temporary copy or a half-done move behind.
"""
from __future__ import annotations

import signal
import threading
from typing import Any


class Interrupts:
    """Ctrl-C while a journaled run touches files: noted, then raised at the next safe point.

    A KeyboardInterrupt raised in the middle of a copy or between a link and
    its unlink could leave a temporary copy or a second name behind; deferred
    to the next journal record (or the next MiB of a copy, see :func:`check_interrupt`),
    the interrupted step either finished or cleaned up after itself.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.pending = False
        self._previous: Any = None

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if self.depth == 0:
            self.pending = False
            self._previous = signal.signal(signal.SIGINT, self._note)
        self.depth += 1

    def _note(self, signum: int, frame: Any) -> None:
        self.pending = True

    def check(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if threading.current_thread() is not threading.main_thread() or self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            signal.signal(signal.SIGINT, self._previous)


interrupts = Interrupts()


def check_interrupt() -> None:
    """Raise a Ctrl-C deferred during a journaled run (a safe point: nothing is half done here)."""
    interrupts.check()
