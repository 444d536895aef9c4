"""``anivault pin``, ``anivault pins``, ``anivault unpin``: a user's word on what a folder or title is in TMDB."""
from __future__ import annotations

from typing import Any

import click

from .options import json_option, with_settings


@click.command("pin")
@click.argument("target", metavar="PATH|TITLE")
@click.option("--tmdb", "tmdb_id", type=click.IntRange(min=1), required=True, metavar="ID",
              help="The TMDB id (the number in the TMDB page's URL).")
@click.option("--movie", is_flag=True, help="The id is a movie's (default: a TV series').")
@click.option("--season", type=click.IntRange(min=0), default=None, metavar="N",
              help="Names without a season are TMDB season N.")
@click.option("--offset", type=int, default=0, metavar="K", help="Add K to every episode number (K may be negative).")
@click.option("--order", "pin_order", default=None, metavar="tmdb|absolute|group:ID",
              help="Numbering for this series' names (wins over the run's --order).")
@json_option("The pin as one JSON object.")
@with_settings(only=("data_dir",))
def pin_command(target: str, tmdb_id: int, movie: bool, season: int | None, offset: int,
                pin_order: str | None, as_json: bool, settings: Any) -> None:
    """Pin every file under PATH (or titled TITLE) to one TMDB entry; match, organize and run follow it."""
    from ..pins import Pins, default_path, make_pin
    from . import output
    from .context import warn

    pins = Pins.load(default_path(settings.data_dir), warn=warn)
    pin = make_pin(target, tmdb_id, movie=movie, season=season, offset=offset, order=pin_order)
    replaced = pins.add(pin)
    pins.save()
    output.render_pin_change("pinned", pin, replaced, as_json)


@click.command("pins")
@json_option("NDJSON: one object per pin.")
@with_settings(only=("data_dir",))
def pins_command(as_json: bool, settings: Any) -> None:
    """List the pins."""
    from ..pins import Pins, default_path
    from . import output
    from .context import warn

    output.render_pins(list(Pins.load(default_path(settings.data_dir), warn=warn)), as_json)


@click.command("unpin")
@click.argument("target", metavar="PATH|TITLE")
@json_option("The removed pin as one JSON object.")
@with_settings(only=("data_dir",))
def unpin_command(target: str, as_json: bool, settings: Any) -> None:
    """Remove the pin of PATH or TITLE (as `anivault pins` lists it)."""
    from ..errors import UsageError
    from ..pins import Pins, default_path
    from . import output
    from .context import warn

    pins = Pins.load(default_path(settings.data_dir), warn=warn)
    removed = pins.remove(target)
    if removed is None:
        raise UsageError(f"nothing is pinned as {target!r}", hint="`anivault pins` lists the pins")
    pins.save()
    output.render_pin_change("unpinned", removed, None, as_json)
