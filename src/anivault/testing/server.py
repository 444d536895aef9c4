"""A TMDB-compatible HTTP server on 127.0.0.1 for tests and benchmarks.

It answers the matcher's endpoints with the shapes of the real API, from
tmdb_fixtures.SHOWS (or any catalogue given), checks the v3 key / v4 token,
and has switches for everything the client must survive:

* ``latency``: seconds added to every answer;
* ``faults``: a queue, one fault per coming request: ``"429"`` (no
  Retry-After), ``"429:S"`` (Retry-After: S seconds), ``"429-date:S"``
  (Retry-After as an HTTP-date S seconds ahead), ``"500"``, ``"502"``,
  ``"503"``, ``"504"``, ``"timeout"`` (answers after ``timeout_delay``),
  ``"malformed"`` (a broken JSON body), ``"401"``, ``"html"`` (a 200 HTML page, as a
  wrong base URL gives), ``"404-plain"`` (a 404 without TMDB's body), ``"401-plain"``,
  ``"wrong-type"`` (a 200 whose ids are strings), ``"surrogate"`` (a 200 whose
  names hold a lone surrogate and a bidi override, answered for the real path);
* ``always``: a fault applied to every request while set (an outage);
* ``limit``: a server-side limit in requests per second (sliding 1 s
  window), answered with 429 like TMDB does.

Every request is logged (time, path, params without the key, how it was
authenticated, status) for tests to assert on.

Loopback only: it binds 127.0.0.1 and nothing else. The test suite wraps it in
the ``tmdb_server`` and ``tmdb_env`` fixtures (tests/conftest.py);
``anivault bench`` starts one for its match stage.
"""
from __future__ import annotations

import collections
import json
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import fixtures as fx

API_KEY = "test-key-5f0c2a9e81d34b7a"
READ_TOKEN = "test-token-eyJhbGciOiJIUzI1NiJ9.c2VjcmV0"
PAGE_SIZE = 20


@dataclass
class Logged:
    t: float
    path: str
    params: dict[str, str]
    auth: str | None  # "key", "bearer" or None
    status: int  # 0 while the answer is being made


def _fold(text: str) -> str:
    """How TMDB's search compares: accents, case and punctuation ignored."""
    text = unicodedata.normalize("NFKD", text.replace("×", "x"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


class Catalogue:
    """The shows the server knows, indexed for search."""

    def __init__(self, shows: list[fx.Show]) -> None:
        self.tv = {s.id: s for s in shows if not s.movie}
        self.movies = {s.id: s for s in shows if s.movie}
        self.groups = {fx.group_id(s): s for s in shows if s.absolute_group}
        self._titles = {s.id: [_fold(t) for t in (s.name, s.original_name, *s.alt)] for s in shows}

    def search(self, shows: dict[int, fx.Show], query: str, year: int | None) -> list[fx.Show]:
        q = _fold(query)
        if not q:
            return []
        words = q.split()
        found = []
        for show in shows.values():
            if year is not None and show.year != year:
                continue
            titles = self._titles[show.id]
            if any(q in t or all(w in t.split() for w in words) for t in titles):
                # Like TMDB: exact titles first, then titles starting with the query, then popularity.
                rank = 0 if q in titles else 1 if any(t.startswith(q) for t in titles) else 2
                found.append((rank, -show.popularity, show))
        found.sort(key=lambda r: r[:2])
        return [show for _, _, show in found]



def most_in_window(arrivals: list[float], seconds: float) -> int:
    """The most arrival times that fall within any window of ``seconds``."""
    times = sorted(arrivals)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best

class TMDBServer:
    def __init__(self, shows: list[fx.Show] | None = None, api_key: str = API_KEY,
                 read_token: str = READ_TOKEN) -> None:
        self.catalogue = Catalogue(shows if shows is not None else fx.SHOWS)
        self.api_key = api_key
        self.read_token = read_token
        self.latency = 0.0
        self.timeout_delay = 1.5
        self.faults: collections.deque[str] = collections.deque()
        self.always: str | None = None
        self.limit: float | None = None
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._recent: collections.deque[float] = collections.deque()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="tmdb-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/3"

    def start(self) -> "TMDBServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "TMDBServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ what tests read

    def requests(self, path_prefix: str = "") -> list[Logged]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(path_prefix)]

    def count(self, path_prefix: str = "") -> int:
        return len(self.requests(path_prefix))

    def max_in_window(self, seconds: float = 1.0) -> int:
        """The most requests that arrived within any window of ``seconds``."""
        return most_in_window([r.t for r in self.requests()], seconds)

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    # ------------------------------------------------------------ answering

    def _next_fault(self, now: float) -> str | None:
        with self._lock:
            if self.faults:
                return self.faults.popleft()
            if self.always:
                return self.always
            if self.limit:
                while self._recent and now - self._recent[0] >= 1.0:
                    self._recent.popleft()
                if len(self._recent) >= self.limit:
                    return "429:1"
                self._recent.append(now)
        return None

    def handle(self, path: str, params: dict[str, str], auth: str | None) -> tuple[int, dict[str, str], bytes]:
        now = time.monotonic()
        entry = Logged(now, path, {k: v for k, v in params.items() if k != "api_key"}, auth, 0)
        with self._lock:
            self.log.append(entry)  # on arrival: a request that times out is logged too
        fault = self._next_fault(now)
        status, headers, body = self._answer(path, params, auth, fault)
        entry.status = status
        if self.latency:
            time.sleep(self.latency)
        return status, headers, body

    def _answer(self, path: str, params: dict[str, str], auth: str | None,
                fault: str | None) -> tuple[int, dict[str, str], bytes]:
        if fault == "401" or auth is None:
            return _error(401, 7, "Invalid API key: You must be granted a valid key.")
        if fault in ("wrong-type", "surrogate"):
            return _mangled(fault, self._route(path, params))
        if fault:
            return _fault(fault, self.timeout_delay)
        try:
            found = self._route(path, params)
        except ValueError:
            return _error(404, 6, "Invalid id: The pre-requisite id is invalid or not found.")
        if found is None:
            return _error(404, 34, "The resource you requested could not be found.")
        return 200, {}, json.dumps(found).encode()

    def _route(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        cat = self.catalogue
        parts = path.strip("/").split("/")[1:]  # drop the "3" version prefix
        if parts[:1] == ["search"] and len(parts) == 2 and parts[1] in ("tv", "movie"):
            return self._search(parts[1], params)
        if parts[:2] == ["tv", "episode_group"] and len(parts) == 3:
            show = cat.groups.get(parts[2])
            return fx.episode_group(show) if show else None
        if parts[:1] == ["tv"] and len(parts) == 2:
            show = cat.tv.get(int(parts[1]))
            return fx.tv_details(show) if show else None
        if parts[:1] == ["tv"] and len(parts) == 4 and parts[2] == "season":
            show = cat.tv.get(int(parts[1]))
            return fx.season(show, int(parts[3])) if show else None
        if parts[:1] == ["movie"] and len(parts) == 2:
            show = cat.movies.get(int(parts[1]))
            return fx.movie_details(show) if show else None
        return None

    def _search(self, kind: str, params: dict[str, str]) -> dict[str, Any]:
        year_param = params.get("first_air_date_year" if kind == "tv" else "primary_release_year") \
            or params.get("year")
        shows = self.catalogue.tv if kind == "tv" else self.catalogue.movies
        found = self.catalogue.search(shows, params.get("query", ""), int(year_param) if year_param else None)
        page = int(params.get("page", "1"))
        chunk = found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        return {"page": page, "total_pages": max(1, -(-len(found) // PAGE_SIZE)),
                "total_results": len(found), "results": [fx.search_result(s) for s in chunk]}

    def authenticate(self, params: dict[str, str], authorization: str | None) -> str | None:
        if params.get("api_key") == self.api_key:
            return "key"
        if authorization == f"Bearer {self.read_token}":
            return "bearer"
        return None


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None):
    body = {"success": False, "status_code": code, "status_message": message}
    return status, headers or {}, json.dumps(body).encode()


def _fault(fault: str, timeout_delay: float):
    name, _, arg = fault.partition(":")
    if name == "429":
        headers = {"Retry-After": arg} if arg else {}
        return _error(429, 25, "Your request count (41) is over the allowed limit of (40).", headers)
    if name == "429-date":
        return _error(429, 25, "Your request count (41) is over the allowed limit of (40).",
                      {"Retry-After": formatdate(time.time() + float(arg or 1), usegmt=True)})
    if name == "timeout":
        time.sleep(timeout_delay)
        return _error(504, 24, "Your request to the backend server timed out. Try again.")
    if name == "malformed":
        return 200, {}, b'{"page": 1, "results": [{"id": 1, "name": "trunc'
    if name == "html":
        return 200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body>Welcome</body></html>"
    if name in ("404-plain", "401-plain"):
        return int(name[:3]), {"Content-Type": "text/plain"}, b"Not Found"
    codes = {"500": 11, "502": 43, "503": 9, "504": 24}
    if name in codes:
        return _error(int(name), codes[name], "Internal error: Something went wrong, contact TMDb.")
    raise ValueError(f"unknown fault {fault!r}")


def _mangled(fault: str, found: dict[str, Any] | None) -> tuple[int, dict[str, str], bytes]:
    """A real answer spoiled: ids as strings ("wrong-type") or names with a lone surrogate and a
    right-to-left override ("surrogate"), as JSON escapes (what a broken upstream can send)."""
    body = json.dumps(found or {"results": []})
    if fault == "wrong-type":
        body = re.sub(r'"id": (\d+)', r'"id": "\1"', body)
    else:
        body = re.sub(r'"(name|title)": "', r'"\1": "\\ud800\\u202e', body)
    return 200, {}, body.encode()


def _handler(server: TMDBServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(url.query).items()}
            auth = server.authenticate(params, self.headers.get("Authorization"))
            status, headers, body = server.handle(url.path, params, auth)
            try:
                self.send_response(status)
                headers = {"Content-Type": "application/json;charset=utf-8", **headers}
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to tell it

        def log_message(self, *args: Any) -> None:
            pass  # the request log above is the record

    return Handler
