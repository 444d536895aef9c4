"""CLI conventions every command shares: one-line errors, exit codes, config."""
from __future__ import annotations

import json
import os

import pytest

from anivault import settings
from anivault.cli import cli
from anivault.errors import AniVaultError, CredentialsError, RefusedError


@pytest.fixture
def failing_command():
    """A throwaway command raising whatever the test hands it."""
    to_raise: list[BaseException] = []

    @cli.command("_boom", hidden=True)
    def boom() -> None:
        raise to_raise[0]

    yield to_raise
    cli.commands.pop("_boom")


@pytest.mark.parametrize("error, code", [
    (AniVaultError("cannot read /x/y", hint="check it"), 1),
    (CredentialsError("TMDB rejected the key", hint="set TMDB_API_KEY"), 5),
    (RefusedError("destination is locked by pid 1"), 6),
])
def test_library_errors_become_one_line_and_exit_code(runner, failing_command, error, code) -> None:
    failing_command.append(error)
    result = runner.invoke(cli, ["_boom"])
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("anivault: error: ")
    assert "Traceback" not in result.output


def test_a_bug_is_one_line_not_a_traceback(runner, failing_command, monkeypatch) -> None:
    monkeypatch.delenv("ANIVAULT_DEBUG", raising=False)
    failing_command.append(ZeroDivisionError("division by zero"))
    result = runner.invoke(cli, ["_boom"])
    assert result.exit_code == 1
    assert "internal error: ZeroDivisionError" in result.stderr
    assert "ANIVAULT_DEBUG" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_is_a_usage_error(runner) -> None:
    result = runner.invoke(cli, ["config", "show", "--bogus"])
    assert result.exit_code == 2


def test_config_precedence_flags_env_file_defaults(monkeypatch) -> None:
    assert settings.resolve().rate == 35.0
    settings.set_value("rate", "20")
    assert settings.resolve().rate == 20.0
    monkeypatch.setenv("ANIVAULT_RATE", "10")
    assert settings.resolve().rate == 10.0
    assert settings.resolve({"rate": 5}).rate == 5.0


def test_config_set_show_masks_secrets(runner) -> None:
    result = runner.invoke(cli, ["config", "set", "tmdb_api_key", "s3cr3t-key"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(cli, ["config", "show", "--json"])
    assert "s3cr3t-key" not in shown.output
    assert json.loads(shown.stdout)["tmdb_api_key"] == "***"
    if os.name == "posix":
        assert settings.config_path().stat().st_mode & 0o077 == 0


def test_config_set_unknown_key_is_usage_error(runner) -> None:
    result = runner.invoke(cli, ["config", "set", "no_such_key", "1"])
    assert result.exit_code == 2
    assert "unknown setting" in result.stderr


def test_bad_value_type_is_usage_error(runner) -> None:
    result = runner.invoke(cli, ["config", "set", "rate", "fast"])
    assert result.exit_code == 2 and "setting rate='fast'" in result.stderr and "is not a number" in result.stderr


def test_corrupt_config_file_is_one_line_error(runner) -> None:
    path = settings.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("rate = = 3\n")
    result = runner.invoke(cli, ["config", "show"])
    assert result.exit_code == 1
    assert str(path) in result.stderr and "hint:" in result.stderr


def test_config_path_honours_env(runner) -> None:
    assert runner.invoke(cli, ["config", "path"]).stdout.strip() == str(settings.config_path())
