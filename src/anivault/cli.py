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
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # also a "warning" event for --metrics FILE
        current_metrics().warning(message)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="anivault",
                      message=f"%(prog)s %(version)s (backend: {BACKEND})")
@click.option("--metrics", "metrics_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Append NDJSON events (start, progress, complete, warning, error) to FILE.")
@click.option("--profile", "profile_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Run under pyinstrument; report to FILE (.html, .json speedscope, else text).")
@click.option("--trace-memory", is_flag=True,
              help="Trace allocations (tracemalloc): traced memory and the sites that grew.")
@click.option("--report", "show_report", is_flag=True,
              help="Print the run report (stages, bottleneck, memory) on stderr even when piped.")
@click.pass_context
def cli(ctx: click.Context, metrics_file: str | None, profile_file: str | None,
        trace_memory: bool, show_report: bool) -> None:
    """AniVault: scan, parse, match and organize an anime library, safely."""
    ctx.obj = {"metrics": Metrics()}
    _monitor_run(ctx, metrics_file, profile_file, trace_memory, show_report)


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


# ---------------------------------------------------------------- run monitoring (group options)


def _monitor_run(ctx: click.Context, metrics_file: str | None, profile_file: str | None,
                 trace_memory: bool, show_report: bool) -> None:
    """Samples resources around the command and reports when the context closes."""
    from .monitor import RunMonitor

    secrets: tuple[str, ...] = ()
    if metrics_file:
        from . import config as cfg

        values = cfg.settings()
        secrets = tuple(str(values[k]) for k in cfg.SECRET_KEYS if values.get(k))
    monitor = RunMonitor(ctx.obj["metrics"], events_path=metrics_file, profile_path=profile_file,
                         trace_memory=trace_memory, secrets=secrets)
    monitor.start(ctx.invoked_subcommand or "anivault", version=__version__, backend=BACKEND)
    ctx.call_on_close(lambda: _finish_run(monitor, show_report))


def _finish_run(monitor: Any, show_report: bool) -> None:
    # Runs while the command's exit is unwinding: sys.exc_info() tells how it ended
    # (click's Exit for --strict codes, SystemExit from fail() with the error as context).
    from .ui import is_tty

    code, error = _exit_of(sys.exc_info()[1])
    try:
        report = monitor.finish(code, error)
    except AniVaultError as e:
        fail(str(e))
    if monitor.profile is not None:
        click.echo(f"anivault: profile written to {monitor.profile.path}", err=True)
    leak = monitor.leak
    if leak is not None and leak.flagged:
        warn(leak.sentence)
        for site in leak.top_sites:
            click.echo(f"anivault:   {site}", err=True)
    # On a TTY the report follows commands that timed stages, not `config show`.
    if code == 0 and (show_report or (is_tty(sys.stderr) and report["stages_s"])):
        _print_report(report)


def _exit_of(exc: BaseException | None) -> tuple[int, str | None]:
    if exc is None:
        return 0, None
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code, None
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else 1
        cause = exc.__context__
        return code, (str(cause) if cause is not None and code else None)
    return 1, f"{type(exc).__name__}: {exc}"


def _print_report(report: dict[str, Any]) -> None:
    from .monitor import format_report, human_bytes

    resources = report.get("resources", {})
    for line in format_report(report["bottleneck"]):
        click.echo(f"anivault: {line}", err=True)
    memory = f"peak RSS {human_bytes(resources.get('peak_rss', 0))}"
    if "traced_peak_bytes" in resources:
        memory += f", traced peak {human_bytes(resources['traced_peak_bytes'])}"
    if "leak" in resources:
        memory += f"; {resources['leak']['sentence']}"
    click.echo(f"anivault: memory: {memory}", err=True)


# ---------------------------------------------------------------- bench


@cli.command("bench")
@click.option("--files", type=click.IntRange(min=1), default=300_000, show_default=True,
              help="Size of the demo library (generated once under the cache dir, then reused).")
@click.option("--repeat", type=click.IntRange(min=1), default=5, show_default=True,
              help="Runs of every stage, interleaved; medians and P95 over them.")
@click.option("--stages", default=",".join(("scan", "parse", "hash")), show_default=True,
              help="Comma list of stages to run.")
@click.option("--seed", type=int, default=1, show_default=True, help="Demo library seed.")
@click.option("--library", type=click.Path(exists=True, file_okay=False),
              help="Bench this existing tree instead of a demo (it is only read).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Where demo libraries live.")
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
@click.option("--save", "save_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the result as a baseline (docs/BENCH_FORMAT.md).")
@click.option("--compare", "compare_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Compare with a baseline; exit 4 when a metric regressed beyond --threshold.")
@click.option("--threshold", type=click.FloatRange(min=0), default=10.0, show_default=True,
              metavar="PCT", help="Regression threshold in percent.")
def bench_command(files: int, repeat: int, stages: str, seed: int, library: str | None,
                  cache_dir: str | None, as_json: bool, save_file: str | None,
                  compare_file: str | None, threshold: float) -> None:
    """Benchmark every stage; --compare gates regressions (exit 4)."""
    from . import bench
    from .errors import RegressionError
    from .ui import is_tty, json_line

    baseline = bench.load(compare_file) if compare_file else None  # fail before the long run
    chosen = [s.strip() for s in stages.split(",") if s.strip()]
    progress = (lambda line: click.echo(f"anivault: bench: {line}", err=True)) \
        if is_tty(sys.stderr) else None
    lib = bench.own_library(library) if library else bench.demo_library(files, seed, cache_dir)
    result = bench.run_bench(lib, repeat=repeat, stages=chosen, progress=progress)
    changes = bench.compare(result, baseline, threshold) if baseline else []
    if baseline is not None:
        result["compare"] = {"baseline": compare_file, "threshold_pct": threshold,
                             "notes": bench.comparable(result, baseline),
                             "changes": [c.to_dict() for c in changes]}
    if save_file:
        bench.save(result, save_file)
    _print_bench(result, changes, threshold, as_json)
    regressed = [c for c in changes if c.regressed]
    if regressed:
        raise RegressionError(f"bench: {len(regressed)} metric(s) regressed beyond {threshold:g}%: "
                              + "; ".join(c.sentence() for c in regressed),
                              hint=f"compared with {compare_file}; rerun to rule out noise")


def _print_bench(result: dict[str, Any], changes: list[Any], threshold: float,
                 as_json: bool) -> None:
    from .bench import report
    from .ui import json_line, table

    if as_json:
        json_line(result)
        return
    cfg = result["config"]
    click.echo(f"anivault {result['anivault']} (backend: {result['backend']}) bench:"
               f" {cfg['files']:,} files, {cfg['repeat']} repeats, {result['platform']},"
               f" {result['cpus']} CPUs")
    table(report.VARIANT_COLUMNS, report.variant_rows(result))
    for line in report.ratio_lines(result):
        click.echo(line)
    for note in result.get("compare", {}).get("notes", []):
        warn(f"bench: not like for like: {note}")
    if "compare" in result:
        for line in report.verdict_lines(changes, threshold):
            click.echo(line)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="anivault")


if __name__ == "__main__":
    main()
