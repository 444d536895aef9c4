"""Shared fixtures. ``backend`` runs a test once per twin: compiled ("c") and pure ("py")."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner, Result

from anivault._speedups import twin
from anivault.testing import TMDBServer

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Under ANIVAULT_NO_EXTENSIONS=1 (the pure run) the compiled twins may not exist; otherwise
# both run, and a missing compiled twin is a failure, not a skip.
PURE_RUN = os.environ.get("ANIVAULT_NO_EXTENSIONS", "") not in ("", "0")
BACKENDS = ["py"] if PURE_RUN else ["c", "py"]


def invoke(*args: str, env: dict[str, str] | None = None, catch_exceptions: bool = True) -> Result:
    """``anivault ARGS`` in-process (click's runner): exit code, stdout and stderr apart."""
    from anivault.cli import cli

    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=catch_exceptions)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def hash_twin(backend: str):
    return twin("hash", backend)


@pytest.fixture
def parse_twin(backend: str):
    return twin("parse", backend)


@pytest.fixture
def lru_twin(backend: str):
    return twin("lru", backend)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real config, cache or data dirs, or real TMDB credentials."""
    base = tmp_path_factory.mktemp("home")
    # The library's defaults (platformdirs) and the CLI's settings name the same folders.
    for xdg, kind in (("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data")):
        monkeypatch.setenv(xdg, str(base / kind))
    monkeypatch.setenv("ANIVAULT_CONFIG", str(base / "config" / "anivault" / "config.toml"))
    monkeypatch.setenv("ANIVAULT_CACHE_DIR", str(base / "cache" / "anivault"))
    monkeypatch.setenv("ANIVAULT_DATA_DIR", str(base / "data" / "anivault"))
    for var in ("TMDB_API_KEY", "TMDB_READ_TOKEN", "ANIVAULT_TMDB_API_KEY", "ANIVAULT_TMDB_READ_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANIVAULT_TMDB_BASE_URL", "http://127.0.0.1:9/3")  # never the real API


@pytest.fixture
def tmdb_server() -> Iterator[TMDBServer]:
    """A fresh loopback TMDB-compatible server (anivault.testing) for one test."""
    with TMDBServer() as server:
        yield server


@pytest.fixture
def tmdb_env(tmdb_server: TMDBServer, monkeypatch: pytest.MonkeyPatch) -> TMDBServer:
    """The server, with the environment pointing the client at it with a valid key."""
    monkeypatch.setenv("ANIVAULT_TMDB_BASE_URL", tmdb_server.url)
    monkeypatch.setenv("TMDB_API_KEY", tmdb_server.api_key)
    return tmdb_server


@pytest.fixture
def tmdb_settings(tmdb_server: TMDBServer):
    """What a library call's own TMDB client is made from: the server, with a valid key."""
    from anivault.tmdb import TMDBSettings

    return TMDBSettings(api_key=tmdb_server.api_key, base_url=tmdb_server.url)


@pytest.fixture
def client(tmdb_server: TMDBServer, tmp_path: Path) -> Iterator[Any]:
    """A TMDB client (own cache, a generous limiter) talking to the test server."""
    from anivault.cache import TMDBCache
    from anivault.ratelimit import RateLimiter
    from anivault.tmdb import TMDBClient

    with TMDBCache(tmp_path / "tmdb.sqlite") as cache, \
            TMDBClient(api_key=tmdb_server.api_key, base_url=tmdb_server.url, cache=cache,
                       limiter=RateLimiter(rate=1000, concurrency=4)) as c:
        yield c
