"""Organize: plan where each file goes, then apply the plan through the journal.

* :mod:`.entries`  — options, plan entries and their statuses;
* :mod:`.naming`   — template fields, destinations, the destination tree on disk;
* :mod:`.plan`     — the planner (duplicates, collisions, followers);
* :mod:`.planfile` — plans saved to and read from disk;
* :mod:`.apply`    — the journaled executor (public to ``undo``).

The file operations themselves live in :mod:`anivault.fileops`; scan → match → plan
in :mod:`anivault.pipeline`.
"""
from __future__ import annotations

from .apply import APPLIED, ApplyReport, Executor, apply_plan, refuse_if_unfinished
from .entries import (ALREADY, ATTACHMENT_DIRS, COLLISION, CONFLICT, CONFLICT_POLICIES, DEFAULT_MOVIE_TEMPLATE,
                      DEFAULT_TEMPLATE, DUPLICATE, DUPLICATE_POLICIES, DUPLICATES_DIR, EXTRAS_DIR, FOLLOWS,
                      PLAN_FORMAT, SUBTITLE_DIRS, TODO, TOO_LONG, UNMATCHED, Plan, PlanEntry, PlanOptions,
                      PlanSummary)
from .plan import plan_organize
from .planfile import read_plan, write_plan
from ..fileops import ACTIONS

__all__ = [
    "ACTIONS", "ALREADY", "APPLIED", "ATTACHMENT_DIRS", "COLLISION", "CONFLICT", "CONFLICT_POLICIES",
    "DEFAULT_MOVIE_TEMPLATE", "DEFAULT_TEMPLATE", "DUPLICATE", "DUPLICATE_POLICIES", "DUPLICATES_DIR",
    "EXTRAS_DIR", "FOLLOWS", "PLAN_FORMAT", "SUBTITLE_DIRS", "TODO", "TOO_LONG", "UNMATCHED",
    "ApplyReport", "Executor", "Plan", "PlanEntry", "PlanOptions", "PlanSummary",
    "apply_plan", "plan_organize", "read_plan", "refuse_if_unfinished", "write_plan",
]
