"""``anivault watch``: import downloads dropped into folders, once each is complete; NDJSON events."""
from __future__ import annotations

import signal
import sys
from typing import Any

import click

from .handoff import Handoff
from .importer import IMPORT_SETTINGS, import_batch, import_options
from .options import with_settings


@click.command("watch")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@import_options
@click.option("--burst", type=click.FloatRange(min=0), default=2.0, show_default=True, metavar="SECONDS",
              help="Files that become ready within this long of each other are imported as one batch.")
@click.option("--poll", is_flag=True, help="Poll instead of change notifications (network shares).")
@with_settings(*IMPORT_SETTINGS, "watch_settle")
def watch_command(sources: tuple[str, ...], burst: float, poll: bool, **kw: Any) -> None:
    """Watch SOURCES and import each file once complete (size and mtime stable for the settle time).

    \b
    Temporary download names (.part, .!qB, .crdownload) wait for their rename.
    Files imported before (the journal says so) are not imported again after
    a restart. One NDJSON event per line on stdout: start, pending, ready,
    import, imported, error, stop. SIGTERM or Ctrl-C stops it once the batch
    in progress is filed.
    """
    from ..watch import Watcher
    from . import output

    handoff = Handoff(kw)
    watcher = Watcher(sources, lambda paths: import_batch(paths, kw, handoff), settle=kw["settings"].watch_settle,
                      batch=burst, on_event=output.render_watch_event, poll=poll,
                      data_dir=kw["settings"].data_dir)
    interrupted: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        interrupted.append(signum)
        watcher.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if signal.SIGINT in interrupted:
        sys.exit(130)  # Ctrl-C: stopped cleanly, but interrupted
