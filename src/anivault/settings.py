"""Settings: one spec, resolved once at the CLI edge: flags > ANIVAULT_* environment > config file > defaults.

``SPEC`` lists every setting (key, type, default, environment names, help,
validator). From it come the config keys (`anivault config set`), the
click options' help and defaults (cli/options.py) and the README's settings
table (:func:`markdown_table`, kept equal by a test). :func:`resolve` builds
one frozen :class:`Settings`; the library never reads the config file or the
environment itself, it takes the values it needs as parameters.

This module stays light (no click, rich or library imports at load time):
every command's start-up imports it.
"""
from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from .errors import AniVaultError, UsageError

if TYPE_CHECKING:
    from .tmdb import TMDBSettings

APP = "anivault"
FILE_HINT = "fix it or remove it; `anivault config path` shows where it is"


def default_cache_dir() -> Path:
    """The scan index, the TMDB cache and bench demo libraries live here unless told otherwise."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def default_data_dir() -> Path:
    """Journals, locks and history live here unless told otherwise."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The config file: ANIVAULT_CONFIG, else config.toml in the user config dir."""
    import platformdirs

    environ = os.environ if environ is None else environ
    return Path(environ.get("ANIVAULT_CONFIG") or
                Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml")


# ---------------------------------------------------------------- validators: a problem, or None


def at_least(low: float, high: float = math.inf) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not low <= value <= high:  # NaN fails both
            return f"must be at least {low:g}" if high == math.inf else f"must be between {low:g} and {high:g}"
        return None
    return check


def episode_order(value: str) -> str | None:
    from .numbering import check_order

    try:
        check_order(value)
    except ValueError as e:
        return str(e).partition(": ")[2] or str(e)
    return None


def folder(value: str) -> str | None:
    if not value.strip() or "\0" in value:
        return "must be a folder path"
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        return f"{path} exists and is not a folder"
    return None


def language_tag(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4})?", value):
        return "must be a language tag like en-US, ja-JP or de"
    return None


def http_url(value: str) -> str | None:
    if not re.match(r"https?://[^\s/]+", value):
        return "must be an http(s) URL"
    return None


def episode_template(value: str) -> str | None:
    if _preset(value):
        return None
    return template_problem(value, {"title": "Title", "season": 1, "episode": 1, "ext": "mkv"})


def movie_template(value: str) -> str | None:
    if _preset(value):
        return None
    return template_problem(value, {"title": "Title", "ext": "mkv"})


def _preset(value: str) -> bool:
    """A preset name (jellyfin, plex: names.TEMPLATE_PRESETS) in place of a template."""
    from .names import preset_templates

    return preset_templates(value) is not None


# Every field a template may use, with a value of the type the planner passes.
_SAMPLE = {"title": "Title", "year": 2024, "season": 1, "episode": 1, "episode_end": 2, "ext": "mkv",
           "group": "Group", "resolution": "1080p", "version": 2, "episode_title": "Name",
           "crc32": "ABCD1234", "source": "BD", "original": "Title - 01", "tmdb_id": 1}


def template_problem(value: str, always: dict[str, Any]) -> str | None:
    """Why ``value`` cannot name files: bad syntax or format spec, or a part (a whole name,
    or the name before the extension) that is empty when only the ``always`` fields are known."""
    from .names import Template, TemplateError

    try:
        template = Template(value)
        template.render(_SAMPLE)
        parts = template.render(always)
    except (TemplateError, ValueError) as e:
        return str(e).replace(f"template {value!r}: ", "")
    if any(p in ("", "_") for p in parts) or parts[-1].startswith("."):
        return ("a part of it can be empty (a field that is not always known, e.g. {episode_title} or "
                "{group}): keep {title} or fixed text in every part, or put the field in [brackets]")
    return None


# ---------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Setting:
    key: str
    type: type  # str, int, float or bool
    default: Any
    help: str
    validate: Callable[[Any], str | None] | None = None
    aliases: tuple[str, ...] = ()  # environment names honoured after ANIVAULT_<KEY>
    choices: tuple[str, ...] = ()
    secret: bool = False
    flag: str = ""  # the CLI option when it differs from --<key with dashes>
    default_text: str = ""  # how the default reads in help and the README when it is computed
    metavar: str = ""  # the option's value in --help

    @property
    def env_names(self) -> tuple[str, ...]:
        return (f"ANIVAULT_{self.key.upper()}",) + self.aliases

    @property
    def option(self) -> str:
        return self.flag or "--" + self.key.replace("_", "-")

    @property
    def shown_default(self) -> str:
        if self.default_text:
            return self.default_text
        return "none" if self.default is None else str(self.default).lower() if self.type is bool \
            else f"{self.default:g}" if self.type is float else str(self.default)


SPEC: tuple[Setting, ...] = (
    Setting("cache_dir", str, None, "Where the scan index and the TMDB cache live.", folder,
            default_text="the user cache dir", metavar="DIR"),
    Setting("data_dir", str, None, "Where journals (undo) and history live.", folder,
            default_text="the user data dir", metavar="DIR"),
    Setting("tmdb_api_key", str, None, "TMDB v3 API key (scan and parse work without one).", aliases=("TMDB_API_KEY",), secret=True),
    Setting("tmdb_read_token", str, None, "TMDB v4 read access token (instead of the key).",
            aliases=("TMDB_READ_TOKEN",), secret=True),
    Setting("tmdb_base_url", str, "https://api.themoviedb.org/3", "TMDB API root (a mirror or test server).",
            http_url),
    Setting("language", str, "en-US", "TMDB language; part of every cache key.", language_tag, flag="--lang",
            metavar="TAG"),
    Setting("rate", float, 35.0, "TMDB requests per second at most.", at_least(0.1)),
    Setting("concurrency", int, 4, "TMDB requests in flight at most.", at_least(1, 64)),
    Setting("min_confidence", float, 0.6, "Below this a file is unmatched, with the reason.", at_least(0, 1)),
    Setting("cache_max_mb", float, 256.0, "Size cap of the TMDB cache on disk, in MB.", at_least(1),
            metavar="MB"),
    Setting("cache_ttl_search_days", float, 7.0, "How long cached TMDB searches live, in days.", at_least(0)),
    Setting("cache_ttl_details_days", float, 30.0, "How long cached TMDB details live, in days.", at_least(0)),
    Setting("cache_ttl_none_days", float, 1.0, "How long a cached \"not found\" lives, in days.", at_least(0)),
    Setting("template", str, None, "Episode path template (`anivault organize --help` lists the fields), or a "
            "preset: jellyfin (`Show (2022) [tmdbid-123]`), plex (`Show (2022) {tmdb-123}`).",
            episode_template, default_text="the Plex/Jellyfin layout", metavar="TEMPLATE"),
    Setting("movie_template", str, None, "Movie path template.", movie_template,
            default_text="the Plex/Jellyfin layout", metavar="TEMPLATE"),
    Setting("order", str, "tmdb", "Episode numbering names use: tmdb (TMDB's seasons), absolute (season 1, "
            "absolute numbers) or group:<TMDB episode group id>; a pin's --order wins.", episode_order,
            metavar="tmdb|absolute|group:ID"),
    Setting("colon_style", str, "dash", "How ':' in titles is written.",
            choices=("dash", "space", "fullwidth", "remove")),
    Setting("workers", int, 0, "Scan threads: 0 reads folders ahead on a second thread when there is a second "
            "core; 1 one thread.",
            at_least(0, 256)),
    Setting("report", bool, False, "Print the run report (stages, bottleneck, memory) after each command."),
    Setting("plex_url", str, None, "Plex server for `--notify plex`, e.g. http://127.0.0.1:32400.", http_url,
            metavar="URL"),
    Setting("plex_token", str, None, "Plex token (X-Plex-Token) for `--notify plex`.", secret=True),
    Setting("jellyfin_url", str, None, "Jellyfin server for `--notify jellyfin`, e.g. http://127.0.0.1:8096.",
            http_url, metavar="URL"),
    Setting("jellyfin_api_key", str, None, "Jellyfin API key (Dashboard → API Keys) for `--notify jellyfin`.",
            secret=True),
    Setting("import_cross_fs", str, "copy", "`anivault import` when the library is on another filesystem than the "
            "download (no hard link possible): copy it, or skip it. Never a move.", choices=("copy", "skip"),
            flag="--cross-fs"),
    Setting("import_lock_wait", float, 600.0, "Seconds `anivault import` waits for another run on the same "
            "library before giving up (exit 6).", at_least(0), flag="--lock-wait", metavar="SECONDS"),
    Setting("watch_settle", float, 10.0, "Seconds a watched file's size and mtime must hold still before it is "
            "imported.", at_least(0.1), flag="--settle", metavar="SECONDS"),
)
BY_KEY: dict[str, Setting] = {s.key: s for s in SPEC}
DEFAULTS: dict[str, Any] = {s.key: s.default for s in SPEC}
SECRET_KEYS = frozenset(s.key for s in SPEC if s.secret)


# ---------------------------------------------------------------- the resolved settings


class Settings:
    """Resolved settings, read-only: one attribute per key of SPEC; ``source(key)`` says where
    each value came from. ``cache_dir`` and ``data_dir`` are always paths (the defaults filled in)."""

    __slots__ = ("_values", "_sources")

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str]) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_sources", dict(sources))

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no setting {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Settings are read-only")

    def __repr__(self) -> str:
        return f"Settings({self.redacted()!r})"

    def source(self, key: str) -> str:
        return self._sources.get(key, "default")

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self._values.items())

    def redacted(self) -> dict[str, Any]:
        """A copy safe to print or log: secrets masked."""
        return {k: ("***" if k in SECRET_KEYS and v else v) for k, v in self._values.items()}

    def secrets(self) -> tuple[str, ...]:
        return tuple(str(self._values[k]) for k in SECRET_KEYS if self._values.get(k))

    def tmdb(self) -> "TMDBSettings":
        """What the TMDB client and its cache are made from."""
        from .tmdb import TMDBSettings

        return TMDBSettings(api_key=self.tmdb_api_key, read_token=self.tmdb_read_token,
                            base_url=self.tmdb_base_url, language=self.language, rate=self.rate,
                            concurrency=self.concurrency, cache_dir=self.cache_dir,
                            cache_max_mb=self.cache_max_mb,
                            cache_ttl_days={n: self._values[f"cache_ttl_{n}_days"]
                                            for n in ("search", "details", "none")})


def resolve(flags: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
            path: Path | None = None, only: Iterable[str] | None = None,
            warn: Callable[[str], None] | None = None) -> Settings:
    """Settings from flags (values not None) > environment > config file > defaults, each validated.

    A bad value is a UsageError naming the key and where it came from. With ``only`` (the
    keys a command needs, e.g. undo's data_dir) the other keys are not checked, and a broken
    config file is a warning instead of an error: the command runs on the other sources.
    """
    environ = os.environ if environ is None else environ
    path = path or config_path(environ)
    keys = [s.key for s in SPEC] if only is None else list(only)
    try:
        in_file = read_file(path)
    except AniVaultError as e:
        if only is None:
            raise
        (warn or (lambda m: None))(f"{e}; using the environment and defaults")
        in_file = {}
    values: dict[str, Any] = dict(DEFAULTS)
    sources: dict[str, str] = {}
    for key in keys:
        setting = BY_KEY[key]
        raw, source = _pick(setting, (flags or {}).get(key), environ, in_file, path)
        if source != "default":
            values[key] = checked(setting, raw, source)
            sources[key] = source
    values["cache_dir"] = str(Path(values["cache_dir"]).expanduser()) if values["cache_dir"] \
        else str(default_cache_dir())
    values["data_dir"] = str(Path(values["data_dir"]).expanduser()) if values["data_dir"] \
        else str(default_data_dir())
    return Settings(values, sources)


def _pick(setting: Setting, flag: Any, environ: Mapping[str, str], in_file: Mapping[str, Any],
          path: Path) -> tuple[Any, str]:
    if flag is not None:
        return flag, f"flag {setting.option}"
    for name in setting.env_names:
        if environ.get(name):
            return environ[name], f"environment {name}"
    if setting.key in in_file:
        return in_file[setting.key], f"config file {path}"
    return setting.default, "default"


def checked(setting: Setting, raw: Any, source: str) -> Any:
    """``raw`` as the setting's type, validated; a UsageError naming key, value and source."""
    value = _coerce(setting, raw)
    problem = None
    if value is None:
        problem = f"is not {_a(setting.type)}"
    elif setting.choices and value not in setting.choices:
        problem = "must be one of " + ", ".join(setting.choices)
    elif setting.validate is not None:
        problem = setting.validate(value)
    if problem:
        shown = "***" if setting.secret else repr(raw)
        raise UsageError(f"setting {setting.key}={shown} (from {source}) {problem}",
                         hint=f"e.g. `anivault config set {setting.key} {_example(setting)}`; "
                              "`anivault config show` lists the settings")
    return value


def _coerce(setting: Setting, raw: Any) -> Any:
    """The value as the setting's type, or None when it is not one."""
    kind = setting.type
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        return True if text in ("1", "true", "yes", "on") else False if text in ("0", "false", "no", "off") \
            else None
    if isinstance(raw, bool):
        return None
    if kind is str:
        return raw if isinstance(raw, str) else None
    try:
        if kind is int:
            number = float(raw) if isinstance(raw, float) else int(str(raw).strip())
            return int(number) if float(number).is_integer() else None
        return float(raw)
    except (TypeError, ValueError):
        return None


def _a(kind: type) -> str:
    return {int: "a whole number", float: "a number", bool: "true or false", str: "text"}[kind]


def _example(setting: Setting) -> str:
    if setting.choices:
        return setting.choices[0]
    if setting.default is None:
        return "VALUE"
    return setting.shown_default


# ---------------------------------------------------------------- the config file


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def read_file(path: Path | None = None) -> dict[str, Any]:
    """The config file's keys; {} when there is none. A broken file is one AniVaultError."""
    path = path or config_path()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise AniVaultError(f"cannot read config file {path}: {e.strerror}", hint=FILE_HINT) from e
    tomllib = _toml()  # imported only when there is a file: most runs have none
    try:
        values = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise AniVaultError(f"cannot read config file {path}: {e}", hint=FILE_HINT) from e
    return values


def set_value(key: str, value: str, path: Path | None = None) -> Path:
    """Write one validated key to the config file (keeps the others)."""
    import tomli_w

    setting = BY_KEY.get(key)
    if setting is None:
        raise UsageError(f"unknown setting {key!r}", hint="known: " + ", ".join(sorted(BY_KEY)))
    path = path or config_path()
    data = read_file(path)
    data[key] = checked(setting, value, "`config set`")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        tomli_w.dump(data, f)
    if setting.secret and os.name == "posix":
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- the README table


def markdown_table() -> str:
    """The README's settings table, generated from SPEC."""
    lines = ["| Setting | Default | Environment | Meaning |", "|---|---|---|---|"]
    for s in SPEC:
        env = ", ".join(f"`{name}`" for name in s.env_names)
        choices = f" One of {', '.join(s.choices)}." if s.choices else ""
        default = s.shown_default if s.default_text or s.default is None else f"`{s.shown_default}`"
        lines.append(f"| `{s.key}` | {default} | {env} | {s.help}{choices} |")
    return "\n".join(lines) + "\n"

