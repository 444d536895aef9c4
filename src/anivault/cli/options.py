"""Options commands share. Options for settings are made from the settings spec (help and
defaults come from anivault.settings.SPEC), and :func:`with_settings` hands the command the
run's resolved :class:`~anivault.settings.Settings` instead of the raw flags."""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, TypeVar

import click

from ..settings import BY_KEY
from .context import settings_for

F = TypeVar("F", bound=Callable[..., Any])


def _apply(f: F, options: Iterable[Callable[[F], F]]) -> F:
    for option in reversed(list(options)):
        f = option(f)
    return f


def setting_option(key: str) -> Callable[[F], F]:
    """``--<key>`` for one setting; None unless given, so the environment and file still count."""
    s = BY_KEY[key]
    kind = {int: int, float: float}.get(s.type, str)
    metavar = s.metavar or ("[" + "|".join(s.choices) + "]" if s.choices else
                            {int: "N", float: "X"}.get(s.type, "TEXT"))
    return click.option(s.option, key, type=kind, default=None, metavar=metavar,
                        help=f"{s.help} [default: {s.shown_default}; setting `{key}`]")


def with_settings(*keys: str, only: Iterable[str] | None = None) -> Callable[[F], F]:
    """A flag for each setting in ``keys``; the command gets ``settings`` resolved once from them.

    ``only``: the settings the command needs, when it must run whatever the rest says
    (undo and history need data_dir alone, and run even when the config file is broken)."""
    def decorate(f: F) -> F:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            flags = {key: kwargs.pop(key) for key in keys}
            return f(*args, settings=settings_for(flags, only), **kwargs)

        return _apply(command, [setting_option(key) for key in keys])  # type: ignore[arg-type]
    return decorate


def json_option(help: str = "One JSON object.") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def strict_option(help: str) -> Callable[[F], F]:
    return click.option("--strict", is_flag=True, help=help)


def tmdb_options(f: F) -> F:
    """What every TMDB-using command shares (match, cache warm)."""
    f = click.option("--offline", is_flag=True, help="Answer from the cache only; no request is made.")(f)
    return with_settings("language", "rate", "concurrency", "min_confidence", "cache_max_mb", "order")(f)


def organize_options(f: F) -> F:
    """The naming and safety options `organize` and `run` share."""
    return _apply(f, [
        click.option("--dest", type=click.Path(file_okay=False), help="Library root for series."),
        click.option("--movies-dest", type=click.Path(file_okay=False),
                     help="Library root for movies (default: DEST/Movies)."),
        click.option("--keep-names", is_flag=True, help="Keep each original file name inside its new folder."),
        click.option("--duplicates", type=click.Choice(["keep-all", "best", "skip"]), default="keep-all",
                     show_default=True, help="Two releases of one episode: keep both (tagged), the best "
                                             "(others to a Duplicates folder), or neither."),
        click.option("--conflict", type=click.Choice(["skip", "rename", "fail"]), default="skip",
                     show_default=True, help="A different file already at the destination."),
        click.option("--action", type=click.Choice(["move", "copy", "hardlink", "symlink"]), default="move",
                     show_default=True, help="How files get there; a move across filesystems copies, "
                                             "verifies (size + xxh3), then deletes the source."),
        click.option("--target", type=click.Choice(["auto", "windows", "posix"]), default="auto",
                     show_default=True, help="Path-length rules: auto detects NTFS/FAT/SMB destinations."),
        click.option("--long-paths", is_flag=True, help="The Windows target has long paths enabled."),
        click.option("--apply", "do_apply", is_flag=True, help="Execute (the default is a dry run)."),
        click.option("--prune-empty", is_flag=True, help="Remove source folders the moves left empty."),
        click.option("--offline", is_flag=True, help="Match from the TMDB cache only; no request is made."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files/folders."),
        click.option("--no-cache", is_flag=True, help="Do not use the scan index."),
        json_option("NDJSON on stdout."),
        strict_option("Exit 3 when a file failed, or was left for a conflict or without a TMDB match."),
        click.option("--batch", type=click.IntRange(min=1), default=512, show_default=True,
                     help="File operations per journal commit (group commit: one fsync per batch)."),
        with_settings("template", "movie_template", "colon_style", "order"),
    ])
