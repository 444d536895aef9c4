"""Nothing filed on a guess: unmatched files, collapsed numbering, re-runs over an organized library."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from anivault import fileops
from anivault.organize import ALREADY, CONFLICT, FOLLOWS, TODO, UNMATCHED, PlanOptions, apply_plan, plan_organize
from organize_support import episode, record, write


def plan_of(items, dest, **options):
    return plan_organize(items, PlanOptions(dest=str(dest), windows=False, **options))


def by_name(plan):
    return {os.path.basename(e.src): e for e in plan.entries}


def show(season: int = 1, episode: int = 1) -> SimpleNamespace:
    return SimpleNamespace(id=7, title="Show", year=2020, season=season, episode=episode, media_type="tv")


def _unmatched_release(src: Path):
    video = episode(src, "[G] Mystery - 01.mkv", "Mystery", 1)
    sub = record(write(src / "[G] Mystery - 01.en.ass", "sub"))
    return [(video, None, "no TMDB result for 'Mystery'"), (sub, None)]


def test_a_file_without_a_match_stays_where_it_is_with_the_reason(tmp_path: Path) -> None:
    entries = by_name(plan_of(_unmatched_release(tmp_path / "in"), tmp_path / "lib"))
    video = entries["[G] Mystery - 01.mkv"]
    assert (video.status, video.dst) == (UNMATCHED, "")
    assert "no TMDB match" in video.reason and "Mystery" in video.reason
    assert entries["[G] Mystery - 01.en.ass"].status == FOLLOWS  # its subtitle stays with it


def test_unmatched_parsed_files_them_under_their_parsed_names(tmp_path: Path) -> None:
    dst = tmp_path / "lib"
    entries = by_name(plan_of(_unmatched_release(tmp_path / "in"), dst, unmatched="parsed"))
    assert entries["[G] Mystery - 01.mkv"].status == TODO
    assert entries["[G] Mystery - 01.mkv"].dst == str(dst / "Mystery" / "Season 01" / "Mystery - S01E01.mkv")
    assert entries["[G] Mystery - 01.en.ass"].dst.endswith("Mystery - S01E01.en.ass")


def test_unmatched_dir_moves_them_into_that_folder_under_their_own_names(tmp_path: Path) -> None:
    unsorted = tmp_path / "unsorted"
    entries = by_name(plan_of(_unmatched_release(tmp_path / "in"), tmp_path / "lib", unmatched=str(unsorted)))
    assert entries["[G] Mystery - 01.mkv"].dst == str(unsorted / "[G] Mystery - 01.mkv")
    assert entries["[G] Mystery - 01.en.ass"].dst == str(unsorted / "[G] Mystery - 01.en.ass")
    assert {e.status for e in entries.values()} == {TODO}


def test_records_never_matched_are_planned_from_their_parsed_names(tmp_path: Path) -> None:
    """Matching not asked at all (a bare record) is not "no match": the library plans the parsed name."""
    r = episode(tmp_path / "in", "[G] Mystery - 01.mkv", "Mystery", 1)
    assert plan_of([r], tmp_path / "lib").entries[0].status == TODO


def test_different_files_resolving_to_one_episode_are_none_of_them_moved(tmp_path: Path) -> None:
    src = tmp_path / "in"
    # One release group, one resolution: the numbering collapsed two different episodes into one.
    a = episode(src, "[G] Show S2 - 01 [1080p].mkv", "Show", 1, b"a" * 100, group="G", resolution="1080p")
    b = episode(src, "[G] Show - 01 [1080p].mkv", "Show", 1, b"b" * 100, group="G", resolution="1080p")
    plan = plan_of([(a, show()), (b, show())], tmp_path / "lib")
    assert [e.status for e in plan.entries] == [CONFLICT, CONFLICT]
    assert all("do not tell them apart" in e.reason for e in plan.entries)
    assert not any("(2)" in e.dst or "(1)" in e.dst for e in plan.entries)


def test_two_copies_of_one_release_are_one_file_not_a_conflict(tmp_path: Path, monkeypatch) -> None:
    """The same release in Seeding/ and Media/: decided without reading either file whole."""
    monkeypatch.setattr(fileops, "file_hash", lambda *a, **k: pytest.fail("planning read a whole file"))
    content = os.urandom(64 * 1024)
    a = episode(tmp_path / "Seeding", "[G] Show - 01 [1080p].mkv", "Show", 1, content, group="G",
                resolution="1080p")
    b = episode(tmp_path / "Media", "[G] Show - 01 [1080p].mkv", "Show", 1, content, group="G",
                resolution="1080p")
    plan = plan_of([(a, show()), (b, show())], tmp_path / "lib")
    statuses = {os.path.dirname(e.src): (e.status, e.reason) for e in plan.entries}
    assert statuses[str(tmp_path / "Media")][0] == TODO
    assert statuses[str(tmp_path / "Seeding")][0] == ALREADY
    assert "identical to" in statuses[str(tmp_path / "Seeding")][1]


def test_releases_with_different_tags_are_still_duplicates_not_conflicts(tmp_path: Path) -> None:
    src = tmp_path / "in"
    good = episode(src, "[A] Show - 01 [1080p].mkv", "Show", 1, b"a" * 100, group="A", resolution="1080p")
    other = episode(src, "[B] Show - 01 [720p].mkv", "Show", 1, b"b" * 100, group="B", resolution="720p")
    plan = plan_of([(good, show()), (other, show())], tmp_path / "lib")
    assert {e.status for e in plan.entries} == {TODO}
    assert sorted(os.path.basename(e.dst) for e in plan.entries) == ["Show - S01E01 - B 720p.mkv",
                                                                    "Show - S01E01.mkv"]


def test_a_second_run_over_the_organized_library_plans_nothing(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    items = []
    for n in range(1, 4):
        video = episode(src, f"[G] Show - {n:02} [1080p].mkv", "Show", n, group="G", resolution="1080p")
        write(src / f"[G] Show - {n:02} [1080p].en.ass", "sub")
        items += [(video, show(1, n)), (record(src / f"[G] Show - {n:02} [1080p].en.ass"), None)]
    first = plan_of(items, dst)
    assert first.count(TODO) == 6
    apply_plan(first)
    # Scan the organized library again: its files parse back to the same episodes and match again.
    again = []
    for path in sorted(p for p in dst.rglob("*") if p.is_file()):
        if path.suffix == ".mkv":
            n = int(path.stem[-2:])
            again.append((record(path, title="Show", episode=n), show(1, n)))
        else:
            again.append((record(path), None))
    second = plan_of(again, dst)
    assert second.count(TODO) == 0
    assert {e.status for e in second.entries} == {ALREADY}


def test_a_file_already_in_place_stays_whatever_its_neighbours(tmp_path: Path) -> None:
    """A better release arriving beside an organized episode does not move the organized one."""
    dst = tmp_path / "lib"
    placed = write(dst / "Show (2020)" / "Season 01" / "Show - S01E01.mkv", b"old" * 10)
    old = record(placed, title="Show", episode=1, group="Old", resolution="480p")
    new = episode(tmp_path / "in", "[New] Show - 01 [1080p].mkv", "Show", 1, b"new" * 10, group="New",
                  resolution="1080p")
    entries = by_name(plan_of([(new, show()), (old, show())], dst))
    assert entries["Show - S01E01.mkv"].status == ALREADY
    assert entries["[New] Show - 01 [1080p].mkv"].status == TODO
    assert entries["[New] Show - 01 [1080p].mkv"].dst != str(placed)
