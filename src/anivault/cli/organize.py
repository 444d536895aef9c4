"""``anivault organize`` and ``anivault run``: plan where each file goes, and with --apply do it."""
from __future__ import annotations

import sys
from typing import Any

import click

from .handoff import Handoff, handoff_options, templates
from .options import organize_options

FAILURES_SHOWN = 50  # on stderr; the summary has the exact count

unmatched_option = click.option(
    "--unmatched", default="leave", show_default=True, metavar="leave|parsed|DIR",
    help="Videos TMDB does not know: leave them in place (listed with the reason), file them under their "
         "parsed names, or move them into DIR.")


@click.command("organize")
@click.argument("sources", nargs=-1, type=click.Path())
@organize_options
@unmatched_option
@handoff_options
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), help="Save the plan to FILE.")
@click.option("--from-plan", type=click.Path(dir_okay=False, exists=True),
              help="Use a saved plan (entries whose source changed since are refused).")
@click.option("--resume", "resume_op", is_flag=False, flag_value="", default=None, metavar="[OP]",
              help="Finish an interrupted run (the latest, or OP).")
@click.option("--rollback", "rollback_op", is_flag=False, flag_value="", default=None, metavar="[OP]",
              help="Undo an interrupted run (the latest, or OP).")
@click.option("--format", "fmt", type=click.Choice(["tree", "table"]), default="tree", show_default=True,
              help="How the dry run shows the plan.")
def organize_command(sources: tuple[str, ...], plan_file: str | None, from_plan: str | None,
                     resume_op: str | None, rollback_op: str | None, fmt: str, **kw: Any) -> None:
    """Plan where each file in SOURCES goes under --dest, and with --apply do it.

    \b
    Episodes: {title} ({year})/Season {season:02}/{title} - S{season:02}E{episode:02}[-E{episode_end:02}].{ext}
    Movies:   {title} ({year})/{title} ({year}).{ext}   (under --movies-dest)
    Fields: title year season episode episode_end ext group resolution version
    episode_title (TMDB's name) crc32 source original tmdb_id absolute audio;
    [sections] appear only when all their fields are known. Nothing is ever overwritten; every applied run
    is journaled and can be undone (`anivault undo --last`).
    """
    from ..errors import UsageError
    from ..organize import read_plan, write_plan
    from . import output
    from .context import current_metrics
    from .progress import counting_progress

    kw["handoff"] = Handoff(kw)
    if resume_op is not None or rollback_op is not None:
        return _recover(resume_op, rollback_op, kw)
    counts = {"scanned": 0, "applied": 0}
    if from_plan:
        plan = read_plan(from_plan, verify=True)  # destinations inside the roots, sources unchanged
    else:
        if not sources:
            raise UsageError("organize needs SOURCES (or --from-plan FILE)",
                             hint="e.g. anivault organize ~/Downloads --dest ~/Anime")
        options = _plan_options(kw, sources)
        _check_unfinished(options.roots, kw)
        with counting_progress("planning", counts) as progress:
            plan = _scan_plan(sources, options, kw, counts, progress)
    kw["handoff"].check(plan)
    if plan_file:
        write_plan(plan, plan_file, fingerprints=True)
    report = None
    if kw["do_apply"]:
        with counting_progress("organizing", counts) as progress:
            report = _apply(plan, kw, counts, progress)
    else:
        with current_metrics().stage("output", items=len(plan.entries)):
            output.render_plan(plan, kw["as_json"], fmt)
    _finish(plan, report, kw)


@click.command("run")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@organize_options
@unmatched_option
@handoff_options
def run_command(sources: tuple[str, ...], **kw: Any) -> None:
    """Scan → match → plan → apply in one go, with one progress display and one summary.

    A dry run unless --apply. Same options as `anivault organize`.
    """
    from .progress import counting_progress

    kw["handoff"] = Handoff(kw)
    options = _plan_options(kw, sources)
    _check_unfinished(options.roots, kw)
    counts = {"scanned": 0, "applied": 0}
    with counting_progress("run", counts) as progress:
        plan = _scan_plan(sources, options, kw, counts, progress)
        kw["handoff"].check(plan)
        report = _apply(plan, kw, counts, progress) if kw["do_apply"] else None
    _finish(plan, report, kw)


def _plan_options(kw: dict[str, Any], sources: tuple[str, ...]) -> Any:
    from ..errors import UsageError
    from ..organize import DEFAULT_MOVIE_TEMPLATE, DEFAULT_TEMPLATE, PlanOptions

    if not kw["dest"]:
        raise UsageError("--dest is required", hint="e.g. anivault organize ~/Downloads --dest ~/Anime")
    s, target = kw["settings"], kw["target"]
    template, movie_template = templates(s)
    return PlanOptions(dest=kw["dest"], movies_dest=kw["movies_dest"],
                       template=template or DEFAULT_TEMPLATE,
                       movie_template=movie_template or DEFAULT_MOVIE_TEMPLATE,
                       keep_names=kw["keep_names"], duplicates=kw["duplicates"], conflict=kw["conflict"],
                       action=kw["action"], colon_style=s.colon_style,
                       windows=None if target == "auto" else target == "windows",
                       long_paths=kw["long_paths"], sources=sources, unmatched=kw["unmatched"])


def _scan_plan(sources: tuple[str, ...], options: Any, kw: dict[str, Any], counts: dict[str, int],
               progress: Any) -> Any:
    from ..pipeline import scan_and_plan
    from .context import current_metrics, warn

    s = kw["settings"]

    def scanned(n: int) -> None:  # a folder's files
        before = counts["scanned"]
        counts["scanned"] = before + n
        if (before + n) >> 8 != before >> 8:  # every 256 files, as before
            progress.tick()

    from ..pins import Pins, default_path

    return scan_and_plan(sources, options, offline=kw["offline"], metrics=current_metrics(), warn=warn,
                         exclude=kw["exclude"], use_index=not kw["no_cache"], on_records=scanned,
                         cache_dir=s.cache_dir, tmdb=s.tmdb(),
                         min_confidence=s.min_confidence, order=s.order,
                         pins=Pins.load(default_path(s.data_dir), warn=warn),
                         tap_items=kw["handoff"].tap)


def _apply(plan: Any, kw: dict[str, Any], counts: dict[str, int], progress: Any) -> Any:
    from ..organize import apply_plan
    from .context import current_metrics, warn

    def tick(n: int) -> None:
        counts["applied"] += n
        progress.tick()

    return apply_plan(plan, prune_empty=kw["prune_empty"], batch=kw["batch"], metrics=current_metrics(),
                      warn=warn, progress=tick, data_dir=kw["settings"].data_dir,
                      extra_files=kw["handoff"].extra_files())


def _check_unfinished(roots: list[str], kw: dict[str, Any]) -> None:
    """An interrupted run on these roots: refuse to apply (exit 6), or say so before a dry run."""
    from ..errors import AniVaultError
    from ..organize import refuse_if_unfinished
    from .context import warn

    try:
        refuse_if_unfinished(roots, kw["settings"].data_dir)
    except AniVaultError as e:
        if kw["do_apply"]:
            raise
        warn(str(e))


def warn_failures(failures: list[tuple[str, str]], total: int | None = None) -> None:
    """Each failed file on stderr (the first FAILURES_SHOWN), all ``total`` of them counted."""
    from ..monitor.metrics import WARNINGS
    from .context import current_metrics, warn

    total = len(failures) if total is None else total
    current_metrics().count(WARNINGS, total)
    for path, why in failures[:FAILURES_SHOWN]:
        warn(f"{path}: {why}", counted=True)
    if total > FAILURES_SHOWN:
        warn(f"{total - FAILURES_SHOWN} more failures not shown ({total} in all)", counted=True)


def _finish(plan: Any, report: Any, kw: dict[str, Any]) -> None:
    """Summary (table or JSON), failures on stderr, and the exit code."""
    from ..errors import EXIT_WARNINGS, AniVaultError
    from ..organize import CONFLICT, UNMATCHED
    from . import output
    from .context import current_metrics

    failed = report.failed_count if report is not None else 0
    if report is not None:
        warn_failures(report.failed, failed)
        kw["handoff"].notify(report.op)
    output.render_organize_summary(plan.summary(), report, current_metrics().snapshot(), kw["as_json"])
    if report is not None and report.aborted:
        raise AniVaultError(f"the run stopped: {report.aborted}",
                            hint=f"free space, then `anivault organize --resume {report.op}` "
                                 f"or `anivault undo {report.op}`")
    left = plan.count(CONFLICT) + plan.count(UNMATCHED)  # files the run could not place
    if kw["strict"] and (failed or left or kw["handoff"].problems):
        sys.exit(EXIT_WARNINGS)
    if failed:  # an apply in which files failed did not do its job: exit 1, never 0
        raise AniVaultError(f"{failed:,} files failed (each is named above); the others were done",
                            hint=f"fix the cause and run again, or `anivault undo {report.op}`")


def _recover(resume_op: str | None, rollback_op: str | None, kw: dict[str, Any]) -> None:
    """--resume (finish an interrupted run) or --rollback (undo it)."""
    from ..errors import AniVaultError, UsageError
    from ..undo import resume
    from . import output
    from .context import current_metrics, warn
    from .progress import PhaseProgress
    from .undo import undo_and_render

    if resume_op is not None and rollback_op is not None:
        raise UsageError("--resume and --rollback exclude each other", hint="choose one")
    data_dir = kw["settings"].data_dir
    if rollback_op is not None:
        from ..journal import unfinished

        op = rollback_op or next((s.op for s in reversed(unfinished(None, data_dir))), None)
        if op is None:
            raise AniVaultError("no interrupted operation to roll back",
                                hint="`anivault undo --last` undoes the last run")
        return undo_and_render(op, "rolling back", data_dir, kw["as_json"])
    metrics = current_metrics()
    with PhaseProgress("resuming") as progress:
        report = resume(resume_op or None, metrics=metrics, warn=warn, data_dir=data_dir,
                        prune_empty=kw["prune_empty"], batch=kw["batch"], progress=progress)
    warn_failures(report.failed, report.failed_count)
    output.render_resume(report, metrics.snapshot(), metrics.elapsed, kw["as_json"])
