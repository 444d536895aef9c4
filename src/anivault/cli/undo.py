"""``anivault undo`` and ``anivault history``: take an organize run back; list the runs."""
from __future__ import annotations

from typing import Any

import click

from .handoff import notify_option
from .options import json_option, with_settings

KEPT_SHOWN = 50  # on stderr; the summary has the exact count


@click.command("undo")
@click.argument("op_id", required=False)
@click.option("--last", is_flag=True, help="Undo the latest operation not undone yet.")
@json_option("The result as one JSON object.")
@notify_option
@with_settings(only=("data_dir", "plex_url", "plex_token", "jellyfin_url", "jellyfin_api_key"))
def undo_command(op_id: str | None, last: bool, as_json: bool, notify: str | None, settings: Any) -> None:
    """Reverse an organize run (newest file first); files changed since are reported, not touched."""
    from ..errors import UsageError

    if bool(op_id) == last:
        raise UsageError("name one operation: OPERATION_ID or --last", hint="`anivault history` lists them")
    report = undo_and_render(op_id, "undoing", settings.data_dir, as_json)
    if notify:
        from .handoff import notify_op

        notify_op(notify, report.op, settings)


def undo_and_render(op_id: str | None, label: str, data_dir: str, as_json: bool) -> Any:
    from ..undo import undo
    from . import output
    from .context import current_metrics, warn
    from .progress import PhaseProgress

    metrics = current_metrics()
    with PhaseProgress(label) as progress:
        report = undo(op_id, metrics=metrics, warn=warn, progress=progress, data_dir=data_dir)
    for path, why in report.kept[:KEPT_SHOWN]:
        warn(f"left alone: {why}")
    if report.kept_count > KEPT_SHOWN:
        warn(f"left alone: {report.kept_count - KEPT_SHOWN:,} more files")
    output.render_undo(report, metrics.snapshot(), metrics.elapsed, as_json)
    if not report.complete:  # an operation is undone only when everything was restored
        from ..errors import AniVaultError

        raise AniVaultError(f"{report.kept_count:,} files were not restored; operation {report.op} is partly undone",
                            hint=f"fix what is named above, then run `anivault undo {report.op}` again")
    return report


@click.command("history")
@json_option("NDJSON: one object per operation.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the latest N.")
@with_settings(only=("data_dir",))
def history_command(as_json: bool, limit: int | None, settings: Any) -> None:
    """Organize operations, oldest first: what ran, how far it got, whether it was undone."""
    from ..journal import history
    from . import output

    output.render_history(history(settings.data_dir, limit=limit), as_json)
