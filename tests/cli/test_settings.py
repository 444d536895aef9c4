"""Settings: one spec, resolved once; every bad value is a usage error naming key and source."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from anivault import settings
from anivault.settings import resolve
from conftest import invoke


def write_config(text: str) -> Path:
    path = settings.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_and_sources(monkeypatch) -> None:
    path = write_config("rate = 20.0\nconcurrency = 3\n")
    monkeypatch.setenv("ANIVAULT_CONCURRENCY", "8")
    s = resolve({"language": "de-DE"})
    assert (s.rate, s.concurrency, s.language, s.min_confidence) == (20.0, 8, "de-DE", 0.6)
    assert s.source("rate") == f"config file {path}"
    assert s.source("concurrency") == "environment ANIVAULT_CONCURRENCY"
    assert s.source("language") == "flag --lang"
    assert s.source("min_confidence") == "default"


def test_settings_are_frozen_and_fill_in_the_dirs() -> None:
    s = resolve()
    with pytest.raises(AttributeError):
        s.rate = 1  # type: ignore[misc]
    assert s.cache_dir == os.environ["ANIVAULT_CACHE_DIR"] and s.data_dir == os.environ["ANIVAULT_DATA_DIR"]


def test_library_defaults_match_the_spec() -> None:
    from anivault.cache import DEFAULT_TTL_DAYS
    from anivault.match import DEFAULT_MIN_CONFIDENCE
    from anivault.tmdb import TMDBSettings

    t = TMDBSettings()
    by = settings.DEFAULTS
    assert (t.base_url, t.language, t.rate, t.concurrency, t.cache_max_mb) == (
        by["tmdb_base_url"], by["language"], by["rate"], by["concurrency"], by["cache_max_mb"])
    assert DEFAULT_TTL_DAYS == {n: by[f"cache_ttl_{n}_days"] for n in ("search", "details", "none")}
    assert DEFAULT_MIN_CONFIDENCE == by["min_confidence"]


def test_tmdb_settings_carry_the_cache_ttls_from_the_file() -> None:
    settings.set_value("cache_ttl_details_days", "10")
    tmdb = resolve().tmdb()
    assert tmdb.cache_ttl_days == {"search": 7.0, "details": 10.0, "none": 1.0}
    assert tmdb.cache_path == str(Path(os.environ["ANIVAULT_CACHE_DIR"]) / "tmdb.sqlite")
    with tmdb.open_cache() as cache:
        assert cache.ttl["details"] == 10 * 86400


BAD_VALUES = [
    ("rate", "0"), ("rate", "-3"), ("rate", "fast"), ("rate", "nan"),
    ("concurrency", "0"), ("concurrency", "1000"), ("concurrency", "2.5"),
    ("min_confidence", "1.5"), ("min_confidence", "-0.1"),
    ("cache_ttl_search_days", "-1"), ("cache_ttl_details_days", "soon"), ("cache_ttl_none_days", "-0.5"),
    ("cache_max_mb", "0"), ("workers", "-1"), ("language", "english please"),
    ("tmdb_base_url", "ftp://x"), ("colon_style", "semicolon"), ("report", "maybe"),
    ("template", "{title}/{bogus}.{ext}"), ("template", "{title}/{season:zz}.{ext}"),
    ("template", "{title"), ("template", "{title}/{}.{ext}"),
    ("template", "{title}/{episode_title}.{ext}"),  # a hidden ".mkv" when the episode has no title
    ("movie_template", "{title}//{title}.{ext}"), ("movie_template", "{group}/{title}.{ext}"),
]


@pytest.mark.parametrize("key, value", BAD_VALUES)
def test_every_bad_value_is_a_usage_error_naming_key_and_source(key: str, value: str, tmp_path: Path,
                                                                monkeypatch) -> None:
    env_name = f"ANIVAULT_{key.upper()}"
    monkeypatch.delenv(env_name, raising=False)  # tmdb_base_url is set by the isolation fixture
    lib = tmp_path / "lib"
    lib.mkdir()
    # From the environment, on a command that uses it …
    result = invoke("organize", str(lib), "--dest", str(tmp_path / "dst"), env={env_name: value})
    assert result.exit_code == 2, result.output
    assert f"setting {key}=" in result.stderr and f"from environment {env_name}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    # … from the config file …
    path = write_config(f"{key} = {json.dumps(value)}\n")
    result = invoke("organize", str(lib), "--dest", str(tmp_path / "dst"))
    assert result.exit_code == 2 and f"from config file {path}" in result.stderr, result.output
    path.unlink()
    # … and refused by `config set`.
    result = invoke("config", "set", "--", key, value)
    assert result.exit_code == 2 and f"setting {key}=" in result.stderr


@pytest.mark.parametrize("args, source", [
    (["match", "--rate", "0"], "flag --rate"),
    (["match", "--concurrency", "0"], "flag --concurrency"),
    (["match", "--min-confidence", "2"], "flag --min-confidence"),
    (["organize", "--template", "{title}/{nope}"], "flag --template"),
    (["organize", "--template", "{title}/{episode_title}.{ext}"], "flag --template"),
    (["scan", "--workers", "-2"], "flag --workers"),
])
def test_bad_flags_name_the_flag(args: list[str], source: str, tmp_path: Path) -> None:
    command, *rest = args
    extra = ["--dest", str(tmp_path / "d")] if command == "organize" else []
    result = invoke(command, str(tmp_path), *rest, *extra)
    assert result.exit_code == 2, result.output
    assert f"(from {source})" in result.stderr


def test_data_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    afile = tmp_path / "f"
    afile.write_text("x")
    result = invoke("history", env={"ANIVAULT_DATA_DIR": str(afile)})
    assert result.exit_code == 2 and "setting data_dir=" in result.stderr and "not a folder" in result.stderr


def test_unknown_key_in_config_set_lists_the_known_ones() -> None:
    result = invoke("config", "set", "colour", "blue")
    assert result.exit_code == 2 and "unknown setting 'colour'" in result.stderr and "rate" in result.stderr


def test_secrets_are_masked_in_config_show_and_in_errors(monkeypatch) -> None:
    monkeypatch.setenv("TMDB_API_KEY", "s3cr3t")
    shown = invoke("config", "show", "--json")
    assert json.loads(shown.stdout)["tmdb_api_key"] == "***" and "s3cr3t" not in shown.output
    assert "s3cr3t" not in repr(resolve()) and "s3cr3t" not in repr(resolve().tmdb())


def test_broken_config_file_is_one_line_and_history_and_undo_still_work(tmp_path: Path) -> None:
    path = write_config("rate = = 3\n")
    result = invoke("config", "show")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert str(path) in result.stderr
    history = invoke("history")
    assert history.exit_code == 0, history.output
    assert "warning: cannot read config file" in history.stderr
    undo = invoke("undo", "--last")  # nothing to undo, but not blocked by the file
    assert "cannot read config file" in undo.stderr and "no organize operation" in undo.stderr

