"""Planning: every scanned file gets a destination, or the reason it stays where it is.

The planner streams: each record is reduced to one narrow row of a plan store
on disk as the scan yields it (a video with its destination rendered then, any
other file with its source only), and nothing per file is kept in memory. When
the scan ends, the keyed passes of :mod:`.settle` over the store settle what needs
the whole picture, in this order:

1. videos, one duplicate group (same destination folder, title and numbers) at a
   time: the best release first, the others by ``--duplicates``;
2. bonus videos (NCOP, menus) to the Extras folder of the show beside them;
3. subtitles and same-stem extras to their video, font/attachment folders to
   where their release goes.

Each destination is claimed in the store (see :mod:`.claims`); what exists there
is read once per directory. The plan's entries are then written in source order.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from typing import Any, Iterable

from .. import names
from ..gcpause import rare_gc_pauses
from ..monitor import Metrics
from .claims import Claims
from .entries import TOO_LONG, UNMATCHED, Plan, PlanOptions, _Source
from .naming import DestIndex, Namer, as_source, base_name, fields_of, parent_dir, release_tag
from .settle import Settler
from .store import Lru, PlanEntries, connect, fsdecode, fsencode

# Rows are narrow (each column costs a bind per file): videos carry what settling them needs, the
# other files only their source (what they settle to is :mod:`.settle`'s).
_SCHEMA = """
CREATE TABLE files (id INTEGER PRIMARY KEY, path BLOB NOT NULL, dir BLOB NOT NULL, size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL, role TEXT NOT NULL, dst BLOB, grp BLOB,
                    res INTEGER, ver INTEGER, tag TEXT, own BLOB, up BLOB, note TEXT);
CREATE TABLE others (id INTEGER PRIMARY KEY, path BLOB NOT NULL, dir BLOB NOT NULL, size INTEGER NOT NULL,
                     mtime_ns INTEGER NOT NULL, kind TEXT NOT NULL);
"""
BATCH = 2048  # rows per executemany: the only per-file state in memory


def plan_organize(items: Iterable[Any], options: PlanOptions, *, offline: bool = True,
                  metrics: Metrics | None = None) -> Plan:
    """Plan every scan record (or ``(record, match)`` pair) under ``options``, streaming."""
    options.validate()
    metrics = metrics or Metrics()
    end = object()
    with rare_gc_pauses(50_000):
        planner = Planner(options)
        # The items stream out of the scan (and matcher): the time spent waiting for the
        # next one is theirs, timed by their own stages, so "plan" is the planner's alone.
        clock = time.perf_counter
        started = clock()
        waited = 0.0
        source = iter(items)
        while True:
            t = clock()
            item = next(source, end)
            waited += clock() - t
            if item is end:
                break
            planner.add_item(item)
        plan = planner.finish(offline)
    metrics.add_time("plan", clock() - started - waited, len(plan.entries))
    metrics.count("planned", len(plan.entries))
    return plan


def _placement_note(match: Any) -> str:
    """What the plan says of a placed video: the pin that decided its series, how TMDB placed it."""
    if match is None:
        return ""
    pinned, how = getattr(match, "pinned", None), getattr(match, "reason", None)
    return "; ".join(part for part in (f"pinned: {pinned}" if pinned else "", how or "") if part)


class Planner:
    def __init__(self, options: PlanOptions) -> None:
        self.options = options
        self.namer = Namer(options)
        self.dest_index = DestIndex()
        self.db: sqlite3.Connection = connect()
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")
        self.claims = Claims(self.db, options, self.dest_index, self._path_of)
        self.settle = Settler(self.db, options, self.claims)
        self.files = 0
        self._rows: list[tuple[Any, ...]] = []  # videos
        self._others: list[tuple[Any, ...]] = []
        # The last source folder and its parent, encoded: a folder's files come together.
        self._folders: list[tuple[str, bytes]] = [("", b""), ("", b"")]
        self._own_folders = Lru()  # a bonus video's series → its own show folder

    # -- streaming in

    def add_item(self, item: Any) -> None:
        """A scan record, or what matching made of one (see ``as_source``)."""
        if item.__class__ is tuple and len(item) == 3:  # the pipeline's (record, match, reason)
            record = item[0]
            kind = getattr(record, "kind", "video") or "other"
            if kind != "video":  # what matching found means nothing to a subtitle or font
                path = record.path
                self._add_other(path if path.__class__ is str else os.fspath(path), int(record.size),
                                int(record.mtime_ns), kind)
                return
        self.add(as_source(item))

    def add(self, src: _Source) -> None:
        if src.kind != "video":
            self._add_other(src.path, src.size, src.mtime_ns, src.kind)
            return
        self.files += 1
        self._add_video(self.files, src)

    def _add_other(self, path: str, size: int, mtime_ns: int, kind: str) -> None:
        """A file that is not a video: settled at the end, if it follows a video or a release."""
        self.files += 1
        self._others.append((self.files, fsencode(path), self._encoded_folder(parent_dir(path)), size, mtime_ns,
                             kind))
        if len(self._others) >= BATCH:
            self._flush()

    def _add_video(self, n: int, src: _Source) -> None:
        role, dst = "video", None
        grp = tag = own = up = note = None
        res = ver = 0
        fields = fields_of(src)
        guess = src.tried and src.match is None and self.options.unmatched != "parsed"
        unsorted = self.options.unsorted_dir
        if fields is None and not guess:  # an unmatched file: its match reason (below), not this
            self._decide(n, src, role, UNMATCHED, "no title in the name")
        elif fields is not None and fields["_bonus"]:
            # With no match, a bonus video may still join the matched show beside it.
            folder = unsorted if guess else self._own_folders.get(
                self._series_of(fields), lambda: self._own_show_folder(fields))
            role, own = "bonus", fsencode(folder) if folder else None
            up = self._encoded_folder(parent_dir(parent_dir(src.path)), 1)
        elif guess and not unsorted:  # nothing is filed on a guess
            self._decide(n, src, role, UNMATCHED, f"no TMDB match: {src.reason or 'not found'}")
        elif guess:  # --unmatched DIR: into that folder under its own name, alone in its group
            path = names.join_under(unsorted, [names.safe_component(base_name(src.path),
                                                                    self.options.colon_style)])
            dst, grp, tag = fsencode(path), fsencode("\1" + src.path), ""
        else:
            path, reason = self.namer.destination(src, fields)
            if not path:
                self._decide(n, src, role, TOO_LONG if "MAX_PATH" in reason else UNMATCHED, reason)
            else:
                path = self.dest_index.adopt_case(self.settle.root_of(path), path)
                # Releases of one episode: same folder, title and numbers (a movie: title and year).
                grp = fsencode("\0".join(map(str, (
                    names.case_key(parent_dir(path)), str(fields["title"]).casefold(), fields["_movie"],
                    fields["year"] if fields["_movie"] else None, fields["season"], fields["episode"],
                    fields["episode_end"]))))
                dst, tag = fsencode(path), release_tag(src)  # "" when the name tells no release
                note = _placement_note(src.match) or None
                res, ver = _resolution(src.parsed), (src.parsed.version or 1) if src.parsed else 1
        self._rows.append((n, fsencode(src.path), self._encoded_folder(parent_dir(src.path)), src.size,
                           src.mtime_ns, role, dst, grp, res, ver, tag, own, up, note))
        if len(self._rows) >= BATCH:
            self._flush()

    def _encoded_folder(self, folder: str, level: int = 0) -> bytes:
        last = self._folders[level]
        if last[0] != folder:
            last = self._folders[level] = (folder, fsencode(folder))
        return last[1]

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self._rows)
        self._rows.clear()
        self.db.executemany("INSERT INTO others VALUES (?,?,?,?,?,?)", self._others)
        self._others.clear()
        self.settle.flush()

    def _decide(self, n: int, src: _Source, role: str, status: str, reason: str) -> None:
        self.settle.settled(n, self._encoded_folder(parent_dir(src.path)), src.path, role, "", status, reason)

    def finish(self, offline: bool) -> Plan:
        """Settle what needs the whole picture, then the plan's entries in source order."""
        self._flush()
        planned = self.settle.finish()
        return Plan(self.options, PlanEntries(self.db), offline=offline, left_in_place=self.files - planned)

    def _path_of(self, n: int) -> str:
        """The source path of file ``n`` (a contested claim's holder)."""
        return fsdecode(self.db.execute("SELECT path FROM files WHERE id = ?1 UNION ALL "
                                        "SELECT path FROM others WHERE id = ?1", (n,)).fetchone()[0])

    def _series_of(self, fields: dict[str, Any]) -> tuple[Any, ...]:
        """What a show folder's name can depend on: the fields of the template's first component."""
        template = self.namer.movie if fields["_movie"] else self.namer.episode
        return (fields["_movie"], *(fields.get(name) for name in template.first_fields))

    def _own_show_folder(self, fields: dict[str, Any]) -> str:
        """No episode nearby: the first folder its own name renders to (or the root of a flat template)."""
        template, root = (self.namer.movie, self.options.movies_root) if fields["_movie"] else \
            (self.namer.episode, self.options.dest)
        parts = template.render(dict(fields, episode=fields["episode"] or 0))
        return names.join_under(root, parts[:1]) if len(parts) > 1 else root


def _resolution(parsed: Any) -> int:
    """The ranking number of a parsed resolution ("1080p" → 1080); 0 when there is none."""
    if parsed is None or not parsed.resolution:
        return 0
    resolution = str(parsed.resolution)
    number = _RESOLUTIONS.get(resolution)
    if number is None:
        digits = re.findall(r"\d+", resolution)
        number = int(digits[-1]) if digits else 0
        if len(_RESOLUTIONS) < 1024:  # a handful of spellings in any library
            _RESOLUTIONS[resolution] = number
    return number


_RESOLUTIONS: dict[str, int] = {}
