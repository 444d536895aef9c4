"""Planning: every scanned file gets a destination, or the reason it stays where it is.

Planning is pure bookkeeping over scan records (no source is stat'ed again):
each video gets a destination from a template, subtitles and same-stem
extras follow their video, font/attachment folders follow their release,
duplicates and collisions are settled, and existing destinations are read
once per directory to find "already organized" files and conflicts.
"""
from __future__ import annotations

import gc
import os
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from .. import names
from ..errors import AniVaultError, RefusedError
from ..fileops import same_content
from ..monitor import Metrics
from .entries import (ALREADY, ATTACHMENT_DIRS, COLLISION, CONFLICT, DUPLICATE, DUPLICATES_DIR, EXTRAS_DIR,
                      FOLLOWS, SUBTITLE_DIRS, TODO, TOO_LONG, UNMATCHED, Plan, PlanEntry, PlanOptions, _Source)
from .naming import (DestIndex, Namer, as_source, base_name, fields_of, join_path, parent_dir, quality,
                     release_tag, stem_of)

def plan_organize(items: Iterable[Any], options: PlanOptions, *, offline: bool = True,
                  metrics: Metrics | None = None) -> Plan:
    """Plan every scan record (or ``(record, match)`` pair) under ``options``.

    Records are consumed as they stream in; the plan holds one small tuple per file.
    """
    options.validate()
    metrics = metrics or Metrics()
    end = object()
    with _no_gc_pauses():
        planner = _Planner(options)
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
            planner.add(as_source(item))
        plan = planner.finish(offline)
    metrics.add_time("plan", clock() - started - waited, len(plan.entries))
    metrics.count("planned", len(plan.entries))
    return plan


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Planning allocates one small tuple per file and no reference cycles: the cyclic GC
    would only rescan the growing heap again and again (~20% of planning time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Planner:
    def __init__(self, options: PlanOptions) -> None:
        self.options = options
        self.namer = Namer(options)
        self.dest_index = DestIndex()
        self.by_dir: dict[str, list[_Source]] = defaultdict(list)
        self.videos: list[tuple[_Source, str, str, tuple]] = []  # (source, destination, reason, identity)
        self.bonus: list[tuple[_Source, dict[str, Any]]] = []
        self._near: dict[str, str | None] = {}
        self._suffixes: dict[str, str] = {}

    def add(self, src: _Source) -> None:
        self.by_dir[parent_dir(src.path)].append(src)
        if src.kind == "video":
            fields = fields_of(src)
            if fields is None:
                self.videos.append((src, "", "no title in the name", ()))
            elif fields["_bonus"]:
                self.bonus.append((src, fields))
            else:
                dst, reason = self.namer.destination(src, fields)
                # Releases of one episode: same title and numbers (a movie: same title and year).
                ident = (str(fields["title"]).casefold(), fields["_movie"], fields["year"] if fields["_movie"]
                         else None, fields["season"], fields["episode"], fields["episode_end"])
                self.videos.append((src, dst, reason, ident))

    def finish(self, offline: bool) -> Plan:
        entries: dict[str, PlanEntry] = {}
        for entry in self._settle_videos():
            entries[entry.src] = entry
        claimed = {names.case_key(e.dst): e.src for e in entries.values() if e.status == TODO}
        for entry in self._bonus_videos(entries):
            entries[entry.src] = self._settle(entry, claimed)
        followers = list(self._followers(entries)) + list(self._attachments(entries))
        for entry in followers:
            entries[entry.src] = self._settle(entry, claimed)
        ordered = sorted(entries.values(), key=lambda e: e.src)
        left = sum(len(v) for v in self.by_dir.values()) - len(ordered)
        return Plan(self.options, ordered, offline=offline, left_in_place=left)

    # -- videos: duplicates, collisions, conflicts

    def _settle_videos(self) -> Iterator[PlanEntry]:
        groups: dict[tuple, list[tuple[_Source, str]]] = defaultdict(list)
        for src, dst, reason, ident in self.videos:
            if not dst:
                yield PlanEntry(src.path, "", src.size, src.mtime_ns, "video", UNMATCHED
                                if "MAX_PATH" not in reason else TOO_LONG, reason)
                continue
            dst = self.dest_index.adopt_case(self._root_of(dst), dst)
            groups[(names.case_key(parent_dir(dst)), *ident)].append((src, dst))
        claimed: dict[str, str] = {}
        for group in sorted(groups.values(), key=lambda rs: min(r[0].path for r in rs)):
            releases = sorted(group, key=lambda r: quality(r[0]))
            yield from self._settle_duplicates(releases, claimed)

    def _root_of(self, dst: str) -> str:
        movies = self.options.movies_root
        return movies if dst.startswith(movies.rstrip(os.sep) + os.sep) else self.options.dest

    def _settle_duplicates(self, releases: list[tuple[_Source, str]],
                           claimed: dict[str, str]) -> Iterator[PlanEntry]:
        best_src, best_dst = releases[0]
        yield self._settle(PlanEntry(best_src.path, best_dst, best_src.size, best_src.mtime_ns, "video"),
                           claimed)
        policy = self.options.duplicates
        for src, dst in releases[1:]:
            entry = PlanEntry(src.path, dst, src.size, src.mtime_ns, "video")
            note = f"another release of {base_name(best_dst)} ({best_src.path})"
            if policy == "skip":
                yield entry._replace(status=DUPLICATE, reason=note + "; --duplicates skip")
                continue
            if policy == "keep-all" and self.options.keep_names:
                entry = entry._replace(reason=note)  # the original names already tell them apart
            elif policy == "keep-all":
                stem, ext = os.path.splitext(dst)
                tag = names.clean_text(release_tag(src), self.options.colon_style)
                new_dst = names.safe_component(f"{base_name(stem)} - {tag}{ext}",
                                               self.options.colon_style)
                entry = entry._replace(dst=join_path(parent_dir(dst), new_dst))
            else:  # best: the others go beside the library, never deleted
                folder = parent_dir(dst)
                sibling = join_path(parent_dir(folder), DUPLICATES_DIR, base_name(folder))
                entry = entry._replace(dst=join_path(sibling, names.safe_component(
                    base_name(src.path), self.options.colon_style)), reason=note)
            yield self._settle(entry, claimed)

    def _settle(self, entry: PlanEntry, claimed: dict[str, str]) -> PlanEntry:
        """Collision with another planned source, then with what exists at the destination."""
        if entry.status != TODO:
            return entry
        if entry.src == entry.dst:  # both absolute and normalized (scan roots, PlanOptions)
            return entry._replace(status=ALREADY, reason="already in place")
        # A release's fonts and bonus videos are not library items: a clash just gets a number.
        policy = "rename" if entry.role in ("attachment", "bonus") else self.options.conflict
        key = names.case_key(entry.dst)
        if key in claimed:
            if same_content(entry.src, claimed[key]):
                return entry._replace(status=ALREADY, reason=f"identical to {claimed[key]}, which goes there")
            if policy != "rename":
                return entry._replace(status=COLLISION, reason=f"{claimed[key]} goes to the same destination")
            entry = entry._replace(dst=self._free_name(entry.dst, claimed))
            key = names.case_key(entry.dst)
        existing = self.dest_index.existing(entry.dst)
        if existing is not None:
            on_disk = join_path(parent_dir(entry.dst), existing)
            if os.path.normcase(os.path.abspath(on_disk)) == os.path.normcase(os.path.abspath(entry.src)):
                return entry._replace(status=ALREADY, reason="already in place")
            if same_content(entry.src, on_disk):
                return entry._replace(dst=on_disk, status=ALREADY, reason="identical file already there")
            if policy == "fail":
                raise RefusedError(f"{on_disk} already exists and differs from {entry.src}",
                                   hint="--conflict skip leaves such files, --conflict rename adds ' (2)'")
            if policy == "skip":
                return entry._replace(status=CONFLICT, reason=f"{on_disk} exists with other content")
            entry = entry._replace(dst=self._free_name(entry.dst, claimed))
            key = names.case_key(entry.dst)
        claimed[key] = entry.src
        return entry

    def _free_name(self, dst: str, claimed: dict[str, str]) -> str:
        """``name (2).ext``, ``name (3).ext``… free both on disk and in the plan."""
        stem, ext = os.path.splitext(dst)
        for n in range(2, 10_000):
            candidate = f"{stem} ({n}){ext}"
            if names.case_key(candidate) not in claimed and self.dest_index.existing(candidate) is None:
                return candidate
        raise AniVaultError(f"no free name for {dst}", hint="clean up the numbered copies there")

    # -- bonus videos (NCOP/NCED, menus, unnumbered OVAs) go to the Extras folder of their show

    def _bonus_videos(self, entries: dict[str, PlanEntry]) -> Iterator[PlanEntry]:
        for src, fields in self.bonus:
            folder = self._show_folder_near(parent_dir(src.path), entries) or self._own_show_folder(src, fields)
            entry = PlanEntry(src.path, "", src.size, src.mtime_ns, "bonus")
            if not folder:
                yield entry._replace(status=UNMATCHED, reason="bonus video of an unknown show")
                continue
            name = names.safe_component(base_name(src.path), self.options.colon_style)
            yield entry._replace(dst=names.join_under(folder, [EXTRAS_DIR, name]))

    def _show_folder_near(self, directory: str, entries: dict[str, PlanEntry]) -> str | None:
        """The show (or movie) folder most episodes in this release folder, or the one above, go to."""
        if directory not in self._near:  # once per folder: a big flat folder is read once, not per file
            self._near[directory] = self._count_show_folders(directory, entries)
        return self._near[directory]

    def _count_show_folders(self, directory: str, entries: dict[str, PlanEntry]) -> str | None:
        for folder in (directory, parent_dir(directory)):
            shows = Counter(self._show_folder(e.dst) for s in self.by_dir.get(folder, ())
                            if (e := entries.get(s.path)) is not None and e.role == "video"
                            and e.status in (TODO, ALREADY))
            if shows:
                return shows.most_common(1)[0][0]
        return None

    def _show_folder(self, dst: str) -> str:
        root = self._root_of(dst)
        return join_path(root, dst[len(root):].lstrip(os.sep).split(os.sep)[0])

    def _own_show_folder(self, src: _Source, fields: dict[str, Any]) -> str:
        """No episode nearby: the first folder its own name renders to (or the root of a flat template)."""
        template, root = (self.namer.movie, self.options.movies_root) if fields["_movie"] else \
            (self.namer.episode, self.options.dest)
        parts = template.render(dict(fields, episode=fields["episode"] or 0))
        return names.join_under(root, parts[:1]) if len(parts) > 1 else root

    # -- subtitles, same-stem extras, attachment folders

    def _followers(self, entries: dict[str, PlanEntry]) -> Iterator[PlanEntry]:
        for directory, sources in self.by_dir.items():
            videos = {stem_of(s.path): entries[s.path] for s in sources if s.path in entries}
            if base_name(directory).casefold() in SUBTITLE_DIRS:
                parent = parent_dir(directory)
                videos.update({stem_of(s.path): entries[s.path] for s in self.by_dir.get(parent, ())
                               if s.path in entries})
            if not videos:
                continue
            for src in sources:
                if src.path in entries:
                    continue
                name = base_name(src.path)
                stem = _video_stem(name, videos)
                if stem is None:
                    continue
                yield self._follow(src, videos[stem], name[len(stem):],
                                   "subtitle" if src.kind == "subtitle" else "extra")

    def _follow(self, src: _Source, video: PlanEntry, suffix: str, role: str) -> PlanEntry:
        entry = PlanEntry(src.path, "", src.size, src.mtime_ns, role)
        if video.status not in (TODO, ALREADY) or not video.dst:
            return entry._replace(status=FOLLOWS, reason=f"its video {video.src} stays ({video.status})")
        clean = self._suffixes.get(suffix)
        if clean is None:  # ".en.ass", ".nfo": a handful of distinct suffixes in a whole library
            clean = self._suffixes[suffix] = names.clean_text(suffix, self.options.colon_style)
        video_name = base_name(video.dst)
        dot = video_name.rfind(".")
        name = (video_name[:dot] if dot > 0 else video_name) + clean  # the video's name is safe already
        name = names.finish_component(name) if names.utf8_len(name) <= names.COMPONENT_MAX_BYTES \
            else names.safe_component(name, self.options.colon_style)
        return entry._replace(dst=join_path(parent_dir(video.dst), name))

    def _attachments(self, entries: dict[str, PlanEntry]) -> Iterator[PlanEntry]:
        """Files under a Fonts/Attachments folder go to where most of their release's videos go."""
        for directory, sources in self.by_dir.items():
            release, folder, rest = _attachment_root(directory)
            if release is None:
                continue
            targets = Counter(parent_dir(e.dst) for s in self.by_dir.get(release, ())
                              if (e := entries.get(s.path)) is not None and e.status in (TODO, ALREADY))
            if not targets:
                continue
            target = targets.most_common(1)[0][0]
            for src in sources:
                if src.path in entries:
                    continue
                parts = [names.safe_component(p, self.options.colon_style)
                         for p in (folder, *rest, base_name(src.path))]
                yield PlanEntry(src.path, names.join_under(target, parts), src.size, src.mtime_ns,
                                "attachment")


def _video_stem(name: str, videos: dict[str, PlanEntry]) -> str | None:
    """The longest video stem that ``name`` extends with ".suffix" (``X.en.ass`` → ``X``), if any."""
    end = len(name)
    while (end := name.rfind(".", 0, end)) > 0:
        if name[:end] in videos:
            return name[:end]
    return None


def _attachment_root(directory: str) -> tuple[str | None, str, list[str]]:
    """(release folder, attachment folder name, sub-folders) when ``directory`` is inside one."""
    parts = directory.split(os.sep)
    for i in range(len(parts) - 1, 0, -1):
        if parts[i].casefold() in ATTACHMENT_DIRS:
            return os.sep.join(parts[:i]) or os.sep, parts[i], parts[i + 1:]
    return None, "", []
