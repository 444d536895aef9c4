"""``anivault demo``: a realistic synthetic library to try AniVault on."""
from __future__ import annotations

import click

from .options import json_option


@click.command("demo")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--files", "n_files", type=click.IntRange(min=0), default=3000, show_default=True,
              help="How many files to create.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same library.")
@click.option("--series", type=click.IntRange(min=1), default=None,
              help="At most this many series; past them, more releases of the same ones (default: ~1 per 100 files).")
@click.option("--empty", is_flag=True, help="Empty files (default on POSIX: sparse files with realistic sizes).")
@json_option("The summary as one JSON object.")
def demo_command(directory: str, n_files: int, seed: int, series: int | None, empty: bool, as_json: bool) -> None:
    """Create a realistic synthetic anime library in DIRECTORY (new or empty)."""
    from ..demo import make_demo
    from . import output

    summary = make_demo(directory, files=n_files, seed=seed, sizes=False if empty else None, series=series)
    output.render_demo(summary, directory, as_json)
