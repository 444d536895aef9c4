"""``anivault config``: show, locate or change the settings (anivault.settings.SPEC)."""
from __future__ import annotations

from typing import Any

import click

from .options import json_option, with_settings


@click.group("config")
def config_group() -> None:
    """Show or change settings (flags > ANIVAULT_* env > config file > defaults)."""


@config_group.command("show")
@json_option()
@with_settings()
def config_show(as_json: bool, settings: Any) -> None:
    """Effective settings, secrets masked."""
    from . import output

    output.render_settings(settings.redacted(), as_json)


@config_group.command("path")
def config_path() -> None:
    """Where the config file is (it may not exist yet)."""
    from ..settings import config_path
    from . import output

    output.line(str(config_path()))


@config_group.command("set")
@click.argument("key")
@click.argument("value")
def config_set(key: str, value: str) -> None:
    """Write KEY = VALUE to the config file (the value is checked first)."""
    import sys

    from ..settings import set_value
    from . import output

    path = set_value(key, value)
    output.line(f"{key} set in {path}", sys.stderr)
