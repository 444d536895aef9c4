"""NFO: ``tvshow.nfo``, ``movie.nfo`` and episode NFOs that pin the media server's match to the TMDB id.

Kodi's format, which Jellyfin and Emby read too (Plex needs an agent for it):

* ``tvshow.nfo`` in the show folder: title, year, ``<uniqueid type="tmdb">``;
* ``movie.nfo`` in the movie's own folder: the same for the movie;
* ``<video name>.nfo`` beside each episode: show title, season and episode as
  filed, so absolute-numbered anime lands on the episode AniVault chose.

The documents are built with xml.etree (every value escaped; characters XML
cannot carry are dropped) from what the matcher said: :class:`Collector` keeps,
per matched video, the few fields an NFO needs while the plan is made. An NFO
never replaces an existing file; apply writes each one through the journal
(:mod:`anivault.generated`), so ``undo`` removes it like any other file it placed.
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from typing import Any, Iterable, Iterator, NamedTuple

NFO_ROLES = ("video",)  # bonus videos (openings, extras) get no episode NFO


class NfoInfo(NamedTuple):
    tmdb_id: int
    media_type: str  # "tv" | "movie"
    title: str
    original_title: str | None
    year: int | None
    season: int | None
    episode: int | None
    episode_end: int | None


class Collector:
    """Taps ``(record, match)`` items on their way to the planner; remembers what NFOs need.

    Keeps one small tuple per matched video (the plan itself holds an entry
    per file, so this adds a constant factor, not a new growth).
    """

    def __init__(self) -> None:
        self.by_src: dict[str, NfoInfo] = {}

    def tap(self, items: Iterable[Any]) -> Iterator[Any]:
        """Pass ``(record, match[, reason])`` items through, remembering the matched videos."""
        for item in items:
            if isinstance(item, tuple) and len(item) in (2, 3):
                record, match = item[0], item[1]
                if match is not None and getattr(match, "id", None):
                    self._remember(record, match)
            yield item

    def _remember(self, record: Any, match: Any) -> None:
        parsed = getattr(record, "parsed", None)
        episode = getattr(match, "episode", None)
        if episode is None and parsed is not None:
            episode = parsed.episode
        end = parsed.episode_end if parsed is not None else None
        if end is not None and episode is not None and parsed.episode is not None:
            end = episode + (end - parsed.episode)  # a range keeps its length when renumbered
        season = getattr(match, "season", None)
        if season is None and parsed is not None:
            season = parsed.season
        self.by_src[os.fspath(record.path)] = NfoInfo(
            int(match.id), match.media_type, match.title, getattr(match, "original_title", None),
            getattr(match, "year", None), season, episode, end)


# ---------------------------------------------------------------- documents

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("", str(value))


def _document(root: str, fields: list[tuple[str, Any]], tmdb_id: int) -> bytes:
    element = ET.Element(root)
    for tag, value in fields:
        if value is not None and value != "":
            ET.SubElement(element, tag).text = _text(value)
    ET.SubElement(element, "uniqueid", {"type": "tmdb", "default": "true"}).text = str(int(tmdb_id))
    ET.SubElement(element, "tmdbid").text = str(int(tmdb_id))  # the element Jellyfin's own NFO writer uses
    ET.indent(element)
    return b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n' + ET.tostring(element, "utf-8") + b"\n"


def tvshow_nfo(info: NfoInfo) -> bytes:
    return _document("tvshow", [("title", info.title), ("originaltitle", info.original_title),
                                ("year", info.year)], info.tmdb_id)


def movie_nfo(info: NfoInfo) -> bytes:
    return _document("movie", [("title", info.title), ("originaltitle", info.original_title),
                               ("year", info.year)], info.tmdb_id)


def episode_nfo(info: NfoInfo) -> bytes:
    """Episode details: the show's id is not an episode id, so it goes in the show's NFO only."""
    element = ET.Element("episodedetails")
    for tag, value in (("showtitle", info.title), ("season", info.season), ("episode", info.episode),
                       ("episodenumberend", info.episode_end)):
        if value is not None:
            ET.SubElement(element, tag).text = _text(value)
    ET.indent(element)
    return b'<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n' + ET.tostring(element, "utf-8") + b"\n"


# ---------------------------------------------------------------- which NFOs a plan gets


def _show_folder(dst: str, root: str) -> str | None:
    """The first folder under the library root on the way to ``dst`` (the show's folder)."""
    rel = os.path.relpath(dst, root)
    first = rel.split(os.sep, 1)[0]
    return os.path.join(root, first) if first not in (".", "..") and os.sep in rel else None


def nfo_files(plan: Any, collector: Collector) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every NFO the plan's filed videos call for; existing files are never replaced.

    Only videos that are now at their destination count (a failed file gets none).
    One show NFO per show folder: the state kept is per series.
    """
    shows: set[str] = set()
    for entry in plan.entries:
        info = collector.by_src.get(entry.src)
        if info is None or entry.role not in NFO_ROLES or not os.path.lexists(entry.dst):
            continue
        if info.media_type == "movie":
            yield os.path.join(os.path.dirname(entry.dst), "movie.nfo"), movie_nfo(info)
            continue
        show = _show_folder(entry.dst, plan.options.dest)
        if show is not None and show not in shows:
            shows.add(show)
            yield os.path.join(show, "tvshow.nfo"), tvshow_nfo(info)
        if info.episode is not None:
            yield os.path.splitext(entry.dst)[0] + ".nfo", episode_nfo(info)
