"""``anivault verify``: the CRC32 of each file against the ``[ABCD1234]`` tag in its name."""
from __future__ import annotations

import os
import sys
import threading
from typing import Any

import click

from .options import json_option, strict_option, with_settings


@click.command("verify")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@json_option("NDJSON: one object per file, then a summary.")
@strict_option("Exit 3 when a file does not match its tag or cannot be read.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Files read and checksummed at once.")
@click.option("--no-cache", is_flag=True, help="Read every file, even one verified before and unchanged since.")
@with_settings(only=("cache_dir",))
def verify_command(paths: tuple[str, ...], as_json: bool, strict: bool, threads: int, no_cache: bool,
                   settings: Any) -> None:
    """Check files (folders: every file in them) against the CRC32 tag in their names, at disk speed.

    Unchanged files verified before answer from a cache (by size and mtime).
    Files without a tag are counted, not failed.
    """
    from ..monitor.metrics import WARNINGS
    from ..verify import FILENAME, iter_files, open_cache, verify_files
    from . import output
    from .context import current_metrics, warn
    from .progress import Progress

    metrics = current_metrics()
    cache = None if no_cache else open_cache(os.path.join(settings.cache_dir, FILENAME), warn)
    read = [0]
    lock = threading.Lock()

    def progress(n: int) -> None:  # from the reading threads: one at a time updates the line
        with lock:
            read[0] += n
            live.tick()

    def status() -> str:
        elapsed = metrics.elapsed or 1e-9
        return f"verifying: {read[0] / 1e6:,.0f} MB · {read[0] / 1e6 / elapsed:,.0f} MB/s"

    counts = {"ok": 0, "mismatch": 0, "error": 0, "no-tag": 0}
    cached = total = 0
    live = Progress(status)
    try:
        with live, metrics.stage("verify"):
            for result in verify_files(iter_files(paths), cache=cache, workers=threads, progress=progress):
                counts[result.status] += 1
                cached += result.cached
                total += result.size if result.status in ("ok", "mismatch") else 0
                output.render_verify_result(result, as_json)
    finally:
        if cache is not None:
            cache.close()
    failed = counts["mismatch"] + counts["error"]
    metrics.count(WARNINGS, failed)
    output.render_verify_summary(counts, total, metrics.elapsed, cached, as_json)
    if strict and failed:
        sys.exit(3)
