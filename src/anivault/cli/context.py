"""What one invocation shares: its metrics, its settings (resolved once), its monitor.

The group starts a :class:`Run` (and the run monitor around the command); each
command resolves its settings once through :func:`settings_for`; warnings and
errors go to the terminal through output.py and into the run's metrics.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NoReturn

import click

from .._version import __version__
from ..errors import EXIT_FATAL, AniVaultError
from . import output

if TYPE_CHECKING:
    from ..monitor import Metrics, RunMonitor
    from ..settings import Settings


def _new_metrics() -> "Metrics":
    from ..monitor import Metrics  # loaded when a command runs, not for --help

    return Metrics()


@dataclass
class Run:
    metrics: "Metrics" = field(default_factory=_new_metrics)
    monitor: "RunMonitor | None" = None
    report: bool | None = None  # --report; None: the `report` setting decides
    settings: "Settings | None" = None


def current_run() -> Run:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None:
        return Run()
    if not isinstance(root.obj, Run):
        root.obj = Run()
    return root.obj


def current_metrics() -> "Metrics":
    """The run's shared metrics object (created by the group, used by every command)."""
    return current_run().metrics


def settings_for(flags: Mapping[str, Any] | None = None, only: Iterable[str] | None = None) -> "Settings":
    """The run's settings, resolved once: these flags > environment > config file > defaults.

    ``only``: the keys a command needs (undo and history need data_dir alone), so a broken
    config file or an unrelated bad value does not stop it (a broken file is a warning)."""
    from ..settings import resolve

    run = current_run()
    if run.settings is None:
        run.settings = resolve(flags, only=only, warn=warn)
    return run.settings


def current_settings() -> "Settings":
    return settings_for()


def fail(message: str, code: int = EXIT_FATAL, hint: str = "") -> NoReturn:
    output.error_line(message + (f" (hint: {hint})" if hint else ""))
    sys.exit(code)


def warn(message: str, counted: bool = False) -> None:
    """One warning line on stderr, a "warning" event for --metrics FILE, and one more in the
    run's ``warnings`` counter (``counted``: the stage that raised it counted it already)."""
    from ..monitor.metrics import WARNINGS

    output.warning_line(message)
    if click.get_current_context(silent=True) is not None:
        metrics = current_metrics()
        metrics.warning(message)
        if not counted:
            metrics.count(WARNINGS)


# ---------------------------------------------------------------- the run monitor around a command


def start_run(ctx: click.Context, metrics_file: str | None, profile_file: str | None,
              trace_memory: bool, report: bool | None) -> None:
    """Samples resources around the command and reports when the context closes."""
    from .._speedups import BACKEND
    from ..monitor import RunMonitor

    run = Run(report=report)
    ctx.obj = run
    secrets: tuple[str, ...] = ()
    if metrics_file:  # masked from the first event on, whatever the command resolves later
        from ..settings import SECRET_KEYS, resolve

        secrets = resolve(only=SECRET_KEYS).secrets()
    run.monitor = RunMonitor(run.metrics, events_path=metrics_file, profile_path=profile_file,
                             trace_memory=trace_memory, secrets=secrets)
    run.monitor.start(ctx.invoked_subcommand or "anivault", version=__version__, backend=BACKEND)
    ctx.call_on_close(lambda: _finish_run(run))


def _finish_run(run: Run) -> None:
    # Runs while the command's exit is unwinding: sys.exc_info() tells how it ended
    # (click's Exit for --strict codes, SystemExit from fail() with the error as context).
    assert run.monitor is not None
    code, error = _exit_of(sys.exc_info()[1])
    try:
        report = run.monitor.finish(code, error)
    except AniVaultError as e:
        fail(str(e))
    if run.monitor.profile is not None:
        output.note_line(f"profile written to {run.monitor.profile.path}")
    leak = run.monitor.leak
    if leak is not None and leak.flagged:
        warn(leak.sentence)
        for site in leak.top_sites:
            output.note_line(f"  {site}")
    if code == 0 and _wants_report(run):
        output.render_run_report(report)


def _wants_report(run: Run) -> bool:
    if run.report is not None:
        return run.report
    if run.settings is not None:
        return bool(run.settings.report)
    from ..settings import resolve

    try:
        return bool(resolve(only=("report",)).report)
    except AniVaultError:  # a bad `report` value: the command already ran; no report
        return False


def _exit_of(exc: BaseException | None) -> tuple[int, str | None]:
    if exc is None:
        return 0, None
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code, None
    if isinstance(exc, click.ClickException):  # a usage error: click prints it, exit 2
        return exc.exit_code, exc.format_message()
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else 1
        cause = exc.__context__
        return code, (str(cause) if cause is not None and code else None)
    return 1, f"{type(exc).__name__}: {exc}"
