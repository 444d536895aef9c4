"""Notify: ask Plex or Jellyfin to rescan only the folders an apply or undo changed.

* Plex: ``GET /library/sections`` once to learn which library section holds
  which folders, then ``GET /library/sections/{id}/refresh?path=FOLDER`` per
  changed folder (a partial scan of that folder only).
* Jellyfin: one ``POST /Library/Media/Updated`` listing the changed folders.

Tokens travel only in request headers (``X-Plex-Token``; Jellyfin's
``Authorization: MediaBrowser Token=...``), never in a URL, so neither httpx's
request log nor an error message can carry them; every message we make is
passed through :func:`_redacted` all the same.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import httpx

from .errors import UsageError

SERVERS = ("plex", "jellyfin")
TIMEOUT = 10.0


@dataclass
class NotifyReport:
    server: str
    refreshed: list[str] = field(default_factory=list)  # folders the server accepted
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (folder, why) e.g. in no Plex library
    failed: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)

    def to_dict(self) -> dict[str, Any]:
        return {"server": self.server, "refreshed": len(self.refreshed), "skipped": len(self.skipped),
                "failed": len(self.failed)}


def changed_folders(paths: Iterable[str]) -> list[str]:
    """The folders holding ``paths``, each the nearest one that still exists (undo may remove some).

    Per-folder state only: one entry per distinct folder, whatever the number of files.
    """
    folders: set[str] = set()
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)
        folders.add(folder)
    return sorted(folders)


def op_paths(op_id: str, data_dir: str | None = None) -> Iterator[str]:
    """Destinations of the files operation ``op_id`` placed (what an apply added, what its undo removed)."""
    from .journal import find_op

    state = find_op(op_id, data_dir)  # an unknown operation is refused here, not when read

    def destinations() -> Iterator[str]:  # streamed from the operation's store, one at a time
        with state:
            for _, intent in state.placed():
                yield intent["dst"]

    return destinations()


class _Server:
    name = ""

    def __init__(self, url: str, secret: str, client: httpx.Client | None = None) -> None:
        if not url or not secret:
            raise UsageError(f"--notify {self.name} needs the {self.name}_url and its token setting",
                             hint=f"set them in the config file or ANIVAULT_{self.name.upper()}_* variables")
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"{self.name}_url {url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:32400")
        self.url = url.rstrip("/")
        self._secret = secret
        self._client = client or httpx.Client(timeout=TIMEOUT)
        self._own = client is None

    def _redacted(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _error(self, e: Exception) -> str:
        if isinstance(e, httpx.HTTPStatusError):
            code = e.response.status_code
            why = "the token was rejected" if code in (401, 403) else f"HTTP {code}"
        else:
            why = type(e).__name__ + (f": {e}" if str(e) else "")
        return self._redacted(why)

    def close(self) -> None:
        if self._own:
            self._client.close()

    def refresh(self, folders: list[str]) -> NotifyReport:  # pragma: no cover - overridden
        raise NotImplementedError


class Plex(_Server):
    name = "plex"

    def _headers(self) -> dict[str, str]:
        return {"X-Plex-Token": self._secret, "Accept": "application/json"}

    def sections(self) -> list[tuple[str, list[str]]]:
        """(section key, its folders) for every library section."""
        response = self._client.get(f"{self.url}/library/sections", headers=self._headers())
        response.raise_for_status()
        directories = (response.json().get("MediaContainer") or {}).get("Directory") or []
        return [(str(d["key"]), [str(loc["path"]) for loc in d.get("Location") or [] if loc.get("path")])
                for d in directories if isinstance(d, dict) and "key" in d]

    def refresh(self, folders: list[str]) -> NotifyReport:
        report = NotifyReport(self.name)
        try:
            sections = self.sections()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
            why = f"cannot list Plex libraries: {self._error(e)}"
            report.failed.extend((folder, why) for folder in folders)
            return report
        for folder in folders:
            key = _section_of(folder, sections)
            if key is None:
                report.skipped.append((folder, "in no Plex library folder"))
                continue
            try:
                self._client.get(f"{self.url}/library/sections/{key}/refresh", params={"path": folder},
                                 headers=self._headers()).raise_for_status()
                report.refreshed.append(folder)
            except httpx.HTTPError as e:
                report.failed.append((folder, self._error(e)))
        return report


def _section_of(folder: str, sections: list[tuple[str, list[str]]]) -> str | None:
    """The section whose folder holds ``folder`` (the deepest such folder when libraries nest)."""
    best: tuple[int, str] | None = None
    for key, locations in sections:
        for location in locations:
            root = location.rstrip("/\\") or location
            if folder == root or folder.startswith(root + os.sep) or folder.startswith(root + "/"):
                if best is None or len(root) > best[0]:
                    best = (len(root), key)
    return best[1] if best else None


class Jellyfin(_Server):
    name = "jellyfin"

    def refresh(self, folders: list[str]) -> NotifyReport:
        report = NotifyReport(self.name)
        if not folders:
            return report
        body = {"Updates": [{"Path": folder, "UpdateType": "Modified"} for folder in folders]}
        headers = {"Authorization": f'MediaBrowser Token="{self._secret}"'}
        try:
            self._client.post(f"{self.url}/Library/Media/Updated", json=body, headers=headers).raise_for_status()
            report.refreshed.extend(folders)
        except httpx.HTTPError as e:
            why = self._error(e)
            report.failed.extend((folder, why) for folder in folders)
        return report


def server(kind: str, settings: dict[str, Any], client: httpx.Client | None = None) -> _Server:
    """A Plex or Jellyfin client from the settings (``plex_url``/``plex_token``, ``jellyfin_url``/``jellyfin_api_key``)."""
    if kind == "plex":
        return Plex(settings.get("plex_url") or "", settings.get("plex_token") or "", client)
    if kind == "jellyfin":
        return Jellyfin(settings.get("jellyfin_url") or "", settings.get("jellyfin_api_key") or "", client)
    raise UsageError(f"--notify {kind!r} is not one of {', '.join(SERVERS)}")


def notify(kind: str, settings: dict[str, Any], paths: Iterable[str], *,
           warn: Callable[[str], None] | None = None, client: httpx.Client | None = None) -> NotifyReport:
    """Refresh the folders of ``paths`` on the media server; failures are reported, never raised.

    A failed refresh does not undo the files that moved: it is a warning (exit 3 under --strict).
    """
    warn = warn or (lambda message: None)
    folders = changed_folders(paths)
    target = server(kind, settings, client)
    try:
        report = target.refresh(folders)
    finally:
        target.close()
    for folder, why in report.failed:
        warn(f"{kind}: could not refresh {folder}: {why}")
    for folder, why in report.skipped:
        warn(f"{kind}: not refreshed {folder}: {why}")
    return report


__all__ = ["Jellyfin", "NotifyReport", "Plex", "SERVERS", "changed_folders", "notify",
           "op_paths", "server"]
