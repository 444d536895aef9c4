"""Small Plex- and Jellyfin-compatible servers on 127.0.0.1 that record what they are asked to refresh.

Only the endpoints :mod:`anivault.notify` uses: Plex ``/library/sections``
(JSON) and ``/library/sections/{id}/refresh?path=``; Jellyfin
``POST /Library/Media/Updated``. Both check the token (401 otherwise) and keep
every request (method, path, query, body) for tests to assert on; the token
itself is checked, never stored in the log.

    with FakePlex({"1": ["/media/anime"]}) as plex:
        ...  # plex.url, plex.token; plex.refreshed == [("1", "/media/anime/Show (2022)")]
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PLEX_TOKEN = "plex-secret-token-7Qx2vL9w"
JELLYFIN_KEY = "jellyfin-secret-key-3fA8kP1z"


class _FakeServer:
    token = ""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None  # answer every request with this status
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "_FakeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def authorized(self, headers: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        raise NotImplementedError  # pragma: no cover - overridden

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet: tests read server.requests
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = server.authorized(self.headers)
                with server._lock:
                    server.requests.append({"method": method, "path": parts.path, "query": query,
                                            "body": body.decode("utf-8", "replace"), "authorized": ok,
                                            "raw": self.path})
                if server.fail_with:
                    status, payload = server.fail_with, {"error": "failing on purpose"}
                elif not ok:
                    status, payload = 401, {"error": "unauthorized"}
                else:
                    status, payload = server.answer(method, parts.path, query, body)
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


class FakePlex(_FakeServer):
    """Plex with the given library sections: {section key: [folder, ...]}."""

    def __init__(self, sections: dict[str, list[str]], token: str = PLEX_TOKEN) -> None:
        self.sections = sections
        self.token = token
        super().__init__()

    def authorized(self, headers: Any) -> bool:
        return headers.get("X-Plex-Token") == self.token

    @property
    def refreshed(self) -> list[tuple[str, str]]:
        """(section key, path) of every authorized refresh, in order."""
        out = []
        for r in self.requests:
            parts = r["path"].split("/")
            if r["authorized"] and len(parts) == 5 and parts[4] == "refresh":
                out.extend((parts[3], p) for p in r["query"].get("path", []))
        return out

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        if method == "GET" and path == "/library/sections":
            return 200, {"MediaContainer": {"size": len(self.sections), "Directory": [
                {"key": key, "type": "show", "title": f"Library {key}",
                 "Location": [{"id": n, "path": p} for n, p in enumerate(paths)]}
                for key, paths in self.sections.items()]}}
        parts = path.split("/")
        if method == "GET" and len(parts) == 5 and parts[4] == "refresh" and parts[3] in self.sections:
            return 200, None
        return 404, {"error": "not found"}


class FakeJellyfin(_FakeServer):
    def __init__(self, token: str = JELLYFIN_KEY) -> None:
        self.token = token
        super().__init__()

    def authorized(self, headers: Any) -> bool:
        return headers.get("Authorization") == f'MediaBrowser Token="{self.token}"' \
            or headers.get("X-Emby-Token") == self.token

    @property
    def updated(self) -> list[tuple[str, str]]:
        """(path, update type) of every authorized media update, in order."""
        out = []
        for r in self.requests:
            if r["authorized"] and r["path"] == "/Library/Media/Updated":
                out.extend((u["Path"], u["UpdateType"]) for u in json.loads(r["body"])["Updates"])
        return out

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        if method == "POST" and path == "/Library/Media/Updated":
            return 204, None
        return 404, {"error": "not found"}
