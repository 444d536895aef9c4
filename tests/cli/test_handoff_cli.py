"""import, watch, verify and the --verify/--nfo/--notify options from the command line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from anivault.testing.mediaservers import JELLYFIN_KEY, PLEX_TOKEN, FakeJellyfin, FakePlex
from conftest import invoke
from organize_support import write

PARSED = ("--offline", "--unmatched", "parsed")  # no TMDB here: file by parsed names


def _tagged(folder: Path, n: int, good: bool = True) -> Path:
    data = os.urandom(4000) + bytes([n])
    crc = zlib.crc32(data) ^ (0 if good else 1)
    return write(folder / f"[Grp] Cowboy Bebop - {n:02} (1080p) [{crc:08X}].mkv", data)


@pytest.fixture
def download(tmp_path: Path) -> Path:
    folder = tmp_path / "dl" / "Cowboy Bebop"
    _tagged(folder, 1)
    _tagged(folder, 2)
    _tagged(folder, 3, good=False)
    return folder


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_import_hardlinks_leaves_the_source_and_refuses_a_bad_crc(download, tmp_path) -> None:
    lib = tmp_path / "lib"
    sources = _files(download)
    result = invoke("import", str(download), "--dest", str(lib), *PARSED, "--verify", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["import"]
    assert data["action"] == "hardlink" and data["applied"]["done"] == 2 and data["refused_crc"] == 1
    assert "does not match" in result.stderr
    filed = _files(lib)
    assert len(filed) == 2 and all(os.stat(p).st_nlink == 2 for p in filed)
    assert _files(download) == sources  # still seeding
    strict = invoke("import", str(download), "--dest", str(tmp_path / "lib2"), *PARSED, "--verify", "--strict")
    assert strict.exit_code == 3


def test_import_with_a_template_preset_and_nfo(download, tmp_path, tmdb_server) -> None:
    lib = tmp_path / "lib"
    env = {"ANIVAULT_TMDB_BASE_URL": tmdb_server.url, "TMDB_API_KEY": tmdb_server.api_key}
    result = invoke("import", str(download), "--dest", str(lib), "--template", "jellyfin", "--nfo", env=env)
    assert result.exit_code == 0, result.output
    show, = [p for p in lib.iterdir() if p.is_dir()]
    assert show.name == "Cowboy Bebop (1998) [tmdbid-30991]"
    assert (show / "tvshow.nfo").is_file() and len(list(show.rglob("*.nfo"))) == 4
    assert "NFOs" in result.stdout


def test_import_waits_for_the_lock_then_gives_up_with_exit_6(download, tmp_path) -> None:
    from anivault.journal import DestinationLock

    lib = tmp_path / "lib"
    with DestinationLock([str(lib)], "another hook"):
        result = invoke("import", str(download), "--dest", str(lib), *PARSED, "--lock-wait", "0.3")
    assert result.exit_code == 6 and "gave up waiting" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_verify_command_reports_mismatches_and_answers_again_from_the_cache(download) -> None:
    first = invoke("verify", str(download), "--json")
    lines = [json.loads(x) for x in first.stdout.splitlines()]
    assert first.exit_code == 0 and [r["status"] for r in lines[:-1]] == ["ok", "ok", "mismatch"]
    summary = lines[-1]["summary"]
    assert (summary["ok"], summary["mismatch"], summary["cached"]) == (2, 1, 0)
    again = invoke("verify", str(download), "--strict")
    assert again.exit_code == 3 and "mismatch:" in again.stdout and "3 answered by the cache" in again.stdout


def test_organize_notify_jellyfin_refreshes_the_changed_folders_and_undo_too(download, tmp_path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    with FakeJellyfin() as jf:
        env = {"ANIVAULT_JELLYFIN_URL": jf.url, "ANIVAULT_JELLYFIN_API_KEY": JELLYFIN_KEY}
        result = invoke("--metrics", str(tmp_path / "m.ndjson"), "organize", str(download), "--dest", str(lib),
                        "--apply", "--action", "copy", *PARSED, "--notify", "jellyfin", env=env)
        assert result.exit_code == 0, result.output
        season = lib / "Cowboy Bebop" / "Season 01"
        assert jf.updated == [(str(season), "Modified")]
        undone = invoke("undo", "--last", "--notify", "jellyfin", env=env)
        assert undone.exit_code == 0, undone.output
        assert jf.updated[-1] == (str(lib), "Modified")  # the show folder is gone: the root rescans
    everything = result.output + undone.output + (tmp_path / "m.ndjson").read_text()
    assert JELLYFIN_KEY not in everything


def test_organize_notify_plex_token_never_shown_even_when_rejected(download, tmp_path) -> None:
    lib = tmp_path / "lib"
    with FakePlex({"3": [str(lib)]}, token="another-token") as plex:
        env = {"ANIVAULT_PLEX_URL": plex.url, "ANIVAULT_PLEX_TOKEN": PLEX_TOKEN}
        result = invoke("run", str(download), "--dest", str(lib), "--apply", "--action", "copy", *PARSED,
                        "--notify", "plex", "--strict", env=env)
    assert result.exit_code == 3 and "token was rejected" in result.stderr
    assert PLEX_TOKEN not in result.output
    shown = invoke("config", "show", env=env)
    assert PLEX_TOKEN not in shown.output


def test_watch_imports_then_stops_cleanly_on_sigterm(tmp_path) -> None:
    src, lib = tmp_path / "incoming", tmp_path / "lib"
    src.mkdir()
    env = dict(os.environ, ANIVAULT_WATCH_SETTLE="0.3")
    proc = subprocess.Popen([sys.executable, "-m", "anivault", "watch", str(src), "--dest", str(lib), *PARSED,
                             "--burst", "0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert json.loads(proc.stdout.readline())["event"] == "start"
        part = src / "[Grp] Cowboy Bebop - 05 [1080p].mkv.part"
        part.write_bytes(os.urandom(100_000))
        part.rename(src / "[Grp] Cowboy Bebop - 05 [1080p].mkv")
        events = []
        while not events or events[-1]["event"] not in ("imported", "error"):
            events.append(json.loads(proc.stdout.readline()))
        assert events[-1]["event"] == "imported" and events[-1]["applied"]["done"] == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1])["event"] == "stop"
    assert len(_files(lib)) == 1
