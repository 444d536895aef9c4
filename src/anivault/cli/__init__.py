"""The ``anivault`` command: the group, error mapping, and a lazy table of commands.

Each command lives in its own module (options -> one library call ->
output.render_*) and is imported only when it runs or when ``--help`` lists
it, so start-up stays fast. Adding a command is one line in ``COMMANDS``.
Errors reach the user as one line on stderr with a hint and a documented
exit code (see errors.py).
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .._version import __version__
from ..errors import EXIT_FATAL, AniVaultError
from .context import current_metrics, current_settings, fail, start_run, warn

# command name -> "module:attribute" inside anivault.cli
COMMANDS: dict[str, str] = {
    "scan": "scan:scan_command",
    "parse": "parse:parse_command",
    "demo": "demo:demo_command",
    "match": "match:match_command",
    "cache": "cache:cache_group",
    "organize": "organize:organize_command",
    "run": "organize:run_command",
    "undo": "undo:undo_command",
    "history": "undo:history_command",
    "bench": "bench:bench_command",
    "config": "config:config_group",
    "import": "importer:import_command",
    "watch": "watch:watch_command",
    "verify": "verify:verify_command",
    "pin": "pin:pin_command",
    "pins": "pin:pins_command",
    "unpin": "pin:unpin_command",
}


class AniVaultGroup(click.Group):
    """Commands load on first use; AniVaultError (and any crash) becomes one line plus an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AniVaultError as e:
            fail(str(e), e.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): not an error of ours.
            sys.stderr.close()
            ctx.exit(0)
        except Exception as e:  # a bug: still one line, the traceback on request
            if os.environ.get("ANIVAULT_DEBUG"):
                raise
            fail(f"internal error: {type(e).__name__}: {e}",
                 EXIT_FATAL, hint="set ANIVAULT_DEBUG=1 for a traceback and report it")


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from .._speedups import BACKEND  # loads the twins: only when asked

        click.echo(f"anivault {__version__} (backend: {BACKEND})")
        ctx.exit()


@click.group(cls=AniVaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("--metrics", "metrics_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Append NDJSON events (start, progress, complete, warning, error) to FILE.")
@click.option("--profile", "profile_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Run under pyinstrument; report to FILE (.html, .json speedscope, else text).")
@click.option("--trace-memory", is_flag=True,
              help="Trace allocations (tracemalloc): traced memory and the sites that grew.")
@click.option("--report", "show_report", is_flag=True, default=None,
              help="After the command, print the run report (stages, bottleneck, memory) on stderr "
                   "(setting `report`).")
@click.pass_context
def cli(ctx: click.Context, metrics_file: str | None, profile_file: str | None,
        trace_memory: bool, show_report: bool | None) -> None:
    """AniVault: scan, parse, match and organize an anime library, safely."""
    start_run(ctx, metrics_file, profile_file, trace_memory, show_report)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="anivault")


__all__ = ["COMMANDS", "cli", "current_metrics", "current_settings", "main", "warn"]
