"""No file name or TMDB title can act on the terminal: escape sequences, bidi overrides,
invisible characters and rich markup in them are shown visibly, in rich and plain output alike."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anivault.cli.output import escape, json_text, table
from anivault.testing import TMDBServer
from anivault.testing import fixtures as fx

POSIX = os.name == "posix"

# Payloads a hostile release name (or TMDB answer) may carry.
PAYLOADS = {
    "sgr": "\x1b[31mRED\x1b[0m",
    "osc": "\x1b]0;pwned\x07",
    "c1": "\x9b2J\x9d0;t\x9c",
    "bidi": "\u202eevil\u202c",
    "isolate": "\u2066iso\u2069\u200f\u061c",
    "invisible": "\ufeffbom\u200bzw",
    "markup": "[bold red]MARKUP[blink]",
}
# Not one of these may reach the terminal raw (rich's own styling is plain SGR without them).
FORBIDDEN = ["\x1b]", "\x07", "\x1b[31mRED", "\x1b[0mx", "\x9b", "\x9c", "\x9d", "\u202e", "\u202c",
             "\u2066", "\u2069", "\u200f", "\u061c", "\ufeff", "\u200b", "\udcff", "\x00"]
EVIL_TITLE = "Evil\x1b]0;tmdb\x07 \u202eShow\ufeff"


def test_escape_shows_every_unsafe_character_visibly() -> None:
    assert escape("a\x1b[31mb") == "a\\x1b[31mb"
    assert escape("x\x9by\x7f") == "x\\x9by\\x7f"
    assert escape("\u202eabc\u2066\u200b\ufeff") == "\\u202eabc\\u2066\\u200b\\ufeff"
    assert escape("bad\udcff.mkv") == "bad\\xff.mkv"  # a non-UTF-8 byte, as the byte
    assert escape("Frieren – 葬送のフリーレン [1080p]") == "Frieren – 葬送のフリーレン [1080p]"


def test_ndjson_keeps_exact_strings_without_raw_controls() -> None:
    values = {"path": "/lib/" + "".join(PAYLOADS.values()) + "\udcff.mkv"}
    text = json_text(values)
    assert json.loads(text) == values  # exact
    assert not any(ch in text for ch in FORBIDDEN)


def test_rich_table_on_a_terminal_escapes_and_ignores_markup(tmp_path: Path) -> None:
    class Terminal:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> int:
            self.parts.append(text)
            return len(text)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return True

    out = Terminal()
    table(["name"], [[v] for v in PAYLOADS.values()], title=EVIL_TITLE, out=out)  # type: ignore[arg-type]
    text = "".join(out.parts)
    assert not [f for f in FORBIDDEN if f in text]
    assert "[bold red]MARKUP[blink]" in text and "\\x1b]0;tmdb\\x07" in text


def run_on_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``anivault ARGS`` with stdout and stderr on a pseudo-terminal; (exit code, all it wrote)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "anivault", *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "surrogateescape")


@pytest.fixture
def hostile_tree(tmp_path: Path) -> tuple[Path, Path]:
    lib = tmp_path / "lib"
    folder = lib / "Show \x1b]2;folder\x07 \u202eS1"
    folder.mkdir(parents=True)
    for n, (name, payload) in enumerate(PAYLOADS.items(), start=1):
        (folder / f"[Grp] Show {payload} - {n:02d} [1080p].mkv").write_bytes(b"x" * 64)
    (lib / "[Grp] Evil Show - 01 [1080p].mkv").write_bytes(b"y" * 64)  # TMDB answers with EVIL_TITLE
    (lib / "Plain Show - 01.mkv").write_bytes(b"z" * 64)
    os.symlink(str(lib / "missing\x1b[2J"), str(lib / "dangling \x1b]0;link\x07.mkv"))  # a warning
    os.mkdir(os.fsencode(lib) + b"/raw \xff bytes")  # not UTF-8
    (Path(os.fsdecode(os.fsencode(lib) + b"/raw \xff bytes")) / "Raw - 01.mkv").write_bytes(b"w" * 64)
    return lib, tmp_path / "dst \x1b]0;dest\x07"


@pytest.mark.skipif(not POSIX, reason="pseudo-terminals are POSIX")
def test_a_hostile_tree_through_every_command_on_a_terminal(hostile_tree: tuple[Path, Path]) -> None:
    lib, dst = hostile_tree
    evil = fx.Show(999001, EVIL_TITLE, "Evil Show", 2020, (12,), ("Evil Show",))
    with TMDBServer(fx.SHOWS + [evil]) as server:
        env = {**os.environ, "TMDB_API_KEY": server.api_key, "ANIVAULT_TMDB_BASE_URL": server.url,
               "COLUMNS": "400", "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        names = [f"[Grp] Show {p} - 01.mkv" for p in PAYLOADS.values()]
        commands = [
            ["scan", str(lib), "--follow-symlinks"],
            ["scan", str(lib), "--json"],
            ["parse", *names],
            ["parse", names[1]],
            ["match", str(lib)],
            ["match", str(lib), "--json"],
            ["organize", str(lib), "--dest", str(dst), "--format", "table"],
            ["organize", str(lib), "--dest", str(dst)],
            ["organize", str(lib), "--dest", str(dst), "--json"],
            ["organize", str(lib), "--dest", str(dst), "--apply"],
            ["history"],
            ["undo", "--last"],
        ]
        seen = []
        for args in commands:
            code, text = run_on_pty(args, env)
            assert code == 0, (args, text)
            raw = [f for f in FORBIDDEN if f in text]
            assert not raw, (args, raw, text)
            seen.append(text)
    everything = "".join(seen)
    # The TMDB title, its control, bidi and BOM characters removed where the answer entered (tmdb_answers).
    assert "Evil]0;tmdb Show" in seen[4] and "Evil\\x1b" not in seen[4]
    assert "\\u202e" in everything and "\\xff" in everything
    assert "[bold red]MARKUP[blink]" in seen[2]  # rich markup in a name is text, not style
