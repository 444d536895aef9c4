"""The README's command and settings tables are checked against the real CLI and the settings spec."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from anivault import settings
from anivault.cli import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> list[str]:
    text = README.read_text(encoding="utf-8").split(f"### {title}\n", 1)[1].split("\n#", 1)[0]
    return [line for line in text.splitlines() if line.startswith("|")][2:]  # rows, without the header


def command_rows() -> list[str]:
    return [row.split(" | ")[0] for row in section("Commands")]


def real_commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}  # type: ignore[misc]


def options_of(command: click.Command) -> set[str]:
    names = {opt for p in command.params for opt in getattr(p, "opts", [])}
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            names |= options_of(sub)
    return names


def test_every_command_in_help_is_documented_in_the_readme() -> None:
    rows = command_rows()
    for name, command in real_commands().items():
        documented = [r for r in rows if f"`anivault {name} " in r or f"`anivault {name}`" in r]
        assert documented, f"`anivault {name}` is missing from the README's command table"
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert any(re.search(rf"\b{sub}\b", r) for r in documented), f"{name} {sub} undocumented"


def test_every_documented_command_and_option_exists() -> None:
    commands = real_commands()
    for row in command_rows():
        for usage in re.findall(r"`anivault ([^`]+)`", row):
            name = usage.split()[0]
            assert name in commands, f"README documents `anivault {name}`, which does not exist"
            for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", usage):
                assert option in options_of(commands[name]) | {"--help"}, f"`anivault {name}` has no {option}"


def test_every_readme_settings_row_matches_the_spec() -> None:
    rows = section("Settings")
    assert "\n".join(rows) == "\n".join(settings.markdown_table().splitlines()[2:])
    assert [re.match(r"\| `(\w+)`", r).group(1) for r in rows] == [s.key for s in settings.SPEC]  # type: ignore[union-attr]


@pytest.mark.parametrize("setting", settings.SPEC, ids=lambda s: s.key)
def test_setting_flags_say_which_setting_they_set(setting) -> None:
    for command in real_commands().values():
        for sub in [command, *getattr(command, "commands", {}).values()]:
            for p in sub.params:
                if setting.option in getattr(p, "opts", []) and p.name == setting.key:
                    assert f"setting `{setting.key}`" in (p.help or "")
