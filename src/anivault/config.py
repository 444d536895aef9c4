"""Settings: flags > ANIVAULT_* environment > TOML config file > defaults.

The config file lives in the platformdirs user config dir (override the
file with ANIVAULT_CONFIG). Keys are flat, e.g. ``tmdb_api_key``,
``language``, ``rate``; environment names are ``ANIVAULT_<KEY>`` upper-case.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import platformdirs

from .errors import AniVaultError, UsageError

APP = "anivault"

# Each known key, its type and default. Unknown keys are refused by `config set`.
DEFAULTS: dict[str, Any] = {
    "cache_dir": None,  # None: the platformdirs user cache dir
    "data_dir": None,  # None: the platformdirs user data dir (journals, history)
    "language": "en-US",
    "tmdb_api_key": None,
    "tmdb_read_token": None,
    "tmdb_base_url": "https://api.themoviedb.org/3",
    "rate": 35.0,
    "concurrency": 4,
    "min_confidence": 0.6,
    "cache_max_mb": 256,
    "cache_ttl_search_days": 7.0,  # how long cached TMDB answers live (see cache.py)
    "cache_ttl_details_days": 30.0,
    "cache_ttl_none_days": 1.0,  # "not found" answers: retried soon
    "template": None,
    "movie_template": None,
    "colon_style": "dash",
    "workers": 0,
}
SECRET_KEYS = frozenset({"tmdb_api_key", "tmdb_read_token"})
# TMDB's own environment names are honoured too.
ENV_ALIASES = {"tmdb_api_key": "TMDB_API_KEY", "tmdb_read_token": "TMDB_READ_TOKEN"}


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def config_path() -> Path:
    return Path(os.environ.get("ANIVAULT_CONFIG") or
                Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml")


def read_file(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise AniVaultError(f"cannot read config file {path}: {e}",
                            hint="fix it or remove it; `anivault config path` shows where it is") from e
    tomllib = _toml()  # imported only when there is a file: most runs have none
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise AniVaultError(f"cannot read config file {path}: {e}",
                            hint="fix it or remove it; `anivault config path` shows where it is") from e


def _coerce(key: str, value: Any) -> Any:
    default = DEFAULTS[key]
    if value is None or default is None or isinstance(value, type(default)):
        return value
    try:
        return type(default)(value)
    except (TypeError, ValueError) as e:
        raise UsageError(f"setting {key}={value!r} is not a {type(default).__name__}",
                         hint=f"use e.g. `anivault config set {key} {default}`") from e


def settings(**flags: Any) -> dict[str, Any]:
    """Effective settings: flags (when not None) > environment > file > defaults."""
    result = dict(DEFAULTS)
    for key, value in read_file().items():
        if key in DEFAULTS:
            result[key] = _coerce(key, value)
    for key in DEFAULTS:
        env = os.environ.get(f"ANIVAULT_{key.upper()}") or os.environ.get(ENV_ALIASES.get(key, ""))
        if env:
            result[key] = _coerce(key, env)
    for key, value in flags.items():
        if value is not None:
            result[key] = _coerce(key, value) if key in DEFAULTS else value
    return result


def validated(values: dict[str, Any]) -> dict[str, Any]:
    for name in ("search", "details", "none"):
        days = values[f"cache_ttl_{name}_days"]
        if not days >= 0:
            raise UsageError(f"cache_ttl_{name}_days={days} must be a number of days >= 0",
                             hint=f"e.g. `anivault config set cache_ttl_{name}_days "
                                  f"{DEFAULTS[f'cache_ttl_{name}_days']:g}`")
    return values


def tmdb_settings(values: dict[str, Any]) -> Any:
    """The TMDB client's and cache's part of resolved settings."""
    from .tmdb import DEFAULT_BASE_URL, TMDBSettings

    values = validated(values)
    return TMDBSettings(api_key=values["tmdb_api_key"], read_token=values["tmdb_read_token"],
                        base_url=values["tmdb_base_url"] or DEFAULT_BASE_URL, language=values["language"],
                        rate=values["rate"], concurrency=values["concurrency"],
                        cache_dir=str(cache_dir(values["cache_dir"])), cache_max_mb=values["cache_max_mb"],
                        cache_ttl_days={n: float(values[f"cache_ttl_{n}_days"])
                                        for n in ("search", "details", "none")})


def set_value(key: str, value: str) -> Path:
    """Write one key to the config file (keeps the others)."""
    import tomli_w

    if key not in DEFAULTS:
        raise UsageError(f"unknown setting {key!r}", hint="known: " + ", ".join(sorted(DEFAULTS)))
    path = config_path()
    data = read_file(path)
    data[key] = _coerce(key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        tomli_w.dump(data, f)
    if key in SECRET_KEYS and os.name == "posix":
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def redacted(values: dict[str, Any]) -> dict[str, Any]:
    """A copy safe to print or log: secrets masked."""
    return {k: ("***" if k in SECRET_KEYS and v else v) for k, v in values.items()}


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where the scan index and TMDB cache live: --cache-dir > ANIVAULT_CACHE_DIR > file > platformdirs."""
    from .settings import default_cache_dir

    chosen = settings(cache_dir=override)["cache_dir"]
    return Path(chosen) if chosen else default_cache_dir()


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where journals and history live: ANIVAULT_DATA_DIR > file > platformdirs."""
    from .settings import default_data_dir

    chosen = settings(data_dir=override)["data_dir"]
    return Path(chosen) if chosen else default_data_dir()
