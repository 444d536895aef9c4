"""Planning: templates, followers, duplicates, conflicts, collisions; plan files; the dry run changes nothing."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from anivault.errors import RefusedError, UsageError
from anivault.organize import (ALREADY, COLLISION, CONFLICT, DUPLICATE, FOLLOWS, TODO, TOO_LONG, UNMATCHED,
                               PlanOptions, plan_organize, read_plan, write_plan)
from organize_support import episode, manifest, record, write


def plan_of(records, dest, **options):
    return plan_organize(records, PlanOptions(dest=str(dest), windows=False, **options))


def by_src(plan):
    return {os.path.basename(e.src): e for e in plan.entries}


def rel(entry, root) -> str:
    return os.path.relpath(entry.dst, root)


def test_default_plex_layout_for_episodes(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    r = episode(src, "[Grp] Cowboy Bebop - 05 [1080p].mkv", "Cowboy Bebop", 5, year=1998)
    e = plan_of([r], dst).entries[0]
    assert e.status == TODO
    assert rel(e, dst) == os.path.join("Cowboy Bebop (1998)", "Season 01", "Cowboy Bebop - S01E05.mkv")


def test_specials_go_to_season_00_and_ranges_keep_their_end(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    special = episode(src, "sp.mkv", "Show", 1, kind="special")
    double = episode(src, "dbl.mkv", "Show", 3, episode_end=4, season=2)
    entries = by_src(plan_of([special, double], dst))
    assert rel(entries["sp.mkv"], dst) == os.path.join("Show", "Season 00", "Show - S00E01.mkv")
    assert rel(entries["dbl.mkv"], dst) == os.path.join("Show", "Season 02", "Show - S02E03-E04.mkv")


def test_movies_go_under_the_movies_root(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    movie = record(write(src / "Akira.1988.mkv", b"m" * 100), title="Akira", year=1988, kind="movie")
    e = plan_of([movie], dst).entries[0]
    assert e.dst == str(dst / "Movies" / "Akira (1988)" / "Akira (1988).mkv")
    e2 = plan_of([movie], dst, movies_dest=str(tmp_path / "films")).entries[0]
    assert e2.dst == str(tmp_path / "films" / "Akira (1988)" / "Akira (1988).mkv")


def test_a_match_overrides_the_parsed_name_and_maps_absolute_numbers(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    r = episode(src, "[G] Shingeki - 30.mkv", "Shingeki", 30, episode_end=31)
    match = SimpleNamespace(id=1429, title="Attack on Titan", year=2013, season=2, episode=5)
    plan = plan_organize([(r, match)], PlanOptions(dest=str(dst), windows=False), offline=False)
    assert rel(plan.entries[0], dst) == os.path.join("Attack on Titan (2013)", "Season 02",
                                                     "Attack on Titan - S02E05-E06.mkv")
    assert plan.summary().offline is False


def test_unnameable_videos_stay_and_say_why(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    no_title = record(write(src / "x.mkv", "x"), title=None)
    no_episode = record(write(src / "y.mkv", "y"), title="Show")
    entries = by_src(plan_of([no_title, no_episode], dst))
    assert entries["x.mkv"].status == UNMATCHED and "title" in entries["x.mkv"].reason
    assert entries["y.mkv"].status == UNMATCHED and "episode" in entries["y.mkv"].reason


def test_custom_templates_and_keep_names(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    r = episode(src, "[Grp] Show - 02 [720p].mkv", "Show", 2, group="Grp", resolution="720p")
    e = plan_of([r], dst, template="{title}/{group}/E{episode:03} {resolution}.{ext}").entries[0]
    assert rel(e, dst) == os.path.join("Show", "Grp", "E002 720p.mkv")
    kept = plan_of([r], dst, keep_names=True).entries[0]
    assert rel(kept, dst) == os.path.join("Show", "Season 01", "[Grp] Show - 02 [720p].mkv")
    with pytest.raises(UsageError, match="unknown field"):
        plan_of([r], dst, template="{title}/{bogus}.{ext}")


def test_subtitles_and_extras_follow_their_video_keeping_language(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    video = episode(src, "[Grp] Show - 05.mkv", "Show", 5)
    subs = [record(write(src / f"[Grp] Show - 05{suffix}", "sub")) for suffix in (".en.ass", ".pt-BR.srt")]
    nfo = record(write(src / "[Grp] Show - 05.nfo", "nfo"))
    in_subs = record(write(src / "Subs" / "[Grp] Show - 05.de.ass", "de"))
    stray = record(write(src / "readme.txt", "hi"))
    plan = plan_of([video, *subs, nfo, in_subs, stray], dst)
    names = {os.path.basename(e.dst) for e in plan.entries if e.status == TODO}
    assert names == {"Show - S01E05.mkv", "Show - S01E05.en.ass", "Show - S01E05.pt-BR.srt",
                     "Show - S01E05.nfo", "Show - S01E05.de.ass"}
    assert plan.left_in_place == 1  # readme.txt


def test_subtitles_of_a_video_that_stays_stay_too(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    video = record(write(src / "mystery.mkv", "v"), title=None)
    sub = record(write(src / "mystery.en.ass", "s"))
    entries = by_src(plan_of([video, sub], dst))
    assert entries["mystery.en.ass"].status == FOLLOWS


def test_font_folders_travel_with_their_release(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    rel_dir = src / "[Grp] Show [BD]"
    videos = [episode(rel_dir, f"[Grp] Show - {n:02}.mkv", "Show", n) for n in (1, 2)]
    fonts = [record(write(rel_dir / "Fonts" / f, f)) for f in ("A.ttf", "b.otf")]
    attach = record(write(rel_dir / "Attachments" / "sub" / "c.ttf", "c"))
    plan = plan_of([*videos, *fonts, attach], dst)
    season = dst / "Show" / "Season 01"
    got = {e.dst for e in plan.entries if e.role == "attachment"}
    assert got == {str(season / "Fonts" / "A.ttf"), str(season / "Fonts" / "b.otf"),
                   str(season / "Attachments" / "sub" / "c.ttf")}


def _two_releases(src: Path):
    good = episode(src / "a", "[Good] Show - 03 [1080p].mkv", "Show", 3, b"g" * 500, group="Good", resolution="1080p")
    low = episode(src / "b", "[Low] Show - 03 [480p].mkv", "Show", 3, b"l" * 300, group="Low", resolution="480p")
    sub = record(write(src / "b" / "[Low] Show - 03 [480p].en.ass", "sub"))
    return good, low, sub


def test_duplicates_keep_all_tags_the_other_release(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    entries = by_src(plan_of(list(_two_releases(src)), dst, duplicates="keep-all"))
    assert os.path.basename(entries["[Good] Show - 03 [1080p].mkv"].dst) == "Show - S01E03.mkv"
    assert os.path.basename(entries["[Low] Show - 03 [480p].mkv"].dst) == "Show - S01E03 - Low 480p.mkv"
    assert os.path.basename(entries["[Low] Show - 03 [480p].en.ass"].dst) == "Show - S01E03 - Low 480p.en.ass"


def test_duplicates_best_sends_the_others_to_a_sibling_folder(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    entries = by_src(plan_of(list(_two_releases(src)), dst, duplicates="best"))
    low = entries["[Low] Show - 03 [480p].mkv"]
    assert low.status == TODO
    assert low.dst == str(dst / "Show" / "Duplicates" / "Season 01" / "[Low] Show - 03 [480p].mkv")
    assert entries["[Low] Show - 03 [480p].en.ass"].dst.startswith(str(dst / "Show" / "Duplicates"))


def test_duplicates_skip_leaves_all_but_the_best(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    entries = by_src(plan_of(list(_two_releases(src)), dst, duplicates="skip"))
    assert entries["[Good] Show - 03 [1080p].mkv"].status == TODO
    assert entries["[Low] Show - 03 [480p].mkv"].status == DUPLICATE
    assert entries["[Low] Show - 03 [480p].en.ass"].status == FOLLOWS


def test_existing_identical_file_is_already_organized(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    r = episode(src, "a.mkv", "Show", 1, b"same" * 100)
    write(dst / "Show" / "Season 01" / "Show - S01E01.mkv", b"same" * 100)
    e = plan_of([r], dst).entries[0]
    assert e.status == ALREADY


@pytest.mark.parametrize("policy", ["skip", "rename", "fail"])
def test_conflicts_never_overwrite(tmp_path: Path, policy: str) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    r = episode(src, "a.mkv", "Show", 1, b"new" * 100)
    existing = write(dst / "Show" / "Season 01" / "Show - S01E01.mkv", b"old" * 100)
    if policy == "fail":
        with pytest.raises(RefusedError, match="already exists"):
            plan_of([r], dst, conflict=policy)
        return
    e = plan_of([r], dst, conflict=policy).entries[0]
    if policy == "skip":
        assert e.status == CONFLICT and str(existing) in e.reason
    else:
        assert e.status == TODO and os.path.basename(e.dst) == "Show - S01E01 (2).mkv"


def test_existing_file_differing_only_in_case_is_a_conflict(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    r = episode(src, "a.mkv", "Show", 1, b"new" * 100)
    write(dst / "show" / "season 01" / "SHOW - s01e01.MKV", b"old" * 100)
    e = plan_of([r], dst).entries[0]
    assert e.status == CONFLICT
    # existing folders keep their spelling: no second "Show" beside "show"
    assert e.reason.startswith(str(dst / "show" / "season 01"))


def test_two_sources_for_one_destination_are_caught_at_plan_time(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    a = record(write(src / "x" / "same name.mkv", b"a" * 10), title="Show", episode=1)
    b = record(write(src / "y" / "Same Name.mkv", b"b" * 20), title="Other", episode=1)
    plan = plan_of([a, b], dst, keep_names=True, template="{title}/../{original}.{ext}")
    statuses = sorted(e.status for e in plan.entries)
    assert statuses == [TODO, TODO]  # different folders: no collision
    plan = plan_of([a, b], dst, keep_names=True, template="All/{original}.{ext}")
    assert sorted(e.status for e in plan.entries) == [COLLISION, TODO]


def test_windows_targets_keep_paths_under_max_path(tmp_path: Path) -> None:
    src = tmp_path / "in"
    dst = tmp_path / ("d" * 150)
    r = episode(src, "a.mkv", "Very Long Title " * 6, 1)
    e = plan_organize([r], PlanOptions(dest=str(dst), windows=True)).entries[0]
    assert e.status == TODO
    assert len(e.dst) < 260 and e.dst.endswith(" - S01E01.mkv")
    assert plan_organize([r], PlanOptions(dest=str(dst), windows=True, long_paths=True)).entries[0].dst != e.dst
    deep = tmp_path / ("d" * 240)
    too_long = plan_organize([r], PlanOptions(dest=str(deep), windows=True)).entries[0]
    assert too_long.status == TOO_LONG


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = [episode(src, f"[G] Show - {n:02}.mkv", "Show", n) for n in range(1, 4)]
    before = manifest(tmp_path)
    plan_of(records, dst)
    assert manifest(tmp_path) == before and not dst.exists()


def test_plan_files_round_trip(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = [episode(src, f"[G] Show - {n:02}.mkv", "Show", n) for n in range(1, 4)]
    plan = plan_of(records, dst, duplicates="best", action="copy")
    path = str(tmp_path / "plan.jsonl")
    write_plan(plan, path)
    again = read_plan(path)
    assert list(again.entries) == list(plan.entries) and again.options == plan.options
    write(tmp_path / "bogus.jsonl", '{"hello": 1}\n')
    with pytest.raises(UsageError, match="not an AniVault plan"):
        read_plan(str(tmp_path / "bogus.jsonl"))


def test_bad_policies_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--duplicates"):
        plan_organize([], PlanOptions(dest=str(tmp_path), duplicates="some"))


# ---------------------------------------------------------------- nothing escapes the root, end to end

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from anivault.models import ParsedName  # noqa: E402
from organize_support import Record  # noqa: E402

_hostile = st.one_of(st.text(max_size=60), st.sampled_from(
    ["..", "../../etc", "/abs", "C:\\x", "\\\\srv\\share", "a\x00b", "CON", " .. ", "~", "..\\..", "x/../../y"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_hostile, tmdb_title=st.one_of(st.none(), _hostile), file_name=_hostile, ext=_hostile,
       group=st.one_of(st.none(), _hostile), kind=st.sampled_from(["episode", "special", "movie"]),
       keep_names=st.booleans(), duplicates=st.sampled_from(["keep-all", "best", "skip"]),
       year=st.one_of(st.none(), st.integers(-5, 99999)))
def test_no_destination_ever_leaves_the_library_root(tmp_path, title, tmdb_title, file_name, ext, group, kind,
                                                     keep_names, duplicates, year) -> None:
    dest = os.path.join(str(tmp_path), "lib")
    name = (file_name.replace("/", "_").replace("\x00", "_") or "x") + ".mkv"
    paths = [os.path.join(str(tmp_path), "src", "a", name), os.path.join(str(tmp_path), "src", "b", name)]
    parsed = ParsedName(title=title, episode=3, year=year, kind=kind, ext=ext, group=group)
    match = None if tmdb_title is None else SimpleNamespace(id=1, title=tmdb_title, year=year, season=None,
                                                          episode=None, media_type="tv")
    items = [(Record(p, 10 + i, 1, "video", parsed), match) for i, p in enumerate(paths)]
    sub = Record(paths[0][:-4] + "." + (ext or "en") + ".ass", 1, 1, "subtitle", None)
    font = Record(os.path.join(str(tmp_path), "src", "a", "Fonts", name), 1, 1, "other", None)
    plan = plan_organize([*items, (sub, None), (font, None)],
                         PlanOptions(dest=dest, windows=False, keep_names=keep_names, duplicates=duplicates))
    for e in plan.entries:
        if e.dst:
            real = os.path.normpath(e.dst)
            assert os.path.commonpath([dest, real]) == dest and real != dest, e
            assert real == e.dst  # no "..", "." or doubled separators hiding in it


def test_bonus_videos_go_to_the_extras_folder_of_their_show(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    release = src / "[Grp] Show S1 [1080p]"
    eps = [episode(release, f"[Grp] Show - {n:02} [1080p].mkv", "Show", n, year=2020) for n in (1, 2)]
    ncop = record(write(release / "Extras" / "[Grp] Show - NCOP1 [1080p].mkv", "op"), title="Show - NCOP",
                  episode=1, kind="extra")
    menu = record(write(release / "[Grp] Show - Menu [1080p].mkv", "menu"), title="Show", kind="special")
    lone = record(write(src / "Other - NCED.mkv", "ed"), title="Other", kind="extra")
    entries = by_src(plan_of([*eps, ncop, menu, lone], dst))
    assert entries["[Grp] Show - NCOP1 [1080p].mkv"].dst == str(dst / "Show (2020)" / "Extras" / "[Grp] Show - NCOP1 [1080p].mkv")
    assert entries["[Grp] Show - Menu [1080p].mkv"].dst == str(dst / "Show (2020)" / "Extras" / "[Grp] Show - Menu [1080p].mkv")
    assert entries["Other - NCED.mkv"].dst == str(dst / "Other" / "Extras" / "Other - NCED.mkv")
    assert {e.role for e in entries.values()} == {"video", "bonus"}


def test_fonts_of_two_releases_with_one_name_both_travel(tmp_path: Path) -> None:
    src, dst = tmp_path / "in", tmp_path / "lib"
    records = []
    for grp, content in (("A", b"font one"), ("B", b"font two, other size"), ("C", b"font one")):
        records.append(episode(src / grp, f"[{grp}] Show - 01.mkv", "Show", 1, grp.encode() * 10, group=grp))
        records.append(record(write(src / grp / "Fonts" / "Arial.ttf", content)))
    entries = [e for e in plan_of(records, dst).entries if e.role == "attachment"]
    fonts = dst / "Show" / "Season 01" / "Fonts"
    assert sorted((e.status, e.dst) for e in entries) == [
        (ALREADY, str(fonts / "Arial.ttf")),  # C's is identical to A's: nothing to add
        (TODO, str(fonts / "Arial (2).ttf")), (TODO, str(fonts / "Arial.ttf"))]
