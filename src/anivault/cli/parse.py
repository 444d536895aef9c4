"""``anivault parse``: release names (or paths) to title, season, episode, group…"""
from __future__ import annotations

import sys

import click

from .options import json_option, strict_option


@click.command("parse")
@click.argument("names", nargs=-1, required=True)
@json_option("NDJSON: one object per NAME (input + fields).")
@strict_option("Exit 3 when a NAME gives no title.")
def parse_command(names: tuple[str, ...], as_json: bool, strict: bool) -> None:
    """Parse release names or paths (folders fill what the name lacks); "-" reads stdin."""
    from ..errors import EXIT_WARNINGS
    from ..parse import parse_many
    from . import output
    from .context import current_metrics, warn

    if names == ("-",):
        names = tuple(line.rstrip("\r\n") for line in sys.stdin if line.strip())
    metrics = current_metrics()
    with metrics.stage("parse", items=len(names)):
        results = parse_many(names)
    metrics.count("names_parsed", len(results))
    output.render_parse(names, results, as_json)
    untitled = [n for n, r in zip(names, results) if r.title is None]
    for name in untitled:
        warn(f"parse: no title in {name!r}")
    if strict and untitled:
        sys.exit(EXIT_WARNINGS)
