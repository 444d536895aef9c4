"""notify: fake Plex/Jellyfin servers receive exactly the changed folders, never the token in logs or output."""
from __future__ import annotations

import logging
import os

import pytest

from anivault import notify
from anivault.errors import UsageError
from anivault.organize import PlanOptions, apply_plan, plan_organize
from anivault.testing.mediaservers import JELLYFIN_KEY, PLEX_TOKEN, FakeJellyfin, FakePlex
from anivault.undo import undo
from organize_support import episode


@pytest.fixture
def applied(tmp_path):
    """Two shows organized into <tmp>/lib: (the op id, the library root, the folders that got files)."""
    src, lib = tmp_path / "dl", tmp_path / "lib"
    lib.mkdir()
    records = [episode(src, "a1.mkv", "Alpha", 1), episode(src, "a2.mkv", "Alpha", 2),
               episode(src, "b1.mkv", "Beta", 1, season=2)]
    plan = plan_organize(records, PlanOptions(unmatched="parsed", dest=str(lib), action="copy"))
    report = apply_plan(plan)
    folders = sorted({os.path.dirname(e.dst) for e in plan.entries})
    assert report.done == 3 and len(folders) == 2
    return report.op, lib, folders


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # httpx/httpcore at their most talkative
    return caplog


def test_plex_refreshes_exactly_the_changed_folders_in_their_section(applied, logs, capsys):
    op, lib, folders = applied
    settings = {"plex_url": "", "plex_token": PLEX_TOKEN}
    with FakePlex({"1": ["/elsewhere/movies"], "7": [str(lib)]}) as plex:
        settings["plex_url"] = plex.url
        report = notify.notify("plex", settings, notify.op_paths(op))
    assert plex.refreshed == [("7", f) for f in folders]
    assert report.refreshed == folders and not report.failed
    assert all(r["authorized"] for r in plex.requests)
    assert all(PLEX_TOKEN not in r["raw"] for r in plex.requests)  # header only, never the URL
    out = capsys.readouterr()
    assert PLEX_TOKEN not in logs.text + out.out + out.err


def test_undo_refreshes_the_same_folders_or_their_nearest_surviving_parent(applied, logs):
    op, lib, folders = applied
    undo(op)  # removes the files and the folders apply created
    paths = notify.op_paths(op)
    with FakeJellyfin() as jf:
        report = notify.notify("jellyfin", {"jellyfin_url": jf.url, "jellyfin_api_key": JELLYFIN_KEY}, paths)
    assert not any(os.path.exists(f) for f in folders)
    assert jf.updated == [(str(lib), "Modified")]  # the show folders are gone: the library root rescans
    assert report.refreshed == [str(lib)] and JELLYFIN_KEY not in logs.text


def test_jellyfin_gets_one_update_listing_the_changed_folders(applied, logs, capsys):
    op, _, folders = applied
    with FakeJellyfin() as jf:
        report = notify.notify("jellyfin", {"jellyfin_url": jf.url, "jellyfin_api_key": JELLYFIN_KEY},
                               notify.op_paths(op))
    assert jf.updated == [(f, "Modified") for f in folders]
    assert len(jf.requests) == 1 and report.refreshed == folders
    out = capsys.readouterr()
    assert JELLYFIN_KEY not in logs.text + out.out + out.err


@pytest.mark.parametrize("kind", ["plex", "jellyfin"])
def test_a_rejected_token_is_a_warning_without_the_token(kind, applied, logs):
    op, lib, _ = applied
    fake = FakePlex({"1": [str(lib)]}, token="the-real-one") if kind == "plex" else FakeJellyfin("the-real-one")
    secret = PLEX_TOKEN if kind == "plex" else JELLYFIN_KEY
    warnings: list[str] = []
    with fake:
        settings = {f"{kind}_url": fake.url, "plex_token": secret, "jellyfin_api_key": secret}
        report = notify.notify(kind, settings, notify.op_paths(op), warn=warnings.append)
    assert report.failed and not report.refreshed
    assert warnings and all("token was rejected" in w for w in warnings)
    assert secret not in " ".join(warnings) + logs.text


def test_unreachable_server_is_reported_not_raised(applied, logs):
    op, _, folders = applied
    warnings: list[str] = []
    report = notify.notify("jellyfin", {"jellyfin_url": "http://127.0.0.1:9", "jellyfin_api_key": JELLYFIN_KEY},
                           notify.op_paths(op), warn=warnings.append)
    assert [f for f, _ in report.failed] == folders and len(warnings) == len(folders)
    assert JELLYFIN_KEY not in " ".join(warnings) + logs.text


def test_plex_skips_folders_outside_every_library(applied):
    op, _, folders = applied
    warnings: list[str] = []
    with FakePlex({"1": ["/srv/other"]}) as plex:
        report = notify.notify("plex", {"plex_url": plex.url, "plex_token": PLEX_TOKEN}, notify.op_paths(op),
                               warn=warnings.append)
    assert plex.refreshed == [] and [f for f, _ in report.skipped] == folders
    assert all("in no Plex library" in w for w in warnings)


def test_nested_plex_libraries_pick_the_deepest_folder():
    sections = [("1", ["/media"]), ("2", ["/media/anime/"])]
    assert notify._section_of("/media/anime/Show", sections) == "2"
    assert notify._section_of("/media/movies/X", sections) == "1"
    assert notify._section_of("/mediax/Show", sections) is None


@pytest.mark.parametrize("settings, message", [
    ({}, "needs the plex_url"),
    ({"plex_url": "ftp://x", "plex_token": "t"}, r"not an http\(s\) URL"),
])
def test_missing_or_bad_settings_are_usage_errors(settings, message):
    with pytest.raises(UsageError, match=message):
        notify.notify("plex", settings, ["/x/y"])
    with pytest.raises(UsageError, match="not one of"):
        notify.server("kodi", settings)


def test_changed_folders_are_distinct_and_exist(tmp_path):
    (tmp_path / "a").mkdir()
    paths = [str(tmp_path / "a" / "1.mkv"), str(tmp_path / "a" / "2.mkv"), str(tmp_path / "gone" / "deep" / "3.mkv")]
    assert notify.changed_folders(paths) == [str(tmp_path), str(tmp_path / "a")]
