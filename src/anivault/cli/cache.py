"""``anivault cache``: the TMDB response cache (stats, prune, clear, warm)."""
from __future__ import annotations

from typing import Any

import click

from .options import json_option, tmdb_options, with_settings


@click.group("cache")
def cache_group() -> None:
    """The TMDB response cache: stats, prune, clear, warm."""


def _open(settings: Any, max_mb: float | None = None) -> Any:
    from dataclasses import replace

    from .context import warn

    tmdb = settings.tmdb()  # prune's --cache-max-mb may go below the setting's minimum
    cache = (tmdb if max_mb is None else replace(tmdb, cache_max_mb=max_mb)).open_cache()
    for message in cache.warnings:
        warn(message)
    return cache


@cache_group.command("stats")
@json_option()
@with_settings()
def cache_stats(as_json: bool, settings: Any) -> None:
    """Entries by kind, bytes on disk, hit rate of the last run and lifetime."""
    from . import output

    with _open(settings) as cache:
        stats = cache.stats()
    output.render_cache_stats(stats, as_json)


@cache_group.command("prune")
@click.option("--cache-max-mb", "prune_mb", type=click.FloatRange(min=0), default=None, metavar="MB",
              help="Prune down to this size (default: the configured cap, setting `cache_max_mb`).")
@json_option()
@with_settings()
def cache_prune(prune_mb: float | None, as_json: bool, settings: Any) -> None:
    """Delete expired entries, then the least valuable ones while over the size cap."""
    from . import output

    with _open(settings, prune_mb) as cache:
        result = cache.prune()
        result["bytes_on_disk"] = cache.disk_bytes()
    output.render_cache_prune(result, as_json)


@cache_group.command("clear")
@with_settings()
def cache_clear(settings: Any) -> None:
    """Delete every cached TMDB response."""
    from . import output

    with _open(settings) as cache:
        removed = cache.clear()
    output.render_cache_clear(removed, cache.path)


@cache_group.command("warm")
@click.argument("paths", nargs=-1, required=True)
@tmdb_options
@json_option("The summary as one JSON object.")
def cache_warm(paths: tuple[str, ...], as_json: bool, offline: bool, settings: Any) -> None:
    """Prefetch every series of the library under PATH, so later runs need no requests."""
    from . import output
    from .context import current_metrics
    from .match import match_paths

    _, summary = match_paths(paths, "warming the cache", offline, settings)
    output.render_cache_warm(summary, current_metrics().snapshot(), as_json)
