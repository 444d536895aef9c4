"""The TMDB API client: auth, cache in front, polite rate limiting, retries, a circuit breaker.

Every request goes: cache (LRU index, then SQLite) → in-flight table (two
threads asking the same key share one request) → rate limiter → HTTP.
429s pause every thread (Retry-After when given, else exponential backoff
with full jitter); 5xx, timeouts, connection errors and malformed bodies are
retried a bounded number of times. 401 stops the run (CredentialsError,
exit 5). Sustained failures open the circuit breaker: the run continues from
the cache only, probing TMDB now and then, and closes it when a probe works.

Answers are checked (tmdb_answers.py) before they are used or cached: a
malformed one is reported once, never cached, and its series stays unmatched
while the run goes on. Only a 200 with an empty result list is cached as "no
result"; a 404 on a search path, or an answer that is not TMDB's JSON (an
HTML page, a 401 or 404 from something else), means the base URL is wrong:
an error with that hint, for the whole run.

Credentials never leave this module: they are not part of cache keys, they
are scrubbed from error messages, and httpx's request log lines are
redacted.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import __version__
from .cache import DEFAULT_TTL_DAYS, FILENAME, MISSING, TMDBCache, make_key
from .errors import AniVaultError, CredentialsError
from .ratelimit import RateLimiter
from .settings import default_cache_dir
from .tmdb_answers import Malformed, checked

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
USER_AGENT = f"AniVault/{__version__} (anime library organizer; python-httpx)"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
NO_KEY_HINT = ("get a free key at https://www.themoviedb.org/settings/api, then `export TMDB_API_KEY=<v3 key>` "
               "(or TMDB_READ_TOKEN=<v4 token>) or `anivault config set tmdb_api_key <key>`; "
               "--offline answers from the cache only")


@dataclass(frozen=True)
class TMDBSettings:
    """What a run's own client and cache are made from; the caller resolves it (anivault.settings)."""

    api_key: str | None = field(default=None, repr=False)
    read_token: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    language: str = "en-US"
    rate: float = 35.0
    concurrency: int = 4
    cache_dir: str | None = None  # None: the user cache dir
    cache_max_mb: float = 256
    cache_ttl_days: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TTL_DAYS))

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key or self.read_token)

    @property
    def cache_path(self) -> str:
        return str(Path(self.cache_dir or default_cache_dir()) / FILENAME)

    def open_cache(self) -> TMDBCache:
        return TMDBCache(self.cache_path, max_mb=self.cache_max_mb, ttl_days=self.cache_ttl_days)


class TMDBError(AniVaultError):
    """One request failed for good (the run goes on; the series is reported unmatched)."""


class TMDBUnavailable(TMDBError):
    """No answer: offline or circuit open and not cached, or retries exhausted."""


class TMDBConfigError(AniVaultError):
    """The server at the base URL is not TMDB's API (HTML, or 404 on a search): stops the run."""


BASE_URL_HINT = ("is tmdb_base_url right? It must be TMDB's API root, https://api.themoviedb.org/3 "
                 "(`anivault config set tmdb_base_url ...` or ANIVAULT_TMDB_BASE_URL)")


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; then lets one probe through every ``probe_interval`` s."""

    def __init__(self, threshold: int = 8, probe_interval: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.probe_interval = probe_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._next_probe = 0.0
        self._probing = False
        self.is_open = False
        self.trips = 0
        self.probes = 0

    def allow(self) -> bool:
        """May a request go out now? When open, only one probe per interval may."""
        with self._lock:
            if not self.is_open:
                return True
            now = self._clock()
            if self._probing or now < self._next_probe:
                return False
            self._probing = True
            self._next_probe = now + self.probe_interval
            self.probes += 1
            return True

    def success(self) -> bool:
        """Record a success; True when it closed an open circuit."""
        with self._lock:
            self._failures = 0
            self._probing = False
            reopened = self.is_open
            self.is_open = False
            return reopened

    def failure(self) -> bool:
        """Record a failure; True when it opened the circuit."""
        with self._lock:
            self._failures += 1
            if self.is_open:
                self._probing = False
                return False
            if self._failures >= self.threshold:
                self.is_open = True
                self.trips += 1
                self._next_probe = self._clock() + self.probe_interval
                return True
            return False


class _Redact(logging.Filter):
    """Masks credentials in log records (httpx logs every request URL at INFO)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            record.msg = _scrub(message, self.secrets)
            record.args = None
        return True


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return text


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def full_jitter(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0.0, min(cap, base * (2 ** attempt)))


class TMDBClient:
    """Thread-safe; share one per run. Use as a context manager, or call close()."""

    def __init__(self, *, api_key: str | None = None, read_token: str | None = None,
                 base_url: str = DEFAULT_BASE_URL, language: str = "en-US",
                 cache: TMDBCache | None = None, limiter: RateLimiter | None = None,
                 offline: bool = False, timeout: float = 10.0, max_retries: int = 5, max_throttled: int = 12,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0, max_retry_after: float = 120.0,
                 breaker: CircuitBreaker | None = None,
                 warn: Callable[[str], None] | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not offline and not (api_key or read_token):
            raise AniVaultError("no TMDB credentials: matching needs a TMDB API key", hint=NO_KEY_HINT)
        self.language = language
        self.cache = cache
        self.limiter = limiter or RateLimiter()
        self.offline = offline
        self.max_retries = max_retries  # for 5xx, timeouts, connection errors, malformed bodies
        self.max_throttled = max_throttled  # for 429s, which also pause every thread
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.breaker = breaker or CircuitBreaker()
        self._warn = warn or (lambda message: log.warning(message))
        self._secrets = [s for s in (api_key, read_token) if s]
        self._params = {} if read_token or not api_key else {"api_key": api_key}
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if read_token:
            headers["Authorization"] = f"Bearer {read_token}"
        # The HTTP client is made for the first request (_http): offline, or when the cache answers
        # everything, httpx and its TLS context (~15 MB) are never loaded.
        self._http_args = (base_url.rstrip("/"), headers, transport, timeout)
        self._http_client: httpx.Client | None = None
        self._redact = _Redact(self._secrets)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).addFilter(self._redact)
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[Any]] = {}
        self._rejected: AniVaultError | None = None  # a rejected key or a wrong base URL: ends the run
        self._reported: set[str] = set()  # kinds of malformed answers already reported
        self.counters = {"requests": 0, "cache_hits": 0, "cache_misses": 0, "coalesced": 0, "retries": 0,
                         "rate_limited": 0, "failures": 0, "not_found": 0, "unavailable": 0, "malformed": 0}

    @classmethod
    def from_settings(cls, settings: TMDBSettings, *, offline: bool = False, cache: TMDBCache | None = None,
                      warn: Callable[[str], None] | None = None) -> "TMDBClient":
        """A client configured by ``settings`` (resolved by the caller)."""
        limiter = RateLimiter(rate=settings.rate, concurrency=settings.concurrency)
        return cls(api_key=settings.api_key, read_token=settings.read_token,
                   base_url=settings.base_url or DEFAULT_BASE_URL, language=settings.language,
                   cache=cache, limiter=limiter, offline=offline, warn=warn)

    # ------------------------------------------------------------ endpoints

    def search_tv(self, query: str, year: int | None = None) -> dict[str, Any] | None:
        params = {"query": query, "include_adult": "false", "page": 1}
        if year:
            params["first_air_date_year"] = year
        return self.fetch("search/tv", "/search/tv", params, query, year)

    def search_movie(self, query: str, year: int | None = None) -> dict[str, Any] | None:
        params = {"query": query, "include_adult": "false", "page": 1}
        if year:
            params["primary_release_year"] = year
        return self.fetch("search/movie", "/search/movie", params, query, year)

    def tv(self, tv_id: int) -> dict[str, Any] | None:
        return self.fetch("tv", f"/tv/{int(tv_id)}",
                          {"append_to_response": "alternative_titles,episode_groups"}, tv_id)

    def tv_season(self, tv_id: int, season: int) -> dict[str, Any] | None:
        return self.fetch("tv_season", f"/tv/{int(tv_id)}/season/{int(season)}", {}, f"{tv_id}/{season}")

    def episode_group(self, group_id: str) -> dict[str, Any] | None:
        return self.fetch("episode_group", f"/tv/episode_group/{group_id}", {}, group_id)

    def movie(self, movie_id: int) -> dict[str, Any] | None:
        return self.fetch("movie", f"/movie/{int(movie_id)}", {"append_to_response": "alternative_titles"},
                          movie_id)

    # ------------------------------------------------------------ cache, then one request per key

    def fetch(self, kind: str, path: str, params: dict[str, Any], ident: object,
              year: int | None = None) -> Any:
        """The response for one request: cached, shared with a thread already asking, or fetched."""
        if self._rejected:
            raise self._rejected
        key = make_key(kind, ident, self.language, year)
        with self._lock:
            cached = self.cache.get(key) if self.cache is not None else MISSING
            if cached is not MISSING:
                self.counters["cache_hits"] += 1
                return cached
            self.counters["cache_misses"] += 1
            pending = self._inflight.get(key)
            if pending is None:
                owner = Future()
                self._inflight[key] = owner
        if pending is not None:
            with self._lock:
                self.counters["coalesced"] += 1
            try:
                return pending.result()
            finally:
                pending = None  # see below
        try:
            value = self._request(path, params)
            if value is not None:
                value = self._checked(kind, path, value)
                if self.cache is not None:  # a 404 (None) is never cached: only an empty 200 is "no result"
                    self.cache.put(key, kind, value)
            owner.set_result(value)
            return value
        except BaseException as e:
            owner.set_exception(e)
            raise
        finally:
            # A failure's traceback holds this frame: without the future in it there is no reference
            # cycle (future -> exception -> traceback -> frame -> future) for the cyclic GC to find,
            # which planning pauses. Offline, every title not in the cache ends here.
            owner = None
            with self._lock:
                del self._inflight[key]

    def _checked(self, kind: str, path: str, value: Any) -> Any:
        """The answer cleaned and checked; a malformed one is reported once per kind and not cached."""
        try:
            return checked(kind, value)
        except Malformed as e:
            message = f"TMDB {path}: malformed answer ({e}); not cached"
            with self._lock:
                self.counters["malformed"] += 1
                first = kind not in self._reported
                self._reported.add(kind)
            if first:
                self._warn(f"{message}; the run goes on without it")
            raise TMDBError(message, hint="retry later; report it if it persists") from None

    # ------------------------------------------------------------ HTTP with retries

    def _request(self, path: str, params: dict[str, Any]) -> Any:
        """The JSON body (None for 404), after retries; raises TMDBUnavailable or CredentialsError."""
        if self.offline:
            self._count("unavailable")
            raise TMDBUnavailable(f"TMDB {path}: not in the cache (offline)", hint="run once without --offline")
        failures = throttles = 0
        while True:
            if failures + throttles:
                self._count("retries")
            if not self.breaker.allow():
                self._count("unavailable")
                raise TMDBUnavailable(f"TMDB {path}: not in the cache and TMDB is failing (cache-only mode)",
                                      hint="retry later; the next run fetches what is missing")
            outcome, value = self._attempt(path, params, throttles)
            if outcome == "ok":
                if self.breaker.success():
                    self._warn("TMDB answers again: leaving cache-only mode")
                return value
            if outcome == "throttled":
                throttles += 1
                if throttles > self.max_throttled:
                    break
                continue
            failures += 1
            self._count("failures")
            if self.breaker.failure():
                self._warn(f"TMDB keeps failing ({value}): switching to cache-only mode, probing every "
                           f"{self.breaker.probe_interval:g}s")
            if failures > self.max_retries:
                break
            time.sleep(full_jitter(failures - 1, self.backoff_base, self.backoff_cap))
        self._count("unavailable")
        raise TMDBUnavailable(f"TMDB {path}: {value} after {failures + throttles} attempts",
                              hint="TMDB or the network is failing; retry later")

    @property
    def _http(self) -> httpx.Client:
        if self._http_client is None:
            with self._lock:
                if self._http_client is None:
                    self._http_client = self._new_http()
        return self._http_client

    def _new_http(self) -> httpx.Client:
        import httpx

        base_url, headers, transport, timeout = self._http_args
        connections = self.limiter.concurrency
        return httpx.Client(
            base_url=base_url, headers=headers, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections))

    def _attempt(self, path: str, params: dict[str, Any], attempt: int) -> tuple[str, Any]:
        """One HTTP request: ("ok", body), ("throttled", why) or ("failed", why)."""
        import httpx

        with self.limiter.slot():
            if self._rejected:  # rejected while this thread waited for its turn: send nothing more
                raise self._rejected
            self._count("requests")
            try:
                response = self._http.get(path, params={**params, "language": self.language, **self._params})
            except httpx.TimeoutException:
                return "failed", "timed out"
            except httpx.TransportError as e:
                return "failed", _scrub(f"connection error ({type(e).__name__}: {e})", self._secrets)
        status = response.status_code
        log.debug("GET %s -> %d", path, status)
        if _is_html(response):
            self._wrong_base_url(path, f"answered HTTP {status} with an HTML page, not TMDB's JSON")
        if status == 200:
            try:
                return "ok", response.json()
            except ValueError:
                return "failed", "malformed JSON"
        if status == 404:
            if path.startswith("/search/") or _tmdb_code(response) is None:
                self._wrong_base_url(path, "answered 404 (TMDB answers every search)"
                                     if path.startswith("/search/") else "answered 404 without TMDB's error body")
            self._count("not_found")
            return "ok", None
        if status == 401:
            if _tmdb_code(response) is None:
                self._wrong_base_url(path, "answered 401 without TMDB's error body")
            self._reject(path, response)
        if status == 429:
            self._count("rate_limited")
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = full_jitter(attempt, self.backoff_base, self.backoff_cap)
            self.limiter.pause_for(min(wait, self.max_retry_after))
            return "throttled", "rate limited (429)"
        if status in RETRYABLE_STATUS:
            return "failed", f"HTTP {status}{_tmdb_message(response)}"
        raise TMDBError(_scrub(f"TMDB {path}: HTTP {status}{_tmdb_message(response)}", self._secrets),
                        hint="this request was skipped; please report it if it persists")

    def _reject(self, path: str, response: httpx.Response) -> None:
        code = _tmdb_code(response)
        kind = "v4 read token" if "Authorization" in self._http.headers else "API key"
        reason = {7: "invalid", 10: "suspended"}.get(code, "not accepted")
        error = CredentialsError(
            f"TMDB rejected the {kind} ({reason}, status_code {code}) on {path}",
            hint="check TMDB_API_KEY / TMDB_READ_TOKEN or `anivault config set tmdb_api_key <key>`; "
                 "keys are at https://www.themoviedb.org/settings/api; and that tmdb_base_url is TMDB's")
        self._rejected = error
        raise error

    def _wrong_base_url(self, path: str, what: str) -> None:
        error = TMDBConfigError(_scrub(f"{self._http.base_url}{path} {what}", self._secrets), hint=BASE_URL_HINT)
        self._rejected = error
        raise error

    def _count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    # ------------------------------------------------------------ reporting

    def summary(self) -> dict[str, Any]:
        c = dict(self.counters)
        lookups = c["cache_hits"] + c["cache_misses"]
        c["hit_rate"] = round(c["cache_hits"] / lookups, 4) if lookups else None
        c["cache_only"] = self.breaker.is_open or self.offline
        c["breaker_trips"] = self.breaker.trips
        c["throttled_s"] = round(self.limiter.waited_s, 3)
        return c

    def close(self) -> None:
        if self._http_client is not None:
            self._http_client.close()
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).removeFilter(self._redact)

    def __enter__(self) -> "TMDBClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_html(response: httpx.Response) -> bool:
    kind = response.headers.get("Content-Type", "").lower()
    return "html" in kind or response.content[:64].lstrip().lower().startswith((b"<!doctype", b"<html"))


def _tmdb_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tmdb_code(response: httpx.Response) -> int | None:
    return _tmdb_body(response).get("status_code")


def _tmdb_message(response: httpx.Response) -> str:
    message = _tmdb_body(response).get("status_message")
    return f" ({message})" if message else ""
