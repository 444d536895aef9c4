"""Settling: each file's outcome in the plan store, and the passes that need the whole picture.

In order (see :mod:`.plan`): videos one duplicate group at a time, bonus videos to their show's
Extras folder, then subtitles, same-stem extras and font/attachment folders to their video or
release. Each pass reads the store in pages and settles through the planner's claims; nothing
per file is kept in memory beyond one source folder's videos.
"""
from __future__ import annotations

import itertools
import os
import sqlite3
from operator import itemgetter
from typing import Any, Iterable, Iterator, NamedTuple

from .. import names
from ..fileops import same_file
from .entries import (ALREADY, ATTACHMENT_DIRS, CONFLICT, DUPLICATE, DUPLICATES_DIR, EXTRAS_DIR, FOLLOWS,
                      SUBTITLE_DIRS, TODO, UNMATCHED, PlanEntry, PlanOptions)
from .claims import Claims
from .naming import base_name, join_path, parent_dir, stem_of
from .store import Lru, fsdecode, fsencode

_GROUP = itemgetter(8)  # a stored video's duplicate group
_DIR = itemgetter(2)  # a stored file's source folder
BATCH = 2048  # rows written, and read back, a batch at a time
PLACED = (TODO, ALREADY)  # a video others can follow


class _Video(NamedTuple):
    """A stored video row, read back to settle its duplicate group."""

    id: int
    src: str
    size: int
    mtime_ns: int
    dst: str
    tag: str
    note: str  # how the match placed it (a pin, a mapped numbering), shown in the plan
    dir: bytes  # its source folder, as stored


# A settled video keeps what followers, bonus videos and fonts look up; a settled follower is
# (id, role, status, destination, reason). The entries are the plan, in source order.
_SCHEMA = (
    "CREATE TABLE done (id INTEGER NOT NULL, dir BLOB NOT NULL, stem BLOB, role TEXT NOT NULL, "
    "status TEXT NOT NULL, dst BLOB NOT NULL, reason TEXT NOT NULL, show BLOB, dst_dir BLOB)",
    "CREATE TABLE followed (id INTEGER NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, dst BLOB NOT NULL, "
    "reason TEXT NOT NULL)",
    "CREATE TABLE entries (src BLOB NOT NULL, dst BLOB NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, "
    "role TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, fp TEXT NOT NULL DEFAULT '')",
)


class Settler:
    """Each file's outcome, written to the plan store (``settled``), and the after-scan passes that
    decide the outcomes needing the whole picture. The store's ``files`` and ``others`` tables are
    the planner's (:mod:`.plan`); ``done``, ``followed`` and ``entries`` are written here."""

    def __init__(self, db: sqlite3.Connection, options: PlanOptions, claims: Claims) -> None:
        self.db = db
        self.claims = claims
        self.options = options
        for table in _SCHEMA:  # inside the planner's transaction (executescript would commit it)
            db.execute(table)
        self._done: list[tuple[Any, ...]] = []  # settled videos
        self._followed: list[tuple[Any, ...]] = []  # settled subtitles, extras, attachments
        self._last_destination: tuple[str, bytes, bytes | None] = ("", b"", None)
        self._movies = options.movies_root
        self._in_movies = self._movies.rstrip(os.sep) + os.sep  # what paths under the movies root start with
        self._suffixes: dict[str, str] = {}  # ".en.ass" → its clean form: a handful per library
        self._safe_font_names: dict[str, str] = {}  # "arial.ttf" → its safe form: fonts repeat in every release

    def finish(self) -> int:
        """Run the passes, write the plan's entries in source order and drop the working tables;
        how many files were planned."""
        self.flush()
        self.videos()
        self.flush()
        # Settled videos are looked up by source folder (followers, fonts, bonus videos' neighbours).
        self.db.execute("CREATE INDEX done_dir_stem ON done (dir, stem) WHERE role IN ('video', 'bonus')")
        self.bonus_videos()
        self.flush()
        self.followers_and_attachments()
        self.flush()
        self.db.execute("INSERT INTO entries (src, dst, size, mtime_ns, role, status, reason) "
                        "SELECT * FROM (SELECT files.path AS src, done.dst, size, mtime_ns, done.role, status, reason "
                        "FROM done JOIN files ON files.id = done.id UNION ALL "
                        "SELECT others.path, followed.dst, size, mtime_ns, role, status, reason "
                        "FROM followed JOIN others ON others.id = followed.id) ORDER BY src")
        planned = self.db.execute("SELECT (SELECT COUNT(*) FROM done) + (SELECT COUNT(*) FROM followed)").fetchone()[0]
        for table in ("files", "others", "done", "followed", "claims", "claim_sets", "near"):
            self.db.execute(f"DROP TABLE {table}")
        self.db.execute("COMMIT")
        return int(planned)

    # -- outcomes

    def record(self, n: int, entry: PlanEntry, folder: bytes) -> None:
        """Write ``entry`` as the settled outcome of file ``n`` (of the source ``folder``, as bytes)."""
        self.settled(n, folder, entry.src, entry.role, entry.dst, entry.status, entry.reason)

    def settled(self, n: int, folder: bytes, src: str, role: str, dst: str, status: str, reason: str) -> None:
        """File ``n`` (``src``, of the source ``folder``, as bytes) settled: a video's row keeps what
        followers, bonus videos and fonts look up; a follower's only its outcome."""
        if role == "video" or role == "bonus":
            show = into = None
            if dst:
                into, show = self._destination_folder(dst)
                if show is None and role == "video":  # a flat template: the show folder is the file
                    show = fsencode(self._show_folder(dst))
                if role != "video":
                    show = None
                if status not in PLACED:
                    into = None
            self._done.append((n, folder, fsencode(stem_of(src)), role, status, fsencode(dst), reason, show, into))
        else:
            self._followed.append((n, role, status, fsencode(dst), reason))
        if len(self._done) + len(self._followed) >= BATCH:
            self.flush()

    def flush(self) -> None:
        self.db.executemany("INSERT INTO done VALUES (?,?,?,?,?,?,?,?,?)", self._done)
        self._done.clear()
        self.db.executemany("INSERT INTO followed VALUES (?,?,?,?,?)", self._followed)
        self._followed.clear()

    def root_of(self, dst: str) -> str:
        """The library root ``dst`` is under: the movies root or the destination."""
        return self._movies if dst.startswith(self._in_movies) else self.options.dest

    def _destination_folder(self, dst: str) -> tuple[bytes, bytes | None]:
        """(``dst``'s folder, its show folder — None when that is the file itself), encoded; both
        depend only on the folder, and a folder's files settle together."""
        folder = parent_dir(dst)
        last = self._last_destination
        if last[0] != folder:
            root = self.root_of(dst)
            inside = folder[len(root):].lstrip(os.sep)
            show = fsencode(join_path(root, inside.partition(os.sep)[0])) if inside else None
            last = self._last_destination = (folder, fsencode(folder), show)
        return last[1], last[2]

    def _show_folder(self, dst: str) -> str:
        root = self.root_of(dst)
        return join_path(root, dst[len(root):].lstrip(os.sep).partition(os.sep)[0])

    # -- videos: duplicates, collisions, conflicts

    def videos(self) -> None:
        # Groups in order of their first source; in a group, a file already at its destination
        # first (it stays, whatever its neighbours), then the best release.
        rows = self.db.execute(
            "SELECT id, path, size, mtime_ns, dst, tag, note, dir, grp, MIN(path) OVER (PARTITION BY grp) AS first "
            "FROM files WHERE grp IS NOT NULL "
            "ORDER BY first, grp, path = dst DESC, res DESC, ver DESC, size DESC, path")
        place, settled = self.claims.place, self.settled
        for _, group in itertools.groupby(rows, key=_GROUP):
            first = next(group)
            second = next(group, None)
            if second is None:  # the common case: one release of its episode
                n, path, _, _, dst, _, note, directory = first[:8]
                src, dst = fsdecode(path), fsdecode(dst)
                settled(n, directory, src, "video", *place(src, parent_dir(dst), base_name(dst), n, "video",
                                                           note or ""))
                continue
            releases = [_Video(r[0], fsdecode(r[1]), r[2], r[3], fsdecode(r[4]), r[5], r[6] or "", r[7])
                        for r in itertools.chain((first, second), group)]
            for video, entry in self._settle_group(releases):
                self.record(video.id, entry, video.dir)

    def _settle_group(self, releases: list[_Video]) -> Iterator[tuple[_Video, PlanEntry]]:
        """One episode's files: releases of it, unless the names cannot tell different files apart."""
        if len(releases) > 1:
            copies, collapsed = _sort_out(releases)
            if collapsed:
                yield from self._refuse_collapsed(releases, collapsed)
                return
            for video, of in copies:
                yield video, PlanEntry(video.src, video.dst, video.size, video.mtime_ns, "video", ALREADY,
                                       f"identical to {of.src}, which goes there")
            releases = [v for v in releases if all(v is not c for c, _ in copies)]
        yield from self._settle_duplicates(releases)

    def _refuse_collapsed(self, releases: list[_Video], collapsed: int) -> Iterator[tuple[_Video, PlanEntry]]:
        """Sanity guard: several different files resolve to one episode (a parse or numbering that
        collapsed them). Renaming them ``(1)``, ``(2)`` would file at least one wrongly: none moves."""
        why = (f"{collapsed} different files resolve to {base_name(releases[0].dst)} and their names do not "
               f"tell them apart (same release); none is moved: check their numbering")
        for video in releases:
            entry = PlanEntry(video.src, video.dst, video.size, video.mtime_ns, "video")
            in_place = video.src == video.dst
            yield video, entry._replace(status=ALREADY if in_place else CONFLICT,
                                        reason="already in place" if in_place else why)

    def _settle_duplicates(self, releases: list[_Video]) -> Iterator[tuple[_Video, PlanEntry]]:
        best = releases[0]
        yield best, self.claims.settle(PlanEntry(best.src, best.dst, best.size, best.mtime_ns, "video",
                                                 reason=best.note), best.id)
        policy = self.options.duplicates
        for video in releases[1:]:
            entry = PlanEntry(video.src, video.dst, video.size, video.mtime_ns, "video")
            note = f"another release of {base_name(best.dst)} ({best.src})"
            if policy == "skip":
                yield video, entry._replace(status=DUPLICATE, reason=note + "; --duplicates skip")
                continue
            if policy == "keep-all" and self.options.keep_names:
                entry = entry._replace(reason=note)  # the original names already tell them apart
            elif policy == "keep-all":
                stem, ext = os.path.splitext(video.dst)
                tag = names.clean_text(video.tag or stem_of(video.src), self.options.colon_style)
                new_dst = names.safe_component(f"{base_name(stem)} - {tag}{ext}", self.options.colon_style)
                entry = entry._replace(dst=join_path(parent_dir(video.dst), new_dst))
            else:  # best: the others go beside the library, never deleted
                folder = parent_dir(video.dst)
                sibling = join_path(parent_dir(folder), DUPLICATES_DIR, base_name(folder))
                entry = entry._replace(dst=join_path(sibling, names.safe_component(
                    base_name(video.src), self.options.colon_style)), reason=note)
            yield video, self.claims.settle(entry, video.id)

    # -- bonus videos (NCOP/NCED, menus, unnumbered OVAs) go to the Extras folder of their show

    def bonus_videos(self) -> None:
        # Per source folder, the show folder most of its placed episodes go to (ties: the first
        # episode's), for all folders in one query; a bonus video joins the one of its folder,
        # else of the folder above, else the one its own name renders to.
        self.db.execute("CREATE TABLE near (dir BLOB PRIMARY KEY, show BLOB NOT NULL) WITHOUT ROWID")
        self.db.execute(
            "INSERT INTO near SELECT dir, show FROM (SELECT dir, show, ROW_NUMBER() OVER (PARTITION BY dir "
            "ORDER BY COUNT(*) DESC, MIN(id)) AS rank FROM done WHERE role = 'video' AND status IN (?, ?) "
            "GROUP BY dir, show) WHERE rank = 1", PLACED)
        for n, path, directory, folder in list_rows(
                self.db, "SELECT f.id, f.path, f.dir, COALESCE(here.show, above.show, f.own) "
                         "FROM files f LEFT JOIN near here ON here.dir = f.dir "
                         "LEFT JOIN near above ON above.dir = f.up WHERE f.role = 'bonus' ORDER BY f.id"):
            src = fsdecode(path)
            if not folder:
                self.settled(n, directory, src, "bonus", "", UNMATCHED, "bonus video of an unknown show")
                continue
            name = names.safe_component(base_name(src), self.options.colon_style)
            extras = names.join_under(fsdecode(folder), [EXTRAS_DIR])
            self.settled(n, directory, src, "bonus", *self.claims.place(src, extras, name, n, "bonus"))

    # -- subtitles, same-stem extras, attachment folders

    def followers_and_attachments(self) -> None:
        """One pass over the files not planned yet, a folder at a time (only that folder's videos in memory)."""
        targets = Lru()
        rows = list_rows(self.db, "SELECT id, path, dir, kind FROM others ORDER BY dir, id")
        for directory, group in itertools.groupby(rows, key=_DIR):
            folder = fsdecode(directory)
            videos = self._videos_in(directory)
            if base_name(folder).casefold() in SUBTITLE_DIRS:  # Subs/X.en.ass belongs to ../X.mkv
                videos.update(self._videos_in(fsencode(parent_dir(folder))))
            release, attachment, rest = _attachment_root(folder)
            target = targets.get(release, lambda: self._release_target(release)) if release else None
            if videos:
                group = self._followers(directory, group, videos)
            if target is not None:
                self._attachments(directory, group, names.join_under(target, [
                    names.safe_component(part, self.options.colon_style) for part in (attachment, *rest)]))
            elif videos:
                for _ in group:  # the files that follow no video stay where they are
                    pass

    def _followers(self, directory: bytes, rows: Iterator[tuple[Any, ...]],
                   videos: dict[str, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Settle the subtitles and same-stem extras among ``rows`` (one source folder's); yield the others."""
        place, settled, suffixes, colon = self.claims.place, self.settled, self._suffixes, self.options.colon_style
        named: dict[int, tuple[str, str]] = {}  # video id → (its destination folder, its name without extension)
        for row in rows:
            n, path, _, kind = row
            src = fsdecode(path)
            name = base_name(src)
            stem = _video_stem(name, videos)
            if stem is None:
                yield row
                continue
            role = "subtitle" if kind == "subtitle" else "extra"
            video_id, video_src, video_dst, status = videos[stem]
            if status not in PLACED or not video_dst:
                settled(n, directory, src, role, "", FOLLOWS, f"its video {fsdecode(video_src)} stays ({status})")
                continue
            where = named.get(video_id)
            if where is None:
                video_dst = fsdecode(video_dst)
                video_name = base_name(video_dst)
                dot = video_name.rfind(".")
                where = named[video_id] = (parent_dir(video_dst), video_name[:dot] if dot > 0 else video_name)
            suffix = name[len(stem):]
            clean = suffixes.get(suffix)
            if clean is None:
                clean = suffixes[suffix] = names.clean_text(suffix, colon)
            own = where[1] + clean  # the video's name is safe already
            own = names.finish_component(own) if names.utf8_len(own) <= names.COMPONENT_MAX_BYTES \
                else names.safe_component(own, colon)
            settled(n, directory, src, role, *place(src, where[0], own, n, role))

    def _attachments(self, directory: bytes, rows: Iterable[tuple[Any, ...]], folder: str) -> None:
        """Files of a release's font/attachment folder go to ``folder``, where the release's videos go."""
        place, settled, safe = self.claims.place, self.settled, self._safe_font_names
        for n, path, _, _ in rows:
            src = fsdecode(path)
            name = base_name(src)
            safe_name = safe.get(name)
            if safe_name is None:
                if len(safe) >= 4096:  # bounded: a library's fonts are a few hundred names
                    safe.clear()
                safe_name = safe[name] = names.safe_component(name, self.options.colon_style)
            settled(n, directory, src, "attachment", *place(src, folder, safe_name, n, "attachment"))

    def _videos_in(self, directory: bytes) -> dict[str, tuple[Any, ...]]:
        """stem → (id, source, destination, status) of the videos (and bonus videos) planned from one
        source folder (paths as stored)."""
        return {fsdecode(stem): rest for stem, *rest in
                self.db.execute("SELECT stem, done.id, path, done.dst, status FROM done "
                                "JOIN files ON files.id = done.id "
                                "WHERE done.dir = ? AND done.role IN ('video', 'bonus') ORDER BY done.id",
                                (directory,))}

    def _release_target(self, release: str) -> str | None:
        """Where most of a release folder's videos go (its fonts follow them)."""
        row = self.db.execute(
            "SELECT dst_dir FROM done WHERE dir = ? AND role IN ('video', 'bonus') AND status IN (?, ?) "
            "GROUP BY dst_dir ORDER BY COUNT(*) DESC, MIN(id) LIMIT 1", (fsencode(release), *PLACED)).fetchone()
        return fsdecode(row[0]) if row else None


def list_rows(db: sqlite3.Connection, query: str) -> Iterator[tuple[Any, ...]]:
    """Rows of ``query`` read in pages, so the planner may write to the store between them."""
    cursor = db.execute(query)
    while page := cursor.fetchmany(BATCH):
        yield from page


def _sort_out(releases: list[_Video]) -> tuple[list[tuple[_Video, _Video]], int]:
    """Files of one episode that the names do not tell apart (same release tag, or none):
    (extra copies of the same content with the file they copy, how many different contents).

    Content is compared without reading whole files (one inode, or size + sampled fingerprint).
    """
    copies: list[tuple[_Video, _Video]] = []
    collapsed = 0
    for _, same_tag in itertools.groupby(sorted(releases, key=lambda v: v.tag), key=lambda v: v.tag):
        members = list(same_tag)
        distinct: list[_Video] = []
        for video in members:
            twin = next((d for d in distinct if same_file(video.src, d.src)), None) if distinct else None
            if twin is None:
                distinct.append(video)
            else:
                copies.append((video, twin))
        if len(distinct) > 1:
            collapsed = max(collapsed, len(distinct))
    return copies, collapsed


def _attachment_root(directory: str) -> tuple[str | None, str, list[str]]:
    """(release folder, attachment folder name, sub-folders) when ``directory`` is inside one."""
    parts = directory.split(os.sep)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i].casefold() in ATTACHMENT_DIRS:
            return os.sep.join(parts[:i]) or os.sep, parts[i], parts[i + 1:]
    return None, "", []


def _video_stem(name: str, videos: dict[str, Any]) -> str | None:
    """The longest video stem that ``name`` extends with ".suffix" (``X.en.ass`` → ``X``), if any."""
    end = len(name)
    while (end := name.rfind(".", 0, end)) > 0:
        if name[:end] in videos:
            return name[:end]
    return None
