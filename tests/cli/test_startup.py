"""Start-up stays light: `import anivault.cli` and `anivault --help` load no library stage,
no compiled twin, no monitor, no HTTP or terminal toolkit (the time it takes is measured in
docs/PERFORMANCE.md; here the behaviour: what is imported)."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["anivault.scan", "anivault.index", "anivault._speedups", "anivault.monitor", "anivault.match",
         "anivault.organize", "anivault.tmdb", "httpx", "rich", "psutil", "sqlite3", "platformdirs"]

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code, heavy=HEAVY)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_import_anivault_cli_loads_nothing_heavy() -> None:
    assert loaded_after("import anivault.cli") == []


def test_help_loads_nothing_heavy() -> None:
    code = "from anivault.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert loaded_after(code) == []


def test_the_package_api_still_loads_on_first_use() -> None:
    import anivault

    assert callable(anivault.scan) and anivault.scan.ScanRun is anivault.ScanRun
    assert anivault.parse("[SubsPlease] Frieren - 05 (1080p).mkv").episode == 5
    assert anivault.BACKEND in ("c", "py")
