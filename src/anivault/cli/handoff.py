"""The hand-off options organize, run and import share: ``--verify``, ``--nfo``, ``--notify``.

Each is one small step around the pipeline: ``--verify`` sets aside planned
videos whose CRC32 is not their name's tag, ``--nfo`` collects matches while
planning and writes NFOs through the apply's journal, ``--notify`` asks the
media server to rescan the folders the apply (or an undo) changed. Problems
are warnings, counted for ``--strict`` (exit 3).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def notify_option(f: F) -> F:
    return click.option("--notify", type=click.Choice(["plex", "jellyfin"]), default=None,
                        help="Ask the media server to rescan only the changed folders (settings plex_url/"
                             "plex_token or jellyfin_url/jellyfin_api_key).")(f)


def handoff_options(f: F) -> F:
    f = notify_option(f)
    f = click.option("--nfo", is_flag=True,
                     help="Write tvshow.nfo / movie.nfo / episode NFOs with the TMDB id (journaled: undo "
                          "removes them).")(f)
    return click.option("--verify", "verify_crc", is_flag=True,
                        help="Check each video's CRC32 against the [ABCD1234] tag in its name; a mismatch is "
                             "not filed (reported).")(f)


def templates(settings: Any) -> tuple[str | None, str | None]:
    """(episode, movie) templates, a preset name (jellyfin, plex) expanded; None for the default."""
    from ..names import preset_templates

    episode, movie = settings.template, settings.movie_template
    preset = preset_templates(episode)
    if preset:
        episode, movie = preset[0], movie or preset[1]
    movie_preset = preset_templates(movie)
    if movie_preset:
        movie = movie_preset[1]
    return episode, movie


class Handoff:
    """One command's hand-off state: the NFO collector, what verify refused, problems for --strict."""

    def __init__(self, kw: dict[str, Any]) -> None:
        self.kw = kw
        self.collector = None
        if kw.get("nfo"):
            from ..nfo import Collector

            self.collector = Collector()
        self.problems = 0

    @property
    def tap(self) -> Callable[[Iterable[Any]], Iterable[Any]] | None:
        return self.collector.tap if self.collector is not None else None

    def extra_files(self) -> Callable[[Any], Iterable[tuple[str, bytes]]] | None:
        if self.collector is None:
            return None
        from ..nfo import nfo_files

        collector = self.collector
        return lambda plan: nfo_files(plan, collector)

    def check(self, plan: Any) -> list[Any]:
        """--verify: set mismatched videos aside before anything is filed."""
        if not self.kw.get("verify_crc"):
            return []
        from ..verify import FILENAME, open_cache, refuse_mismatched
        from .context import current_metrics, warn

        cache = open_cache(os.path.join(self.kw["settings"].cache_dir, FILENAME), warn)
        try:
            with current_metrics().stage("verify"):
                refused = refuse_mismatched(plan, cache=cache, warn=lambda m: warn(m, counted=True))
        finally:
            if cache is not None:
                cache.close()
        self._count(len(refused))
        return refused

    def notify(self, op: str) -> None:
        """--notify after an apply (or undo) of operation ``op``."""
        kind = self.kw.get("notify")
        if not kind or not op:
            return
        notify_op(kind, op, self.kw["settings"], self._count)

    def _count(self, n: int) -> None:
        if n:
            from ..monitor.metrics import WARNINGS
            from .context import current_metrics

            self.problems += n
            current_metrics().count(WARNINGS, n)


def notify_op(kind: str, op: str, settings: Any, count: Callable[[int], None] | None = None) -> Any:
    """Refresh the folders of operation ``op`` on the media server; failures are warnings."""
    from ..notify import notify, op_paths
    from .context import warn

    values = {key: getattr(settings, key) for key in ("plex_url", "plex_token", "jellyfin_url", "jellyfin_api_key")}
    report = notify(kind, values, op_paths(op, settings.data_dir), warn=lambda m: warn(m, counted=True))
    if count:
        count(len(report.failed) + len(report.skipped))
    return report
