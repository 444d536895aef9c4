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
from .monitor.metrics import FILES, WARNINGS


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


def warn(message: str, counted: bool = False) -> None:
    """One warning line on stderr, a "warning" event for --metrics FILE, and one more in the
    run's ``warnings`` counter (``counted``: the stage that raised it counted it already)."""
    click.echo(f"anivault: warning: {message}", err=True)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        metrics = current_metrics()
        metrics.warning(message)
        if not counted:
            metrics.count(WARNINGS)


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

WARNINGS_SHOWN = 50  # on stderr; the summary has the exact count


@cli.command("scan")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="NDJSON on stdout: one object per file, then the summary.")
@click.option("--no-recursive", is_flag=True, help="Only the files directly in each PATH.")
@click.option("--min-size", default="0", metavar="SIZE", help="Skip files smaller than SIZE (500K, 10M, 1.5G).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files and folders whose name matches (with a '/': the path below PATH). Repeatable.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symlinks (loops are detected and skipped).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Where the index lives.")
@click.option("--no-cache", is_flag=True, help="Neither read nor update the index.")
@click.option("--workers", type=int, default=None, metavar="N",
              help="1: one thread; 2 or more: the folder walk in its own thread; 0: automatic.")
@click.option("--strict", is_flag=True, help="Exit 3 when there were warnings.")
def scan_command(paths: tuple[str, ...], as_json: bool, no_recursive: bool, min_size: str,
                 exclude: tuple[str, ...], follow_symlinks: bool, cache_dir: str | None,
                 no_cache: bool, workers: int | None, strict: bool) -> None:
    """List the video, subtitle and other files under each PATH, with parsed names."""
    from . import config as cfg
    from .errors import EXIT_WARNINGS
    from .scan import parse_size, scan

    shown = _WarningPrinter()
    run = scan(paths, recursive=not no_recursive, min_size=parse_size(min_size), exclude=exclude,
               follow_symlinks=follow_symlinks, use_index=not no_cache,
               cache_dir=str(cfg.cache_dir(cache_dir)), workers=cfg.settings(workers=workers)["workers"],
               metrics=current_metrics(), on_warning=shown)
    if as_json:
        _scan_ndjson(run)
    else:
        _scan_tables(run)
    shown.finish()
    if strict and run.summary.warning_count:
        sys.exit(EXIT_WARNINGS)


class _WarningPrinter:
    """Each warning one line on stderr, the first WARNINGS_SHOWN of them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, warning: Any) -> None:
        self.count += 1
        if self.count <= WARNINGS_SHOWN:
            warn(str(warning), counted=True)  # the scan counts its own warnings

    def finish(self) -> None:
        if self.count > WARNINGS_SHOWN:
            warn(f"{self.count - WARNINGS_SHOWN} more warnings not shown ({self.count} in all)",
                 counted=True)


def _scan_progress(run: Any) -> Any:
    from .ui import Progress

    def status() -> str:
        s = run.summary
        elapsed = run.metrics.elapsed
        rate = s.files / elapsed if elapsed > 0 else 0.0
        return f"scanning: {s.files:,} files · {rate:,.0f} files/s · {elapsed:,.1f}s"

    return Progress(status)


def _scan_ndjson(run: Any) -> None:
    """NDJSON written in ~256 KB blocks; the summary object comes last."""
    import json

    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None) or _TextAsBytes(sys.stdout)
    block: list[bytes] = []
    size = 0
    with _scan_progress(run) as progress:
        for chunk in run.ndjson_bytes():  # one folder's lines
            block.append(chunk)
            size += len(chunk)
            if size >= 1 << 18:
                out.write(b"".join(block))
                block.clear()
                size = 0
                progress.tick()
    out.write(b"".join(block))
    summary = _summary_dict(run)
    summary["warning_messages"] = [str(w) for w in run.summary.warnings]
    summary["metrics"] = _metrics_snapshot()
    out.write(json.dumps({"summary": summary}, ensure_ascii=True, separators=(",", ":")).encode() + b"\n")
    out.flush()
    from .ui import is_tty

    if is_tty(sys.stderr):
        _print_scan_summary(run, sys.stderr)


class _TextAsBytes:
    """A text stream without a binary buffer (e.g. one a caller swapped in), written as bytes."""

    def __init__(self, text: Any) -> None:
        self.text = text

    def write(self, data: bytes) -> None:
        self.text.write(data.decode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        self.text.flush()


def _scan_tables(run: Any) -> None:
    """Series found (title, season, episodes, files) and the summary, as tables."""
    from .parse import series_title
    from .ui import table

    series: dict[tuple[str, Any], list[Any]] = {}
    with _scan_progress(run) as progress:
        for n, record in enumerate(run):
            parsed = record.parsed
            title = series_title(parsed) if parsed is not None else None
            if title:
                entry = series.setdefault((title, parsed.season), [set(), 0, 0])
                if record.kind == "video":
                    entry[1] += 1
                    if parsed.episode is not None and parsed.kind != "extra":  # NCOP1 is no episode 1
                        entry[0].add(parsed.episode)
                else:
                    entry[2] += 1
            if n & 1023 == 0:
                progress.tick()
    rows = [(title, "" if season is None else season, _episode_ranges(eps), videos, subs)
            for (title, season), (eps, videos, subs) in
            sorted(series.items(), key=lambda kv: (kv[0][0].casefold(), kv[0][1] or 0))]
    table(["title", "season", "episodes", "videos", "subtitles"], rows, title="Series")
    _print_scan_summary(run, sys.stdout)


def _episode_ranges(episodes: set[int]) -> str:
    """{1,2,3,5} -> "1-3, 5"."""
    out: list[str] = []
    for e in sorted(episodes):
        if out and out[-1][1] == e - 1:
            out[-1][1] = e
        else:
            out.append([e, e])  # type: ignore[arg-type]
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in out)  # type: ignore[misc]


def _summary_dict(run: Any) -> dict[str, Any]:
    from .monitor import kernel_peak_rss

    summary: dict[str, Any] = run.summary.to_dict()
    summary["peak_rss"] = kernel_peak_rss()
    return summary


def _print_scan_summary(run: Any, out: Any) -> None:
    from .monitor import human_bytes
    from .ui import table

    s = _summary_dict(run)
    kinds = s["by_kind"]
    lookups = s["index_hits"] + s["index_misses"]
    index = ("off (--no-cache)" if s["index"] is None else
             f"{s['index_hits']:,} hits, {s['index_misses']:,} misses"
             + (f" ({s['index_hits'] / lookups:.0%} reused)" if lookups else ""))
    skipped = ", ".join(f"{n:,} {why}" for why, n in sorted(s["skipped"].items())) or "none"
    rows = [
        ("files", f"{s['files']:,} ({kinds['video']:,} video, {kinds['subtitle']:,} subtitle, "
                  f"{kinds['other']:,} other)"),
        ("size", human_bytes(s["bytes"])),
        ("series", f"{s['series']:,}"),
        ("folders", f"{s['directories']:,}"),
        ("skipped", skipped),
        ("warnings", f"{s['warnings']:,}"),
        ("index", index),
        ("time", f"{s['seconds']:.2f} s ({s['paths_per_min']:,} paths/min)"),
        ("peak RSS", human_bytes(s["peak_rss"])),
    ]
    table(["scan", ""], rows, title="Scan summary", out=out)


@cli.command("demo")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--files", "n_files", type=click.IntRange(min=0), default=3000, show_default=True,
              help="How many files to create.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same library.")
@click.option("--empty", is_flag=True, help="Empty files (default on POSIX: sparse files with realistic sizes).")
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object.")
def demo_command(directory: str, n_files: int, seed: int, empty: bool, as_json: bool) -> None:
    """Create a realistic synthetic anime library in DIRECTORY (new or empty)."""
    from .demo import make_demo
    from .ui import json_line

    summary = make_demo(directory, files=n_files, seed=seed, sizes=False if empty else None)
    if as_json:
        json_line(summary.to_dict())
        return
    kinds = summary.by_kind
    click.echo(f"created {summary.files:,} files ({kinds['video']:,} video, {kinds['subtitle']:,} subtitle, "
               f"{kinds['other']:,} other) of {summary.series:,} series in {summary.directories:,} folders "
               f"under {summary.root}")
    click.echo(f"next: anivault scan {directory}", err=True)


@cli.command("parse")
@click.argument("names", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="NDJSON: one object per NAME (input + fields).")
@click.option("--strict", is_flag=True, help="Exit 3 when a NAME gives no title.")
def parse_command(names: tuple[str, ...], as_json: bool, strict: bool) -> None:
    """Parse release names or paths (folders fill what the name lacks); "-" reads stdin."""
    from .errors import EXIT_WARNINGS
    from .parse import parse_many
    from .ui import json_line, table

    if names == ("-",):
        names = tuple(line.rstrip("\r\n") for line in sys.stdin if line.strip())
    metrics = current_metrics()
    with metrics.stage("parse", items=len(names)):
        results = parse_many(names)
    metrics.count("names_parsed", len(results))
    untitled = [n for n, r in zip(names, results) if r.title is None]
    if as_json:
        for name, r in zip(names, results):
            json_line({"input": name, **r.to_dict()})
    elif len(results) == 1:
        fields = results[0].to_dict()
        table(["field", "value"], [(k, ", ".join(v) if isinstance(v, list) else v)
                                   for k, v in fields.items() if v not in (None, [])])
    else:
        columns = ["input", "title", "season", "episode", "kind", "group", "resolution", "ext"]
        table(columns, [[n] + [_parse_cell(getattr(r, c)) for c in columns[1:]]
                        for n, r in zip(names, results)])
    for name in untitled:
        warn(f"parse: no title in {name!r}")
    if strict and untitled:
        sys.exit(EXIT_WARNINGS)


def _parse_cell(value: Any) -> Any:
    return "" if value is None else value


# ---------------------------------------------------------------- match / cache


def _tmdb_options(f: Any) -> Any:
    """Options every TMDB-using command shares."""
    for option in reversed([
        click.option("--lang", "language", default=None, metavar="TAG",
                     help="TMDB language (default en-US); part of every cache key."),
        click.option("--offline", is_flag=True, help="Answer from the cache only; no request is made."),
        click.option("--rate", type=click.FloatRange(min=0.1), default=None, metavar="N",
                     help="Requests per second at most (default 35)."),
        click.option("--concurrency", type=click.IntRange(min=1, max=64), default=None, metavar="N",
                     help="Requests in flight at most (default 4)."),
        click.option("--min-confidence", type=click.FloatRange(0, 1), default=None, metavar="X",
                     help="Below this a file is unmatched, with the reason (default 0.6)."),
        click.option("--cache-max-mb", type=click.FloatRange(min=1), default=None, metavar="MB",
                     help="Size cap of the TMDB cache on disk (default 256)."),
    ]):
        f = option(f)
    return f


def _match_run(paths: tuple[str, ...], progress_label: str, **kw: Any) -> tuple[Any, Any, Any, Any]:
    """Scan PATHs and match them: (scan run, files, series, summary)."""
    from . import config as cfg
    from .match import match_files
    from .scan import scan
    from .ui import Progress

    metrics = current_metrics()
    shown = _WarningPrinter()
    offline = kw.pop("offline")
    values = cfg.settings(**kw)
    run = scan(paths, metrics=metrics, on_warning=shown, cache_dir=str(cfg.cache_dir()))
    done = [0]

    def tick(series: Any) -> None:
        done[0] += 1
        progress.tick()

    def status() -> str:
        if metrics.progress_counter == FILES:  # still scanning
            return f"{progress_label}: scanning, {metrics.counters.get(FILES, 0):,} files"
        if metrics.expected is not None:  # the live status adds done/total, rate and ETA
            return f"{progress_label}: series"
        return f"{progress_label}: {done[0]:,} series"

    with Progress(status) as progress:
        files, series, summary = match_files(_ticking(run, progress), warn=warn, progress=tick,
                                             metrics=metrics, offline=offline,
                                             min_confidence=values["min_confidence"],
                                             tmdb=cfg.tmdb_settings(values))
    shown.finish()
    summary["metrics"] = _metrics_snapshot()
    return run, files, series, summary


def _ticking(records: Any, progress: Any, every: int = 1024) -> Any:
    """The records, refreshing the live line every ``every`` of them (scan before match)."""
    for n, record in enumerate(records):
        if n % every == 0:
            progress.tick()
        yield record


def _metrics_snapshot() -> dict[str, Any]:
    """The run's metrics so far (stages, bottleneck, counters, peak RSS) for a --json summary;
    the `complete` event of --metrics FILE has the final ones."""
    return current_metrics().snapshot()


def _tmdb_dict(match: Any) -> dict[str, Any] | None:
    if match is None:
        return None
    return {k: v for k, v in match.to_dict().items() if k != "reason"} | (
        {"note": match.reason} if match.reason else {})


def _print_match_summary(summary: dict[str, Any], out: Any) -> None:
    from .ui import table

    rate = summary["hit_rate"]
    rows = [
        ("files", f"{summary['files']:,} ({summary['candidates']:,} with a parsed name)"),
        ("matched", f"{summary['matched']:,} files, {summary['series_matched']:,} of {summary['series']:,} series"),
        ("unmatched", f"{summary['unmatched']:,} files"),
        ("requests", f"{summary['requests']:,} ({summary['retries']:,} retries, "
                     f"{summary['rate_limited']:,} rate-limited)"),
        ("cache", f"{summary['cache_hits']:,} hits, {summary['cache_misses']:,} misses"
                  + (f" ({rate:.1%} hit rate)" if rate is not None else "")),
    ]
    if summary["cache_only"]:
        rows.append(("mode", "cache-only (offline, or TMDB kept failing)"))
    rows += _resource_rows(summary.get("metrics"))
    table(["match", ""], rows, title="Match summary", out=out)


def _resource_rows(metrics: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Time, the bottleneck and peak RSS: rows every summary table ends with."""
    from .monitor import human_bytes, kernel_peak_rss

    if not metrics:
        return [("peak RSS", human_bytes(kernel_peak_rss()))]
    rows = [("time", f"{metrics['elapsed_s']:.2f} s"),
            ("bottleneck", metrics["bottleneck"]["sentence"])]
    peak = metrics.get("resources", {}).get("peak_rss") or kernel_peak_rss()
    return rows + [("peak RSS", human_bytes(peak))]


@cli.command("match")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True,
              help="NDJSON: one object per file with a `tmdb` object (or null and a reason), then the summary.")
@_tmdb_options
@click.option("--strict", is_flag=True, help="Exit 3 when a file with a parsed name stayed unmatched.")
def match_command(paths: tuple[str, ...], as_json: bool, strict: bool, **kw: Any) -> None:
    """Find the TMDB series or movie, season and episode of every file under PATH."""
    from .errors import EXIT_WARNINGS
    from .ui import is_tty, json_line, table

    _, files, series, summary = _match_run(paths, "matching", **kw)
    with current_metrics().stage("output", items=len(files)):
        if as_json:
            for fm in files:
                rec, p = fm.record, fm.record.parsed
                json_line({"path": rec.path, "kind": rec.kind, "title": p.title if p else None,
                           "season": p.season if p else None, "episode": p.episode if p else None,
                           "tmdb": _tmdb_dict(fm.match), "reason": fm.reason})
        else:
            found = sorted((s for s in series if s.matched), key=lambda s: (s.tmdb_title or "").casefold())
            table(["title", "TMDB id", "year", "confidence", "files", "seasons"],
                  [(s.tmdb_title, f"{s.media_type}/{s.id}", s.tmdb_year, f"{s.confidence:.2f}", s.files,
                    _episode_ranges(s.seasons)) for s in found], title="Matched series")
            missed = sorted((s for s in series if not s.matched), key=lambda s: s.title.casefold())
            if missed:
                table(["title", "year", "files", "reason"],
                      [(s.title, s.year, s.files, s.reason) for s in missed], title="Unmatched")
    summary["metrics"] = _metrics_snapshot()
    if as_json:
        json_line({"summary": summary})
        if is_tty(sys.stderr):
            _print_match_summary(summary, sys.stderr)
    else:
        _print_match_summary(summary, sys.stdout)
    if summary["cache_only"] and not kw.get("offline"):
        warn("TMDB kept failing: this run answered from the cache only; run again later for the rest")
    if strict and summary["unmatched"]:
        sys.exit(EXIT_WARNINGS)


@cli.group("cache")
def cache_group() -> None:
    """The TMDB response cache: stats, prune, clear, warm."""


def _open_cache(max_mb: float | None = None) -> Any:
    from . import config as cfg

    cache = cfg.tmdb_settings(cfg.settings(cache_max_mb=max_mb)).open_cache()
    for message in cache.warnings:
        warn(message)
    return cache


@cache_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def cache_stats(as_json: bool) -> None:
    """Entries by kind, bytes on disk, hit rate of the last run and lifetime."""
    from .monitor import human_bytes
    from .ui import json_line, table

    with _open_cache() as cache:
        stats = cache.stats()
    if as_json:
        json_line(stats)
        return
    table(["kind", "entries", "bytes", "expired", "hits"],
          [(k, f"{v['entries']:,}", human_bytes(v["bytes"]), f"{v['expired']:,}", f"{v['hits']:,}")
           for k, v in stats["by_kind"].items()], title=f"TMDB cache {stats['path']}")

    def rate(r: dict[str, Any] | None) -> str:
        if not r or r["hit_rate"] is None:
            return "n/a"
        return f"{r['hit_rate']:.1%} ({r['hits']:,} hits, {r['misses']:,} misses, {r['requests']:,} requests)"

    table(["cache", ""], [
        ("entries", f"{stats['entries']:,}"),
        ("on disk", f"{human_bytes(stats['bytes_on_disk'])} (cap {human_bytes(stats['max_bytes'])})"),
        ("hit rate, last run", rate(stats["last_run"])),
        ("hit rate, lifetime", rate(stats["lifetime"]) + f" over {stats['lifetime']['runs']:,} runs"),
    ])


@cache_group.command("prune")
@click.option("--cache-max-mb", type=click.FloatRange(min=0), default=None, metavar="MB",
              help="Prune down to this size (default: the configured cap).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def cache_prune(cache_max_mb: float | None, as_json: bool) -> None:
    """Delete expired entries, then the least valuable ones while over the size cap."""
    from .monitor import human_bytes
    from .ui import json_line

    with _open_cache(cache_max_mb) as cache:
        result = cache.prune()
        result["bytes_on_disk"] = cache.disk_bytes()
    if as_json:
        json_line(result)
    else:
        click.echo(f"removed {result['removed']:,} entries ({result['expired']:,} expired, "
                   f"{human_bytes(result['bytes'])}); {human_bytes(result['bytes_on_disk'])} on disk")


@cache_group.command("clear")
def cache_clear() -> None:
    """Delete every cached TMDB response."""
    with _open_cache() as cache:
        n = cache.clear()
    click.echo(f"cleared {n:,} entries from {cache.path}")


@cache_group.command("warm")
@click.argument("paths", nargs=-1, required=True)
@_tmdb_options
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object.")
def cache_warm(paths: tuple[str, ...], as_json: bool, **kw: Any) -> None:
    """Prefetch every series of the library under PATH, so later runs need no requests."""
    from .ui import json_line

    _, _, series, summary = _match_run(paths, "warming the cache", **kw)
    if as_json:
        json_line({"summary": summary})
        return
    rate = summary["hit_rate"]
    click.echo(f"{summary['series_matched']:,} of {summary['series']:,} series cached with "
               f"{summary['requests']:,} requests ({summary['cache_hits']:,} already cached"
               + (f", {rate:.1%} hit rate" if rate is not None else "") + ")")


# ---------------------------------------------------------------- organize / run / undo / history

from .errors import UsageError  # noqa: E402  (kept in this section: the file is shared)

FAILURES_SHOWN = 50  # on stderr; the summary has the exact count


def _organize_options(f: Any) -> Any:
    """The naming and safety options `organize` and `run` share."""
    options = [
        click.option("--dest", type=click.Path(file_okay=False), help="Library root for series."),
        click.option("--movies-dest", type=click.Path(file_okay=False),
                     help="Library root for movies (default: DEST/Movies)."),
        click.option("--template", help="Episode path template (default: the Plex/Jellyfin one above; "
                                         "config key `template`)."),
        click.option("--movie-template", help="Movie path template (config key `movie_template`)."),
        click.option("--keep-names", is_flag=True, help="Keep each original file name inside its new folder."),
        click.option("--duplicates", type=click.Choice(["keep-all", "best", "skip"]), default="keep-all",
                     show_default=True, help="Two releases of one episode: keep both (tagged), the best "
                                             "(others to a Duplicates folder), or neither."),
        click.option("--conflict", type=click.Choice(["skip", "rename", "fail"]), default="skip",
                     show_default=True, help="A different file already at the destination."),
        click.option("--action", type=click.Choice(["move", "copy", "hardlink", "symlink"]), default="move",
                     show_default=True, help="How files get there; a move across filesystems copies, "
                                             "verifies (size + xxh3), then deletes the source."),
        click.option("--colon-style", type=click.Choice(["dash", "space", "fullwidth", "remove"]), default=None,
                     help="How ':' in titles is written (default from config: dash)."),
        click.option("--target", type=click.Choice(["auto", "windows", "posix"]), default="auto",
                     show_default=True, help="Path-length rules: auto detects NTFS/FAT/SMB destinations."),
        click.option("--long-paths", is_flag=True, help="The Windows target has long paths enabled."),
        click.option("--apply", "do_apply", is_flag=True, help="Execute (the default is a dry run)."),
        click.option("--prune-empty", is_flag=True, help="Remove source folders the moves left empty."),
        click.option("--offline", is_flag=True, help="Plan from parsed names only, even with a TMDB key."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files/folders."),
        click.option("--no-cache", is_flag=True, help="Do not use the scan index."),
        click.option("--json", "as_json", is_flag=True, help="NDJSON on stdout."),
        click.option("--strict", is_flag=True, help="Exit 3 when a file failed or was left for a conflict."),
        click.option("--batch", type=click.IntRange(min=1), default=512, show_default=True,
                     help="File operations per journal commit (group commit: one fsync per batch)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _plan_options(kw: dict[str, Any], sources: tuple[str, ...]) -> Any:
    from . import config as cfg
    from .organize import DEFAULT_MOVIE_TEMPLATE, DEFAULT_TEMPLATE, PlanOptions

    if not kw["dest"]:
        raise UsageError("--dest is required", hint="e.g. anivault organize ~/Downloads --dest ~/Anime")
    values = cfg.settings(template=kw["template"], movie_template=kw["movie_template"],
                          colon_style=kw["colon_style"])
    target = kw["target"]
    return PlanOptions(dest=kw["dest"], movies_dest=kw["movies_dest"],
                       template=values["template"] or DEFAULT_TEMPLATE,
                       movie_template=values["movie_template"] or DEFAULT_MOVIE_TEMPLATE,
                       keep_names=kw["keep_names"], duplicates=kw["duplicates"], conflict=kw["conflict"],
                       action=kw["action"], colon_style=values["colon_style"] or "dash",
                       windows=None if target == "auto" else target == "windows",
                       long_paths=kw["long_paths"], sources=sources)


def _counting_progress(label: str, counts: dict[str, int]) -> Any:
    from .ui import Progress

    metrics = current_metrics()

    def status() -> str:
        done = " · ".join(f"{k} {v:,}" for k, v in counts.items())
        return f"{label}: {done} · {metrics.elapsed:,.1f}s"

    return Progress(status)


def _scan_plan(sources: tuple[str, ...], options: Any, kw: dict[str, Any], counts: dict[str, int],
               progress: Any) -> Any:
    from . import config as cfg
    from .pipeline import scan_and_plan

    values = cfg.settings()

    def tick() -> None:
        counts["scanned"] += 1
        if counts["scanned"] & 255 == 0:
            progress.tick()

    return scan_and_plan(sources, options, offline=kw["offline"], metrics=current_metrics(), warn=warn,
                         exclude=kw["exclude"], use_index=not kw["no_cache"], on_record=tick,
                         cache_dir=str(cfg.cache_dir()), tmdb=None if kw["offline"] else cfg.tmdb_settings(values),
                         min_confidence=values["min_confidence"])


def _apply(plan: Any, kw: dict[str, Any], counts: dict[str, int], progress: Any) -> Any:
    from .organize import apply_plan

    def tick(n: int) -> None:
        counts["applied"] += n
        progress.tick()

    return apply_plan(plan, prune_empty=kw["prune_empty"], batch=kw["batch"], metrics=current_metrics(),
                      warn=warn, progress=tick, data_dir=_data_dir())


def _print_plan(plan: Any, as_json: bool, fmt: str) -> None:
    """The plan: NDJSON entries, or a tree (default) / table of where each file goes and what stays."""
    from .organize import TODO
    from .ui import json_line, table

    if as_json:
        for entry in plan.entries:
            json_line(entry.to_dict())
        return
    todo = [e for e in plan.entries if e.status == TODO]
    if fmt == "table":
        table(["status", "source", "destination", "reason"],
              [(e.status, e.src, e.dst, e.reason) for e in plan.entries], title="Plan")
        return
    by_dir: dict[str, list[Any]] = {}
    for e in todo:
        by_dir.setdefault(os.path.dirname(e.dst), []).append(e)
    out = sys.stdout
    for directory in sorted(by_dir):
        out.write(f"{directory}{os.sep}\n")
        for e in sorted(by_dir[directory], key=lambda e: e.dst):
            out.write(f"    {os.path.basename(e.dst)}  <-  {e.src}\n")
    stays = [e for e in plan.entries if e.status != TODO]
    if stays:
        out.write("not organized:\n")
        for e in stays:
            out.write(f"    [{e.status}] {e.src}" + (f" ({e.reason})" if e.reason else "") + "\n")


def _summary_rows(plan: Any, report: Any) -> list[tuple[str, str]]:
    from .monitor import human_bytes

    s = plan.summary()
    stays = ", ".join(f"{n:,} {status}" for status, n in s["statuses"].items() if status != "todo") or "none"
    rows = [("planned", f"{s['todo']:,} files to {s['action']} ({human_bytes(s['bytes'])}) into {s['dest']}"),
            ("not organized", stays),
            ("left in place", f"{s['left_in_place']:,} other files"),
            ("matching", {"tmdb": "TMDB", "cache": "TMDB cache only (no credentials)"}.get(
                s["matching"], "offline (parsed names only)"))]
    if report is None:
        rows.append(("mode", "dry run: nothing was changed (add --apply to execute)"))
    else:
        rows += [("applied", f"{report.done:,} of {report.planned:,} ({human_bytes(report.bytes)})"),
                 ("failed", f"{len(report.failed):,}"), ("operation", report.op or "none (nothing to do)")]
        if report.pruned:
            rows.append(("pruned", f"{report.pruned:,} empty folders"))
        if report.done:
            rows.append(("undo", f"anivault undo {report.op}"))
    return rows + _resource_rows(_metrics_snapshot())


def _finish(plan: Any, report: Any, as_json: bool, strict: bool) -> None:
    """Summary (table or JSON), failures on stderr, and the exit code."""
    from .errors import EXIT_WARNINGS
    from .organize import CONFLICT
    from .ui import json_line, table

    failures = report.failed if report is not None else []
    current_metrics().count(WARNINGS, len(failures))  # all of them, shown or not
    for src, why in failures[:FAILURES_SHOWN]:
        warn(f"{src}: {why}", counted=True)
    if len(failures) > FAILURES_SHOWN:
        warn(f"{len(failures) - FAILURES_SHOWN} more failures not shown ({len(failures)} in all)",
             counted=True)
    if as_json:
        summary = plan.summary()
        if report is not None:
            summary["apply"] = report.to_dict()
        summary["metrics"] = _metrics_snapshot()
        json_line({"summary": summary})
    else:
        table(["organize", ""], _summary_rows(plan, report), title="Summary")
    if report is not None and report.aborted:
        raise AniVaultError(f"the run stopped: {report.aborted}",
                            hint=f"free space, then `anivault organize --resume {report.op}` "
                                 f"or `anivault undo {report.op}`")
    conflicts = any(e.status == CONFLICT for e in plan.entries)
    if strict and (failures or conflicts):
        sys.exit(EXIT_WARNINGS)


@cli.command("organize")
@click.argument("sources", nargs=-1, type=click.Path())
@_organize_options
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), help="Save the plan to FILE.")
@click.option("--from-plan", type=click.Path(dir_okay=False, exists=True),
              help="Use a saved plan (entries whose source changed since are refused).")
@click.option("--resume", "resume_op", is_flag=False, flag_value="", default=None, metavar="[OP]",
              help="Finish an interrupted run (the latest, or OP).")
@click.option("--rollback", "rollback_op", is_flag=False, flag_value="", default=None, metavar="[OP]",
              help="Undo an interrupted run (the latest, or OP).")
@click.option("--format", "fmt", type=click.Choice(["tree", "table"]), default="tree", show_default=True,
              help="How the dry run shows the plan.")
def organize_command(sources: tuple[str, ...], plan_file: str | None, from_plan: str | None,
                     resume_op: str | None, rollback_op: str | None, fmt: str, **kw: Any) -> None:
    """Plan where each file in SOURCES goes under --dest, and with --apply do it.

    \b
    Episodes: {title} ({year})/Season {season:02}/{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}
    Movies:   {title} ({year})/{title} ({year}).{ext}   (under --movies-dest)
    Fields: title year season episode episode_end ext group resolution version
    episode_title crc32 source original tmdb_id; [sections] appear only when
    all their fields are known. Nothing is ever overwritten; every applied run
    is journaled and can be undone (`anivault undo --last`).
    """
    if resume_op is not None or rollback_op is not None:
        return _recover(resume_op, rollback_op, kw)
    from .organize import read_plan, write_plan

    counts = {"scanned": 0, "applied": 0}
    if from_plan:
        plan = read_plan(from_plan)
    else:
        if not sources:
            raise UsageError("organize needs SOURCES (or --from-plan FILE)",
                             hint="e.g. anivault organize ~/Downloads --dest ~/Anime")
        options = _plan_options(kw, sources)
        _check_unfinished(options.roots, kw["do_apply"])
        with _counting_progress("planning", counts) as progress:
            plan = _scan_plan(sources, options, kw, counts, progress)
    if plan_file:
        write_plan(plan, plan_file)
    report = None
    if kw["do_apply"]:
        with _counting_progress("organizing", counts) as progress:
            report = _apply(plan, kw, counts, progress)
    else:
        with current_metrics().stage("output", items=len(plan.entries)):
            _print_plan(plan, kw["as_json"], fmt)
    _finish(plan, report, kw["as_json"], kw["strict"])


def _data_dir() -> str:
    from . import config as cfg

    return str(cfg.data_dir())


def _check_unfinished(roots: list[str], applying: bool) -> None:
    """An interrupted run on these roots: refuse to apply (exit 6), or say so before a dry run."""
    from .organize import refuse_if_unfinished

    try:
        refuse_if_unfinished(roots, _data_dir())
    except AniVaultError as e:
        if applying:
            raise
        warn(str(e))


def _recover(resume_op: str | None, rollback_op: str | None, kw: dict[str, Any]) -> None:
    from .ui import json_line
    from .undo import resume, undo

    if resume_op is not None and rollback_op is not None:
        raise UsageError("--resume and --rollback exclude each other", hint="choose one")
    if rollback_op is not None:
        from .journal import unfinished

        op = rollback_op or next((s.op for s in reversed(unfinished(None, _data_dir()))), None)
        if op is None:
            raise AniVaultError("no interrupted operation to roll back", hint="`anivault undo --last` undoes the last run")
        with _phase_progress("rolling back") as progress:
            report = undo(op, metrics=current_metrics(), warn=warn, progress=progress, data_dir=_data_dir())
        return _print_undo(report, kw["as_json"])
    with _phase_progress("resuming") as progress:
        report = resume(resume_op or None, metrics=current_metrics(), warn=warn, data_dir=_data_dir(),
                        prune_empty=kw["prune_empty"], batch=kw["batch"], progress=progress)
    current_metrics().count(WARNINGS, len(report.failed))
    for src, why in report.failed[:FAILURES_SHOWN]:
        warn(f"{src}: {why}", counted=True)
    if kw["as_json"]:
        json_line({"summary": {"apply": report.to_dict(), "metrics": _metrics_snapshot()}})
    else:
        click.echo(f"resumed {report.op}: {report.done:,} of {report.planned:,} files done, "
                   f"{len(report.failed):,} failed (undo with `anivault undo {report.op}`); "
                   f"{_time_and_peak()}")


@cli.command("run")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@_organize_options
def run_command(sources: tuple[str, ...], **kw: Any) -> None:
    """Scan → match → plan → apply in one go, with one progress display and one summary.

    A dry run unless --apply. Same options as `anivault organize`.
    """
    options = _plan_options(kw, sources)
    _check_unfinished(options.roots, kw["do_apply"])
    counts = {"scanned": 0, "applied": 0}
    with _counting_progress("run", counts) as progress:
        plan = _scan_plan(sources, options, kw, counts, progress)
        report = _apply(plan, kw, counts, progress) if kw["do_apply"] else None
    _finish(plan, report, kw["as_json"], kw["strict"])


def _print_undo(report: Any, as_json: bool) -> None:
    from .ui import json_line

    for path, why in report.kept[:FAILURES_SHOWN]:
        warn(f"left alone: {why}")
    if as_json:
        json_line({"summary": {**report.to_dict(), "metrics": _metrics_snapshot()}})
        return
    click.echo(f"undid {report.op}: {report.undone:,} files put back, {report.already:,} had nothing to undo, "
               f"{len(report.kept):,} left alone (changed since), {report.removed_dirs:,} folders removed"
               + (f"; settled {report.settled:,} interrupted steps first" if report.settled else "")
               + f"; {_time_and_peak()}")


def _time_and_peak() -> str:
    from .monitor import human_bytes, kernel_peak_rss

    return f"{current_metrics().elapsed:.2f} s, peak RSS {human_bytes(kernel_peak_rss())}"


@cli.command("undo")
@click.argument("op_id", required=False)
@click.option("--last", is_flag=True, help="Undo the latest operation.")
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
def undo_command(op_id: str | None, last: bool, as_json: bool) -> None:
    """Reverse an organize run (newest file first); files changed since are reported, not touched."""
    from .undo import undo

    if bool(op_id) == last:
        raise UsageError("name one operation: OPERATION_ID or --last", hint="`anivault history` lists them")
    with _phase_progress("undoing") as progress:
        report = undo(op_id, metrics=current_metrics(), warn=warn, progress=progress, data_dir=_data_dir())
    _print_undo(report, as_json)


class _phase_progress:
    """A live line for a library call that reports each file with ``progress(n)``: the phase's
    own counter, total, rate and ETA come from the shared metrics (``Metrics.expect``)."""

    def __init__(self, label: str) -> None:
        from .ui import Progress

        self.label = label
        self.done = 0
        self._live = Progress(self._status)

    def _status(self) -> str:
        if current_metrics().expected is not None:  # the live status adds done/total, rate and ETA
            return self.label
        return f"{self.label}: {self.done:,} files"

    def __call__(self, n: int = 1) -> None:
        self.done += n
        self._live.tick()

    def __enter__(self) -> "_phase_progress":
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)


@cli.command("history")
@click.option("--json", "as_json", is_flag=True, help="NDJSON: one object per operation.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the latest N.")
def history_command(as_json: bool, limit: int | None) -> None:
    """Organize operations, oldest first: what ran, how far it got, whether it was undone."""
    from .journal import history
    from .ui import json_line, table

    rows = history(_data_dir())
    rows = rows[-limit:] if limit else rows
    if as_json:
        for row in rows:
            json_line(row)
        return
    columns = ["op", "started", "action", "dest", "planned", "done", "failed", "undone", "status"]
    table(columns, [[row[c] for c in columns] for row in rows], title="Operations")


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
    if isinstance(exc, click.ClickException):  # a usage error: click prints it, exit 2
        return exc.exit_code, exc.format_message()
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
@click.option("--stages", default=None,
              help="Comma list of stages: scan,parse,hash,lru,match,organize (default: all this install"
                   " can run; match needs a source checkout's local TMDB server).")
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
def bench_command(files: int, repeat: int, stages: str | None, seed: int, library: str | None,
                  cache_dir: str | None, as_json: bool, save_file: str | None,
                  compare_file: str | None, threshold: float) -> None:
    """Benchmark every stage; --compare gates regressions (exit 4)."""
    from . import bench
    from . import config as cfg
    from .errors import RegressionError
    from .ui import Progress

    baseline = bench.load(compare_file) if compare_file else None  # fail before the long run
    chosen = [s.strip() for s in stages.split(",") if s.strip()] if stages \
        else bench.default_stages()
    step = ["making the demo library"]
    with Progress(lambda: f"bench: {step[0]}") as live:
        def progress(line: str) -> None:
            step[0] = line
            live.tick()

        live.tick()
        lib = bench.own_library(library) if library else bench.demo_library(files, seed, str(cfg.cache_dir(cache_dir)))
        metrics = current_metrics()
        result = bench.run_bench(lib, repeat=repeat, stages=chosen, progress=progress,
                                 metrics=metrics)
        changes = bench.gate(lib, result, baseline, threshold, progress, metrics) \
            if baseline else []
    if baseline is not None:
        result.setdefault("compare", {}).update(
            baseline=compare_file, threshold_pct=threshold, notes=bench.comparable(result, baseline),
            changes=[c.to_dict() for c in changes])
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
