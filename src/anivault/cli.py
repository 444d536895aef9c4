"""The ``anivault`` command: parse arguments, make one library call, format the result.

Each command lives in its own section below. Errors reach the user as one
line on stderr with a hint and a documented exit code (see errors.py).
"""
from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

import click

from . import __version__
from ._speedups import BACKEND
from .errors import EXIT_FATAL, AniVaultError
from .monitor import Metrics


class _Group(click.Group):
    """Turns AniVaultError (and any crash) into one line plus an exit code."""

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


def fail(message: str, code: int = EXIT_FATAL, hint: str = "") -> NoReturn:
    click.echo(f"anivault: error: {message}" + (f" (hint: {hint})" if hint else ""), err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"anivault: warning: {message}", err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="anivault",
                      message=f"%(prog)s %(version)s (backend: {BACKEND})")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """AniVault: scan, parse, match and organize an anime library, safely."""
    ctx.obj = {"metrics": Metrics()}


def current_metrics() -> Metrics:
    """The run's shared metrics object (created by the group, used by every command)."""
    ctx = click.get_current_context()
    obj = ctx.find_root().obj or {}
    return obj.setdefault("metrics", Metrics()) if isinstance(obj, dict) else Metrics()


# ---------------------------------------------------------------- config


@cli.group()
def config() -> None:
    """Show or change settings (flags > ANIVAULT_* env > config file > defaults)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def config_show(as_json: bool) -> None:
    """Effective settings, secrets masked."""
    from . import config as cfg
    from .ui import json_line, table

    values = cfg.redacted(cfg.settings())
    if as_json:
        json_line(values)
    else:
        table(["key", "value"], sorted(values.items()))


@config.command("path")
def config_path() -> None:
    """Where the config file is (it may not exist yet)."""
    from . import config as cfg

    click.echo(str(cfg.config_path()))


@config.command("set")
@click.argument("key")
@click.argument("value")
def config_set(key: str, value: str) -> None:
    """Write KEY = VALUE to the config file."""
    from . import config as cfg

    path = cfg.set_value(key, value)
    click.echo(f"{key} set in {path}", err=True)


# ---------------------------------------------------------------- scan / demo / parse


# ---------------------------------------------------------------- match / cache


# ---------------------------------------------------------------- organize / run / undo / history


# ---------------------------------------------------------------- bench


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="anivault")


if __name__ == "__main__":
    main()
