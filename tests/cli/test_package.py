"""Packaging and the twin selector: what is loaded, what ships, what CI runs."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import anivault
from anivault import _speedups

ROOT = Path(__file__).resolve().parents[2]
from conftest import PURE_RUN


def _backend_in_subprocess(**env: str) -> dict:
    """Which twin each hot path comes from, as a fresh interpreter sees it."""
    code = ("import json, anivault, anivault._speedups as s; print(json.dumps({"
            "'backend': anivault.BACKEND, 'parse': s.parse_name.__module__, "
            "'hash': s.path_hash.__module__, 'lru': s.LRUCache.__module__, "
            "'walk': s.list_dir.__module__, 'records': s.render_folder.__module__, "
            "'read_ahead': s.walk_folders.__module__}))")
    environ = {k: v for k, v in os.environ.items() if k != "ANIVAULT_NO_EXTENSIONS"}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(PURE_RUN, reason="this run forces the pure twins; the compiled run checks this")
def test_compiled_twins_are_loaded_by_default() -> None:
    loaded = _backend_in_subprocess()
    assert loaded["backend"] == "c"
    assert loaded["parse"].endswith("_parse_c")
    assert loaded["hash"].endswith("_hash_c")
    assert loaded["lru"].endswith("_lru_c")
    assert loaded["walk"].endswith("_walk_c") and loaded["read_ahead"].endswith("_walk_c")
    assert loaded["records"].endswith("_records_c")


def test_no_extensions_forces_pure_twins() -> None:
    loaded = _backend_in_subprocess(ANIVAULT_NO_EXTENSIONS="1")
    assert loaded["backend"] == "py"
    assert loaded["parse"].endswith("_parse_py")
    assert loaded["hash"].endswith("_hash_py")
    assert loaded["lru"].endswith("_lru_py")
    assert loaded["walk"].endswith("_walk_py") and loaded["read_ahead"].endswith("_walk_py")
    assert loaded["records"].endswith("_records_py")


def test_twins_export_the_same_names(backend: str) -> None:
    for name in _speedups.TWINS:
        py = _speedups.twin(name, "py")
        other = _speedups.twin(name, backend)
        public = {n for n in dir(py) if not n.startswith("_") and callable(getattr(py, n))
                  and getattr(getattr(py, n), "__module__", py.__name__) == py.__name__}
        assert public <= set(dir(other)), f"{other.__name__} lacks {public - set(dir(other))}"


def test_public_api_is_explicit() -> None:
    assert anivault.__all__, "anivault.__all__ must list the public API"
    for name in anivault.__all__:
        assert hasattr(anivault, name), name
    assert anivault.BACKEND in ("c", "py")
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", anivault.__version__)


def test_py_typed_is_shipped() -> None:
    assert (Path(anivault.__file__).parent / "py.typed").is_file()


def test_version_names_the_backend() -> None:
    out = subprocess.run([sys.executable, "-m", "anivault", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"anivault {anivault.__version__} (backend: {anivault.BACKEND})"


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    return commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_test_command() in ci.splitlines()


def test_readme_opens_with_install_and_demo_scan() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.findall(r"```bash\n(.+?)\n```", readme)[0]
    assert "pip install ." in first and "anivault demo" in first and "anivault scan" in first
    assert readme.index(first) < 1000, "the two commands belong in the README's first lines"
